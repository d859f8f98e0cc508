"""Mail delivery tracking against a real SMTP server (aiosmtpd on loopback) that refuses
a message for a while and then takes it: the payment is recorded at once, the mail shows
"retrying" with its attempts and the server's reply, the scheduler tries again with
backoff (a durable job, no sleeping), and it ends "sent" with the receipt attached."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import cast

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from freezegun.api import FrozenDateTimeFactory
from payments_support import (
    DictReceipts,
    FakeStripe,
    World,
    stub_render,
)

from harness.servers import free_port
from simulator.common.clock import Clock
from simulator.common.ids import IdGenerator
from simulator.service.adapters.mail import Mailer
from simulator.service.adapters.repositories import Repository
from simulator.service.config import ServiceConfig
from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.user import User
from simulator.service.payments import PaymentService


class RefusingThenAccepting:
    """Answers DATA with a temporary 451 ``refusals`` times, then keeps the messages."""

    def __init__(self, refusals: int, code: int = 451) -> None:
        self.refusals = refusals
        self.code = code
        self.received: list[EmailMessage] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refusals > 0:
            self.refusals -= 1
            return f"{self.code} 4.3.2 Mailbox busy, try again later" if self.code < 500 \
                else f"{self.code} 5.7.1 Message refused"
        content = cast(bytes, envelope.original_content or envelope.content)
        self.received.append(cast(EmailMessage, message_from_bytes(content,
                                                                   policy=policy.default)))
        return "250 Message accepted for delivery"


def smtp_world(tmp_path: Path, frozen: FrozenDateTimeFactory, port: int) -> World:
    clock = Clock()
    config = ServiceConfig(db_path=str(tmp_path / "service.sqlite3"),
                           public_url="http://shop.test", reminder_jitter_seconds=0,
                           smtp_host="127.0.0.1", smtp_port=port)
    repo = Repository(config.db_path)
    stripe, receipts = FakeStripe(clock), DictReceipts()
    mailer = Mailer("127.0.0.1", port, config.mail_from, timeout=5, clock=clock)
    service = PaymentService(repo, stripe, clock, config, mailer, receipts,
                             ids=IdGenerator(7), render_receipt=stub_render)
    buyer = User("usr_buyer", "Grace Hopper", "grace@example.com", "buyer", "tok_buyer", "US")
    admin = User("usr_admin", "Ada Admin", "admin@auction.test", "admin", "tok_admin", "US")
    with repo.transaction():
        repo.add_user(buyer)
        repo.add_user(admin)
    win = AuctionWin(id="win_17", lot=17, title="Art deco bronze table lamp",
                     seller_id="sel_1", buyer_id=buyer.id, amount=64200, currency="usd",
                     ended_at=clock.timestamp() - 60)
    service.record_win(win)
    return World(service, repo, stripe, None, receipts, clock, frozen,  # type: ignore[arg-type]
                 buyer, admin, win)


@pytest.fixture
def server() -> Iterator[tuple[RefusingThenAccepting, int]]:
    handler = RefusingThenAccepting(refusals=2)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


def test_a_busy_mail_server_is_tried_again_until_it_takes_the_receipt(
        tmp_path: Path, frozen: FrozenDateTimeFactory,
        server: tuple[RefusingThenAccepting, int]) -> None:
    handler, port = server
    world = smtp_world(tmp_path, frozen, port)

    world.deliver(*world.stripe.pay(world.start(), card="visa_3ds"))

    assert world.repo.count("orders") == 1  # the payment never waits for the mail
    [mail] = world.repo.list_mail()
    assert (mail.delivery, mail.attempts) == ("retrying", 1)
    assert mail.last_error is not None and "451" in mail.last_error

    world.advance(30)
    world.service.run_due_jobs()
    assert (world.repo.list_mail()[0].delivery, world.repo.list_mail()[0].attempts) \
        == ("retrying", 2)
    world.service.run_due_jobs()  # the next try is a minute away: nothing yet
    assert world.repo.list_mail()[0].attempts == 2 and handler.received == []

    world.advance(60)
    world.service.run_due_jobs()

    [mail] = world.repo.list_mail()
    assert (mail.delivery, mail.attempts, mail.last_error) == ("sent", 3, None)
    [received] = handler.received
    assert received["Subject"] == "Your receipt for lot 17"
    [attachment] = list(received.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    world.repo.close()


def test_a_refusal_for_good_is_not_tried_again(
        tmp_path: Path, frozen: FrozenDateTimeFactory,
        server: tuple[RefusingThenAccepting, int]) -> None:
    handler, port = server
    handler.code = 554
    world = smtp_world(tmp_path, frozen, port)

    world.deliver(*world.stripe.pay(world.start(), card="visa_3ds"))
    world.advance(3600)
    world.service.run_due_jobs()

    [mail] = world.repo.list_mail()
    assert (mail.delivery, mail.attempts) == ("failed", 1)
    assert mail.last_error is not None and "554" in mail.last_error
    assert "mail_failed" in [alert.kind for alert in world.repo.list_alerts()]
    assert handler.received == [] and world.repo.count("orders") == 1
    world.repo.close()
