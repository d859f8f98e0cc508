"""``stripe-sim sandbox --fallback fixtures``: the stripe-mock-compatible mode, through the SDK.

What the sandbox implements keeps its state; a path it does not route, or an id it does not
hold, is answered in the shape the pinned SDK describes and marked as such.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import stripe

from harness.servers import RunningServer, start_sandbox
from simulator.sandbox.fallback.answer import FALLBACK_HEADER

KEY = "sk_test_fallback_mode"


@pytest.fixture(scope="module")
def fallback_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_sandbox(Path(tmp_path_factory.mktemp("fallback")), workers=1, threads=2,
                           extra_args=["--fallback", "fixtures"])
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sdk(fallback_server: RunningServer) -> stripe.StripeClient:
    return stripe.StripeClient(KEY, base_addresses={"api": fallback_server.url,
                                                    "files": fallback_server.url},
                               max_network_retries=0)


def marked(obj: stripe.StripeObject) -> bool:
    response = obj.last_response
    return response is not None and response.headers.get(FALLBACK_HEADER) == "fixtures"


def test_a_path_the_sandbox_does_not_route_answers_in_the_sdks_shape(
        sdk: stripe.StripeClient) -> None:
    invoice = sdk.v1.invoices.create({"customer": "cus_anyone", "description": "Lot 7",
                                      "auto_advance": False, "metadata": {"lot": "7"}})
    assert isinstance(invoice, stripe.Invoice)
    assert invoice.object == "invoice" and invoice.id.startswith("in_")
    assert invoice.customer == "cus_anyone"  # the request's values where they fit
    assert invoice.description == "Lot 7" and invoice.auto_advance is False
    assert invoice.metadata.to_dict() == {"lot": "7"}
    assert marked(invoice)


def test_an_unknown_id_on_an_implemented_path_gets_that_id(sdk: stripe.StripeClient) -> None:
    customer = sdk.v1.customers.retrieve("cus_123")
    assert isinstance(customer, stripe.Customer)
    assert customer.id == "cus_123" and customer.object == "customer"
    assert customer.metadata.to_dict() == {}
    assert marked(customer)


def test_what_the_sandbox_implements_keeps_its_state(sdk: stripe.StripeClient) -> None:
    created = sdk.v1.customers.create({"email": "kept@example.com"})
    sdk.v1.customers.update(created.id, {"name": "Kept Buyer"})
    again = sdk.v1.customers.retrieve(created.id)
    assert (again.email, again.name) == ("kept@example.com", "Kept Buyer")
    assert not marked(created) and not marked(again)


def test_an_unknown_id_in_a_parameter_is_accepted_as_stripe_mock_does(
        sdk: stripe.StripeClient) -> None:
    intent = sdk.v1.payment_intents.create({"amount": 1200, "currency": "usd",
                                            "customer": "cus_not_held_here"})
    assert isinstance(intent, stripe.PaymentIntent)
    assert intent.amount == 1200 and intent.customer == "cus_not_held_here"
    assert marked(intent)


def test_lists_searches_and_deletes_have_their_shapes(sdk: stripe.StripeClient) -> None:
    invoices = sdk.v1.invoices.list({"limit": 3})
    assert invoices.object == "list" and len(invoices.data) == 1
    assert isinstance(invoices.data[0], stripe.Invoice)
    found = sdk.v1.invoices.search({"query": "total>999"})
    assert found.object == "search_result" and isinstance(found.data[0], stripe.Invoice)
    deleted = sdk.v1.coupons.delete("co_gone")
    assert deleted.id == "co_gone" and deleted.deleted is True


def test_a_list_inside_an_object_reaches_its_own_path(sdk: stripe.StripeClient) -> None:
    fee = stripe.ApplicationFee.construct_from(
        sdk.v1.application_fees.retrieve("fee_123").to_dict(), KEY)
    refunds = fee.refunds
    assert refunds.object == "list"
    assert refunds.url == "/v1/application_fees/fee_123/refunds"
    assert isinstance(refunds.data[0], stripe.ApplicationFeeRefund)
    refund = sdk.v1.application_fees.refunds.retrieve("fee_123", "fr_9")
    assert (refund.id, refund.fee) == ("fr_9", "fee_123")  # the parent's id from the path


def test_parameters_are_checked_against_the_sdks_params_type(
        fallback_server: RunningServer) -> None:
    auth = {"Authorization": f"Bearer {KEY}"}
    unknown = requests.post(f"{fallback_server.url}/v1/invoices", headers=auth, timeout=10,
                            data={"customer": "cus_1", "colour": "blue"})
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == "parameter_unknown"
    assert unknown.json()["error"]["param"] == "colour"
    nested = requests.post(f"{fallback_server.url}/v1/invoices", headers=auth, timeout=10,
                           data={"customer": "cus_1", "rendering[shade]": "x"})
    assert nested.json()["error"]["param"] == "rendering[shade]"
    missing = requests.post(f"{fallback_server.url}/v1/payouts", headers=auth,
                            timeout=10, data={"amount": "100"})
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "parameter_missing"
    assert missing.json()["error"]["param"] == "currency"


def test_a_path_no_sdk_knows_is_still_unrecognized(fallback_server: RunningServer) -> None:
    answer = requests.get(f"{fallback_server.url}/v1/widgets/w_1", timeout=10,
                          headers={"Authorization": f"Bearer {KEY}"})
    assert answer.status_code == 404
    assert "Unrecognized request URL" in answer.json()["error"]["message"]
    assert FALLBACK_HEADER not in answer.headers


def test_the_default_mode_does_not_make_objects_up(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.customers.retrieve("cus_123")
    assert refused.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError) as unrouted:
        client.v1.invoices.retrieve("in_123")
    assert unrouted.value.http_status == 404
