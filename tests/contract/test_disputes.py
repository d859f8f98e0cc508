"""Disputes through the official SDK: the dispute test cards open one just after the
charge, evidence decides it as Stripe's test evidence does, closing accepts it, and every
step is an event (https://docs.stripe.com/testing#disputes)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import stripe

from harness.servers import RunningServer


def run_jobs(server: RunningServer) -> None:
    """What the sandbox's ticker would do within a second: run the jobs due now."""
    requests.post(f"{server.url}/_sandbox/jobs/run", timeout=10).raise_for_status()


def disputed_charge(client: stripe.StripeClient, server: RunningServer,
                    payment_method: str, amount: int = 64_200) -> tuple[Any, Any]:
    intent = client.v1.payment_intents.create(params={
        "amount": amount, "currency": "usd", "payment_method": payment_method,
        "confirm": True})
    [dispute] = client.v1.disputes.list(params={"payment_intent": intent.id}).data
    return intent, dispute


def events_for(client: stripe.StripeClient, event_type: str, object_id: str) -> list[Any]:
    found = client.v1.events.list(params={"type": event_type, "limit": 100}).data
    return [e for e in found if e.data.object["id"] == object_id]


def test_a_dispute_card_opens_a_chargeback_that_withdraws_the_funds(
        client: stripe.StripeClient, sandbox_server: RunningServer) -> None:
    intent, dispute = disputed_charge(client, sandbox_server, "pm_card_createDispute")

    assert dispute.id.startswith("dp_") and dispute.object == "dispute"
    assert (dispute.amount, dispute.currency, dispute.reason, dispute.status) == (
        64_200, "usd", "fraudulent", "needs_response")
    assert dispute.charge == intent.latest_charge and dispute.payment_intent == intent.id
    assert dispute.evidence_details.due_by == dispute.created + 7 * 24 * 3600
    assert dispute.evidence_details.has_evidence is False
    assert dispute.payment_method_details.card.case_type == "chargeback"
    [withdrawal] = dispute.balance_transactions
    assert (withdrawal.amount, withdrawal.fee, withdrawal.net) == (-64_200, 1_500, -65_700)
    assert withdrawal.reporting_category == "dispute" and withdrawal.type == "adjustment"
    assert client.v1.charges.retrieve(str(intent.latest_charge)).disputed is True
    assert len(events_for(client, "charge.dispute.created", dispute.id)) == 1
    assert len(events_for(client, "charge.dispute.funds_withdrawn", dispute.id)) == 1
    assert client.v1.disputes.retrieve(dispute.id).id == dispute.id


def test_an_inquiry_only_asks(client: stripe.StripeClient,
                              sandbox_server: RunningServer) -> None:
    _, dispute = disputed_charge(client, sandbox_server, "pm_card_createDisputeInquiry")

    assert (dispute.status, dispute.reason) == ("warning_needs_response", "general")
    assert dispute.balance_transactions == [] and dispute.is_charge_refundable is True
    assert dispute.payment_method_details.card.case_type == "inquiry"
    assert not events_for(client, "charge.dispute.funds_withdrawn", dispute.id)


def test_an_ordinary_card_is_not_disputed(client: stripe.StripeClient,
                                          sandbox_server: RunningServer) -> None:
    intent = client.v1.payment_intents.create(params={
        "amount": 1_000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True})
    run_jobs(sandbox_server)
    assert client.v1.disputes.list(params={"payment_intent": intent.id}).data == []
    assert client.v1.charges.retrieve(str(intent.latest_charge)).disputed is False


