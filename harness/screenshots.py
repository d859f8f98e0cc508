"""Screenshots of the main pages for the README, taken from a fresh ``stripe-sim up``:

    python -m harness.screenshots docs/screenshots

It starts the sandbox, the service and the mail catcher on free loopback ports with the
demo data in a temporary folder, signs in as the demo buyer and the demo admin in a real
Chromium, saves one PNG per page (desktop width, and the buyer's winnings at 390 px) and
stops everything with Ctrl-C's signal."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

from harness.browser import LAUNCH_ARGS, find_chromium
from harness.pages.checkout import CardDetails, CheckoutPage
from harness.pages.service import LoginPage, PaymentStatusPage, WinningsPage
from simulator.cli.supervision import free_port
from simulator.service.seed import DemoAccount, demo_accounts_path, read_demo_accounts

BANNER_END = "Ctrl-C stops everything"
START_SECONDS = 90
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


@dataclass(frozen=True)
class Demo:
    sandbox: str
    service: str
    accounts: list[DemoAccount]

    def account(self, role: str) -> DemoAccount:
        return next(account for account in self.accounts if account.role == role)


@contextmanager
def running_demo(data_dir: Path) -> Iterator[Demo]:
    """``stripe-sim up`` in its own process group, until the ``with`` block ends."""
    sandbox, service, smtp = free_port(), free_port(), free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator", "up", "--data-dir", str(data_dir),
         "--sandbox-port", str(sandbox), "--service-port", str(service),
         "--smtp-port", str(smtp)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        _wait_for_banner(process)
        accounts = read_demo_accounts(demo_accounts_path(str(data_dir / "service.sqlite3")))
        yield Demo(f"http://127.0.0.1:{sandbox}", f"http://127.0.0.1:{service}", accounts)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def _wait_for_banner(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    deadline, seen = time.monotonic() + START_SECONDS, []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if line.startswith(BANNER_END):
            return
    raise SystemExit("stripe-sim up did not start:\n" + "".join(seen))


def _signed_in(browser: Browser, demo: Demo, role: str, viewport: dict[str, int]) -> Page:
    page = browser.new_context(viewport=viewport).new_page()  # type: ignore[arg-type]
    page.set_default_timeout(20_000)
    who = demo.account(role)
    LoginPage(page, demo.service).open().sign_in(who.email, who.password)
    return page


def _shot(page: Page, url: str, path: Path) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(path), full_page=True)
    print(f"saved {path}")


def _pay_one_lot(page: Page, demo: Demo) -> None:
    """The buyer pays one lot under $500 on the hosted page, so the receipt, the charts
    and a timeline have something to show."""
    winnings = WinningsPage(page, demo.service).open()
    for row in page.locator("[data-testid='winning']:has([data-testid='pay-button'])").all():
        amount = row.get_by_test_id("winning-amount").inner_text()
        if amount.startswith("$") and float(amount[1:].replace(",", "")) < 500:
            winnings.pay(row.get_attribute("data-lot") or "")
            CheckoutPage(page).pay(CardDetails("4242424242424242"),
                                   email=demo.account("buyer").email)
            PaymentStatusPage(page, demo.service).wait_for_status("succeeded",
                                                                  timeout_ms=30_000)
            return


def capture(demo: Demo, browser: Browser, out: Path) -> None:
    """The pages a newcomer looks at first."""
    buyer = _signed_in(browser, demo, "buyer", DESKTOP)
    _pay_one_lot(buyer, demo)
    _shot(buyer, f"{demo.service}/payments/winnings", out / "winnings.png")
    payment = buyer.get_by_test_id("view-payment").first
    if payment.count():
        _shot(buyer, f"{demo.service}{payment.get_attribute('href')}", out / "payment.png")
    buyer.context.close()
    phone = _signed_in(browser, demo, "buyer", PHONE)
    _shot(phone, f"{demo.service}/payments/winnings", out / "winnings-phone.png")
    phone.context.close()
    admin = _signed_in(browser, demo, "admin", DESKTOP)
    for name, path in (("admin-overview", "?bucket=hour"), ("admin-orders", "orders"),
                       ("admin-audit", "audit"), ("admin-mail", "mail")):
        _shot(admin, f"{demo.service}/payments/admin/{path}", out / f"{name}.png")
    admin.goto(f"{demo.service}/payments/admin/payments")
    lot = admin.get_by_test_id("cell-lot").get_by_role("link").first
    if lot.count():
        _shot(admin, f"{demo.service}{lot.get_attribute('href')}", out / "admin-timeline.png")
    _shot(admin, f"{demo.sandbox}/", out / "sandbox-dashboard.png")
    admin.context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("out", nargs="?", default="docs/screenshots",
                        help="folder for the PNG files")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data, running_demo(Path(data) / "data") as demo, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(args=list(LAUNCH_ARGS),
                                             executable_path=find_chromium())
        try:
            capture(demo, browser, out)
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
