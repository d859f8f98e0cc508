"""A chargeback end to end over real HTTP: a winner pays with a dispute test card, the
sandbox opens the dispute, the service records it against the payment and raises a
critical alert; losing evidence submitted through the SDK closes it lost, and the service
follows (https://docs.stripe.com/testing#disputes)."""

from __future__ import annotations

from integration_support import Marketplace, eventually

from simulator.service.adapters.disputes import DisputeRecords


def test_a_disputed_payment_is_recorded_alerted_and_followed_to_its_end(
        market: Marketplace) -> None:
    win = market.win(71, 64_200, title="Art deco bronze lamp")
    started = market.start(win)
    outcome = market.pay(started["payment_session_id"], "pm_card_createDispute")
    assert outcome["status"] == "paid"

    [txn] = market.transactions(win)
    records = DisputeRecords(market.repo)
    assert eventually(lambda: len(records.for_transaction(txn.id)) == 1, market.sandbox.drain)
    [dispute] = records.for_transaction(txn.id)
    assert (dispute.status, dispute.reason, dispute.amount) == (
        "needs_response", "fraudulent", 64_200)
    [alert] = [a for a in market.repo.list_alerts() if a.kind == "dispute_opened"]
    assert alert.severity == "critical" and "chargeback (fraudulent) on $642.00" in alert.message
    [order] = market.orders(win)
    assert order.status == "paid"
    assert market.inbox_failures() == []

    market.sandbox.sdk.v1.disputes.update(
        dispute.id, params={"evidence": {"uncategorized_text": "losing_evidence"}})
    market.sandbox.control("POST", "/jobs/run").raise_for_status()
    assert eventually(lambda: records.for_transaction(txn.id)[0].status == "lost",
                      market.sandbox.drain)

    [closed] = records.for_transaction(txn.id)
    assert closed.status == "lost" and not closed.is_open
    # Opened, then lost; ``under_review`` in between unless its event arrived after the
    # closing one, which makes it stale (the newest word wins).
    actions = [e.action for e in market.repo.audit_for("dispute", dispute.id)]
    assert actions in (["dispute.opened", "dispute.under_review", "dispute.lost"],
                       ["dispute.opened", "dispute.lost"])
    assert [a.kind for a in market.repo.list_alerts()].count("dispute_lost") == 1


def test_an_ordinary_payment_has_no_dispute(market: Marketplace) -> None:
    win = market.win(72, 12_500)
    started = market.start(win)
    market.pay(started["payment_session_id"])

    [txn] = market.transactions(win)
    assert DisputeRecords(market.repo).for_transaction(txn.id) == []
