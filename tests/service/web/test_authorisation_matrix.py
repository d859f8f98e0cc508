"""Who may reach what: every route of the service, generated from the app's URL map,
asked by nobody, by a buyer, by another buyer and by an administrator.

Every route must be classified in ``ROUTES``: a route added to the service without a
class fails ``test_every_route_is_classified`` until someone decides who may use it.

Classes:
- ``public``: anyone (sign-in, health, the API document, static files);
- ``signed_in``: any signed-in person, about themselves;
- ``owner``: a buyer's own payment, win or receipt: another buyer is refused (an
  administrator may read it, but never pays or retries for the buyer);
- ``admin``: administrators only;
- ``webhook``: Stripe, proven by the signature (nobody else, signed in or not);
- ``token``: a machine with a shared secret (the auction system; the sandbox telling a
  following service the time);
- ``test_only``: the test routes, for the test token or an administrator, and absent
  outside test mode.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from payments_support import FakeMailer, FakeStripe
from web_support import ADMIN, ALICE, BOB, NOW, csrf, sign_in

from simulator.common.clock import Clock
from simulator.service.adapters.repositories import Repository
from simulator.service.app import create_app
from simulator.service.config import ServiceConfig
from simulator.service.domain.order import Order
from simulator.service.domain.user import User
from simulator.service.web.receipt_links import receipt_url
from simulator.service.web.runtime import runtime_of

ROUTES: dict[str, str] = {
    "pages.home": "public",
    "pages.login": "public",
    "pages.sign_in_as": "public",
    "api.health": "public",
    "api.openapi_document": "public",
    "static": "public",
    "pages.logout": "public",  # signing nobody out harms nobody
    "pages.winnings": "signed_in",
    "pages.checkout_canceled": "signed_in",
    "pages.checkout_return": "signed_in",
    "api.create_checkout": "owner",
    "api.checkout_status": "owner",
    "api.retry_checkout": "owner",
    "pages.pay": "owner",
    "pages.payment_status": "owner",
    "pages.retry": "owner",
    "pages.receipt": "owner",
    "admin.index": "admin",
    "admin.payments": "admin",
    "admin.orders": "admin",
    "admin.transactions": "admin",
    "admin.reviews": "admin",
    "admin.clear_review": "admin",
    "admin.webhooks": "admin",
    "admin.webhook_event": "admin",
    "admin.replay_webhook": "admin",
    "admin.audit": "admin",
    "admin.alerts": "admin",
    "admin.security": "admin",
    "admin.mail": "admin",
    "admin.mail_message": "admin",
    "admin.mail_attachment": "admin",
    "admin.sms": "admin",
    "admin.timeline": "admin",
    "admin.refund_order": "admin",
    "webhooks.receive_stripe_event": "webhook",
    "wins.record_win": "token",
    "metrics.metrics": "admin",  # or the scraper's METRICS_TOKEN
    "testing.show_clock": "test_only",
    "testing.advance_clock": "test_only",
    "testing.run_jobs": "test_only",
    "testing.arm_crash_point": "test_only",
    "testing.reset": "test_only",
    "clock_follower.sync_clock": "token",  # the sandbox's own token (clock follower)
}
PAGE_BLUEPRINTS = ("pages", "admin")
OUTSIDER_ADDRESS = "203.0.113.7"  # not loopback: no test-mode courtesy applies
ROLES = ("anonymous", "buyer", "other_buyer", "admin")


@dataclasses.dataclass(frozen=True)
class Call:
    endpoint: str
    method: str
    path: str


@pytest.fixture
def matrix_app(config: ServiceConfig, repo: Repository) -> Flask:
    """The real ``PaymentService`` (ownership is its rule) over a fake Stripe, with one
    payment session and one paid order of Alice's."""
    clock = Clock()
    app = create_app(config, clock=clock, gateway=FakeStripe(clock),  # type: ignore[arg-type]
                     mailer=FakeMailer())
    app.testing = True
    return app


