"""A receipt is written once and checked on every read: the receipt job never rewrites
one, adopts one a crash left unrecorded only if it is exactly what it rendered, and
refuses (with a security event and an alert) one that is not what was recorded."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest
from payments_support import World, stub_render

from simulator.service.adapters.errors import ReceiptTampered
from simulator.service.adapters.receipts import ReceiptStore
from simulator.service.domain.order import Order
from simulator.service.payments.context import PaymentContext
from simulator.service.payments.jobs import ensure_receipt


@pytest.fixture
def store(tmp_path: Path, world: World) -> ReceiptStore:
    return ReceiptStore(tmp_path / "receipts", world.repo.cipher)


@pytest.fixture
def ctx(world: World, store: ReceiptStore) -> PaymentContext:
    return replace(world.service._context, receipts=store)


@pytest.fixture
def order(world: World) -> Order:
    """A paid order whose receipt job has not run yet."""
    world.deliver(*world.stripe.pay(world.start()))
    paid = world.repo.order_for_win(world.win.id)
    assert paid is not None
    bare = replace(paid, receipt_path=None, receipt_sha256=None)
    with world.repo.transaction():
        world.repo.save_order(bare)
    return bare


def rendered(world: World, order: Order) -> bytes:
    txn = world.repo.get_transaction(order.transaction_id or "")
    assert txn is not None
    return stub_render(world.win, txn, order.id, world.buyer, "")


def test_the_receipt_job_records_the_receipts_sha256(world: World, ctx: PaymentContext,
                                                     store: ReceiptStore, order: Order) -> None:
    pdf = ensure_receipt(ctx, order.id)

    attached = world.repo.get_order(order.id)
    assert attached is not None and pdf is not None
    assert attached.receipt_path == str(store.path_for(order.id))
    assert attached.receipt_sha256 == hashlib.sha256(pdf).hexdigest()
    written = Path(attached.receipt_path).read_bytes()
    assert ensure_receipt(ctx, order.id) == pdf  # read back, never written again
    assert Path(attached.receipt_path).read_bytes() == written


def test_a_receipt_a_crash_left_unrecorded_is_adopted(world: World, ctx: PaymentContext,
                                                      store: ReceiptStore, order: Order) -> None:
    store.save(order.id, rendered(world, order))  # written, then the process died

    pdf = ensure_receipt(ctx, order.id)

    attached = world.repo.get_order(order.id)
    assert attached is not None and attached.receipt_sha256 == hashlib.sha256(
        pdf or b"").hexdigest()
    assert "order.receipt_attached" in [e.action for e in world.repo.audit_for("order",
                                                                              order.id)]


def test_a_different_receipt_already_on_disk_is_refused_and_reported(
        world: World, ctx: PaymentContext, store: ReceiptStore, order: Order) -> None:
    store.save(order.id, b"%PDF-1.4 someone else's receipt")

    with pytest.raises(ReceiptTampered, match="SHA-256 is not the one recorded"):
        ensure_receipt(ctx, order.id)

    assert world.repo.get_order(order.id).receipt_path is None  # type: ignore[union-attr]
    assert [e["kind"] for e in world.repo.list_security_events()] == ["receipt_tampered"]
    [alert] = [a for a in world.repo.list_alerts() if a.kind == "receipt_tampered"]
    assert (alert.kind, alert.severity, alert.subject_id) == ("receipt_tampered", "critical",
                                                               order.id)


def test_a_receipt_altered_after_it_was_recorded_is_never_mailed(
        world: World, ctx: PaymentContext, store: ReceiptStore, order: Order) -> None:
    ensure_receipt(ctx, order.id)
    path = store.path_for(order.id)
    path.write_bytes(store.cipher.encrypt_bytes(b"%PDF-1.4 forged"))

    with pytest.raises(ReceiptTampered):
        ensure_receipt(ctx, order.id)

    assert "receipt_tampered" in [alert.kind for alert in world.repo.list_alerts()]
