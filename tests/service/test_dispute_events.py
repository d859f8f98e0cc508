"""Chargebacks (``charge.dispute.*``): recorded against the payment, newest state wins
whatever the delivery order, audited, and a critical alert for a human
(https://docs.stripe.com/disputes/how-disputes-work)."""

from __future__ import annotations

from typing import Any

from payments_support import FakeIntent, World
from prometheus_client import CollectorRegistry, generate_latest

from simulator.service.adapters.disputes import DisputeRecords
from simulator.service.config import ServiceConfig
from simulator.service.domain.dispute import Dispute
from simulator.service.metrics import PaymentMetrics

DUE_BY = 1_741_564_799  # 2025-03-09 23:59:59 UTC


def paid(world: World) -> str:
    """Pay the world's win; the PaymentIntent's id."""
    events = world.stripe.pay(world.start())
    world.deliver(*events)
    return str(events[1]["data"]["object"]["id"])


def dispute(world: World, intent: str | None, status: str = "needs_response", *,
            charge: str | None = None, reason: str = "fraudulent",
            event_type: str = "charge.dispute.created") -> dict[str, Any]:
    charge = charge or (f"ch_{intent[3:]}" if intent else "ch_elsewhere")
    return world.stripe.event(event_type, {
        "id": "dp_1", "object": "dispute", "amount": 64200, "currency": "usd",
        "charge": charge, "payment_intent": intent, "reason": reason, "status": status,
        "created": world.clock.timestamp(),
        "evidence_details": {"due_by": DUE_BY, "has_evidence": False, "past_due": False,
                             "submission_count": 0}})


def stored(world: World) -> list[Dispute]:
    txn = world.repo.transactions_for_win(world.win.id)[0]
    return DisputeRecords(world.repo).for_transaction(txn.id)


def test_a_chargeback_is_recorded_audited_and_raises_a_critical_alert(world: World) -> None:
    intent = paid(world)

    world.deliver(dispute(world, intent))

    [recorded] = stored(world)
    assert (recorded.id, recorded.status, recorded.reason, recorded.amount) == (
        "dp_1", "needs_response", "fraudulent", 64200)
    assert recorded.is_open and recorded.is_chargeback
    assert [e.action for e in world.repo.audit_for("dispute", "dp_1")] == ["dispute.opened"]
    [alert] = [a for a in world.repo.list_alerts() if a.kind == "dispute_opened"]
    assert alert.severity == "critical"
    assert "chargeback (fraudulent) on $642.00" in alert.message
    assert "evidence due by 2025-03-09 23:59 UTC" in alert.message
    order = world.repo.order_for_win(world.win.id)
    assert order is not None and order.status == "paid"  # the money's fate is the dispute's


def test_a_repeated_delivery_changes_nothing(world: World) -> None:
    intent = paid(world)
    event = dispute(world, intent)

    world.deliver(event, event)

    assert len(stored(world)) == 1
    assert len(world.repo.audit_for("dispute", "dp_1")) == 1
    assert len([a for a in world.repo.list_alerts() if a.kind == "dispute_opened"]) == 1


def test_a_lost_dispute_is_recorded_and_alerted(world: World) -> None:
    intent = paid(world)
    world.deliver(dispute(world, intent))
    world.advance(86_400)

    world.deliver(dispute(world, intent, "lost", event_type="charge.dispute.closed"))

    [recorded] = stored(world)
    assert recorded.status == "lost" and not recorded.is_open
    assert recorded.opened_at < recorded.updated_at  # when it opened is kept
    assert [e.action for e in world.repo.audit_for("dispute", "dp_1")] == [
        "dispute.opened", "dispute.lost"]
    assert [a.kind for a in world.repo.list_alerts() if a.kind.startswith("dispute")] \
        .count("dispute_lost") == 1


def test_a_late_delivery_of_an_earlier_state_does_not_reopen_it(world: World) -> None:
    intent = paid(world)
    opened = dispute(world, intent)
    won = dispute(world, intent, "won", event_type="charge.dispute.closed")

    world.deliver(won, opened)

    [recorded] = stored(world)
    assert recorded.status == "won"
    assert len(world.repo.audit_for("dispute", "dp_1")) == 1


def test_a_dispute_without_its_payment_intent_is_matched_by_the_charge(world: World) -> None:
    intent = paid(world)

    world.deliver(dispute(world, None, charge=f"ch_{intent[3:]}", status="warning_needs_response",
                          reason="general"))

    [recorded] = stored(world)
    assert recorded.status == "warning_needs_response" and not recorded.is_chargeback
    [alert] = [a for a in world.repo.list_alerts() if a.kind == "dispute_opened"]
    assert "an inquiry (general)" in alert.message


def test_a_dispute_that_overtakes_the_payment_records_the_payment_first(world: World) -> None:
    events = world.stripe.pay(world.start())  # paid at Stripe; its events not yet delivered
    intent = str(events[1]["data"]["object"]["id"])

    world.deliver(dispute(world, intent))

    assert len(world.repo.transactions_for_win(world.win.id)) == 1
    assert stored(world)[0].status == "needs_response"
    world.deliver(*events)
    assert len(world.repo.transactions_for_win(world.win.id)) == 1


def test_a_dispute_on_a_charge_that_is_not_ours_is_ignored(world: World) -> None:
    paid(world)
    # another payment on the same Stripe account, made by some other integration
    world.stripe.intents["pi_elsewhere"] = FakeIntent("pi_elsewhere", 500, "usd", {},
                                                      status="succeeded")

    world.deliver(dispute(world, "pi_elsewhere"))

    assert world.repo.count("disputes") == 0
    assert not [a for a in world.repo.list_alerts() if a.kind == "dispute_opened"]


def test_disputes_are_counted_in_the_metrics(world: World) -> None:
    world.deliver(dispute(world, paid(world)))
    registry = CollectorRegistry()
    registry.register(PaymentMetrics(world.repo, ServiceConfig()))

    assert 'payments_disputes{status="needs_response"} 1.0' in generate_latest(registry).decode()
