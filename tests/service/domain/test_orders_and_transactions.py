from __future__ import annotations

import pytest

from simulator.service.domain.order import InvalidTransition, Order
from simulator.service.domain.transaction import Transaction

NOW = 1_740_830_400


def order(status: str) -> Order:
    return Order("ord_1", "win_1", "usr_1", status, NOW, NOW)  # type: ignore[arg-type]


def test_a_canceled_order_can_still_be_paid_by_a_late_payment() -> None:
    paid = order("canceled").transition("paid", NOW + 9, transaction_id="txn_1")
    assert (paid.status, paid.transaction_id, paid.updated_at) == ("paid", "txn_1", NOW + 9)


@pytest.mark.parametrize(("start", "end"), [
    ("paid", "canceled"), ("paid", "paid"), ("refunded", "paid"), ("canceled", "refunded"),
])
def test_refused_order_transitions(start: str, end: str) -> None:
    with pytest.raises(InvalidTransition):
        order(start).transition(end, NOW)  # type: ignore[arg-type]


def test_the_receipt_is_attached() -> None:
    attached = order("paid").with_receipt("/r/ord_1.pdf.enc", "ab" * 32, NOW)
    assert (attached.receipt_path, attached.receipt_sha256) == ("/r/ord_1.pdf.enc", "ab" * 32)


TXN = Transaction("txn_1", "ps_1", "win_1", 64200, 1892, 62308, "usd", "succeeded", "visa",
                  "4242", "authenticated", "normal", 20, "ch_1", "pi_1", NOW)


def test_refunds_partial_then_full() -> None:
    partial = TXN.refunded(20_000)
    assert (partial.status, partial.amount_refunded) == ("partially_refunded", 20_000)
    assert partial.refunded(64_200).status == "refunded"


def test_flags_put_a_transaction_in_review() -> None:
    assert TXN.flagged(()) is TXN
    flagged = TXN.flagged(("radar_risk",)).flagged(("duplicate_payment",))
    assert (flagged.review_status, flagged.review_flags) == (
        "pending", ("radar_risk", "duplicate_payment"))
    assert flagged.snapshot()["review_flags"] == ["radar_risk", "duplicate_payment"]


def test_a_transaction_keeps_brand_and_last4_never_a_card_number() -> None:
    fields = set(TXN.snapshot())
    assert {"card_brand", "card_last4"} <= fields
    assert not {f for f in fields if "number" in f or "cvc" in f}
