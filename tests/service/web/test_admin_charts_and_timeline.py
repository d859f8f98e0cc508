"""The admin overview's charts (inline SVG with the numbers as text), a payment's
timeline with its refund button, and the audit log a page at a time."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from web_support import ADMIN, ALICE, LOT_17, NOW, FakePaymentService, csrf, payment_session

from simulator.service.adapters.repositories import Repository
from simulator.service.domain.audit import AuditEntry
from simulator.service.domain.order import Order
from simulator.service.domain.transaction import Transaction

PAID = Transaction(
    id="txn_17", payment_session_id="ps_win_17_1", win_id=LOT_17.id, amount=64_200,
    fee=1_892, net=62_308, currency="usd", status="succeeded", card_brand="visa",
    card_last4="4242", three_d_secure_result=None, risk_level="normal", risk_score=12,
    charge_id="ch_17", payment_intent_id="pi_17", created_at=NOW - 30)


@pytest.fixture
def paid(repo: Repository) -> Repository:
    """Lot 17 declined once (expired card), then paid on the same page."""
    with repo.transaction():
        repo.add_payment_session(payment_session(status="succeeded", payment_intent_id="pi_17"))
        repo.add_transaction(PAID)
        repo.add_order(Order("ord_17", LOT_17.id, ALICE.id, "paid", NOW - 30, NOW - 30,
                             "txn_17"))
        repo.add_audit(AuditEntry("stripe", "payment_session.failed", "payment_session",
                                  "ps_win_17_1", {"status": "open"},
                                  {"status": "failed", "failure_code": "expired_card"},
                                  NOW - 90))
        repo.add_audit(AuditEntry("stripe", "payment_session.succeeded", "payment_session",
                                  "ps_win_17_1", {"status": "failed"},
                                  {"status": "succeeded"}, NOW - 30))
    return repo


def _chart_values(page: str, key: str) -> list[str]:
    chart = page.split(f'data-testid="chart-{key}"', 1)[1].split("</figure>", 1)[0]
    return re.findall(r'data-testid="chart-value">([^<]*)<', chart)


def test_the_overview_charts_success_recovery_revenue_and_declines(
        admin: FlaskClient, paid: Repository) -> None:
    page = admin.get("/payments/admin/?bucket=hour").text

    assert page.count("<svg") >= 5 and "<script" not in page
    assert _chart_values(page, "success-rate")[-1] == "50% (1 of 2)"
    assert _chart_values(page, "recovery-rate")[-1] == "100% (1 of 1)"
    assert "100% of 1 declined lots paid since" in page
    assert _chart_values(page, "revenue")[-1] == "$642.00"
    assert _chart_values(page, "failures-expired_card")[-1] == "1"
    assert _chart_values(page, "success-rate")[0] == "no data"
    assert len(_chart_values(page, "success-rate")) == 24


def test_the_overview_by_day_shows_a_fortnight(admin: FlaskClient, paid: Repository) -> None:
    page = admin.get("/payments/admin/").text
    assert len(_chart_values(page, "revenue")) == 14
    assert 'data-testid="bucket-day"' in page


def test_an_empty_service_still_draws_its_charts(admin: FlaskClient) -> None:
    page = admin.get("/payments/admin/").text
    assert set(_chart_values(page, "success-rate")) == {"no data"}
    assert "No declined lots yet" in page


def test_a_payments_timeline_lists_what_happened_in_order(admin: FlaskClient,
                                                          paid: Repository) -> None:
    page = admin.get(f"/payments/admin/timeline/{LOT_17.id}").text

    titles = re.findall(r'data-testid="timeline-title">([^<]*)<', page)
    assert titles.index("Audit: payment_session.failed") < titles.index("Payment succeeded")
    assert "Checkout created (attempt 1)" in titles
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC &middot; \d+ min ago", page)
    assert 'data-testid="refund-form"' in page


def test_a_missing_lot_has_no_timeline(admin: FlaskClient) -> None:
    assert admin.get("/payments/admin/timeline/win_nothing").status_code == 404


def test_the_lot_links_to_its_timeline(admin: FlaskClient, paid: Repository) -> None:
    assert f'href="/payments/admin/timeline/{LOT_17.id}"' in admin.get(
        "/payments/admin/orders").text


def test_a_refund_needs_confirmation_and_the_csrf_token(
        admin: FlaskClient, paid: Repository, service: FakePaymentService) -> None:
    url = "/payments/admin/orders/ord_17/refund"
    assert admin.post(url, data={"confirm": "ord_17"}).status_code == 400  # no token
    unconfirmed = admin.post(url, data={"csrf_token": csrf(admin)})
    assert unconfirmed.status_code == 400 and "confirming the refund" in unconfirmed.text
    assert service.calls == []

    answer = admin.post(url, data={"csrf_token": csrf(admin), "confirm": "ord_17"})

    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/payments/admin/timeline/{LOT_17.id}")
    assert service.called("refund_order") == [(ADMIN.id, "ord_17")]


def test_a_buyer_cannot_refund(alice: FlaskClient, paid: Repository,
                               service: FakePaymentService) -> None:
    answer = alice.post("/payments/admin/orders/ord_17/refund",
                        data={"csrf_token": csrf(alice), "confirm": "ord_17"})
    assert answer.status_code in (403, 404)
    assert service.calls == []


def test_the_audit_log_pages_with_readable_times(admin: FlaskClient, repo: Repository) -> None:
    with repo.transaction():
        for number in range(60):
            repo.add_audit(AuditEntry("system", f"job.ran_{number}", "job", str(number),
                                      None, {"n": number}, NOW - 7200 + number))

    first = admin.get("/payments/admin/audit").text
    second = admin.get("/payments/admin/audit?page=2").text

    # Signing the admin in is audited too: 60 entries and a few more.
    assert re.search(r"Page 1 of 2 \(6\d entries\)", first)
    assert 'data-testid="pager-older"' in first
    assert "job.ran_59" in first and "job.ran_9<" not in first
    assert "job.ran_9<" in second and 'data-testid="pager-newer"' in second
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC \(1 h ago\)", first)


def test_the_audit_log_filters_by_order(admin: FlaskClient, paid: Repository) -> None:
    with paid.transaction():
        paid.add_audit(AuditEntry("system", "job.unrelated", "job", "x", None, None, NOW))

    page = admin.get("/payments/admin/audit?order=ord_17").text

    assert "payment_session.succeeded" in page and "job.unrelated" not in page
    assert admin.get("/payments/admin/audit?order=ord_nope").status_code == 404
