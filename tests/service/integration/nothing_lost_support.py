"""Real processes for the "nothing lost" fault tests: a sandbox and a payment service,
each under gunicorn in a process group of its own (so SIGKILL takes the master and its
workers together), restarted on the same database and port; buyers paying a burst of
Checkout Sessions in a background thread; and the count that proves every payment
Stripe took is in the service exactly once."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from integration_support import ALICE, BOB, SandboxControl

from harness.servers import RunningServer, free_port, start_sandbox
from harness.service import (
    SERVICE_TEST_KEY,
    ServiceClient,
    service_config,
    start_service_process,
)
from simulator.common.clock import Clock
from simulator.service.adapters.receipts import ReceiptStore
from simulator.service.adapters.repositories import Repository
from simulator.service.adapters.stripe_gateway import StripeGateway
from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.user import User
from simulator.service.payments import PaymentService

SERVICE_WORKERS, SERVICE_THREADS = 2, 2
BUYERS = (ALICE, BOB)
# A sandbox delivery's lease is its timeout + 2 s: after a sandbox crash, deliveries it
# had in flight are attempted again once that has passed.
DELIVERY_TIMEOUT_SECONDS = 5
RESTART_TIMEOUT_SECONDS = 15.0
# How long the count may take to settle after the last restart, in real time.
SETTLE_SECONDS = 30.0


@dataclass(frozen=True)
class Checkout:
    """A buyer's Checkout Session for one win, started through the service's API."""

    win: AuctionWin
    payment_session_id: str
    checkout_session_id: str


class Stack:
    """A sandbox and a payment service on fixed ports and databases under ``root``, so
    each can be killed and started again as the same instance."""

    def __init__(self, root: Path, *, service_env: dict[str, str] | None = None) -> None:
        self.root = root
        self.sandbox_dir, self.service_dir = root / "sandbox", root / "service"
        self.sandbox_db = str(self.sandbox_dir / "sandbox.sqlite3")
        self.service_db = str(self.service_dir / "service.sqlite3")
        self.sandbox_port, self.service_port = two_free_ports()
        self.service_env = service_env or {}
        self.sandbox_server: RunningServer | None = None
        self.service_server: RunningServer | None = None

    # -- processes -----------------------------------------------------------------------
    @property
    def sandbox(self) -> SandboxControl:
        assert self.sandbox_server is not None, "the sandbox is not running"
        return SandboxControl(self.sandbox_server)

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    @property
    def service_url(self) -> str:
        return f"http://127.0.0.1:{self.service_port}"

    def start_sandbox(self) -> SandboxControl:
        wait_instance_released(self.sandbox_db)
        self.sandbox_server = start_sandbox(self.sandbox_dir, port=self.sandbox_port,
                                            db_path=self.sandbox_db, workers=2, threads=4)
        return self.sandbox

    def start_service(self) -> RunningServer:
        wait_instance_released(self.service_db)
        self.service_server = start_service_process(
            self.service_dir, self.sandbox_url, port=self.service_port,
            workers=SERVICE_WORKERS, threads=SERVICE_THREADS, env=self.service_env,
            new_session=True)
        return self.service_server

    def kill_sandbox(self) -> None:
        """SIGKILL, as a crashed machine would: no clean-up at all."""
        assert self.sandbox_server is not None
        self.sandbox_server.kill()
        self.sandbox_server = None

    def kill_service(self) -> None:
        assert self.service_server is not None
        self.service_server.kill()
        self.service_server = None

    def stop_service(self) -> None:
        """SIGTERM: gunicorn's graceful shutdown."""
        assert self.service_server is not None
        self.service_server.stop()
        self.service_server = None

    def close(self) -> None:
        for server in (self.service_server, self.sandbox_server):
            if server is not None:
                with contextlib.suppress(Exception):
                    server.stop()
                if server.process.poll() is None:
                    server.kill()
        self.service_server = self.sandbox_server = None

    def service_log(self) -> str:
        return _read_logs(self.service_dir, "service-*.log")

    # -- the marketplace -----------------------------------------------------------------
    def configure_deliveries(self) -> None:
        """A short delivery timeout (so leases of a killed sandbox run out soon); the
        retry profile stays Stripe's test-mode one (the first retry after 5 minutes)."""
        self.sandbox.control("POST", "/webhooks/config",
                             timeout_seconds=DELIVERY_TIMEOUT_SECONDS).raise_for_status()

    def record_wins(self, count: int, first_lot: int = 1) -> list[AuctionWin]:
        """Auctions that just ended, as the auction house records them (through the
        payment core, straight into the service's database), for two buyers."""
        now = int(self.sandbox.control("GET", "/clock").json()["now"])
        config = service_config(self.service_dir, self.sandbox_url)
        repo = Repository(self.service_db)
        try:
            with repo.transaction():
                for buyer in BUYERS:
                    if repo.get_user(buyer.id) is None:
                        repo.add_user(buyer)
            core = PaymentService(repo, StripeGateway(config, Clock()), Clock(), config, None,
                                  ReceiptStore(config.receipts_dir, repo.cipher))
            wins = []
            for lot in range(first_lot, first_lot + count):
                buyer = BUYERS[lot % len(BUYERS)]
                win = AuctionWin(f"win_{lot}", lot, f"Lot number {lot}", "usr_seller",
                                 buyer.id, 10_000 + 100 * lot, "usd", now - 60)
                core.record_win(win)
                wins.append(win)
            return wins
        finally:
            repo.close()

    def start_checkouts(self, wins: Sequence[AuctionWin]) -> list[Checkout]:
        checkouts = []
        for win in wins:
            answer = ServiceClient(self.service_url, buyer_of(win).api_token,
                                   timeout=30).create_checkout(win.id)
            assert answer.status_code in (200, 201), answer.text
            body = answer.json()
            checkouts.append(Checkout(win, body["payment_session_id"],
                                      body["checkout_url"].rsplit("/", 1)[-1]))
        return checkouts

    def pay(self, checkouts: Sequence[Checkout]) -> None:
        """The buyers pay one after another (the sandbox up), then Stripe delivers."""
        for checkout in checkouts:
            assert pay_at_sandbox(self.sandbox_url, checkout.checkout_session_id) == "paid"
        self.sandbox.drain()

    def webhook_endpoints(self) -> list[Any]:
        """The sandbox's endpoints pointing at this service."""
        listed = self.sandbox.sdk.v1.webhook_endpoints.list(params={"limit": 100})
        return [e for e in listed.auto_paging_iter() if e.url.startswith(self.service_url)]

    def deliveries(self, **filters: str) -> list[dict[str, Any]]:
        """The sandbox's webhook deliveries, newest first, with their attempts. (The
        filters go in the query string: on a GET the sandbox reads no form body.)"""
        answer = requests.get(f"{self.sandbox_url}/_sandbox/webhooks/deliveries",
                              params={"limit": "1000", **filters}, timeout=30)
        answer.raise_for_status()
        found: list[dict[str, Any]] = answer.json()["data"]
        return found

    def repository(self) -> Repository:
        return Repository(self.service_db)


