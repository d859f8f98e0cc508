"""Orders: one paid order per paid lot, updated with its receipt; a canceled order for
a lot whose payment window closed unpaid. Checked where people see them: the buyer's
winnings, the buyer's mail, the admin's orders and audit log (and the service's
records, which every page is drawn from)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_bdd import parsers, then, when

from harness.data import Buyer, DataBuilder
from harness.marketplace import Marketplace, WonLot
from harness.pages.service import AdminPages, ServicePages
from harness.steps.receipts import *  # noqa: F403
from harness.steps.receipts import Receipt, paid_order, wait_for_receipt

WINDOW_CLOSED_SUBJECT = "Payment window closed for lot {lot}"


@pytest.fixture(name="admin")
def admin_user(marketplace: Marketplace, stripe_data: DataBuilder) -> Buyer:
    """The marketplace's administrator for the scenario."""
    return marketplace.add_admin(stripe_data.buyer("Priya Raman"))


def admin_pages(pages: ServicePages, admin: Buyer, section: str) -> AdminPages:
    """The admin signed in (in the scenario's browser) and on ``section``."""
    pages.sign_in_as(admin)
    return pages.admin.open(section)


def lot_row(rows: list[dict[str, str]], number: int) -> list[dict[str, str]]:
    """An admin table's rows about lot ``number`` (its "Lot" cell reads "Lot N: title")."""
    return [row for row in rows if row.get("lot", "").startswith(f"Lot {number}:")]


# == the buyer ==============================================================================
@then(parsers.parse("the buyer's winnings show lot {number:d} as paid"))
def winnings_show_paid(pages: ServicePages, number: int) -> None:
    pages.winnings.open()
    assert pages.winnings.state(number) == "paid"
    assert pages.winnings.status(number) == "Paid"
    assert not pages.winnings.can_pay(number)


@then(parsers.parse("the buyer can no longer pay for lot {number:d}"))
def buyer_cannot_pay(pages: ServicePages, number: int) -> None:
    pages.winnings.open()
    assert pages.winnings.state(number) == "closed"
    assert pages.winnings.status(number) == "Window closed"
    assert not pages.winnings.can_pay(number)


@then(parsers.parse("the buyer is emailed that the payment window for lot {number:d} closed"))
def buyer_told_window_closed(marketplace: Marketplace, won: WonLot, number: int) -> None:
    message = marketplace.mail.mailbox.wait_for(
        won.buyer.email, WINDOW_CLOSED_SUBJECT.format(lot=number))
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and "the order was canceled" in body.get_content()


@then("no payment was taken for the lot")
def no_payment_taken(marketplace: Marketplace, won: WonLot) -> None:
    assert marketplace.transactions(won) == []
    order = marketplace.orders(won)[0]
    assert order.transaction_id is None and order.receipt_path is None


# == the admin ==============================================================================
@when(parsers.parse("an admin downloads the receipt from the order of lot {number:d}"),
      target_fixture="receipt")
def admin_downloads_receipt(pages: ServicePages, marketplace: Marketplace, admin: Buyer,
                            won: WonLot, number: int) -> Receipt:
    order = wait_for_receipt(marketplace, won)
    admin_page = admin_pages(pages, admin, "orders")
    assert [row["id"] for row in lot_row(admin_page.rows(), number)] == [order.id]
    with pages.page.expect_download() as download:
        admin_page.row(order.id).get_by_role("link", name="PDF").click()
    return Receipt(download.value.suggested_filename,
                   Path(download.value.path()).read_bytes())


@then(parsers.parse("the order of lot {number:d} shows as paid with its receipt"))
def order_shows_paid_with_receipt(pages: ServicePages, marketplace: Marketplace,
                                  won: WonLot, number: int) -> None:
    order = paid_order(marketplace, won)
    assert order.receipt_path and Path(order.receipt_path).name == f"{order.id}.pdf.enc"
    assert order.receipt_sha256
    (row,) = lot_row(pages.admin.open("orders").rows(), number)
    assert (row["status"], row["receipt"], row["transaction"]) == (
        "paid", "PDF", order.transaction_id)


@then("the audit log records the receipt attached to the order")
def audit_records_receipt(pages: ServicePages, marketplace: Marketplace,
                          won: WonLot) -> None:
    order = paid_order(marketplace, won)
    rows = pages.admin.open("audit").rows()
    about_order = [row["action"] for row in rows if row["subject"] == f"order {order.id}"]
    assert "order.receipt_attached" in about_order, about_order
    assert "order.created" in about_order, about_order


@then("Stripe can no longer take a payment for the lot")
def stripe_checkout_closed(marketplace: Marketplace, won: WonLot) -> None:
    sandbox = marketplace.sandbox
    assert sandbox is not None, "reads the sandbox's Checkout Sessions"
    at_stripe = [s.checkout_session_id for s in marketplace.payment_sessions(won)
                 if s.checkout_session_id]
    assert at_stripe, marketplace.payment_sessions(won)
    statuses = {sandbox.sdk.v1.checkout.sessions.retrieve(cs).status for cs in at_stripe}
    assert statuses == {"expired"}, statuses
