"""Text messages: queued with the mail when a payment is received, sent by their own job
through the local SMS provider (an outbox file), tracked (queued, retrying, sent,
failed) and retried on the scheduler; a provider that is down never holds up a payment."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from payments_support import HOUR, World, make_world

from simulator.common.clock import Clock
from simulator.common.ids import IdGenerator
from simulator.service.adapters.repositories import Repository
from simulator.service.adapters.sms import OutboxSmsProvider, SmsNotSent, read_sms_outbox
from simulator.service.adapters.sms_records import TextMessageRecords
from simulator.service.domain.notification import TextMessage
from simulator.service.seed import seed_demo

PHONE = "+12025550142"


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "sms" / "outbox.jsonl"


@pytest.fixture
def texting(tmp_path: Any, frozen: FrozenDateTimeFactory, outbox: Path) -> Iterator[World]:
    built = make_world(tmp_path, frozen, sms_outbox=str(outbox))
    with built.repo.transaction():
        TextMessageRecords(built.repo).set_phone(built.buyer.id, PHONE)
    yield built
    built.repo.close()


def texts(world: World) -> TextMessageRecords:
    return TextMessageRecords(world.repo)


def test_a_payment_texts_the_buyer_beside_the_receipt_mail(texting: World,
                                                           outbox: Path) -> None:
    texting.deliver(*texting.stripe.pay(texting.start(), card="visa_3ds"))

    [sent] = read_sms_outbox(outbox)
    assert sent["to"] == PHONE
    assert "$642.00" in sent["text"] and "lot 17" in sent["text"]
    order = texting.repo.order_for_win(texting.win.id)
    assert order is not None and order.id in sent["text"]
    [tracked] = texts(texting).list()
    assert (tracked.delivery, tracked.attempts, tracked.provider_id) == ("sent", 1, sent["id"])
    assert len(texting.mailer.sent) == 1  # the mail goes too


def test_a_buyer_without_a_phone_gets_the_mail_only(texting: World, outbox: Path) -> None:
    with texting.repo.transaction():
        texting.repo.connection().execute("DELETE FROM user_phones")

    texting.deliver(*texting.stripe.pay(texting.start(), card="visa_3ds"))

    assert texts(texting).list() == [] and read_sms_outbox(outbox) == []
    assert len(texting.mailer.sent) == 1


def test_a_provider_down_never_holds_up_the_payment_and_the_text_is_retried(
        texting: World, outbox: Path) -> None:
    outbox.parent.parent.mkdir(parents=True, exist_ok=True)
    outbox.parent.write_text("a file where the outbox's folder should be")

    texting.deliver(*texting.stripe.pay(texting.start(), card="visa_3ds"))

    assert texting.repo.count("orders") == 1
    [tracked] = texts(texting).list()
    assert (tracked.delivery, tracked.attempts) == ("retrying", 1)
    assert tracked.last_error is not None and "SMS outbox unavailable" in tracked.last_error

    outbox.parent.unlink()
    texting.service.run_due_jobs()  # not due yet: the scheduler waits before trying again
    assert texts(texting).list()[0].attempts == 1
    texting.advance(30)
    texting.service.run_due_jobs()

    [tracked] = texts(texting).list()
    assert (tracked.delivery, tracked.attempts, tracked.last_error) == ("sent", 2, None)
    assert len(read_sms_outbox(outbox)) == 1


def test_a_number_no_network_can_reach_is_given_up_with_an_alert(texting: World,
                                                                 outbox: Path) -> None:
    with texting.repo.transaction():
        texts(texting).set_phone(texting.buyer.id, "call me maybe")

    texting.deliver(*texting.stripe.pay(texting.start(), card="visa_3ds"))

    [tracked] = texts(texting).list()
    assert (tracked.delivery, tracked.attempts) == ("failed", 1)
    assert "sms_failed" in [alert.kind for alert in texting.repo.list_alerts()]
    assert read_sms_outbox(outbox) == []
    assert texting.repo.count("orders") == 1


def test_without_a_provider_texts_stay_queued_for_an_admin_to_see(
        tmp_path: Any, frozen: FrozenDateTimeFactory) -> None:
    world = make_world(tmp_path, frozen)
    with world.repo.transaction():
        texts(world).set_phone(world.buyer.id, PHONE)

    world.deliver(*world.stripe.pay(world.start(), card="visa_3ds"))

    [tracked] = texts(world).list()
    assert (tracked.delivery, tracked.attempts) == ("queued", 0)
    world.repo.close()


def test_the_same_notice_is_queued_once(texting: World) -> None:
    message = TextMessage("receipt:ord_1", PHONE, "Paid")
    with texting.repo.transaction():
        first = texts(texting).queue(message, 1)
        second = texts(texting).queue(message, 2)
    assert first is not None and second is None


def test_phone_numbers_and_texts_are_encrypted_at_rest(texting: World) -> None:
    texting.deliver(*texting.stripe.pay(texting.start(), card="visa_3ds"))
    raw = texting.repo.connection().execute(
        "SELECT (SELECT phone FROM user_phones) || (SELECT group_concat(to_number || body)"
        " FROM sms_outbox)").fetchone()[0]
    assert PHONE not in raw and "lot 17" not in raw


# -- the local provider on its own ---------------------------------------------------------
def test_the_outbox_provider_keeps_each_message_in_order(outbox: Path) -> None:
    provider = OutboxSmsProvider(outbox)
    first = provider.send("+1 (202) 555-0142", "one")
    second = provider.send(PHONE, "two")
    kept = read_sms_outbox(outbox)
    assert [(m["id"], m["to"], m["text"]) for m in kept] == [
        (first, PHONE, "one"), (second, PHONE, "two")]
    assert first != second


@pytest.mark.parametrize("number", ["", "12025550142", "+0123456", "+1 202 555 01x2"])
def test_the_outbox_provider_refuses_what_is_not_a_phone_number(outbox: Path,
                                                                  number: str) -> None:
    with pytest.raises(SmsNotSent) as refused:
        OutboxSmsProvider(outbox).send(number, "hello")
    assert refused.value.permanent
    assert "not a phone number in international format" in str(refused.value)
    assert read_sms_outbox(outbox) == []


def test_a_reminder_texts_the_fresh_payment_link(texting: World, outbox: Path) -> None:
    texting.deliver(texting.stripe.decline(texting.start()))

    texting.advance(HOUR)
    texting.service.run_due_jobs()

    link = str(texting.repo.sessions_for_win(texting.win.id)[1].checkout_url)
    [sent] = read_sms_outbox(outbox)
    assert link in sent["text"] and "lot 17" in sent["text"]
    assert "22 h 59 min left" in sent["text"]
    assert [t.delivery for t in texts(texting).list()] == ["sent"]


# -- the demo data -------------------------------------------------------------------------
def test_every_demo_buyer_has_a_phone_number_set_aside_for_fiction(tmp_path: Path) -> None:
    repo = Repository(tmp_path / "demo.sqlite3")
    data = seed_demo(repo, Clock(), IdGenerator(5))
    phones = [TextMessageRecords(repo).phone_of(buyer.id) for buyer in data.buyers]
    assert len(set(phones)) == len(data.buyers)
    assert all(p is not None and re.fullmatch(r"\+1202555010\d", p) for p in phones)
    assert TextMessageRecords(repo).phone_of(data.admin.id) is None
    repo.close()