def two_free_ports() -> tuple[int, int]:
    """The kernel may hand out the port it just freed again."""
    first = free_port()
    for _ in range(20):
        second = free_port()
        if second != first:
            return first, second
    raise AssertionError("no second free port")


def buyer_of(win: AuctionWin) -> User:
    return next(b for b in BUYERS if b.id == win.buyer_id)


def pay_at_sandbox(sandbox_url: str, checkout_session_id: str) -> str:
    """The buyer pays on Stripe's page: ``paid``, ``declined``, ``unreachable`` when
    the sandbox did not answer (the buyer would try again later), or ``refused …``."""
    try:
        answer = requests.post(
            f"{sandbox_url}/_sandbox/checkout/sessions/{checkout_session_id}/complete",
            data={"payment_method": "pm_card_visa"}, timeout=30)
    except requests.RequestException:
        return "unreachable"
    if answer.status_code >= 500:
        return "unreachable"
    if answer.status_code not in (200, 402):
        return f"refused {answer.status_code}: {answer.text[:200]}"
    return str(answer.json()["status"])


@dataclass
class Burst:
    """Buyers paying their Checkout Sessions one after another at the sandbox, in a
    background thread, while the test kills and restarts processes."""

    sandbox_url: str
    checkouts: Sequence[Checkout]
    pause_seconds: float = 0.02
    outcomes: dict[str, str] = field(default_factory=dict)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Burst:
        self._thread = threading.Thread(target=self._run, name="buyers", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        for checkout in self.checkouts:
            outcome = pay_at_sandbox(self.sandbox_url, checkout.checkout_session_id)
            with self._lock:
                self.outcomes[checkout.checkout_session_id] = outcome
            # A buyer who met an error page takes a moment before the next one arrives.
            time.sleep(self.pause_seconds if outcome == "paid" else 0.2)

    def count(self, outcome: str) -> int:
        with self._lock:
            return sum(1 for o in self.outcomes.values() if o == outcome)

    def wait_for(self, check: Callable[[Burst], bool], timeout: float = 60.0) -> None:
        assert wait_until(lambda: check(self), timeout), f"burst stuck: {self.summary()}"

    def wait_paid(self, paid: int, timeout: float = 60.0) -> None:
        self.wait_for(lambda burst: burst.count("paid") >= paid, timeout)

    def join(self, timeout: float = 120.0) -> None:
        assert self._thread is not None
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"buyers still paying: {self.summary()}"

    def summary(self) -> str:
        with self._lock:
            kinds = sorted(set(self.outcomes.values()))
            counts = {k: sum(1 for o in self.outcomes.values() if o == k) for k in kinds}
        return " ".join(f"{k}={v}" for k, v in counts.items()) or "none yet"


# == the count ===============================================================================
@dataclass(frozen=True)
class Tally:
    """Every Checkout Session Stripe took money for, against what the service holds."""

    paid: int
    orders: int
    transactions: int
    receipts: int
    receipt_mails: int
    lost: list[str]
    doubled: list[str]

    @property
    def settled(self) -> bool:
        return not self.lost and not self.doubled and (
            self.paid == self.orders == self.transactions == self.receipts
            == self.receipt_mails)

    def line(self, label: str) -> str:
        return (f"nothing-lost[{label}]: paid={self.paid} orders={self.orders}"
                f" transactions={self.transactions} receipts={self.receipts}"
                f" receipt_mails={self.receipt_mails} lost={len(self.lost)}"
                f" doubled={len(self.doubled)}")


def paid_at_stripe(sandbox: SandboxControl) -> dict[str, str]:
    """Checkout Session id -> PaymentIntent id, for every session Stripe took money for."""
    listed = sandbox.sdk.v1.checkout.sessions.list(params={"limit": 100})
    paid = {}
    for session in listed.auto_paging_iter():
        if session.payment_status == "paid":
            intent = session.payment_intent
            assert intent is not None, session.id
            paid[session.id] = intent if isinstance(intent, str) else intent.id
    return paid


def tally(sandbox: SandboxControl, service_db: str) -> Tally:
    """For each paid session: exactly one transaction (by PaymentIntent), one paid order
    pointing at it, its receipt PDF on disk and one receipt mail queued. ``lost`` names
    sessions missing any of those; ``doubled`` any second copy, and anything the
    service recorded that Stripe never took."""
    paid = paid_at_stripe(sandbox)
    repo = Repository(service_db)
    try:
        lost, doubled, receipts = [], [], 0
        for checkout_id, intent in sorted(paid.items()):
            problem, copies, receipt = _check_one(repo, checkout_id, intent)
            lost += [f"{checkout_id}: {problem}"] if problem else []
            doubled += [f"{checkout_id}: {copies}"] if copies else []
            receipts += receipt
        counts = _counts(repo)
        intents = set(paid.values())
        strays = [t for t in _intents_recorded(repo) if t not in intents]
        doubled += [f"{intent}: recorded, never paid at Stripe" for intent in strays]
        return Tally(len(paid), counts["orders"], counts["transactions"], receipts,
                     counts["mails"], lost, doubled)
    finally:
        repo.close()


def _check_one(repo: Repository, checkout_id: str, intent: str) -> tuple[str, str, int]:
    """(what is missing, what is doubled, 1 if its receipt is on disk) for one session."""
    session = repo.session_by_checkout_id(checkout_id)
    if session is None:
        return "no payment session", "", 0
    by_intent = repo.count("transactions", "WHERE payment_intent_id = ?", intent)
    by_win = repo.count("transactions", "WHERE win_id = ?", session.win_id)
    order = repo.order_for_win(session.win_id)
    txn = repo.transaction_by_payment_intent(intent)
    mails = repo.count("mail_outbox", "WHERE dedupe_key = ?",
                       f"receipt:{order.id}") if order else 0
    doubled = f"transactions={by_intent}/{by_win} mails={mails}" \
        if by_intent > 1 or by_win > 1 or mails > 1 else ""
    if txn is None:
        return "no transaction", doubled, 0
    if order is None or order.status != "paid" or order.transaction_id != txn.id:
        return f"order {order}", doubled, 0
    if not order.receipt_path or not Path(order.receipt_path).is_file():
        return "no receipt yet", doubled, 0
    if mails == 0:
        return "no receipt mail", doubled, 1
    return "", doubled, 1


def _counts(repo: Repository) -> dict[str, int]:
    return {"orders": repo.count("orders", "WHERE status = 'paid'"),
            "transactions": repo.count("transactions"),
            "mails": repo.count("mail_outbox", "WHERE dedupe_key LIKE 'receipt:%'")}


def _intents_recorded(repo: Repository) -> list[str]:
    return [t.payment_intent_id for t in repo.list_transactions(limit=10_000)]


def settle(stack: Stack, timeout: float = SETTLE_SECONDS) -> Tally:
    """Deliver what the sandbox has due (no clock moves) and give the service's start-up
    jobs (reconciliation, inbox recovery, receipts) time to run, until every payment is
    accounted for or ``timeout`` passes; the last count either way."""
    deadline = time.monotonic() + timeout
    while True:
        stack.sandbox.drain()
        counted = tally(stack.sandbox, stack.service_db)
        if counted.settled or time.monotonic() > deadline:
            return counted
        time.sleep(0.5)


def diagnose(stack: Stack) -> str:
    """What to look at when a count did not settle: unfinished jobs and inbox rows, the
    sandbox's deliveries by status, and the end of the service's log."""
    repo = stack.repository()
    try:
        jobs = repo.connection().execute(
            "SELECT kind, ref, due_at, attempts, claimed_by, claimed_until, last_error"
            " FROM jobs WHERE done = 0 ORDER BY due_at").fetchall()
        inbox = [e for e in repo.list_webhook_events(limit=1000) if e.status != "processed"]
    finally:
        repo.close()
    statuses: dict[str, int] = {}
    with contextlib.suppress(requests.RequestException):
        for delivery in stack.deliveries():
            statuses[delivery["status"]] = statuses.get(delivery["status"], 0) + 1
    unfinished = [(e.event_id, e.type, e.status, e.attempts, e.claimed_by, e.error)
                  for e in inbox]
    lines = [f"jobs not done: {[tuple(row) for row in jobs]}",
             f"inbox not processed: {unfinished}",
             f"sandbox deliveries: {statuses}",
             "service log (end):", stack.service_log()[-3000:]]
    return "\n".join(lines)


# == small waits ===============================================================================
def wait_until(check: Callable[[], bool], timeout: float, every: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return check()


def wait_instance_released(db_path: str, timeout: float = RESTART_TIMEOUT_SECONDS) -> None:
    """After a SIGKILL the instance lock goes with the last of its processes: wait for
    that (a worker may outlive its master by a moment) before starting again."""
    path = Path(f"{db_path}.instance")
    if not path.exists():
        return

    def free() -> bool:
        with open(path, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            fcntl.flock(handle, fcntl.LOCK_UN)
            return True

    assert wait_until(free, timeout), f"{path} still locked {timeout} s after the kill"


def _read_logs(folder: Path, pattern: str) -> str:
    return "\n".join(p.read_text(errors="replace") for p in sorted(folder.glob(pattern)))


@contextlib.contextmanager
def running(stack: Stack) -> Iterator[Stack]:
    """Both started; both stopped at the end whatever happened, logs kept on failure."""
    try:
        stack.start_sandbox()
        stack.configure_deliveries()
        stack.start_service()
        yield stack
    finally:
        stack.close()


# == a second instance =========================================================================
@dataclass(frozen=True)
class Refusal:
    returncode: int
    stderr: str
    stdout: str
    seconds: float


def start_second_service(stack: Stack, port: int, db_path: str) -> Refusal:
    """``stripe-sim service`` as an operator would start a second one by mistake; it
    must refuse before touching anything. Killed (with any workers) if it does not."""
    folder = Path(db_path).parent
    command = [sys.executable, "-m", "simulator", "service", "--port", str(port),
               "--db", db_path, "--stripe-api-base", stack.sandbox_url,
               "--receipts-dir", str(folder / "receipts"), "--workers", "2",
               "--threads", "2", "--test-mode"]
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, "STRIPE_SECRET_KEY": SERVICE_TEST_KEY},
                               start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise AssertionError(
            f"a second service on port {port}, db {db_path} kept running") from None
    return Refusal(process.returncode, stderr.decode(errors="replace"),
                   stdout.decode(errors="replace"), time.monotonic() - started)
