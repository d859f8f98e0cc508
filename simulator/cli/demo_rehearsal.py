"""One demo win starts with a declined attempt, made the way a buyer would make it: the
buyer's API call starts a checkout, the card is declined on Stripe's page (the sandbox's
headless completion), and Stripe's webhook tells the service. The buyer then sees the
decline and "Try again" without anyone having to stage it during the demo."""

from __future__ import annotations

from pathlib import Path

import requests

from simulator.common.clock import Clock
from simulator.service.adapters.repositories import Repository
from simulator.service.config import ServiceConfig
from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.window import PaymentWindow
from simulator.service.seed import demo_accounts_path, read_demo_accounts

DECLINING_CARD = "pm_card_visa_chargeDeclinedInsufficientFunds"
TIMEOUT = 30.0
WINDOW_HOURS = ServiceConfig().payment_window_hours


def rehearse_a_declined_payment(service_url: str, sandbox_url: str, data_dir: Path) -> None:
    """Decline a first attempt on the cheapest open demo win. Best effort: a demo that
    cannot stage it still starts, and says why."""
    db = str(data_dir / "service.sqlite3")
    tokens = {account.email: account.api_token
              for account in read_demo_accounts(demo_accounts_path(db))}
    repo = Repository(db)
    try:
        win, token = _cheapest_open_win(repo, tokens)
    finally:
        repo.close()
    if win is None or token is None:
        return
    try:
        started = requests.post(f"{service_url}/payments/checkout/create",
                                json={"auction_id": win.id}, timeout=TIMEOUT,
                                headers={"Authorization": f"Bearer {token}"})
        started.raise_for_status()
        checkout = str(started.json()["checkout_url"]).rsplit("/", 1)[-1]
        requests.post(f"{sandbox_url}/_sandbox/checkout/sessions/{checkout}/complete",
                      data={"payment_method": DECLINING_CARD}, timeout=TIMEOUT)
        requests.post(f"{sandbox_url}/_sandbox/webhooks/drain", timeout=TIMEOUT)
    except (requests.RequestException, KeyError, ValueError) as error:
        print(f"(The demo's declined payment could not be staged: {error})", flush=True)


def _cheapest_open_win(repo: Repository, tokens: dict[str, str],
                       ) -> tuple[AuctionWin | None, str | None]:
    """The cheapest win (no 3-D Secure) whose buyer we can act for, ended most recently."""
    now = Clock().timestamp()  # a fresh start: the one clock has not been moved
    candidates = sorted(repo.list_wins(), key=lambda w: (w.amount, -w.ended_at))
    for win in candidates:
        if not PaymentWindow(win.ended_at, WINDOW_HOURS).is_open(now):
            continue
        buyer = repo.get_user(win.buyer_id)
        if buyer is not None and buyer.email in tokens and not repo.sessions_for_win(win.id):
            return win, tokens[buyer.email]
    return None, None
