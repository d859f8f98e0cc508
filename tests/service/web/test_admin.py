"""The back office: every list renders what the repository holds; failed webhooks can be
processed again; flagged payments can be cleared."""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_support import ADMIN, ALICE, LOT_17, NOW, FakePaymentService, csrf, payment_session

from simulator.service.adapters.repositories import Repository
from simulator.service.domain.alerts import Alert
from simulator.service.domain.audit import AuditEntry
from simulator.service.domain.inbox import InboxClaim
from simulator.service.domain.notification import Mail
from simulator.service.domain.order import Order
from simulator.service.domain.transaction import Transaction
from simulator.service.web.runtime import runtime_of

FLAGGED = Transaction(
    id="txn_17", payment_session_id="ps_win_17_1", win_id=LOT_17.id, amount=64_200, fee=1_892,
    net=62_308, currency="usd", status="succeeded", card_brand="visa", card_last4="4242",
    three_d_secure_result=None, risk_level="elevated", risk_score=67, charge_id="ch_17",
    payment_intent_id="pi_17", created_at=NOW, review_status="pending",
    review_flags=("high_value_unauthenticated",),
)


@pytest.fixture
def records(repo: Repository) -> Repository:
    with repo.transaction():
        repo.add_payment_session(payment_session(status="succeeded", payment_intent_id="pi_17"))
        repo.add_transaction(FLAGGED)
        repo.add_order(Order("ord_17", LOT_17.id, ALICE.id, "paid", NOW, NOW, "txn_17"))
        repo.add_audit(AuditEntry("stripe", "payment_session.succeeded", "payment_session",
                                  "ps_win_17_1", {"status": "open"}, {"status": "succeeded"},
                                  NOW))
        repo.add_alert(Alert("review_needed", "warning", "Payment txn_17 needs a review.", NOW,
                             "txn_17"))
        repo.add_security_event("webhook_signature_invalid", "No signatures found", "10.0.0.9",
                                NOW)
        repo.queue_mail(Mail("receipt:ord_17", ALICE.email, "Your receipt for lot 17", "Hi",
                             "ord_17"),
                        NOW)
    claim = InboxClaim("host:1", 0.0, 0.0, lambda _owner: False)
    repo.claim_webhook_event("evt_ok", "checkout.session.completed", '{"id": "evt_ok"}', NOW,
                             claim)
    repo.claim_webhook_event("evt_bad", "charge.refunded",
                             json.dumps({"id": "evt_bad", "type": "charge.refunded"}), NOW,
                             claim)
    with repo.transaction():
        repo.mark_webhook_processed("evt_ok", NOW)
        repo.mark_webhook_failed("evt_bad", "LookupError: win vanished", NOW)
    return repo


def rows(page: str) -> list[str]:
    return re.findall(r'data-testid="admin-row" data-id="([^"]+)"', page)


@pytest.mark.parametrize(("section", "expected"), [
    ("payments", ["ps_win_17_1", "Lot 17: Brass carriage clock", "$642.00", "Alice Buyer"]),
    ("orders", ["ord_17", "txn_17", "Alice Buyer"]),
    ("transactions", ["txn_17", "Visa •••• 4242", "$18.92", "elevated"]),
    ("reviews", ["txn_17", "high_value_unauthenticated", 'data-testid="action-clear"']),
    ("webhooks", ["evt_ok", "evt_bad", "LookupError: win vanished"]),
    ("audit", ["payment_session.succeeded", "status: open → succeeded"]),
    ("alerts", ["review_needed", "Payment txn_17 needs a review."]),
    ("security", ["webhook_signature_invalid", "10.0.0.9"]),
    ("mail", ["Your receipt for lot 17", "alice@example.test"]),
])
def test_each_section_lists_its_records(admin: FlaskClient, records: Repository, section: str,
                                        expected: list[str]) -> None:
    answer = admin.get(f"/payments/admin/{section}")
    assert answer.status_code == 200
    assert f'data-testid="admin-{section}-page"' in answer.text
    for text in expected:
        assert text in answer.text


def stats(page: str) -> dict[str, int]:
    found = re.findall(r'data-testid="stat-([a-z]+)".*?data-testid="stat-value">(\d+)<', page,
                       re.S)
    return {key: int(value) for key, value in found}


def test_the_overview_counts_what_needs_attention(admin: FlaskClient,
                                                  records: Repository) -> None:
    records.add_payment_session(payment_session(attempt=2, status="open"))
    records.add_security_event("csrf_failed", "POST /payments/admin/reviews", "10.0.0.9", NOW)

    assert stats(admin.get("/payments/admin/").text) == {
        "payments": 1, "orders": 1, "transactions": 1, "reviews": 1, "webhooks": 1,
        "alerts": 1, "security": 3}  # the fixture's, this one, and the admin's sign-in


