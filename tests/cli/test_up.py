"""``stripe-sim up`` as a newcomer runs it: real processes on free ports, the mail
catcher receiving the receipt over SMTP, a demo win that already has a declined attempt,
sign-ins that survive a restart, and ``--reset`` starting over."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pypdf
import pytest
import requests
from up_support import Up, start_up

from simulator.cli.mail_catcher import read_maildir
from simulator.service.adapters.sms import read_sms_outbox
from simulator.service.adapters.sms_records import TextMessageRecords
from simulator.service.seed import demo_accounts_path, read_demo_accounts

pytestmark = pytest.mark.slow


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def up(data_dir: Path) -> Iterator[Up]:
    running = start_up(data_dir)
    yield running
    running.stop()


def test_the_banner_names_the_accounts_what_to_try_and_a_staged_decline(up: Up) -> None:
    accounts = read_demo_accounts(demo_accounts_path(str(up.data_dir / "service.sqlite3")))
    assert accounts and all(a.password in up.output for a in accounts)
    for log in ("service.log", "sandbox.log"):  # the banner shows them, the logs do not
        path = up.data_dir / log
        assert path.stat().st_mode & 0o777 == 0o600
        assert not any(a.password in path.read_text() for a in accounts)
    assert "What to try" in up.output and "4242 4242 4242 4242" in up.output
    assert "Mail catcher     smtp://127.0.0.1:" in up.output
    assert f"Text messages    {up.data_dir / 'sms' / 'outbox.jsonl'}" in up.output
    repo = up.repo()
    [declined] = repo.list_payment_sessions()
    assert (declined.status, declined.failure_code) == ("failed", "insufficient_funds")
    repo.close()


def test_a_receipt_reaches_the_mail_catcher_with_its_pdf(up: Up) -> None:
    repo = up.repo()
    buyers = {a.email: a for a in read_demo_accounts(
        demo_accounts_path(str(up.data_dir / "service.sqlite3")))}
    win = next(w for w in repo.list_wins()
               if not repo.sessions_for_win(w.id) and w.amount < 50_000 and w.currency == "usd")
    buyer = repo.get_user(win.buyer_id)
    assert buyer is not None
    started = requests.post(f"{up.service}/payments/checkout/create",
                            json={"auction_id": win.id}, timeout=30,
                            headers={"Authorization": f"Bearer {buyers[buyer.email].api_token}"})
    assert started.status_code in (200, 201), started.text
    checkout = started.json()["checkout_url"].rsplit("/", 1)[-1]
    requests.post(f"{up.sandbox}/_sandbox/checkout/sessions/{checkout}/complete",
                  data={"payment_method": "pm_card_visa"}, timeout=30).raise_for_status()

    receipt = None
    deadline = time.monotonic() + 30
    while receipt is None and time.monotonic() < deadline:
        requests.post(f"{up.sandbox}/_sandbox/webhooks/drain", timeout=30)
        receipt = next((m for m in read_maildir(up.data_dir / "mail")
                        if f"lot {win.lot}" in str(m["Subject"]).lower()
                        and "receipt" in str(m["Subject"]).lower()), None)
        time.sleep(0.2)
    assert receipt is not None, "no receipt reached the mail catcher"
    assert receipt["To"] == buyer.email
    [attachment] = list(receipt.iter_attachments())
    pdf = pypdf.PdfReader(io.BytesIO(attachment.get_content()))
    assert win.title in "".join(page.extract_text() for page in pdf.pages)
    phone = TextMessageRecords(repo).phone_of(buyer.id)
    texts: list[dict[str, str]] = []
    while not texts and time.monotonic() < deadline + 10:
        texts = [t for t in read_sms_outbox(up.data_dir / "sms" / "outbox.jsonl")
                 if f"lot {win.lot} " in t["text"]]
        time.sleep(0.2)
    assert [t["to"] for t in texts] == [phone] and phone is not None
    repo.close()


def test_sign_ins_survive_a_restart_and_reset_starts_over(data_dir: Path) -> None:
    first = start_up(data_dir)
    accounts = read_demo_accounts(demo_accounts_path(str(data_dir / "service.sqlite3")))
    buyer = next(a for a in accounts if a.role == "buyer")
    browser = requests.Session()
    page = browser.get(f"{first.service}/payments/login", timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    signed_in = browser.post(f"{first.service}/payments/login", timeout=30, data={
        "email": buyer.email, "password": buyer.password, "csrf_token": token.group(1)},
        allow_redirects=False)
    assert signed_in.status_code == 303
    first.stop()

    again = start_up(data_dir)
    try:
        page = requests.get(f"{again.service}/payments/winnings", timeout=30,
                            allow_redirects=False,
                            cookies={c.name: c.value for c in browser.cookies})
        assert page.status_code == 200, page.headers.get("Location")
        assert "Starting over" not in again.output
    finally:
        again.stop()

    fresh = start_up(data_dir, "--reset")
    try:
        assert "Starting over: removed" in fresh.output
        renewed = read_demo_accounts(demo_accounts_path(str(data_dir / "service.sqlite3")))
        assert {a.password for a in renewed}.isdisjoint(a.password for a in accounts)
        repo = fresh.repo()
        assert len(repo.list_payment_sessions()) == 1  # only the new staged decline
        repo.close()
    finally:
        fresh.stop()
