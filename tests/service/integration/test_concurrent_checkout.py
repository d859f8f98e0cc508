"""Many clicks at once: one payment session, one Checkout Session."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from integration_support import ALICE, Marketplace


def test_concurrent_create_calls_make_one_checkout_session(market: Marketplace) -> None:
    win = market.win(61, 64_200)
    clients = [market.client(ALICE) for _ in range(12)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda c: c.create_checkout(win.id), clients))

    assert {a.status_code for a in answers} <= {200, 201}, [a.text for a in answers]
    bodies = [a.json() for a in answers]
    assert len({b["payment_session_id"] for b in bodies}) == 1
    assert len({b["checkout_url"] for b in bodies}) == 1
    assert sum(b["created"] for b in bodies) == 1
    assert len(market.repo.sessions_for_win(win.id)) == 1
    assert len(market.sandbox.checkout_sessions_for(win.id)) == 1


def test_a_double_click_returns_the_same_session(market: Marketplace) -> None:
    win = market.win(62, 1_000)
    first = market.client(ALICE).create_checkout(win.id)
    second = market.client(ALICE).create_checkout(win.id)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["payment_session_id"] == second.json()["payment_session_id"]
