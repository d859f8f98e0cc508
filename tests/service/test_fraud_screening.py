"""Where the fraud rules' decisions apply, through ``PaymentService`` and the webhook
events Stripe sends: a blocked checkout is refused, a payment the rules question is
recorded and held, ordinary payments go through untouched."""

from __future__ import annotations

from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from payments_support import World, make_world

from simulator.service.adapters.fraud_signals import FraudSignals
from simulator.service.config import ConfigError, load_config
from simulator.service.domain.fraud import CheckoutSignals, FraudPolicy
from simulator.service.domain.user import User
from simulator.service.payments import PaymentRefused
from simulator.service.payments.fraud_screening import CHECKOUT_BLOCKED, REFUND_DUE

HOME = CheckoutSignals(ip="203.0.113.7", device="dev_laptop")


def buyer(world: World, number: int, country: str | None = "US") -> User:
    user = User(f"usr_b{number}", f"Buyer {number}", f"b{number}@example.com", "buyer",
                f"tok_b{number}", country)
    with world.repo.transaction():
        world.repo.add_user(user)
    return user


def start_as(world: World, user: User, signals: CheckoutSignals, amount: int = 18_500) -> str:
    world.buyer = user
    world.win = world.add_win(amount=amount)
    started = world.service.start_checkout(user.id, world.win.id, signals)
    assert started.payment_session.checkout_session_id is not None
    return started.payment_session.checkout_session_id


def decisions(world: World, subject_type: str, subject_id: str) -> dict[str, str]:
    return {r.code: r.decision for r in FraudSignals(world.repo).decisions_for(
        subject_type, subject_id) if r.decision != "allow"}


# -- ordinary payments --------------------------------------------------------------------
def test_ordinary_demo_like_payments_are_allowed_without_alerts(world: World) -> None:
    """Three buyers of one country paying with that country's cards, one of them twice,
    from their own devices: nothing held, no alert, no country mismatch by accident."""
    people = [buyer(world, n) for n in range(3)]
    for n, (person, card, amount) in enumerate([(people[0], "visa", 18_500),
                                                (people[1], "visa_3ds", 64_200),
                                                (people[2], "visa", 9_900),
                                                (people[0], "visa", 24_000)]):
        signals = CheckoutSignals(ip=f"198.51.100.{n + 10}", device=f"dev_{person.id}")
        world.deliver(*world.stripe.pay(start_as(world, person, signals, amount), card=card))
        [txn] = world.repo.transactions_for_win(world.win.id)
        assert (txn.review_status, txn.review_flags) == ("none", ())

    assert world.repo.review_queue() == []
    assert world.repo.list_alerts() == []
    assert [o.status for o in world.repo.list_orders()] == ["paid"] * 4


def test_a_buyer_without_a_country_is_not_a_mismatch(world: World) -> None:
    nowhere = buyer(world, 1, country=None)
    world.deliver(*world.stripe.pay(start_as(world, nowhere, HOME), card="french"))
    [txn] = world.repo.transactions_for_win(world.win.id)
    assert txn.review_flags == ()


# -- blocked at checkout ------------------------------------------------------------------
def test_a_device_shared_by_many_buyers_is_refused_a_checkout(world: World) -> None:
    for n in range(4):  # four different buyers on one device: reviewed, still allowed
        start_as(world, buyer(world, n), CheckoutSignals(ip=f"198.51.100.{n}",
                                                          device="dev_shared"))
    fifth = buyer(world, 9)
    world.buyer = fifth
    world.win = world.add_win()

    with pytest.raises(PaymentRefused) as refused:
        world.service.start_checkout(fifth.id, world.win.id,
                                     CheckoutSignals(ip="198.51.100.99", device="dev_shared"))

    assert (refused.value.code, refused.value.http_status) == ("fraud_blocked", 403)
    assert refused.value.message == CHECKOUT_BLOCKED
    assert world.repo.sessions_for_win(world.win.id) == []
    assert world.stripe.calls["create"] == 4
    assert decisions(world, "win", world.win.id) == {"shared_device": "block"}
    [entry] = world.repo.audit_for("fraud_verdict", world.win.id)
    assert entry.action == "fraud.checkout_block"
    assert "5 different buyers" in entry.after["findings"][0]["reason"]
    assert [a.kind for a in world.repo.list_alerts()] == ["review_needed"]


def test_many_failed_payments_from_one_address_refuse_the_next_checkout(
        tmp_path: Any, frozen: FrozenDateTimeFactory) -> None:
    world = make_world(tmp_path, frozen, fraud={"ip_failures_per_day": [2, 3]})
    try:
        for n in range(3):
            session = start_as(world, buyer(world, n), HOME)
            world.deliver(world.stripe.decline(session))
        world.buyer = buyer(world, 7)
        world.win = world.add_win()
        with pytest.raises(PaymentRefused) as refused:
            world.service.start_checkout(world.buyer.id, world.win.id, HOME)
        assert refused.value.code == "fraud_blocked"
        assert decisions(world, "win", world.win.id)["ip_failures_day"] == "block"
        # from another address, the same buyer may pay
        elsewhere = CheckoutSignals(ip="192.0.2.55", device="dev_phone")
        assert world.service.start_checkout(world.buyer.id, world.win.id, elsewhere)
    finally:
        world.repo.close()


