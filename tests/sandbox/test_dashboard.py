"""The sandbox dashboard (simulator/sandbox/dashboard) through Flask's test client: each
page shows what the API would, each button does what the control plane does, and only
the dashboard's own pages can press them."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from simulator.sandbox import timeline
from simulator.sandbox.webhooks.receiver import WebhookReceiver

ORIGIN = "http://localhost"
SESSION_ITEM = {
    "mode": "payment",
    "success_url": "http://127.0.0.1:9/done",
    "line_items[0][quantity]": "1",
    "line_items[0][price_data][currency]": "usd",
    "line_items[0][price_data][unit_amount]": "64200",
    "line_items[0][price_data][product_data][name]": "Lot 17: Art deco bronze lamp",
}


@pytest.fixture
def dashboard(sandbox_app: Flask) -> FlaskClient:
    """A browser on the dashboard: its forms carry the dashboard's own Origin."""
    client = sandbox_app.test_client()
    client.environ_base["HTTP_ORIGIN"] = ORIGIN
    return client


def ok(answer: TestResponse) -> dict[str, Any]:
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body: dict[str, Any] = answer.get_json()
    return body


def pay(api: FlaskClient, amount: int = 64_200, card: str = "pm_card_visa",
        description: str = "Lot 17") -> dict[str, Any]:
    answer = api.post("/v1/payment_intents", data={
        "amount": str(amount), "currency": "usd", "confirm": "true",
        "payment_method": card, "description": description})
    assert answer.status_code in (200, 402), answer.get_data(as_text=True)
    body: dict[str, Any] = answer.get_json()
    return body


def page(client: FlaskClient, path: str, status: int = 200) -> str:
    answer = client.get(path)
    assert answer.status_code == status, answer.get_data(as_text=True)[:500]
    return answer.get_data(as_text=True)


def press(client: FlaskClient, route: str, **form: str) -> TestResponse:
    """Submit a dashboard form; it answers 303 back to the page it came from."""
    answer = client.post(route, data={"next": "/dashboard/sandbox", **form})
    assert answer.status_code == 303, answer.get_data(as_text=True)[:500]
    return answer


def notice(answer: TestResponse) -> str:
    from urllib.parse import parse_qs, urlsplit

    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    return (query.get("notice") or query.get("error") or [""])[0]


# -- pages ------------------------------------------------------------------------------------
def test_home_shows_recent_payments_sessions_and_events(api: FlaskClient,
                                                        dashboard: FlaskClient) -> None:
    pi = pay(api)
    session = ok(api.post("/v1/checkout/sessions", data=SESSION_ITEM))
    html = page(dashboard, "/")
    assert pi["id"] in html and session["id"] in html
    assert "$642.00" in html
    assert "payment_intent.succeeded" in html
    assert "Test mode" in html


def test_payments_show_intents_and_charges_with_their_outcome(api: FlaskClient,
                                                              dashboard: FlaskClient) -> None:
    paid = pay(api, 64_200)
    declined = pay(api, 1_500, card="pm_card_chargeDeclinedInsufficientFunds")
    html = page(dashboard, "/dashboard/payments")
    assert paid["id"] in html and paid["latest_charge"] in html
    assert declined["error"]["payment_intent"]["id"] in html
    assert "insufficient_funds" in html
    assert "Your card has insufficient funds." in html
    assert "visa •••• 4242" in html


def test_checkout_sessions_show_status_expiry_and_hosted_page(api: FlaskClient,
                                                              dashboard: FlaskClient) -> None:
    session = ok(api.post("/v1/checkout/sessions", data=SESSION_ITEM))
    html = page(dashboard, "/dashboard/checkout_sessions")
    row = html[html.index(f'data-id="{session["id"]}"'):]
    assert "Status--open" in row.split("</tr>")[0]
    assert "in 23 h 59 min" in row.split("</tr>")[0] or "in 1 d" in row.split("</tr>")[0]
    assert f'href="{session["url"]}"' in row


