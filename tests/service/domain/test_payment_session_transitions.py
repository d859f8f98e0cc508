from __future__ import annotations

import pytest

from simulator.service.domain.payment_session import InvalidTransition, PaymentSession

NOW = 1_740_830_400


def session(status: str = "open", **changes: object) -> PaymentSession:
    values: dict[str, object] = dict(
        id="ps_1", win_id="win_1", buyer_id="usr_1", attempt=1, status=status,
        idempotency_key="secret-key", expires_at=NOW + 3600, window_ends_at=NOW + 7200,
        created_at=NOW, updated_at=NOW, checkout_session_id="cs_1",
        checkout_url="https://checkout.stripe.com/c/pay/cs_1")
    values.update(changes)
    return PaymentSession(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("start", "end"), [
    ("open", "processing"), ("open", "succeeded"), ("open", "failed"), ("open", "expired"),
    ("open", "canceled"), ("processing", "succeeded"), ("processing", "failed"),
    ("failed", "succeeded"), ("failed", "processing"), ("expired", "succeeded"),
    ("canceled", "succeeded"),
])
def test_allowed_transitions(start: str, end: str) -> None:
    moved = session(start).transition(end, NOW + 5)  # type: ignore[arg-type]
    assert (moved.status, moved.updated_at) == (end, NOW + 5)


@pytest.mark.parametrize(("start", "end"), [
    ("succeeded", "failed"), ("succeeded", "expired"), ("succeeded", "open"),
    ("failed", "expired"), ("expired", "open"), ("canceled", "failed"), ("open", "open"),
])
def test_refused_transitions(start: str, end: str) -> None:
    with pytest.raises(InvalidTransition, match=f"{start} -> {end}"):
        session(start).transition(end, NOW)  # type: ignore[arg-type]


def test_usable_only_while_open_unexpired_and_inside_the_window() -> None:
    assert session().is_usable(NOW)
    assert not session().is_usable(NOW + 3600)
    assert not session(expires_at=NOW + 9000).is_usable(NOW + 7200)
    assert not session("failed").is_usable(NOW)
    assert not session(checkout_url=None, checkout_session_id=None).is_usable(NOW)


def test_an_attempt_counts_once_it_reached_stripe() -> None:
    assert session().reached_stripe
    assert not session(checkout_session_id=None).reached_stripe


def test_the_audit_snapshot_leaves_out_the_idempotency_key() -> None:
    snapshot = session().snapshot()
    assert "idempotency_key" not in snapshot and snapshot["status"] == "open"