def test_loopback_addresses_are_not_counted(tmp_path: Any,
                                            frozen: FrozenDateTimeFactory) -> None:
    world = make_world(tmp_path, frozen, fraud={"ip_checkouts_per_hour": [1, 2]})
    try:
        for n in range(3):
            start_as(world, buyer(world, n), CheckoutSignals(ip="127.0.0.1"))
        assert world.repo.list_alerts() == []
    finally:
        world.repo.close()


# -- held after payment -------------------------------------------------------------------
def test_a_card_used_by_many_buyers_holds_the_order_for_review(world: World) -> None:
    """Three buyers on one test card is a demo; the fourth in a day is held."""
    for n in range(4):
        home = CheckoutSignals(ip=f"192.0.2.{n}", device=f"dev_{n}")
        world.deliver(*world.stripe.pay(start_as(world, buyer(world, n), home), card="visa"))
        world.advance(60)  # earlier payments count once recorded before a checkout

    [txn] = world.repo.transactions_for_win(world.win.id)
    assert (txn.review_status, txn.review_flags) == ("pending", ("card_shared",))
    assert world.repo.review_queue() == [txn]
    order = world.repo.order_for_win(world.win.id)
    assert order is not None and order.transaction_id == txn.id  # recorded, held
    assert decisions(world, "transaction", txn.id) == {"card_shared": "review"}
    actions = [e.action for e in world.repo.audit_for("fraud_verdict", txn.id)]
    assert actions == ["fraud.payment_review"]
    [alert] = world.repo.list_alerts()
    assert "used by 4 different buyers in the last day" in alert.message


def test_a_blocked_payment_is_recorded_held_and_marked_for_refund(world: World) -> None:
    regular = buyer(world, 1)
    world.deliver(*world.stripe.pay(start_as(world, regular, HOME, amount=2_000)))
    world.advance(60)
    world.deliver(*world.stripe.pay(start_as(world, regular, HOME, amount=640_000),
                                    card="visa_3ds"))

    [txn] = world.repo.transactions_for_win(world.win.id)
    assert txn.review_flags == ("amount_above_history", REFUND_DUE)
    assert txn.review_status == "pending"
    order = world.repo.order_for_win(world.win.id)
    assert order is not None and order.status == "paid"
    assert decisions(world, "transaction", txn.id) == {"amount_above_history": "block"}
    [alert] = world.repo.list_alerts()
    assert alert.severity == "critical" and "refund it" in alert.message
    assert "320.0x the median" in alert.message


def test_a_payment_recorded_after_a_checkout_started_does_not_count(world: World) -> None:
    """Deliveries may come in any order: history is what was paid before the checkout."""
    regular = buyer(world, 1)
    small = start_as(world, regular, HOME, amount=2_000)
    large = start_as(world, regular, HOME, amount=640_000)
    world.deliver(*world.stripe.pay(small))
    world.advance(60)
    world.deliver(*world.stripe.pay(large, card="visa_3ds"))
    [txn] = world.repo.transactions_for_win(world.win.id)
    assert txn.review_flags == ()


def test_the_checkout_signals_are_stored_with_the_payment_session(world: World) -> None:
    start_as(world, buyer(world, 1), HOME)
    [session] = world.repo.sessions_for_win(world.win.id)
    row = world.repo._one("SELECT ip, network, device FROM fraud_checkout_signals WHERE"
                          " payment_session_id = ?", session.id)
    assert row is not None
    assert tuple(row) == ("203.0.113.7", "203.0.113.0/24", "dev_laptop")


def test_verdicts_are_counted_by_stage_and_decision(world: World) -> None:
    from prometheus_client.registry import CollectorRegistry

    from simulator.service.metrics import PaymentMetrics

    world.deliver(*world.stripe.pay(start_as(world, buyer(world, 1), HOME), card="french"))
    registry = CollectorRegistry()
    registry.register(PaymentMetrics(world.repo, world.service.config))
    labels = {"stage": "checkout", "decision": "allow"}
    assert registry.get_sample_value("payments_fraud_verdicts_total", labels) == 1
    labels = {"stage": "payment", "decision": "review"}
    assert registry.get_sample_value("payments_fraud_verdicts_total", labels) == 1


def test_the_fraud_policy_comes_from_the_environment_as_json(tmp_path: Any) -> None:
    env = {"STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_API_BASE": "http://127.0.0.1:9",
           "SERVICE_FRAUD": '{"card_buyers": [2, 3], "country_mismatch": "allow"}'}
    config = load_config(env, local_file=str(tmp_path / "none.json"))
    policy = FraudPolicy.from_settings(config.fraud)
    assert (policy.card_buyers.review, policy.card_buyers.block) == (2, 3)
    assert policy.country_mismatch == "allow"
    with pytest.raises(ConfigError, match="fraud must be a JSON object"):
        load_config({**env, "SERVICE_FRAUD": "[1, 2"}, local_file=str(tmp_path / "none.json"))
