"""The fraud rules against the sandbox, over HTTP: a checkout refused for a device many
buyers share, a payment with a foreign card held for an admin with the rule's reason,
and ordinary payments with the demo's test cards going through untouched."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from integration_support import (
    ADMIN,
    ALICE,
    BOB,
    PASSWORD_HASHES,
    Marketplace,
    RecordingMailer,
    SandboxControl,
)

from harness.service import service_config, start_service_in_process
from simulator.common.clock import Clock
from simulator.service.adapters.fraud_signals import FraudSignals
from simulator.service.adapters.stripe_gateway import StripeGateway
from simulator.service.payments.fraud_screening import CHECKOUT_BLOCKED
from simulator.service.web.device import COOKIE


@pytest.fixture
def strict_market(sandbox: SandboxControl, tmp_path: object) -> Iterator[Marketplace]:
    """The marketplace with two buyers on one device enough to refuse a checkout."""
    sandbox.clear_faults()
    config = service_config(str(tmp_path), sandbox.url, follow_sandbox_clock=True,
                            fraud={"device_buyers_per_day": [2, 2]})
    clock = Clock()
    clock.advance(sandbox.offset())
    service = start_service_in_process(config, clock=clock,
                                       gateway=StripeGateway(config, clock),
                                       mailer=RecordingMailer())
    with service.runtime.repo.transaction():
        for user in (ALICE, BOB, ADMIN):
            service.runtime.repo.add_user(user)
            service.runtime.repo.set_password_hash(user.id, PASSWORD_HASHES[user.id])
    yield Marketplace(sandbox, service, clock, RecordingMailer(), [])
    service.stop()


def device_cookie(market: Marketplace) -> str:
    """The signed device cookie a buyer page sets on a first visit."""
    page = requests.get(f"{market.url}/payments/login", timeout=10)
    assert page.status_code == 200
    return page.cookies[COOKIE]


def test_ordinary_payments_with_the_test_card_are_allowed(market: Marketplace) -> None:
    """Demo-like: two buyers in the US paying with 4242 4242 4242 4242, one twice."""
    payments = [(ALICE, 31, 18_500), (BOB, 32, 9_900), (ALICE, 33, 24_000)]
    for buyer, lot, amount in payments:
        win = market.win(lot, amount, buyer=buyer)
        assert market.pay(market.start(win, buyer)["payment_session_id"])["status"] == "paid"
        [txn] = market.transactions(win)
        assert (txn.card_country, txn.review_status, txn.review_flags) == ("US", "none", ())
    assert market.repo.review_queue() == []
    assert [a.kind for a in market.repo.list_alerts()] == []
    # the sandbox's fingerprint is stable per card number: one card, three payments
    fingerprints = market.repo._all_rows("SELECT DISTINCT fingerprint FROM fraud_card_uses")
    assert len(fingerprints) == 1 and len(fingerprints[0][0]) == 16


def test_a_foreign_card_holds_the_order_and_the_admin_reads_why(market: Marketplace) -> None:
    win = market.win(34, 18_500)
    assert market.pay(market.start(win)["payment_session_id"], "pm_card_fr")["status"] \
        == "paid"

    [txn] = market.transactions(win)
    assert (txn.review_status, txn.review_flags) == ("pending", ("country_mismatch",))
    assert market.orders(win)[0].status == "paid"  # recorded, held for a human
    decisions = FraudSignals(market.repo).decisions_for("transaction", txn.id)
    assert (decisions[0].decision, decisions[0].code) == ("review", "country_mismatch")
    page = market.client(ADMIN).session.get(f"{market.url}/payments/admin/reviews",
                                            timeout=10)
    assert page.status_code == 200, page.text
    assert "Review (country_mismatch): Card issued in FR, buyer registered in US." in page.text


def test_a_device_shared_by_buyers_is_refused_a_checkout(strict_market: Marketplace) -> None:
    cookie = device_cookie(strict_market)
    alice, bob = strict_market.client(ALICE), strict_market.client(BOB)
    for client in (alice, bob):
        client.session.cookies.set(COOKIE, cookie)
    assert alice.create_checkout(strict_market.win(41, 18_500).id).status_code == 201

    refused = bob.create_checkout(strict_market.win(42, 18_500, buyer=BOB).id)

    assert refused.status_code == 403
    assert refused.json() == {"error": {"code": "fraud_blocked", "message": CHECKOUT_BLOCKED}}
    assert strict_market.repo.sessions_for_win("win_42") == []
    # a forged cookie is no device at all: Bob on his own is not refused
    bob.session.cookies.set(COOKIE, cookie[:-2] + "xx")
    assert bob.create_checkout("win_42").status_code == 201
