"""The admin mailbox's text messages, beside the emails: each SMS with its number, text
and delivery (queued, retrying, sent, failed), for admins only."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from web_support import ALICE, NOW, FakePaymentService

from simulator.service.adapters.repositories import Repository
from simulator.service.adapters.sms_records import TextMessageRecords
from simulator.service.domain.notification import TextMessage


def delivery_by_text(page: str) -> dict[str, str]:
    rows = re.findall(r'data-testid="admin-row".*?</tr>', page, re.S)
    found = {}
    for row in rows:
        text = re.search(r'data-testid="cell-text"[^>]*>([^<]*)<', row)
        delivery = re.search(r'Badge--(\w+)', row)
        assert text and delivery
        found[text.group(1)] = delivery.group(1)
    return found


def test_the_mailbox_lists_every_text_with_its_delivery(admin: FlaskClient,
                                                        repo: Repository) -> None:
    texts = TextMessageRecords(repo)
    with repo.transaction():
        paid = texts.queue(TextMessage("receipt:ord_17", "+12025550142", "Lot 17 paid"), NOW)
        late = texts.queue(TextMessage("reminder:17", "+12025550142", "Lot 17 unpaid"), NOW)
        waiting = texts.queue(TextMessage("reminder:18", "+12025550143", "Lot 18 unpaid"), NOW)
        assert paid and late and waiting
        texts.mark_sent(paid, "sms_1", NOW + 1)
        texts.mark_failed(late, "SMS outbox unavailable: disk full", permanent=False)

    page = admin.get("/payments/admin/sms")

    assert page.status_code == 200
    assert delivery_by_text(page.text) == {"Lot 17 paid": "sent", "Lot 17 unpaid": "retrying",
                                           "Lot 18 unpaid": "queued"}
    assert "SMS outbox unavailable: disk full" in page.text
    assert "+12025550143" in page.text
    mailbox = admin.get("/payments/admin/mail").text
    assert 'href="/payments/admin/sms"' in mailbox  # beside the emails


def test_an_empty_outbox_says_so(admin: FlaskClient) -> None:
    page = admin.get("/payments/admin/sms").text
    assert 'data-testid="admin-empty"' in page


def test_texts_are_for_admins_only(alice: FlaskClient, repo: Repository) -> None:
    with repo.transaction():
        TextMessageRecords(repo).queue(TextMessage("receipt:1", "+12025550142", "Paid"), NOW)
    answer = alice.get("/payments/admin/sms")
    assert answer.status_code == 403 and "+12025550142" not in answer.text
    assert ALICE.role == "buyer"


def test_test_modes_reset_forgets_the_texts_and_keeps_the_phones(
        control: FlaskClient, admin: FlaskClient, repo: Repository,
        service: FakePaymentService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "schedule_upkeep", lambda: None, raising=False)
    texts = TextMessageRecords(repo)
    with repo.transaction():
        texts.set_phone(ALICE.id, "+12025550142")
        texts.queue(TextMessage("receipt:1", "+12025550142", "Lot 17 paid"), NOW)

    answer = control.post("/_test/reset")

    assert answer.status_code == 200 and answer.json["rows_deleted"] >= 1
    assert texts.list() == [] and texts.phone_of(ALICE.id) == "+12025550142"
    assert 'data-testid="admin-empty"' in admin.get("/payments/admin/sms").text
