"""The recovery rate (the share of declined payments later paid after a retry) measured
over a scripted mix of declines and retries through the real service and the sandbox,
and read back with the query the admin overview shows. The epic asks for 30% or more.

Run with ``-s`` to see the figure: ``recovery rate: 60% (6 of 10 declined lots paid)``."""

from __future__ import annotations

from dataclasses import dataclass

from integration_support import Marketplace

from simulator.service.adapters.admin_reports import AdminReports, TimeRange

GOOD = "pm_card_visa"
FUNDS = "pm_card_visa_chargeDeclinedInsufficientFunds"
EXPIRED = "pm_card_chargeDeclinedExpiredCard"
DECLINED = "pm_card_chargeDeclined"


@dataclass(frozen=True)
class Buyer:
    """The cards one buyer tries, in order, one attempt each; a retry follows each
    decline while cards are left."""

    cards: tuple[str, ...]

    @property
    def declined(self) -> bool:
        return self.cards[0] != GOOD

    @property
    def pays(self) -> bool:
        return self.cards[-1] == GOOD


SCRIPT = (
    *[Buyer((GOOD,))] * 5,                          # paid first time: not in the rate
    *[Buyer((FUNDS, GOOD))] * 3,                    # declined, retried with another card
    Buyer((EXPIRED, GOOD)),
    *[Buyer((EXPIRED, FUNDS, GOOD))] * 2,           # declined twice, then paid
    Buyer((DECLINED, FUNDS, EXPIRED, FUNDS)),       # every retry used, never paid
    *[Buyer((FUNDS,))] * 2,                          # gave up after one decline
    Buyer((DECLINED,)),
)


def play(market: Marketplace, lot: int, buyer: Buyer) -> None:
    win = market.win(lot, 12_500 + lot)
    payment = market.start(win)["payment_session_id"]
    for number, card in enumerate(buyer.cards):
        market.pay(payment, card)
        if number + 1 < len(buyer.cards):
            answer = market.client().as_user("tok_alice").retry(payment)
            assert answer.status_code == 201, answer.text
            payment = answer.json()["payment_session_id"]


def test_the_recovery_rate_over_a_scripted_mix_of_declines_and_retries(
        market: Marketplace) -> None:
    for lot, buyer in enumerate(SCRIPT, start=400):
        play(market, lot, buyer)

    reports = AdminReports(market.repo)
    recovered, declined = reports.recovery_overall()
    expected_declined = sum(buyer.declined for buyer in SCRIPT)
    expected_recovered = sum(buyer.declined and buyer.pays for buyer in SCRIPT)
    rate = 100 * recovered / declined
    print(f"\nrecovery rate: {rate:.0f}% ({recovered} of {declined} declined lots paid)")

    assert (recovered, declined) == (expected_recovered, expected_declined) == (6, 10)
    assert rate >= 30
    today = TimeRange("day", 1, market.clock.timestamp())
    assert reports.recovery_rate(today).points[-1].value == rate
    tries = sum(len(buyer.cards) for buyer in SCRIPT)
    successes = sum(buyer.pays for buyer in SCRIPT)
    success = reports.success_rate(today).points[-1]
    assert success.detail == f"{successes} of {tries}"