def test_dashboard_path_leads_home(dashboard: FlaskClient) -> None:
    for path in ("/dashboard", "/dashboard/"):
        assert dashboard.get(path).headers["Location"] == "/"


def test_customers_page(api: FlaskClient, dashboard: FlaskClient) -> None:
    customer = ok(api.post("/v1/customers", data={"email": "ada@example.com", "name": "Ada"}))
    html = page(dashboard, "/dashboard/customers")
    assert customer["id"] in html and "ada@example.com" in html and "Ada" in html


def test_events_filter_by_type_and_show_their_json(api: FlaskClient,
                                                   dashboard: FlaskClient) -> None:
    ok(api.post("/v1/customers", data={"email": "ada@example.com"}))
    pay(api)
    html = page(dashboard, "/dashboard/events?type=customer.*")
    assert "customer.created" in html and "payment_intent.succeeded" not in html
    event = ok(api.get("/v1/events", query_string={"type": "customer.created"}))["data"][0]
    detail = html_lib.unescape(page(dashboard, f"/dashboard/events/{event['id']}"))
    assert '"type": "customer.created"' in detail
    assert f'\n  "id": "{event["id"]}",' in detail  # pretty-printed, two-space indent
    assert '"email": "ada@example.com"' in detail


def test_any_object_is_shown_as_the_api_renders_it(api: FlaskClient,
                                                   dashboard: FlaskClient) -> None:
    pi = pay(api)
    html = html_lib.unescape(page(dashboard, f"/dashboard/objects/{pi['id']}"))
    assert '"object": "payment_intent"' in html and '"status": "succeeded"' in html
    assert "No object" in page(dashboard, "/dashboard/objects/pi_missing", 404)
    assert "No event" in page(dashboard, f"/dashboard/events/{pi['id']}", 404)


