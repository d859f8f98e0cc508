"""List endpoints (https://docs.stripe.com/api/pagination) and expansion
(https://docs.stripe.com/expand) through the official SDK."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import stripe

from harness.servers import RunningServer, start_sandbox

KEY = "sk_test_wire_lists"


def unique_email(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}@example.com"


def create_customers(client: stripe.StripeClient, email: str, count: int) -> list[str]:
    """Ids oldest first."""
    return [client.v1.customers.create(params={"email": email, "name": f"Bidder {n}"}).id
            for n in range(count)]


@pytest.fixture(scope="module")
def five(client: stripe.StripeClient) -> tuple[str, list[str]]:
    email = unique_email("five")
    return email, create_customers(client, email, 5)


@pytest.fixture(scope="module")
def clocked_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A sandbox of its own, so its clock can move between creations."""
    server = start_sandbox(Path(tmp_path_factory.mktemp("lists")), workers=1, threads=2)
    yield server
    server.stop()


# -- limit -----------------------------------------------------------------------------------
@pytest.mark.parametrize("limit", [0, 101, -1])
def test_limit_out_of_range_is_refused(client: stripe.StripeClient, limit: int) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.list(params={"limit": limit})
    assert raised.value.http_status == 400
    assert raised.value.param == "limit"
    bound = "greater than or equal to 1" if limit < 1 else "less than or equal to 100"
    assert raised.value.user_message == f"This value must be {bound}."


@pytest.mark.parametrize("limit", [1, 100])
def test_limit_bounds_are_accepted(client: stripe.StripeClient, limit: int) -> None:
    page = client.v1.customers.list(params={"limit": limit})
    assert len(page.data) <= limit


def test_default_limit_is_10_with_has_more_and_url(client: stripe.StripeClient) -> None:
    email = unique_email("default-limit")
    ids = create_customers(client, email, 11)
    page = client.v1.customers.list(params={"email": email})
    assert page["object"] == "list"
    assert page.url == "/v1/customers"
    assert [c.id for c in page.data] == ids[::-1][:10]
    assert page.has_more is True
    rest = client.v1.customers.list(params={"email": email, "starting_after": page.data[-1].id})
    assert [c.id for c in rest.data] == [ids[0]]
    assert rest.has_more is False


# -- cursors ------------------------------------------------------------------------------------
def test_starting_after_pages_towards_older(client: stripe.StripeClient,
                                            five: tuple[str, list[str]]) -> None:
    email, ids = five
    newest_first = ids[::-1]
    pages: list[list[str]] = []
    more: list[bool] = []
    cursor: str | None = None
    for _ in range(5):
        params: stripe.params.CustomerListParams = {"email": email, "limit": 2}
        if cursor:
            params["starting_after"] = cursor
        page = client.v1.customers.list(params=params)
        pages.append([c.id for c in page.data])
        more.append(page.has_more)
        if not page.has_more:
            break
        cursor = page.data[-1].id
    assert pages == [newest_first[0:2], newest_first[2:4], newest_first[4:5]]
    assert more == [True, True, False]


def test_ending_before_pages_towards_newer(client: stripe.StripeClient,
                                           five: tuple[str, list[str]]) -> None:
    email, ids = five
    newest_first = ids[::-1]
    page = client.v1.customers.list(params={"email": email, "limit": 2,
                                            "ending_before": newest_first[4]})
    # The two objects just newer than the cursor, still listed newest first.
    assert [c.id for c in page.data] == newest_first[2:4]
    assert page.has_more is True
    page = client.v1.customers.list(params={"email": email, "limit": 2,
                                            "ending_before": newest_first[2]})
    assert [c.id for c in page.data] == newest_first[0:2]
    assert page.has_more is False
    page = client.v1.customers.list(params={"email": email, "ending_before": newest_first[0]})
    assert page.data == [] and page.has_more is False


def test_both_cursors_at_once_are_refused(client: stripe.StripeClient,
                                          five: tuple[str, list[str]]) -> None:
    _, ids = five
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.list(params={"starting_after": ids[1], "ending_before": ids[3]})
    assert raised.value.http_status == 400
    assert raised.value.user_message == (
        "Received both starting_after and ending_before parameters. Please pass in only one."
    )


