"""The SQLite store: transactions, the constraints that keep payments from doubling, the
webhook inbox, the mail outbox, and the demo seed."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from freezegun import freeze_time

from simulator.common.clock import Clock
from simulator.common.ids import IdGenerator
from simulator.service.adapters.repositories import Repository
from simulator.service.adapters.storage.schema import TABLES
from simulator.service.domain.alerts import Alert
from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.inbox import InboxClaim
from simulator.service.domain.notification import Mail
from simulator.service.domain.order import Order
from simulator.service.domain.payment_session import PaymentSession
from simulator.service.domain.stores import Conflict
from simulator.service.domain.transaction import Transaction
from simulator.service.domain.user import User
from simulator.service.seed import ENDED_AGO, demo_lots, seed_demo

NOW = 1_740_830_400


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Repository]:
    repository = Repository(tmp_path / "service.sqlite3")
    with repository.transaction():
        repository.add_user(User("usr_1", "Grace Hopper", "grace@example.com", "buyer", "tok_1"))
        repository.add_win(WIN)
    yield repository
    repository.close()


WIN = AuctionWin("win_1", 17, "Art deco bronze table lamp", "sel_1", "usr_1", 64200, "usd",
                 NOW - 60)


def session(attempt: int = 1, status: str = "open", **changes: object) -> PaymentSession:
    values: dict[str, object] = dict(
        id=f"ps_{attempt}", win_id="win_1", buyer_id="usr_1", attempt=attempt,
        status=status, idempotency_key=f"key-{attempt}", expires_at=NOW + 86_000,
        window_ends_at=NOW + 86_340, created_at=NOW, updated_at=NOW,
        checkout_session_id=f"cs_{attempt}")
    values.update(changes)
    return PaymentSession(**values)  # type: ignore[arg-type]


def transaction(txn_id: str = "txn_1", payment_intent: str = "pi_1") -> Transaction:
    return Transaction(txn_id, "ps_1", "win_1", 64200, 1892, 62308, "usd", "succeeded", "visa",
                       "4242", "authenticated", "normal", 20, "ch_1", payment_intent, NOW,
                       review_flags=("radar_risk",))


# -- the database ------------------------------------------------------------------------------
def test_the_schema_can_be_opened_twice_and_is_in_wal_mode(tmp_path: Path,
                                                           repo: Repository) -> None:
    again = Repository(repo.path)
    mode = again.connection().execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    assert again.get_win("win_1") == WIN
    again.close()


def test_each_thread_has_its_own_connection(repo: Repository) -> None:
    mine = repo.connection()
    theirs: list[sqlite3.Connection] = []
    thread = threading.Thread(target=lambda: theirs.append(repo.connection()))
    thread.start()
    thread.join()
    assert theirs[0] is not mine and repo.connection() is mine


def test_a_failed_transaction_leaves_nothing(repo: Repository) -> None:
    with pytest.raises(RuntimeError), repo.transaction():
        repo.add_payment_session(session())
        with repo.transaction():  # nested: joins the outer one
            repo.add_order(Order("ord_1", "win_1", "usr_1", "paid", NOW, NOW))
        raise RuntimeError("crash before commit")

    assert repo.sessions_for_win("win_1") == [] and repo.order_for_win("win_1") is None


def test_a_writer_waits_for_another_process_writer_then_gives_up_as_sqlite_would(
        repo: Repository) -> None:
    other = Repository(repo.path)  # another worker process: its own queue and lock file
    other_done = threading.Event()
    repo.busy_timeout = 0.2
    with other.transaction():
        other.add_order(Order("ord_1", "win_1", "usr_1", "paid", NOW, NOW))
        with pytest.raises(sqlite3.OperationalError, match="database is locked"), \
                repo.transaction():
            pass  # never reached: the other writer holds the lock past the timeout

        def write_when_free() -> None:
            with repo.transaction():
                repo.add_payment_session(session())
            other_done.set()

        waiting = threading.Thread(target=write_when_free)
        waiting.start()
        assert not other_done.wait(0.05)  # queued behind the other writer
    waiting.join(5)
    assert other_done.is_set()
    assert repo.order_for_win("win_1") is not None and len(repo.sessions_for_win("win_1")) == 1
    other.close()


def test_no_table_has_room_for_a_card_number_or_cvc() -> None:
    columns = {column for spec, _ in TABLES.values() for column in spec}
    assert not {c for c in columns if "number" in c or "cvc" in c or c in ("pan", "card")}


# -- the constraints that keep payments single -----------------------------------------------------
def test_one_live_session_per_win(repo: Repository) -> None:
    repo.add_payment_session(session(1))
    with pytest.raises(Conflict):
        repo.add_payment_session(session(2))
    repo.save_payment_session(session(1, "failed"))
    repo.add_payment_session(session(2))
    assert [s.status for s in repo.sessions_for_win("win_1")] == ["failed", "open"]


def test_a_session_cannot_become_live_beside_another(repo: Repository) -> None:
    repo.add_payment_session(session(1, "failed"))
    repo.add_payment_session(session(2))
    with pytest.raises(Conflict):
        repo.save_payment_session(session(1, "processing"))


def test_one_transaction_per_payment_intent(repo: Repository) -> None:
    repo.add_payment_session(session())
    repo.add_transaction(transaction())
    with pytest.raises(Conflict):
        repo.add_transaction(transaction("txn_2", "pi_1"))
    assert repo.transaction_by_payment_intent("pi_1") == transaction()


def test_one_order_per_win(repo: Repository) -> None:
    repo.add_order(Order("ord_1", "win_1", "usr_1", "canceled", NOW, NOW))
    with pytest.raises(Conflict):
        repo.add_order(Order("ord_2", "win_1", "usr_1", "paid", NOW, NOW))


def test_sessions_are_found_by_their_stripe_ids(repo: Repository) -> None:
    repo.add_payment_session(session(payment_intent_id="pi_9"))
    assert repo.session_by_checkout_id("cs_1") == repo.session_by_payment_intent("pi_9") \
        == repo.get_payment_session("ps_1")


# -- webhook inbox, alerts, security events, mail --------------------------------------------------
def claim(owner: str = "host:1", until: float = 1_000.0, now: float = 0.0,
          alive: frozenset[str] = frozenset({"host:1", "host:2"})) -> InboxClaim:
    return InboxClaim(owner, until, now, lambda who: who in alive)


def test_the_inbox_dedupes_on_processed_not_on_received(repo: Repository) -> None:
    take = repo.claim_webhook_event
    assert take("evt_1", "checkout.session.completed", "{}", NOW, claim()) == "claimed"
    assert take("evt_1", "checkout.session.completed", "{}", NOW + 1,
                claim("host:2")) == "in_progress"  # a live worker holds it
    repo.mark_webhook_failed("evt_1", "RuntimeError: boom", NOW + 2)
    assert take("evt_1", "checkout.session.completed", "{}", NOW + 60,
                claim("host:2")) == "claimed"  # failed: Stripe's retry processes it
    repo.mark_webhook_processed("evt_1", NOW + 61)
    assert take("evt_1", "checkout.session.completed", "{}", NOW + 999, claim()) == "processed"

    event = repo.get_webhook_event("evt_1")
    assert event is not None and (event.status, event.attempts, event.error) == (
        "processed", 2, None)


def test_an_event_whose_worker_died_is_taken_at_once(repo: Repository) -> None:
    take = repo.claim_webhook_event
    take("evt_1", "payment_intent.succeeded", "{}", NOW, claim("host:9"))  # host:9 is dead
    assert take("evt_1", "payment_intent.succeeded", "{}", NOW + 1, claim()) == "claimed"
    assert repo.get_webhook_event("evt_1").claimed_by == "host:1"  # type: ignore[union-attr]


def test_an_event_whose_lease_ran_out_is_taken_again(repo: Repository) -> None:
    take = repo.claim_webhook_event
    take("evt_1", "payment_intent.succeeded", "{}", NOW, claim(until=100.0))
    assert take("evt_1", "payment_intent.succeeded", "{}", NOW, claim(
        "host:2", until=200.0, now=99.0)) == "in_progress"
    assert take("evt_1", "payment_intent.succeeded", "{}", NOW, claim(
        "host:2", until=300.0, now=101.0)) == "claimed"


def test_unfinished_events_are_recovered_once_their_claims_are_released(
        repo: Repository) -> None:
    repo.claim_webhook_event("evt_1", "payment_intent.succeeded", "{}", NOW, claim())
    repo.claim_webhook_event("evt_2", "payment_intent.succeeded", "{}", NOW, claim())
    repo.mark_webhook_processed("evt_2", NOW)
    assert repo.claim_unfinished_webhook_event(NOW, claim("host:2")) is None  # host:1 lives
    assert repo.release_webhook_claims() == 1  # a restart: every claim is a dead one's
    recovered = repo.claim_unfinished_webhook_event(NOW, claim("host:2"))
    assert recovered is not None and (recovered.event_id, recovered.claimed_by) == (
        "evt_1", "host:2")
    assert repo.claim_unfinished_webhook_event(NOW, claim("host:2")) is None


def test_an_alert_burst_is_one_alert(repo: Repository) -> None:
    alert = Alert("circuit_open", "critical", "Stripe is failing", NOW, "stripe")
    assert repo.add_alert(alert, unless_since=NOW - 300)
    assert not repo.add_alert(alert, unless_since=NOW - 300)
    assert repo.add_alert(alert)
    assert len(repo.list_alerts()) == 2


def test_security_events_are_counted_by_kind_and_time(repo: Repository) -> None:
    for at in (NOW - 400, NOW - 10, NOW):
        repo.add_security_event("webhook_signature_invalid", "bad", "127.0.0.1", at)
    repo.add_security_event("other", "x", "127.0.0.1", NOW)
    assert repo.count_security_events(NOW - 300, "webhook_signature") == 2


def test_mail_is_queued_once_per_notice(repo: Repository) -> None:
    mail = Mail("receipt:ord_1", "grace@example.com", "Your receipt", "Thanks", "ord_1")
    first = repo.queue_mail(mail, NOW)
    assert first is not None and repo.queue_mail(mail, NOW) is None
    repo.mark_mail_failed(first, "SMTP down", permanent=False)
    repo.mark_mail_sent(first, NOW + 30)
    queued = repo.get_mail(first)
    assert queued is not None and (queued.status, queued.attempts, queued.to) == (
        "sent", 2, "grace@example.com")


# -- the demo seed -----------------------------------------------------------------------------
def test_seed_demo_wins_stay_open_through_a_demo(tmp_path: Path) -> None:
    with freeze_time("2025-03-01 12:00:00"):
        clock = Clock()
        repo = Repository(tmp_path / "demo.sqlite3")
        data = seed_demo(repo, clock, IdGenerator(5))

        assert data.admin.is_admin and data.admin.email == "admin@auction.test"
        assert len(data.buyers) == 3 and len({b.api_token for b in data.buyers}) == 3
        assert len(data.wins) == 8
        lots = {lot["lot"]: lot for lot in demo_lots()}
        assert all(lots[w.lot]["title"] == w.title and lots[w.lot]["amount"] == w.amount
                   for w in data.wins)
        ages = sorted(clock.timestamp() - w.ended_at for w in data.wins)
        assert ages == sorted(ENDED_AGO)
        closing = {job.ref: job.due_at for job in repo.pending_jobs("close_window")}
        assert set(closing) == {w.id for w in data.wins}
        assert sum(1 for due in closing.values() if due < clock.now()) == 1  # one closed
        # the others stay open through a demo unless the presenter moves the clock
        assert all(due - clock.now() >= 18 * 3600 for due in closing.values()
                   if due >= clock.now())
        assert any(w.amount > 50_000 and w.currency == "usd" for w in data.wins)  # 3-D Secure
        assert {b.country for b in data.buyers} == {"US"}  # like the test cards
        assert seed_demo(repo, clock, IdGenerator(5)).wins == repo.list_wins()
        assert len(repo.list_users()) == 4
        repo.close()


def test_seed_demo_is_repeatable(tmp_path: Path) -> None:
    with freeze_time("2025-03-01 12:00:00"):
        first = seed_demo(Repository(tmp_path / "a.sqlite3"), Clock(), IdGenerator(5))
        second = seed_demo(Repository(tmp_path / "b.sqlite3"), Clock(), IdGenerator(5))
    assert first == second
