"""Servers for load runs and benchmarks, started as real processes (gunicorn, several
workers) on free loopback ports: the sandbox, the payment service in test mode in front
of it, and a bare Flask endpoint served the same way.

Product code may not import the test harness, so the load command and the benchmarks
start their servers here."""

from __future__ import annotations

import json
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from simulator.cli import supervision
from simulator.cli.health import SERVICE_HEALTH
from simulator.cli.mail_catcher import MailCatcher
from simulator.cli.supervision import (
    LOOPBACK,
    RunningServer,
    free_port,
    spawn,
    wait_until_healthy,
)

SERVICE_KEY = "sk_test_load_payment_service"
# A load run's few buyer accounts start checkouts and fail payments far faster than any
# person, all with the same test cards: the velocity rules would read the whole run as one
# fraudster and refuse it. They are lifted here; every other rule stays as configured.
_UNLIMITED = [10**9, 10**9]
LOAD_FRAUD_POLICY = json.dumps({name: _UNLIMITED for name in (
    "buyer_checkouts_per_hour", "buyer_checkouts_per_day", "ip_checkouts_per_hour",
    "buyer_failures_per_day", "ip_failures_per_day", "device_buyers_per_day",
    "network_buyers_per_day", "card_payments_per_day", "card_buyers")})

def start_sandbox(workdir: Path, *, workers: int = 2, threads: int = 4) -> RunningServer:
    """``stripe-sim sandbox`` on a free port, answering once healthy."""
    return supervision.start_sandbox(workdir, workers=workers, threads=threads)


@dataclass
class ServiceProcess:
    server: RunningServer
    auction_token: str  # the auction system's secret for ``POST /payments/wins``
    receipts_dir: str

    @property
    def url(self) -> str:
        return self.server.url


def start_service(workdir: Path, sandbox_url: str, *, workers: int = 2, threads: int = 4,
                  smtp_port: int | None = None) -> ServiceProcess:
    """``stripe-sim service --test-mode`` against ``sandbox_url``: it registers its own
    webhook endpoint there (the secret is in its database) and follows the sandbox's
    clock. ``AUCTION_API_TOKEN`` is made up here, so wins can be recorded through the
    auction API."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    db = str(workdir / "service.sqlite3")
    receipts = str(workdir / "receipts")
    token = secrets.token_urlsafe(24)
    env = {k: v for k, v in os.environ.items() if k != "STRIPE_WEBHOOK_SECRET"}
    env.update({"STRIPE_SECRET_KEY": SERVICE_KEY, "AUCTION_API_TOKEN": token,
                "SERVICE_REMINDER_JITTER_SECONDS": "0", "SERVICE_FRAUD": LOAD_FRAUD_POLICY})
    if smtp_port is not None:
        env.update({"SMTP_HOST": LOOPBACK, "SMTP_PORT": str(smtp_port)})
    log_path = workdir / f"service-{port}.log"
    process = spawn([sys.executable, "-m", "simulator", "service", "--host", LOOPBACK,
                      "--port", str(port), "--db", db, "--receipts-dir", receipts,
                      "--stripe-api-base", sandbox_url, "--test-mode",
                      "--workers", str(workers), "--threads", str(threads)], log_path, env)
    server = RunningServer(f"http://{LOOPBACK}:{port}", process, db, str(log_path))
    wait_until_healthy(server, SERVICE_HEALTH)
    return ServiceProcess(server, token, receipts)


def start_bare_flask(workdir: Path, *, workers: int = 2, threads: int = 4) -> RunningServer:
    """``simulator.bench.bare_flask``: the yardstick for the webhook endpoint."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = workdir / f"bare-flask-{port}.log"
    process = spawn([sys.executable, "-m", "simulator.bench.bare_flask", "--host", LOOPBACK,
                      "--port", str(port), "--workers", str(workers),
                      "--threads", str(threads)], log_path)
    server = RunningServer(f"http://{LOOPBACK}:{port}", process, "", str(log_path))
    wait_until_healthy(server, "/health")
    return server



@dataclass
class Stack:
    """The sandbox, the service in front of it, and a mail catcher for its mail."""

    sandbox: RunningServer
    service: ServiceProcess
    mail: MailCatcher

    def stop(self) -> None:
        """Both servers told at once, then waited for (each takes a moment to drain)."""
        for server in (self.service.server, self.sandbox):
            server.terminate()
        for server in (self.service.server, self.sandbox):
            server.wait()
        self.mail.stop()


def start_stack(workdir: Path, *, workers: int = 2, threads: int = 4) -> Stack:
    """Everything a load run needs, each server with ``workers`` x ``threads``; if a
    part fails to start, the parts already running are stopped."""
    mail = MailCatcher().start()  # counts the receipts, keeps nothing
    try:
        sandbox = start_sandbox(workdir / "sandbox", workers=workers, threads=threads)
    except BaseException:
        mail.stop()
        raise
    try:
        service = start_service(workdir / "service", sandbox.url, workers=workers,
                                threads=threads, smtp_port=mail.port)
    except BaseException:
        sandbox.stop()
        mail.stop()
        raise
    return Stack(sandbox, service, mail)
