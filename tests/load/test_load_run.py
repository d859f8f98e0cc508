"""``stripe-sim load``: green on healthy servers, red on each kind of fault, one test per
check (a request that fails, a p95 over budget, an order doubled behind the service's
back). Every run is a few seconds with a handful of users."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import requests
from load_support import against, stripe_sim_load

from simulator.bench.servers import Stack

pytestmark = pytest.mark.slow

# A bug that makes a second order for every paid win. The UNIQUE index on orders(win_id)
# would refuse it, so it goes first, as a buggy migration might drop it.
DOUBLE_EVERY_ORDER = """
DROP INDEX IF EXISTS idx_orders_win_id;
CREATE TRIGGER double_order AFTER INSERT ON orders WHEN NEW.id NOT LIKE '%_twin'
BEGIN
  INSERT INTO orders (id, win_id, buyer_id, status, created_at, updated_at)
  VALUES (NEW.id || '_twin', NEW.win_id, NEW.buyer_id, NEW.status, NEW.created_at,
          NEW.updated_at);
END;
"""


def test_a_short_run_against_servers_it_starts_passes(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()

    run = stripe_sim_load(["--users", "4", "--spawn-rate", "4", "--run-time", "5s",
                           "--html", str(tmp_path / "report.html"),
                           "--csv", str(tmp_path / "load"), "--workdir", str(work)])

    assert run.status == 0, run.output
    assert "PASS" in run.output
    assert "[FAIL]" not in run.output
    assert "POST /payments/checkout/create" in run.output
    assert "payment -> receipt ready" in run.output
    assert (tmp_path / "report.html").stat().st_size > 0
    assert (tmp_path / "load_stats.csv").read_text().count("\n") > 3
    assert list(work.iterdir()) == []  # the servers' files are gone


def test_an_injected_500_fails_the_run(stack: Stack) -> None:
    requests.post(f"{stack.sandbox.url}/_sandbox/faults", timeout=10, data={
        "method": "POST", "path": "/v1/payment_intents", "action": "error",
        "status": "500", "count": "2"}).raise_for_status()

    run = against(stack, "--persona", "stripe_api", "--users", "2", "--run-time", "3s")

    assert run.status == 1, run.output
    assert "FAIL: 2 of " in run.output
    assert "requests failed" in run.output
    assert "POST /v1/payment_intents (create+confirm)" in run.output
    requests.delete(f"{stack.sandbox.url}/_sandbox/faults", timeout=10).raise_for_status()


def test_a_p95_over_its_budget_fails_the_run(stack: Stack) -> None:
    run = against(stack, "--persona", "stripe_api", "--users", "2", "--run-time", "3s",
                  "--budget", "POST /v1/payment_intents*=0.01")

    assert run.status == 1, run.output
    assert "p95 of POST /v1/payment_intents (create+confirm) is " in run.output
    assert "over its budget of 0.01 ms" in run.output
    assert "requests failed" not in run.output
    assert "correctness check failed" not in run.output


def test_an_order_doubled_behind_the_service_fails_the_correctness_check(
        own_stack: Stack) -> None:
    conn = sqlite3.connect(own_stack.service.server.db_path)
    conn.executescript(DOUBLE_EVERY_ORDER)
    conn.close()

    run = against(own_stack, "--persona", "webhooks", "--users", "2", "--run-time", "4s")

    assert run.status == 1, run.output
    assert "[FAIL] paid at Stripe, with exactly one paid order: 0" in run.output
    assert "the correctness check failed" in run.output


@pytest.mark.parametrize(("args", "message"), [
    (["--users", "0"], "--users must be 1 to 1000"),
    (["--run-time", "soon"], "--run-time: run time 'soon'"),
    (["--budget", "checkout"], "--budget 'checkout': give ROUTE=MILLISECONDS"),
    (["--service-url", "http://127.0.0.1:1"], "to target running servers give"),
    (["--master", "--worker"], "--master and --worker exclude each other"),
])
def test_a_mistake_on_the_command_line_is_one_line(args: list[str], message: str) -> None:
    run = stripe_sim_load(args)

    assert run.status == 2
    assert run.output.startswith(f"stripe-sim load: {message}"), run.output
    assert run.output.count("\n") == 1