@pytest.fixture
def alices(matrix_app: Flask, repo: Repository) -> dict[str, str]:
    """Alice's payment session, win and order, and a signed link to her receipt."""
    rt = runtime_of(matrix_app)
    started = rt.service.start_checkout(ALICE.id, "win_17")
    with repo.transaction():
        repo.add_order(Order("ord_alice", "win_18", ALICE.id, "paid", NOW, NOW))
    with matrix_app.test_request_context():
        link = receipt_url("ord_alice", ALICE.id)
    return {"payment_session_id": started.payment_session.id, "auction_id": "win_17",
            "order_id": "ord_alice", "receipt_link": link, "event_id": "evt_none",
            "transaction_id": "txn_none", "filename": "service.css", "mail_id": "1",
            "win_id": "win_17"}


def calls(app: Flask, values: dict[str, str]) -> Iterator[Call]:
    for rule in app.url_map.iter_rules():
        args = {name: values[name] for name in rule.arguments}
        with app.test_request_context():
            from flask import url_for

            path = url_for(rule.endpoint, **args)
        if rule.endpoint == "pages.receipt":
            path = values["receipt_link"]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield Call(rule.endpoint, method, path)


def client_for(app: Flask, role: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = OUTSIDER_ADDRESS
    person: User | None = {"buyer": ALICE, "other_buyer": BOB, "admin": ADMIN}.get(role)
    if person is not None:
        assert sign_in(client, person).status_code == 303
    else:
        client.get("/payments/login")  # a CSRF token, so a refusal is not just a bad form
    return client


def ask(app: Flask, client: FlaskClient, call: Call) -> Any:
    blueprint = call.endpoint.partition(".")[0]
    if call.method == "GET":
        return client.get(call.path)
    if blueprint in PAGE_BLUEPRINTS:
        with client.session_transaction() as session:
            fresh = "csrf_token" not in session
        if fresh:  # signed out by an earlier call: a token again
            client.get("/payments/login")
        return client.open(call.path, method=call.method, data={"csrf_token": csrf(client)})
    return client.open(call.path, method=call.method,
                       json={"auction_id": "win_17", "seconds": 1, "offset_seconds": 0})


def refused(answer: Any, role: str) -> bool:
    """401, 403, or (a page, nobody signed in) the redirect to the login page."""
    if answer.status_code in (401, 403):
        return True
    location = answer.headers.get("Location", "")
    return role == "anonymous" and answer.status_code == 302 \
        and location.startswith("/payments/login")


def allowed(answer: Any) -> bool:
    return answer.status_code not in (401, 403) and answer.status_code < 500


EXPECTED_REFUSED: dict[str, tuple[str, ...]] = {
    "public": (),
    "signed_in": ("anonymous",),
    "owner": ("anonymous", "other_buyer"),
    "admin": ("anonymous", "buyer", "other_buyer"),
    "webhook": ("anonymous", "buyer", "other_buyer", "admin"),
    "token": ("anonymous", "buyer", "other_buyer", "admin"),
    "test_only": ("anonymous", "buyer", "other_buyer"),
}


def test_every_route_is_classified(matrix_app: Flask) -> None:
    endpoints = {rule.endpoint for rule in matrix_app.url_map.iter_rules()}
    assert sorted(endpoints - set(ROUTES)) == [], "classify the new route(s) in ROUTES"
    assert sorted(set(ROUTES) - endpoints) == [], "ROUTES names a route that is gone"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_let_in_or_refused_as_its_class_says(
        matrix_app: Flask, alices: dict[str, str], role: str) -> None:
    client = client_for(matrix_app, role)
    wrong = []
    for call in calls(matrix_app, alices):
        kind = ROUTES[call.endpoint]
        answer = ask(matrix_app, client, call)
        if kind == "webhook":  # unsigned: refused whoever sends it, with a 4xx
            ok = answer.status_code == 400
        elif kind == "public":  # a wrong password is a 401 of its own, not a refusal
            ok = answer.status_code < 500
        elif role in EXPECTED_REFUSED[kind]:
            ok = refused(answer, role) or (kind == "owner" and answer.status_code == 404)
        elif kind == "owner" and role == "admin" and call.method == "POST":
            ok = answer.status_code < 500  # refused (not the winner) or not
        else:
            ok = allowed(answer)
        if not ok:
            wrong.append(f"{role} {call.method} {call.path} ({kind}): {answer.status_code}")
        if call.endpoint == "pages.logout" and role != "anonymous":
            client = client_for(matrix_app, role)  # signed out: sign in again
    assert wrong == [], "\n".join(wrong)


def test_an_admin_may_read_a_buyers_payment_but_another_buyer_may_not(
        matrix_app: Flask, alices: dict[str, str]) -> None:
    path = f"/payments/checkout/{alices['payment_session_id']}/status"
    assert client_for(matrix_app, "buyer").get(path).status_code == 200
    assert client_for(matrix_app, "other_buyer").get(path).status_code == 403
    assert client_for(matrix_app, "admin").get(path).status_code in (200, 403)


def test_outside_test_mode_the_test_routes_are_gone(config: ServiceConfig,
                                                    repo: Repository) -> None:
    clock = Clock()
    app = create_app(dataclasses.replace(config, test_mode=False), clock=clock,
                     gateway=FakeStripe(clock), mailer=FakeMailer())  # type: ignore[arg-type]
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    test_only = {endpoint for endpoint, kind in ROUTES.items() if kind == "test_only"}
    assert endpoints & test_only == set()


def test_a_403_is_recorded_as_a_security_event(matrix_app: Flask, alices: dict[str, str],
                                               repo: Repository) -> None:
    client_for(matrix_app, "other_buyer").get(
        f"/payments/sessions/{alices['payment_session_id']}")
    forbidden = [e for e in repo.list_security_events() if e["kind"] == "forbidden"]
    assert len(forbidden) == 1 and forbidden[0]["detail"].startswith(f"{BOB.id}: GET ")


MALFORMED: list[tuple[str, dict[str, Any]]] = [
    ("not utf-8", {"data": b"\xff\xfe\x00{", "content_type": "application/json"}),
    ("broken json", {"data": b'{"auction_id": ', "content_type": "application/json"}),
    ("json list", {"json": [1, 2, 3]}),
    ("nan and huge", {"data": b'{"auction_id": NaN, "seconds": 1e999, "count": -1e999,'
                              b' "offset_seconds": Infinity}', "content_type": "application/json"}),
    ("form junk", {"data": {"email": "\u00e9\x85" * 3, "password": "\x00", "csrf_token": "\n",
                            "next": "/\r\n//evil"}}),
]


@pytest.mark.parametrize(("label", "body"), MALFORMED, ids=[label for label, _ in MALFORMED])
def test_every_route_answers_malformed_input_with_a_4xx_in_the_one_shape(
        matrix_app: Flask, alices: dict[str, str], label: str, body: dict[str, Any]) -> None:
    client = client_for(matrix_app, "admin")
    client.environ_base["HTTP_X_TEST_TOKEN"] = runtime_of(matrix_app).test_token or ""
    wrong = []
    for call in calls(matrix_app, alices):
        if call.method == "GET":
            answer = client.get(f"{call.path}{'&' if '?' in call.path else '?'}"
                                "next=%0d%0a//evil&seconds=nan&status=%ff")
        else:
            answer = client.open(call.path, method=call.method, **body)
        if answer.status_code >= 500:
            wrong.append(f"{call.method} {call.path}: {answer.status_code}")
        elif answer.status_code >= 400 and answer.mimetype == "application/json":
            error = (answer.json or {}).get("error", {})
            if not (isinstance(error.get("code"), str) and isinstance(error.get("message"), str)):
                wrong.append(f"{call.method} {call.path}: {answer.get_data(as_text=True)[:80]}")
    assert wrong == [], "\n".join(wrong)
