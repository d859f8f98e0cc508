"""Receipt downloads go through links signed to expire after 24 hours: a link that is
missing, altered, expired or for another order answers 403 and is recorded; a receipt
file that fails its integrity check is withheld and reported."""

from __future__ import annotations

import hashlib

import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_support import ADMIN, ALICE, LOT_17, LOT_18, payment_session, status_view

from simulator.service.adapters.receipts import ReceiptStore
from simulator.service.adapters.repositories import Repository
from simulator.service.config import ServiceConfig
from simulator.service.domain.order import Order
from simulator.service.web.receipt_links import REFUSED_MESSAGE, receipt_url
from simulator.service.web.runtime import runtime_of

PDF = b"%PDF-1.4 Alice's receipt"
DAY = 24 * 3600


@pytest.fixture
def store(repo: Repository, config: ServiceConfig) -> ReceiptStore:
    return ReceiptStore(config.receipts_dir, repo.cipher)


@pytest.fixture(autouse=True)
def paid_orders(repo: Repository, store: ReceiptStore) -> None:
    with repo.transaction():
        repo.add_payment_session(payment_session(status="succeeded"))
        for order_id, win in (("ord_17", LOT_17), ("ord_18", LOT_18)):
            path = store.save(order_id, PDF)
            repo.add_order(Order(order_id, win.id, ALICE.id, "paid", 1, 1, None, path,
                                 hashlib.sha256(PDF).hexdigest()))


def link(app: Flask, order_id: str = "ord_17", user_id: str = ALICE.id) -> str:
    with app.test_request_context():
        return receipt_url(order_id, user_id)


def refusals(repo: Repository) -> list[str]:
    return [event["detail"] for event in repo.list_security_events()
            if event["kind"] == "receipt_link_refused"]


def assert_refused(answer: object) -> None:
    assert getattr(answer, "status_code", None) == 403
    assert REFUSED_MESSAGE in getattr(answer, "text", "")


def test_a_signed_link_downloads_the_receipt(app: Flask, alice: FlaskClient) -> None:
    url = link(app)

    answer = alice.get(url)

    assert url.startswith("/payments/receipts/ord_17.pdf?sig=")
    assert (answer.status_code, answer.data) == (200, PDF)


def test_a_link_without_its_signature_is_refused_and_recorded(
        alice: FlaskClient, repo: Repository) -> None:
    assert_refused(alice.get("/payments/receipts/ord_17.pdf"))
    assert refusals(repo) == ["order ord_17, user usr_alice: no signature"]


def test_an_altered_link_is_refused_and_recorded(app: Flask, alice: FlaskClient,
                                                 repo: Repository) -> None:
    url = link(app)
    altered = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")

    assert_refused(alice.get(altered))
    assert refusals(repo) == ["order ord_17, user usr_alice: bad signature (altered)"]


def test_a_link_to_another_order_cannot_be_reused(app: Flask, alice: FlaskClient,
                                                  repo: Repository) -> None:
    signature = link(app, "ord_18").partition("?")[2]

    assert_refused(alice.get(f"/payments/receipts/ord_17.pdf?{signature}"))
    assert refusals(repo) == ["order ord_17, user usr_alice: made for another order"]


def test_a_link_expires_after_24_hours_of_the_services_clock(app: Flask, alice: FlaskClient,
                                                              repo: Repository) -> None:
    url = link(app)
    clock = runtime_of(app).clock

    clock.advance(DAY - 1)
    assert alice.get(url).status_code == 200
    clock.advance(2)
    assert_refused(alice.get(url))
    assert refusals(repo) == ["order ord_17, user usr_alice: expired"]


def test_an_admin_may_use_the_buyers_link_and_their_own(app: Flask,
                                                        admin: FlaskClient) -> None:
    assert admin.get(link(app)).status_code == 200
    assert admin.get(link(app, user_id=ADMIN.id)).status_code == 200


def test_a_receipt_altered_on_disk_is_withheld_and_reported(
        app: Flask, alice: FlaskClient, repo: Repository, store: ReceiptStore) -> None:
    store.path_for("ord_17").write_bytes(store.cipher.encrypt_bytes(b"%PDF-1.4 forged"))

    answer = alice.get(link(app))

    assert answer.status_code == 500
    assert "failed its integrity check and was withheld" in answer.text
    assert b"forged" not in answer.data
    [event] = [e for e in repo.list_security_events() if e["kind"] == "receipt_tampered"]
    assert "receipt of order ord_17 failed its integrity check" in event["detail"]
    assert [a.kind for a in repo.list_alerts()] == ["receipt_tampered"]


def test_the_api_gives_a_signed_link(app: Flask, api_as: object, repo: Repository) -> None:
    runtime_of(app).service.view = status_view(  # type: ignore[attr-defined]
        payment_session(status="succeeded"), receipt_url="/payments/receipts/ord_17.pdf",
        order_id="ord_17")
    client = api_as(ALICE)  # type: ignore[operator]

    body = client.get("/payments/checkout/ps_win_17_1/status").get_json()

    assert body["receipt_url"].startswith("/payments/receipts/ord_17.pdf?sig=")
    assert client.get(body["receipt_url"]).data == PDF