def test_lists_page_back_through_older_objects(api: FlaskClient, dashboard: FlaskClient,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from simulator.sandbox.dashboard import listings

    monkeypatch.setattr(listings, "PAGE_SIZE", 2)
    ids = [ok(api.post("/v1/customers", data={"name": f"Buyer {n}"}))["id"] for n in range(3)]
    first = page(dashboard, "/dashboard/customers")
    assert ids[2] in first and ids[1] in first and ids[0] not in first
    older = re.search(r'href="\?older=(cus_\w+)"', first)
    assert older is not None
    assert ids[0] in page(dashboard, f"/dashboard/customers?older={older.group(1)}")


# -- webhooks ---------------------------------------------------------------------------------
@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(statuses=[500]) as running:
        yield running


def test_webhooks_show_endpoints_and_every_attempt_and_resend_queues_one_more(
        api: FlaskClient, dashboard: FlaskClient, receiver: WebhookReceiver) -> None:
    endpoint = ok(api.post("/v1/webhook_endpoints", data={
        "url": receiver.url, "enabled_events[]": "customer.created"}))
    receiver.secrets.append(endpoint["secret"])
    ok(api.post("/v1/customers", data={"email": "ada@example.com"}))
    ok(api.post("/_sandbox/webhooks/drain"))  # the first attempt: 500, retried later
    html = page(dashboard, "/dashboard/webhooks")
    assert endpoint["id"] in html and receiver.url in html
    assert "Status--pending" in html and ">500<" in html
    assert "Next retry" in html and re.search(r"in \d+ (h|min)", html)

    event_id = ok(api.get("/v1/events"))["data"][0]["id"]
    answer = press(dashboard, f"/dashboard/events/{event_id}/resend",
                   endpoint=endpoint["id"], next="/dashboard/webhooks")
    assert answer.headers["Location"].startswith("/dashboard/webhooks?notice=Resending")
    ok(api.post("/_sandbox/webhooks/drain"))
    detail = page(dashboard, f"/dashboard/events/{event_id}")
    assert detail.count('data-testid="attempt"') == 2
    assert ">200<" in detail and "resend" in detail


def test_deliveries_can_be_shown_for_one_endpoint(api: FlaskClient,
                                                  dashboard: FlaskClient) -> None:
    endpoints = [ok(api.post("/v1/webhook_endpoints", data={
        "url": f"http://127.0.0.1:9/{name}", "enabled_events[]": event_type}))
        for name, event_type in (("a", "customer.created"), ("b", "payment_intent.created"))]
    ok(api.post("/v1/customers", data={"email": "ada@example.com"}))
    pay(api)
    html = page(dashboard, f"/dashboard/webhooks?we={endpoints[0]['id']}")
    deliveries = html[html.index('data-testid="deliveries"'):]
    assert "customer.created" in deliveries and "payment_intent.created" not in deliveries


def test_resending_an_unknown_event_says_so(dashboard: FlaskClient) -> None:
    answer = press(dashboard, "/dashboard/events/evt_missing/resend")
    assert notice(answer) == "No such event: 'evt_missing'"


# -- the clock --------------------------------------------------------------------------------
def test_clock_buttons_move_the_one_time_and_its_followers(
        api: FlaskClient, dashboard: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    told: list[float] = []
    monkeypatch.setattr(timeline, "sync_follower",
                        lambda url, offset, token=None, **_: told.append(offset))
    ok(api.post("/_sandbox/clock/followers", data={"url": "http://127.0.0.1:9/service"}))
    before = ok(api.get("/_sandbox/clock"))["offset_seconds"]
    answer = press(dashboard, "/dashboard/clock/advance", seconds="3600")
    assert notice(answer).startswith("Clock moved to")
    assert ok(api.get("/_sandbox/clock"))["offset_seconds"] == pytest.approx(before + 3600, abs=1)
    assert told and told[-1] == pytest.approx(before + 3600, abs=1)
    assert "http://127.0.0.1:9/service" in page(dashboard, "/")


def test_plus_24_hours_expires_an_open_checkout_session(api: FlaskClient,
                                                        dashboard: FlaskClient) -> None:
    session = ok(api.post("/v1/checkout/sessions", data=SESSION_ITEM))
    press(dashboard, "/dashboard/clock/advance", seconds=str(24 * 3600))
    assert ok(api.get(f"/v1/checkout/sessions/{session['id']}"))["status"] == "expired"
    html = page(dashboard, "/dashboard/checkout_sessions")
    assert "Status--expired" in html
    assert "checkout.session.expired" in page(dashboard, "/dashboard/events")


@pytest.mark.parametrize("seconds", ["0", "-5", "soon", str(6 * 366 * 24 * 3600)])
def test_clock_refuses_what_the_control_plane_refuses(dashboard: FlaskClient,
                                                      seconds: str) -> None:
    answer = press(dashboard, "/dashboard/clock/advance", seconds=seconds)
    assert "error=" in answer.headers["Location"]


# -- faults, reset, snapshots -----------------------------------------------------------------
def test_a_fault_switch_fails_the_next_api_requests(api: FlaskClient,
                                                    dashboard: FlaskClient) -> None:
    press(dashboard, "/dashboard/faults", switch="api_errors")
    assert "/v1/*" in page(dashboard, "/dashboard/sandbox")
    assert [api.get("/v1/customers").status_code for _ in range(4)] == [500, 500, 500, 200]
    assert 'data-testid="no-faults"' in page(dashboard, "/dashboard/sandbox")


def test_a_custom_fault_and_clearing_all(api: FlaskClient, dashboard: FlaskClient) -> None:
    press(dashboard, "/dashboard/faults", method="post", path="/v1/customers",
          action="rate_limit", count="2", retry_after="7")
    faults = ok(api.get("/_sandbox/faults"))["faults"]
    assert [(f["method"], f["path"], f["action"], f["remaining"]) for f in faults] == [
        ("POST", "/v1/customers", "rate_limit", 2)]
    press(dashboard, "/dashboard/faults/clear")
    assert ok(api.get("/_sandbox/faults"))["faults"] == []


@pytest.mark.parametrize(("form", "message"), [
    ({"action": "explode"}, "Invalid action: must be one of"),
    ({"count": "0"}, "count must be between 1 and"),
    ({"count": "many"}, "count must be a whole number."),
    ({"status": "200"}, "status must be an HTTP error status"),
    ({"switch": "meteor"}, "No such fault switch: meteor"),
])
def test_bad_faults_are_refused_with_a_reason(dashboard: FlaskClient, form: dict[str, str],
                                              message: str) -> None:
    assert notice(press(dashboard, "/dashboard/faults", **form)).startswith(message)


def test_reset_forgets_everything(api: FlaskClient, dashboard: FlaskClient) -> None:
    pi = pay(api)
    press(dashboard, "/dashboard/faults", switch="rate_limit")
    press(dashboard, "/dashboard/reset")
    assert api.get(f"/v1/payment_intents/{pi['id']}").status_code == 404
    assert ok(api.get("/_sandbox/faults"))["faults"] == []


def test_snapshots_are_the_control_planes(api: FlaskClient, dashboard: FlaskClient) -> None:
    before = ok(api.post("/v1/customers", data={"name": "Kept"}))
    press(dashboard, "/dashboard/snapshots", name="before-demo")
    after = ok(api.post("/v1/customers", data={"name": "Dropped"}))
    ok(api.post("/_sandbox/snapshots/before-demo/restore"))  # saved here, restored there
    assert api.get(f"/v1/customers/{after['id']}").status_code == 404
    ok(api.post("/_sandbox/snapshots/from-api"))
    ok(api.post("/v1/customers", data={"name": "Later"}))
    press(dashboard, "/dashboard/snapshots/from-api/restore")  # and the other way round
    assert ok(api.get("/v1/customers"))["data"][0]["id"] == before["id"]
    html = page(dashboard, "/dashboard/sandbox")
    assert "before-demo" in html and "from-api" in html


def test_snapshot_names_are_checked(dashboard: FlaskClient) -> None:
    assert notice(press(dashboard, "/dashboard/snapshots", name="../etc")).startswith(
        "A snapshot name is 1 to 64")
    assert notice(press(dashboard, "/dashboard/snapshots/nothing/restore")) == (
        "No such snapshot: 'nothing'")


# -- live updates -----------------------------------------------------------------------------
def test_live_version_changes_with_what_is_shown_and_only_then(api: FlaskClient,
                                                               dashboard: FlaskClient) -> None:
    first = ok(dashboard.get("/dashboard/live.json"))
    assert ok(dashboard.get("/dashboard/live.json"))["version"] == first["version"]
    pay(api)
    paid = ok(dashboard.get("/dashboard/live.json"))
    assert paid["version"] != first["version"]
    press(dashboard, "/dashboard/clock/advance", seconds="3600")
    moved = ok(dashboard.get("/dashboard/live.json"))
    assert moved["version"] != paid["version"]
    assert moved["clock"]["offset_text"] == "+1 h"
    assert moved["clock"]["now"] >= first["clock"]["now"] + 3600


def test_pages_carry_their_version_for_the_poller(dashboard: FlaskClient) -> None:
    version = ok(dashboard.get("/dashboard/live.json"))["version"]
    assert f'data-version="{version}"' in page(dashboard, "/dashboard/payments")


# -- safety -----------------------------------------------------------------------------------
@pytest.mark.parametrize("headers", [
    {},                                                  # no Origin, no Sec-Fetch-Site
    {"Origin": "https://evil.example"},                  # another site's form
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site", "Origin": ORIGIN},  # the browser's word wins
    {"Sec-Fetch-Site": "same-site"},
])
def test_forms_from_other_sites_are_refused(sandbox_app: Flask, api: FlaskClient,
                                            headers: dict[str, str]) -> None:
    pi = pay(api)
    browser = sandbox_app.test_client()
    answer = browser.post("/dashboard/reset", data={"next": "/"}, headers=headers)
    assert answer.status_code == 403
    assert "nothing was changed" in answer.get_data(as_text=True)
    assert api.get(f"/v1/payment_intents/{pi['id']}").status_code == 200


def test_a_dns_rebinding_host_is_refused(sandbox_app: Flask) -> None:
    browser = sandbox_app.test_client()
    answer = browser.post("/dashboard/faults/clear", base_url="http://rebind.example:12111",
                          headers={"Origin": "http://rebind.example:12111"})
    assert answer.status_code == 403


def test_same_origin_forms_are_accepted_by_either_header(sandbox_app: Flask) -> None:
    browser = sandbox_app.test_client()
    fetch_site = browser.post("/dashboard/faults/clear", headers={"Sec-Fetch-Site": "same-origin"})
    assert fetch_site.status_code == 303
    configured = browser.post("/dashboard/faults/clear", base_url="http://sandbox.test",
                              headers={"Origin": "http://sandbox.test"})  # public_url's host
    assert configured.status_code == 303


def test_buttons_only_send_the_browser_back_to_a_local_page(dashboard: FlaskClient) -> None:
    for target in ("//evil.example/x", "/\\evil.example", "https://evil.example/",
                   "javascript:alert(1)"):
        answer = dashboard.post("/dashboard/faults/clear", data={"next": target})
        assert answer.headers["Location"].startswith("/?notice=")


@pytest.mark.parametrize("path", ["/", "/dashboard/payments", "/dashboard/checkout_sessions",
                                  "/dashboard/customers", "/dashboard/events",
                                  "/dashboard/webhooks", "/dashboard/sandbox"])
def test_pages_have_a_strict_csp_and_no_inline_script_or_style(
        api: FlaskClient, dashboard: FlaskClient, path: str) -> None:
    pay(api)
    answer = dashboard.get(path)
    csp = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert answer.headers["X-Frame-Options"] == "DENY"
    html = answer.get_data(as_text=True)
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    assert re.search(r"\son[a-z]+=", html) is None
    assert re.search(r"\sstyle=", html) is None and "<style" not in html


def test_static_files_are_served(dashboard: FlaskClient) -> None:
    for name in ("dashboard.js", "dashboard.css"):
        answer = dashboard.get(f"/dashboard/static/{name}")
        assert answer.status_code == 200
        answer.close()


# -- /v1 in a browser -------------------------------------------------------------------------
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_a_browser_opening_v1_events_lands_on_the_events_page(sandbox_app: Flask) -> None:
    browser = sandbox_app.test_client()
    answer = browser.get("/v1/events", headers={"Accept": BROWSER_ACCEPT})
    assert answer.status_code == 302 and answer.headers["Location"] == "/dashboard/events"


@pytest.mark.parametrize("headers", [
    {},                                             # requests/urllib: Accept: */*
    {"Accept": "*/*"},
    {"Accept": "application/json"},
])
def test_api_clients_without_a_key_still_get_stripes_401(sandbox_app: Flask,
                                                         headers: dict[str, str]) -> None:
    answer = sandbox_app.test_client().get("/v1/events", headers=headers)
    assert answer.status_code == 401
    assert answer.get_json()["error"]["type"] == "invalid_request_error" or \
        answer.get_json()["error"]["message"].startswith("You did not provide an API key")


def test_a_browser_with_a_key_gets_the_api(api: FlaskClient) -> None:
    answer = api.get("/v1/events", headers={"Accept": BROWSER_ACCEPT})
    assert answer.status_code == 200 and answer.get_json()["object"] == "list"
