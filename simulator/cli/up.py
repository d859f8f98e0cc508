"""``stripe-sim up``: the main job. Starts a mail catcher, the sandbox and the payment
service (which registers its webhook endpoint at the sandbox as it starts and sends its
mail to the catcher), seeds demo data once (one win with a declined first attempt, so
"Try again" can be shown), prints where everything is, the demo accounts with their
passwords and what to try, and stops everything on Ctrl-C. ``--reset`` starts over.

The service follows the sandbox's clock (``stripe-sim clock advance 24h`` moves both),
but its test routes (``/_test/*``: reset, faults, jobs) are off unless ``--test-mode``
asks for them; even then they need the test token or a signed-in admin."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import stripe

from simulator.cli.command import Command, CommandError
from simulator.cli.demo_rehearsal import rehearse_a_declined_payment
from simulator.cli.health import SERVICE_HEALTH, ServerFailed, wait_healthy
from simulator.cli.instance import check_port_free
from simulator.cli.mail_catcher import MailCatcher

DEMO_KEY = "sk_test_demo_local_sandbox"
MERCHANT_NAME = "Lot & Hammer Auctions"
MAIL_DIR = "mail"
SMS_OUTBOX = "sms/outbox.jsonl"  # the local SMS provider's phones, one JSON line a text
ROOT = Path(__file__).resolve().parents[2]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--sandbox-port", type=int, default=12111)
    parser.add_argument("--service-port", type=int, default=8000)
    parser.add_argument("--no-service", action="store_true", help="the sandbox alone")
    parser.add_argument("--data-dir", default=".sandbox", help="where the SQLite files live")
    parser.add_argument("--no-seed", action="store_true", help="skip the demo data")
    parser.add_argument("--reset", action="store_true",
                        help="start over: remove the sandbox's and the service's data, receipts"
                        " and caught mail from --data-dir first (new demo passwords too)")
    parser.add_argument("--smtp-port", type=int, default=1025,
                        help="the mail catcher's SMTP port (the service sends its mail there)")
    parser.add_argument("--tls-cert", default=None,
                        help="PEM certificate: serve the payment service over HTTPS, TLS 1.3 only")
    parser.add_argument("--tls-key", default=None, help="the certificate's PEM private key")
    parser.add_argument("--tls-ca", default=None,
                        help="PEM CA bundle the sandbox trusts when it delivers webhooks to the"
                        " service (default: the certificate itself, if self-signed)")
    parser.add_argument("--test-mode", action="store_true",
                        help="also enable the service's test routes (/_test/*), for the"
                        " token in <data-dir>/service.sqlite3.test-token or an admin")


def run(args: argparse.Namespace) -> int:
    """Check both ports before anything starts; if a part fails to start, say which
    and why in one line and stop the others at once."""
    check_port_free(args.host, args.sandbox_port, "sandbox")
    if not args.no_service:
        check_port_free(args.host, args.service_port, "payment service")
        check_port_free(args.host, args.smtp_port, "mail catcher")
    data_dir = Path(args.data_dir)
    if data_dir.exists() and not data_dir.is_dir():
        raise CommandError(f"--data-dir {data_dir} is a file; give a folder")
    if args.reset:
        _start_over(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    children: list[subprocess.Popen[bytes]] = []
    catcher: MailCatcher | None = None
    part = "sandbox"
    try:
        sandbox_url = start_sandbox(args, data_dir, children)
        fresh = not args.no_seed and seed_demo(sandbox_url)
        part = "payment service"
        if not args.no_service:
            catcher = MailCatcher(data_dir / MAIL_DIR, host=args.host,
                                  port=args.smtp_port).start()
            start_service(args, data_dir, sandbox_url, children, smtp_port=catcher.port)
            if fresh:
                rehearse_a_declined_payment(_service_url(args), sandbox_url, data_dir)
        _print_banner(args, data_dir, sandbox_url)
        return _wait(children)
    except ServerFailed as failed:
        reason = re.sub(r"^stripe-sim \w+: ", "", failed.reason)
        raise CommandError(f"the {part} failed to start: {reason}") from None
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            child.wait(timeout=10)
        if catcher is not None:
            catcher.stop()


# What ``up`` keeps in --data-dir; ``--reset`` removes exactly these and nothing else.
DATA_FILES = ("sandbox.sqlite3*", "service.sqlite3*", "sandbox.log", "service.log", "listen.json")
DATA_FOLDERS = ("receipts", MAIL_DIR, "sms")


def _start_over(data_dir: Path) -> None:
    """Remove what earlier runs of ``up`` left in ``data_dir``, saying what went."""
    if not data_dir.is_dir():
        return
    files = [path for pattern in DATA_FILES for path in data_dir.glob(pattern) if path.is_file()]
    folders = [data_dir / name for name in DATA_FOLDERS if (data_dir / name).is_dir()]
    for path in files:
        path.unlink()
    for folder in folders:
        shutil.rmtree(folder)
    what = ", ".join(sorted({_kind(path.name) for path in [*files, *folders]})) or "nothing"
    print(f"Starting over: removed {len(files)} files and {len(folders)} folders from"
          f" {data_dir} ({what}).", flush=True)


def _kind(name: str) -> str:
    if name.startswith("sandbox"):
        return "the sandbox's data"
    if name.startswith("service"):
        return "the service's data, keys and demo passwords"
    return {"receipts": "receipts", MAIL_DIR: "caught mail",
            "sms": "sent text messages"}.get(name, name)


def start_sandbox(args: argparse.Namespace, data_dir: Path,
                  children: list[subprocess.Popen[bytes]]) -> str:
    sandbox_url = f"http://{args.host}:{args.sandbox_port}"
    command = [sys.executable, "-m", "simulator", "sandbox", "--host", args.host,
               "--port", str(args.sandbox_port), "--db", str(data_dir / "sandbox.sqlite3"),
               "--merchant-name", MERCHANT_NAME]
    if args.tls_cert:
        command += ["--webhook-ca-bundle", args.tls_ca or args.tls_cert]
    log_path = data_dir / "sandbox.log"
    children.append(_spawn(command, log_path))
    wait_healthy(sandbox_url, children[-1], str(log_path))
    return sandbox_url


def _spawn(command: list[str], log_path: Path,
           env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """The child's output goes to an owner-only log: a server's log can hold what a
    request carried."""
    descriptor = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.chmod(log_path, 0o600)  # a log made before this rule was readable by all
    with os.fdopen(descriptor, "ab") as log:
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)


def _print_banner(args: argparse.Namespace, data_dir: Path, sandbox_url: str) -> None:
    print(f"Stripe sandbox   {sandbox_url}  (API base for any Stripe SDK; key: any sk_test_...)")
    print(f"  dashboard      {sandbox_url}/  (payments, events, deliveries, the clock)")
    print(f"  logs           {data_dir / 'sandbox.log'}")
    if not args.no_service:
        service_url = _service_url(args)
        print(f"Payment service  {service_url}/payments/login  (sign in as a demo account)")
        print(f"  admin          {service_url}/payments/admin/  (mailbox: .../admin/mail)")
        print(f"  API            {service_url}/openapi.yaml")
        print(f"  logs           {data_dir / 'service.log'}")
        if args.test_mode:
            print(f"  test routes    {service_url}/_test/  (X-Test-Token: see"
                  f" {data_dir / 'service.sqlite3.test-token'})")
        print(f"Mail catcher     smtp://{args.host}:{args.smtp_port}  (every message kept in"
              f" {data_dir / MAIL_DIR}/new, a Maildir)")
        print(f"Text messages    {data_dir / SMS_OUTBOX}  (the local SMS provider's outbox;"
              " both shown in the admin mailbox)")
        _print_demo_accounts(data_dir)
        _print_what_to_try(sandbox_url)
    print("Ctrl-C stops everything; `stripe-sim up --reset` starts over.", flush=True)


def _print_what_to_try(sandbox_url: str) -> None:
    print("What to try")
    for line in (
        "Sign in as a buyer, open My winnings and pay with 4242 4242 4242 4242"
        " (any future date, any CVC)",
        "Lot 17 ($642.00) is over $500: the bank asks for 3-D Secure whatever the card",
        "A decline: 4000 0000 0000 9995 (insufficient funds); one win already has one,"
        " with Try again",
        "A chargeback: pay with 4000 0000 0000 0259; the admin's alerts show the dispute",
        "As the admin: the mailbox (receipts with their PDF; the buyers' text messages"
        " beside them), the review queue, alerts",
        f"Move the one clock from the dashboard ({sandbox_url}/) or with"
        " `stripe-sim clock advance 24h`: reminders go out, windows close",
    ):
        print(f"  - {line}")


def _print_demo_accounts(data_dir: Path) -> None:
    from simulator.service.seed import demo_accounts_path, read_demo_accounts

    path = demo_accounts_path(str(data_dir / "service.sqlite3"))
    accounts = read_demo_accounts(path)
    if not accounts:
        return
    print(f"Demo accounts    (kept owner-only in {path}; delete it for new passwords)")
    for account in accounts:
        print(f"  {account.role:<6} {account.name:<24} {account.email:<36}"
              f" password {account.password}")


def start_service(args: argparse.Namespace, data_dir: Path, sandbox_url: str,
                  children: list[subprocess.Popen[bytes]], *, smtp_port: int | None = None,
                  ) -> None:
    """``stripe-sim service`` against this sandbox, following its clock (test routes
    only with ``--test-mode``), sending its mail to the catcher on ``smtp_port``; its demo
    buyers and wins are seeded once."""
    command = [
        sys.executable, "-m", "simulator", "service",
        "--host", args.host, "--port", str(args.service_port),
        "--db", str(data_dir / "service.sqlite3"),
        "--receipts-dir", str(data_dir / "receipts"),
        "--stripe-api-base", sandbox_url, "--follow-sandbox-clock",
    ]
    for flag, path in (("--tls-cert", args.tls_cert), ("--tls-key", args.tls_key)):
        command += [flag, path] if path else []  # the service refuses one without the other
    if args.test_mode:
        command.append("--test-mode")
    if not args.no_seed:
        command.append("--seed-demo")
    # The service registers its own endpoint at the sandbox and keeps that secret.
    env = {k: v for k, v in os.environ.items() if k != "STRIPE_WEBHOOK_SECRET"}
    if smtp_port is not None:
        env.update({"SMTP_HOST": args.host, "SMTP_PORT": str(smtp_port)})
    env["SMS_OUTBOX"] = str(data_dir / SMS_OUTBOX)
    log_path = data_dir / "service.log"
    children.append(_spawn(command, log_path, env))
    wait_service_healthy(_service_url(args), children[-1], str(log_path),
                         verify=args.tls_ca or args.tls_cert or True)


def _service_url(args: argparse.Namespace) -> str:
    scheme = "https" if args.tls_cert else "http"
    return f"{scheme}://{args.host}:{args.service_port}"


def wait_service_healthy(url: str, process: subprocess.Popen[bytes], log_path: str,
                         verify: bool | str = True) -> None:
    wait_healthy(url, process, log_path, health_path=SERVICE_HEALTH, verify=verify)


def _wait(children: list[subprocess.Popen[bytes]]) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0
    return 1


def seed_demo(sandbox_url: str) -> bool:
    """Demo catalogue and buyers, created once through the official SDK; whether they
    were created now (a fresh start)."""
    client = stripe.StripeClient(DEMO_KEY, base_addresses={"api": sandbox_url})
    if client.v1.customers.list(params={"limit": 1}).data:
        return False
    from faker import Faker

    fake = Faker()
    Faker.seed(1212)
    for _ in range(5):
        client.v1.customers.create(params={"name": fake.name(), "email": fake.email()})
    lots: list[dict[str, Any]] = json.loads((ROOT / "fixtures/demo/lots.json").read_text())
    for lot in lots:
        client.v1.products.create(
            params={
                "name": f"Lot {lot['lot']}: {lot['title']}",
                "metadata": {"lot": str(lot["lot"])},
                "default_price_data": {"currency": lot["currency"], "unit_amount": lot["amount"]},
            }
        )
    return True


UP = Command("up", "Run the main job: the sandbox and the payment service, with demo data.",
             configure, run)