def test_winning_evidence_wins_and_reinstates_the_funds(
        client: stripe.StripeClient, sandbox_server: RunningServer) -> None:
    _, dispute = disputed_charge(client, sandbox_server, "pm_card_createDispute")

    submitted = client.v1.disputes.update(dispute.id, params={
        "evidence": {"uncategorized_text": "winning_evidence",
                     "customer_name": "Grace Hopper"}, "metadata": {"case": "17"}})
    assert submitted.status == "under_review"
    assert submitted.evidence_details.submission_count == 1
    assert submitted.evidence.customer_name == "Grace Hopper"
    assert submitted.metadata["case"] == "17"
    run_jobs(sandbox_server)

    won = client.v1.disputes.retrieve(dispute.id)
    assert won.status == "won" and won.evidence_details.due_by is None
    assert [t.amount for t in won.balance_transactions] == [-64_200, 64_200]
    assert won.balance_transactions[1].reporting_category == "dispute_reversal"
    assert len(events_for(client, "charge.dispute.closed", dispute.id)) == 1
    assert len(events_for(client, "charge.dispute.funds_reinstated", dispute.id)) == 1


def test_losing_evidence_loses(client: stripe.StripeClient,
                               sandbox_server: RunningServer) -> None:
    _, dispute = disputed_charge(client, sandbox_server,
                                 "pm_card_createDisputeProductNotReceived")
    assert dispute.reason == "product_not_received"

    client.v1.disputes.update(dispute.id,
                              params={"evidence": {"uncategorized_text": "losing_evidence"}})
    run_jobs(sandbox_server)

    lost = client.v1.disputes.retrieve(dispute.id)
    assert lost.status == "lost" and len(lost.balance_transactions) == 1
    assert not events_for(client, "charge.dispute.funds_reinstated", dispute.id)


def test_escalation_turns_an_inquiry_into_a_chargeback(
        client: stripe.StripeClient, sandbox_server: RunningServer) -> None:
    _, dispute = disputed_charge(client, sandbox_server, "pm_card_createDisputeInquiry")

    client.v1.disputes.update(
        dispute.id, params={"evidence": {"uncategorized_text": "escalate_inquiry_evidence"}})
    run_jobs(sandbox_server)

    escalated = client.v1.disputes.retrieve(dispute.id)
    assert escalated.status == "needs_response"
    assert [t.amount for t in escalated.balance_transactions] == [-64_200]
    assert len(events_for(client, "charge.dispute.funds_withdrawn", dispute.id)) == 1


def test_staged_evidence_is_not_submitted(client: stripe.StripeClient,
                                          sandbox_server: RunningServer) -> None:
    _, dispute = disputed_charge(client, sandbox_server, "pm_card_createDispute")

    staged = client.v1.disputes.update(dispute.id, params={
        "evidence": {"product_description": "Art deco bronze lamp"}, "submit": False})

    assert staged.status == "needs_response"
    assert staged.evidence_details.has_evidence is True
    assert staged.evidence_details.submission_count == 0
    assert len(events_for(client, "charge.dispute.updated", dispute.id)) == 1


def test_closing_accepts_the_dispute_once(client: stripe.StripeClient,
                                          sandbox_server: RunningServer) -> None:
    _, dispute = disputed_charge(client, sandbox_server, "pm_card_createDispute")

    closed = client.v1.disputes.close(dispute.id)
    assert closed.status == "lost"
    assert len(events_for(client, "charge.dispute.closed", dispute.id)) == 1
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.disputes.close(dispute.id)
    assert again.value.http_status == 400 and "already closed" in str(again.value.user_message)
    with pytest.raises(stripe.InvalidRequestError) as update:
        client.v1.disputes.update(dispute.id, params={"evidence": {"customer_name": "X"}})
    assert "already closed" in str(update.value.user_message)


def test_negative_cases_get_stripe_errors(client: stripe.StripeClient,
                                          sandbox_server: RunningServer) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.disputes.retrieve("dp_doesnotexist")
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"
    _, dispute = disputed_charge(client, sandbox_server, "pm_card_createDispute")
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.disputes.update(dispute.id, params={
            "evidence": {"favourite_colour": "red"}})  # type: ignore[typeddict-unknown-key]
    assert unknown.value.code == "parameter_unknown"
    assert unknown.value.param == "evidence[favourite_colour]"
