"""The pinned SDK read as the API's reference: operations, params and object fields."""

from __future__ import annotations

import pytest
import stripe

from simulator.sandbox import sdk_reference as ref


def test_operations_come_from_the_service_classes() -> None:
    operations = {(op.method, op.path): op for op in ref.operations()}
    create = operations[("POST", "/v1/payment_intents")]
    assert create.params == "PaymentIntentCreateParams" and create.returns == "PaymentIntent"
    assert ("GET", "/v1/customers/search") in operations
    assert operations[("POST", "/v1/checkout/sessions")].params == "checkout.SessionCreateParams"
    assert all(op.path.startswith("/v1/") for op in ref.operations())  # /v2 left out
    assert ("PUT", "/v1/customers") not in operations


def test_a_request_call_is_read_from_source() -> None:
    source = '''
def create(self, params: Optional["WidgetCreateParams"] = None):
    return cast("Widget", self._request("post", "/v1/widgets/{id}".format(id=1),
                                        params=params))
def other(self):
    return self._request("get", "/v2/widgets")
'''
    assert ref.operations_in_source(source, "extra") == [
        ref.SdkOperation("POST", "/v1/widgets/{id}", "extra.WidgetCreateParams", "Widget")]


def test_params_are_typed_and_nested() -> None:
    params = ref.params_for("POST", "/v1/payment_intents")
    assert params is not None and params.fields is not None
    assert params.required == {"amount", "currency"}
    assert params.fields["amount"].types == {"number"}
    assert "expand" in params.fields and "idempotency_key" not in params.fields
    address = ref.params_kind("CustomerCreateParams").fields["address"]  # type: ignore[index]
    assert {"line1", "postal_code"} <= set(address.fields or {})
    assert ref.params_for("GET", "/v1/customers/<customer>") is not None  # rule shape
    assert ref.params_for("PATCH", "/v1/customers") is None
    with pytest.raises(KeyError):
        ref.params_kind("NoSuchParams")


def test_object_fields_and_enums() -> None:
    kind = ref.object_kind("payment_intent")
    fields = kind.fields or {}
    assert fields["amount"].types == {"number"}
    assert fields["object"].enum == {"payment_intent"} and not fields["object"].open_enum
    assert "requires_capture" in fields["status"].enum
    assert fields["latest_charge"].types == {"string", "object", "null"}
    assert fields["latest_charge"].resource == "charge"  # expandable, not inlined
    assert "tip" in (fields["amount_details"].fields or {})  # a nested StripeObject
    assert fields["payment_method_types"].items is not None
    assert ref.object_kind("price").fields["unit_amount_decimal"].accepts("642.00")  # type: ignore[index]
    assert ref.object_class("checkout.session") is stripe.checkout.Session
    with pytest.raises(KeyError):
        ref.object_kind("no_such_object")


def test_kind_accepts_json_types() -> None:
    kind = ref.Kind(types={"string", "null"})
    assert kind.accepts("x") and kind.accepts(None)
    assert not kind.accepts(3) and not kind.accepts(True)
    assert ref.Kind(any=True).accepts([1])