def test_unknown_cursor_is_resource_missing(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.list(params={"starting_after": "cus_nosuchcursor"})
    assert raised.value.http_status == 400
    assert raised.value.code == "resource_missing"
    assert raised.value.param == "starting_after"
    assert raised.value.user_message == "No such customer: 'cus_nosuchcursor'"


def test_auto_paging_iter_over_25(client: stripe.StripeClient) -> None:
    email = unique_email("auto-page")
    ids = create_customers(client, email, 25)
    seen = [c.id for c in
            client.v1.customers.list(params={"email": email, "limit": 10}).auto_paging_iter()]
    assert seen == ids[::-1]


def test_auto_paging_iter_backwards(client: stripe.StripeClient) -> None:
    email = unique_email("auto-page-back")
    ids = create_customers(client, email, 12)
    page = client.v1.customers.list(params={"email": email, "limit": 5, "ending_before": ids[0]})
    seen = [c.id for c in page.auto_paging_iter()]
    assert sorted(seen) == sorted(ids[1:])
    assert len(seen) == 11


# -- created filters ----------------------------------------------------------------------------
def test_created_filters(clocked_sandbox: RunningServer) -> None:
    client = stripe.StripeClient(KEY, base_addresses={"api": clocked_sandbox.url},
                                 max_network_retries=0)
    email = unique_email("created")
    made: list[stripe.Customer] = []
    for _ in range(3):
        made.append(client.v1.customers.create(params={"email": email}))
        requests.post(f"{clocked_sandbox.url}/_sandbox/clock/advance", data={"seconds": 1000},
                      timeout=10).raise_for_status()
    first, second, third = made
    assert third.created - second.created >= 1000

    def ids(created: dict[str, int] | int) -> list[str]:
        params: Any = {"email": email, "created": created}
        return [c.id for c in client.v1.customers.list(params=params).data]

    assert ids({"gte": second.created}) == [third.id, second.id]
    assert ids({"gt": second.created}) == [third.id]
    assert ids({"lte": second.created}) == [second.id, first.id]
    assert ids({"lt": second.created}) == [first.id]
    assert ids({"gte": first.created, "lte": second.created}) == [second.id, first.id]
    assert ids(second.created) == [second.id]
    assert ids({"gt": third.created}) == []


def test_created_filter_must_be_an_integer(client: stripe.StripeClient) -> None:
    not_a_time: Any = {"created": {"gte": "yesterday"}}
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.list(params=not_a_time)
    assert raised.value.code == "parameter_invalid_integer"
    assert raised.value.param == "created[gte]"


# -- expand -----------------------------------------------------------------------------------
def test_non_expandable_property_is_refused(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"name": "Unexpandable"})
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.retrieve(customer.id, params={"expand": ["foo"]})
    assert raised.value.http_status == 400
    assert raised.value.param == "expand"
    assert raised.value.user_message == "This property cannot be expanded (foo)."


def test_more_than_four_levels_is_refused(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"name": "Deep"})
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.retrieve(customer.id, params={"expand": ["a.b.c.d.e"]})
    assert raised.value.param == "expand"
    assert (raised.value.user_message or "").startswith(
        "You cannot expand more than 4 levels of a property."
    )


def test_lists_need_the_data_prefix(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.list(params={"limit": 1, "expand": ["default_source"]})
    assert raised.value.param == "expand"
    assert raised.value.user_message == (
        "This property cannot be expanded (default_source). You may want to try expanding"
        " 'data.default_source' instead."
    )
    page = client.v1.customers.list(params={"limit": 1, "expand": ["data.default_source"]})
    assert page["object"] == "list"


def test_list_item_expansion_is_checked_too(client: stripe.StripeClient) -> None:
    client.v1.customers.create(params={"name": "Listed"})
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.list(params={"limit": 1, "expand": ["data.foo"]})
    message = raised.value.user_message or ""
    assert message.startswith("This property cannot be expanded (") and "foo" in message
    with pytest.raises(stripe.InvalidRequestError) as deep:
        client.v1.customers.list(params={"limit": 1, "expand": ["data.a.b.c.d.e"]})
    assert (deep.value.user_message or "").startswith("You cannot expand more than 4 levels")


def test_expanding_a_reference_inlines_the_object(sandbox_server: RunningServer,
                                                  client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"name": "Expanded"})
    created = requests.post(
        f"{sandbox_server.url}/v1/payment_intents",
        data={"amount": "2000", "currency": "usd", "customer": customer.id,
              "payment_method": "pm_card_visa", "confirm": "true"},
        headers={"Authorization": f"Bearer {KEY}"}, timeout=10,
    )
    if created.status_code == 404 and "Unrecognized request URL" in created.text:
        pytest.skip("PaymentIntents are not in the sandbox yet")
    assert created.status_code == 200, created.text
    intent = client.v1.payment_intents.retrieve(
        created.json()["id"], params={"expand": ["customer", "latest_charge"]}
    )
    assert isinstance(intent.customer, stripe.Customer)
    assert intent.customer.id == customer.id
    assert isinstance(intent.latest_charge, stripe.Charge)
    page = client.v1.payment_intents.list(
        params={"customer": customer.id, "expand": ["data.customer"]}
    )
    assert [pi.customer.id for pi in page.data] == [customer.id]  # type: ignore[union-attr]