def test_the_inbox_can_show_only_failures(admin: FlaskClient, records: Repository) -> None:
    assert rows(admin.get("/payments/admin/webhooks?status=failed").text) == ["evt_bad"]
    assert sorted(rows(admin.get("/payments/admin/webhooks").text)) == ["evt_bad", "evt_ok"]


def test_a_stored_delivery_shows_its_payload_and_error(admin: FlaskClient,
                                                       records: Repository) -> None:
    page = admin.get("/payments/admin/webhooks/evt_bad").text
    assert "LookupError: win vanished" in page
    assert "&#34;type&#34;: &#34;charge.refunded&#34;" in page
    assert 'data-testid="replay-webhook"' in page
    assert admin.get("/payments/admin/webhooks/evt_none").status_code == 404


def test_a_failed_delivery_can_be_processed_again(admin: FlaskClient, records: Repository,
                                                  service: FakePaymentService) -> None:
    answer = admin.post("/payments/admin/webhooks/evt_bad/replay",
                        data={"csrf_token": csrf(admin)})
    assert answer.status_code == 303
    assert service.called("handle_event") == [("evt_bad",)]
    stored = records.get_webhook_event("evt_bad")
    assert stored is not None and (stored.status, stored.attempts) == ("processed", 2)


def test_a_processed_delivery_is_not_processed_again(admin: FlaskClient, records: Repository,
                                                     service: FakePaymentService) -> None:
    admin.post("/payments/admin/webhooks/evt_ok/replay", data={"csrf_token": csrf(admin)})
    assert service.called("handle_event") == []


def test_clearing_a_review_goes_through_the_payment_service(
        admin: FlaskClient, records: Repository, service: FakePaymentService) -> None:
    answer = admin.post("/payments/admin/reviews/txn_17/clear", data={"csrf_token": csrf(admin)})
    assert answer.status_code == 303
    assert service.called("resolve_review") == [(ADMIN.id, "txn_17")]


def test_admin_actions_need_the_csrf_token(admin: FlaskClient, records: Repository,
                                           service: FakePaymentService) -> None:
    assert admin.post("/payments/admin/reviews/txn_17/clear").status_code == 400
    assert service.calls == []


def test_no_card_number_is_ever_shown(admin: FlaskClient, records: Repository) -> None:
    page = admin.get("/payments/admin/transactions").text
    assert "4242424242424242" not in page and "•••• 4242" in page


# -- the mailbox -------------------------------------------------------------------------------
def test_an_email_opens_with_its_text_delivery_and_receipt(admin: FlaskClient,
                                                           records: Repository) -> None:
    [queued] = records.list_mail()
    with records.transaction():
        records.mark_mail_failed(queued.id, "SMTP server unreachable: refused", permanent=False)
    listing = admin.get("/payments/admin/mail").text
    assert f'href="/payments/admin/mail/{queued.id}"' in listing
    assert ">retrying<" in listing  # one failed try, another coming

    page = admin.get(f"/payments/admin/mail/{queued.id}")
    assert page.status_code == 200
    assert 'data-delivery="retrying"' in page.text
    assert "SMTP server unreachable: refused" in page.text
    assert '<pre class="Payload MailBody" data-testid="mail-body">Hi</pre>' in page.text
    assert f"/payments/admin/mail/{queued.id}/receipt.pdf" in page.text

    with records.transaction():
        records.mark_mail_sent(queued.id, NOW + 60)
    assert 'data-delivery="sent"' in admin.get(f"/payments/admin/mail/{queued.id}").text


def test_a_receipt_email_serves_its_pdf_and_a_missing_one_is_404(
        app: Flask, admin: FlaskClient, records: Repository) -> None:
    receipts = runtime_of(app).receipts
    receipts.save("ord_17", b"%PDF-1.4 lot 17 receipt")
    with records.transaction():
        order = records.get_order("ord_17")
        assert order is not None
        records.save_order(order.with_receipt(receipts.path_for("ord_17").as_posix(), None, NOW))
    [queued] = records.list_mail()
    answer = admin.get(f"/payments/admin/mail/{queued.id}/receipt.pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    assert answer.data.startswith(b"%PDF")
    assert admin.get("/payments/admin/mail/999999").status_code == 404


def test_the_mailbox_is_for_admins_only(alice: FlaskClient, records: Repository) -> None:
    [queued] = records.list_mail()
    for path in (f"/payments/admin/mail/{queued.id}",
                 f"/payments/admin/mail/{queued.id}/receipt.pdf"):
        assert alice.get(path).status_code == 403
