"""Durable jobs (simulator/sandbox/jobs.py): every kind is registered at start-up
(simulator/sandbox/registrations.py), and a job nobody in this process can run is kept
for later, never dropped."""

from __future__ import annotations

import ast
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from simulator.common.ids import IdGenerator
from simulator.sandbox import jobs, registrations
from simulator.sandbox.resources.base import Ctx
from simulator.sandbox.resources.event import EventLog
from simulator.sandbox.store import Store

ROOT = Path(__file__).resolve().parents[2]
UNKNOWN = "tests.not_registered_yet"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "store.sqlite3")


@pytest.fixture
def unknown_kind() -> Iterator[str]:
    """A kind no module registers, not yet warned about; any handler a test gives it is
    removed afterwards."""
    jobs._warned_unknown.discard(UNKNOWN)
    yield UNKNOWN
    jobs.HANDLERS.pop(UNKNOWN, None)


def insert_job(store: Store, kind: str, ref: str, due_at: float) -> None:
    """A row as another process (or another release) would have written it."""
    with store.transaction() as conn:
        conn.execute("INSERT INTO jobs (kind, ref, due_at) VALUES (?, ?, ?)", (kind, ref, due_at))


def job_row(store: Store, kind: str, ref: str) -> tuple[float, int] | None:
    with store.read() as conn:
        row = conn.execute("SELECT claimed_until, attempts FROM jobs WHERE kind = ? AND ref = ?",
                           (kind, ref)).fetchone()
    return None if row is None else (float(row[0]), int(row[1]))


def run_due(store: Store, now: float) -> int:
    return jobs.run_due(store, lambda: now, IdGenerator(seed=1), "http://sandbox.test",
                        sink=EventLog())


def end_lease(store: Store) -> None:
    with store.transaction() as conn:
        conn.execute("UPDATE jobs SET claimed_until = 0")


def test_a_job_of_an_unknown_kind_is_kept_and_leased(store: Store, unknown_kind: str,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    insert_job(store, unknown_kind, "ref_1", due_at=1_000)
    started = time.monotonic()
    assert run_due(store, now=1_000) == 0
    assert time.monotonic() - started < 5
    row = job_row(store, unknown_kind, "ref_1")
    assert row is not None
    claimed_until, attempts = row
    assert claimed_until > time.time() + jobs.LEASE_SECONDS / 2
    assert attempts == 0
    assert unknown_kind in caplog.text
    # Within its lease the job is not claimed again, and waiting is not an attempt.
    assert run_due(store, now=2_000) == 0
    assert job_row(store, unknown_kind, "ref_1") == row


def test_unknown_kind_is_warned_about_once(store: Store, unknown_kind: str,
                                           caplog: pytest.LogCaptureFixture) -> None:
    for ref in ("ref_1", "ref_2"):
        insert_job(store, unknown_kind, ref, due_at=1_000)
    run_due(store, now=1_000)
    end_lease(store)
    run_due(store, now=1_000)
    warnings = [r for r in caplog.records if r.name == jobs.log.name and unknown_kind in r.message]
    assert len(warnings) == 1
    assert job_row(store, unknown_kind, "ref_1") is not None
    assert job_row(store, unknown_kind, "ref_2") is not None


def test_a_kept_job_runs_once_a_handler_knows_it(store: Store, unknown_kind: str) -> None:
    insert_job(store, unknown_kind, "ref_1", due_at=1_000)
    assert run_due(store, now=1_000) == 0
    seen: list[tuple[str, int]] = []

    def record(ctx: Ctx, ref: str) -> None:
        seen.append((ref, ctx.now))

    jobs.register_job(unknown_kind, record)

    assert run_due(store, now=1_500) == 0  # still leased
    end_lease(store)
    assert run_due(store, now=1_500) == 1
    assert seen == [("ref_1", 1_500)]
    assert job_row(store, unknown_kind, "ref_1") is None


def test_a_job_not_yet_due_is_not_claimed(store: Store, unknown_kind: str) -> None:
    insert_job(store, unknown_kind, "ref_1", due_at=5_000)
    assert run_due(store, now=4_999) == 0
    assert job_row(store, unknown_kind, "ref_1") == (0.0, 0)


def test_every_kind_has_a_handler_after_registration() -> None:
    from simulator.sandbox.resources.checkout_session import EXPIRE_JOB
    from simulator.sandbox.resources.refund import FAIL_JOB, SETTLE_JOB
    from simulator.sandbox.resources.test_clock import ADVANCE_JOB

    registrations.register_everything()
    registrations.register_everything()  # idempotent
    assert {EXPIRE_JOB, SETTLE_JOB, FAIL_JOB, ADVANCE_JOB} <= jobs.known_kinds()


def scheduled_kinds() -> set[str]:
    """The kind of every ``jobs.schedule(ctx, KIND, ...)`` in the sandbox, resolved from
    the constants of the module making the call."""
    kinds: set[str] = set()
    for path in (ROOT / "simulator" / "sandbox").rglob("*.py"):
        tree = ast.parse(path.read_text())
        constants = {
            target.id: node.value.value
            for node in tree.body if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
            for target in node.targets if isinstance(target, ast.Name)
        }
        for call in ast.walk(tree):
            if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "schedule" and isinstance(call.func.value, ast.Name)
                    and call.func.value.id == "jobs"):
                kind = call.args[1]
                assert isinstance(kind, ast.Name), f"{path}: schedule a named kind constant"
                kinds.add(constants[kind.id])
    return kinds


def test_every_scheduled_kind_has_a_handler() -> None:
    kinds = scheduled_kinds()
    assert len(kinds) >= 4
    registrations.register_everything()
    assert kinds <= jobs.known_kinds()


def test_scheduling_a_kind_without_a_handler_is_refused(store: Store, unknown_kind: str) -> None:
    ctx = Ctx(store=store, now=1_000, ids=IdGenerator(seed=1))
    with pytest.raises(LookupError, match=unknown_kind), store.transaction():
        jobs.schedule(ctx, unknown_kind, "ref_1", due_at=1_000)
    assert job_row(store, unknown_kind, "ref_1") is None


# A process that runs the sandbox's jobs without an app, as a worker might: its start-up
# is the one registration call.
FRESH_PROCESS = """
import sys
from simulator.common.ids import IdGenerator
from simulator.sandbox import jobs, registrations
from simulator.sandbox.resources.event import EventLog
from simulator.sandbox.store import Store

assert "simulator.sandbox.app" not in sys.modules
registrations.register_everything()
db_path, now = sys.argv[1], float(sys.argv[2])
print(jobs.run_due(Store(db_path), lambda: now, IdGenerator(), "http://sandbox.test",
                   sink=EventLog(registrations.EVENT_LISTENERS)))
"""


def test_a_fresh_process_runs_a_checkout_session_expiry(api: FlaskClient, tmp_path: Path) -> None:
    created = api.post("/v1/checkout/sessions", data={
        "mode": "payment",
        "success_url": "https://shop.test/thanks",
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "usd",
        "line_items[0][price_data][unit_amount]": "64200",
        "line_items[0][price_data][product_data][name]": "Lot 17",
    })
    assert created.status_code == 200, created.get_json()
    session = created.get_json()
    assert session["status"] == "open"
    db_path = tmp_path / "sandbox.sqlite3"
    store = Store(db_path)
    assert job_row(store, "checkout_session.expire", session["id"]) is not None

    result = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, str(db_path), str(session["expires_at"] + 1)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"
    assert job_row(store, "checkout_session.expire", session["id"]) is None
    assert api.get(f"/v1/checkout/sessions/{session['id']}").get_json()["status"] == "expired"
