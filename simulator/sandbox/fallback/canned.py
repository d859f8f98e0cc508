"""Objects in the shape the pinned SDK describes, for paths and ids the sandbox has no state for.

stripe-mock answers every operation with a fixed example object, the requested id and the
request's values put in where they fit. Here the example is built from the SDK's own
resource class (:func:`simulator.sandbox.sdk_reference.object_kind`): every declared field
is present, nullable ones are null, enums take their first value, nested objects are
filled in the same way and expandable references are ids. Nothing is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from simulator.common.ids import IdGenerator
from simulator.sandbox.sdk_reference import Kind, object_kind

# Prefixes of the objects real code most often reads ids from; others use their name.
ID_PREFIXES = {
    "account": "acct", "balance_transaction": "txn", "bank_account": "ba", "card": "card",
    "charge": "ch", "checkout.session": "cs_test", "coupon": "co", "customer": "cus",
    "dispute": "dp", "event": "evt", "file": "file", "invoice": "in", "invoiceitem": "ii",
    "item": "li", "mandate": "mandate", "payment_intent": "pi", "payment_link": "plink",
    "payment_method": "pm", "payout": "po", "price": "price", "product": "prod",
    "promotion_code": "promo", "quote": "qt", "refund": "re", "setup_intent": "seti",
    "source": "src", "subscription": "sub", "subscription_item": "si", "tax_id": "txi",
    "tax_rate": "txr", "test_helpers.test_clock": "clock", "token": "tok",
    "transfer": "tr", "webhook_endpoint": "we",
}
MAX_NESTING = 3


@dataclass(frozen=True)
class Canvas:
    """What a canned object is made with: ids, the sandbox's time and the request's URL."""

    ids: IdGenerator
    now: int
    url: str

    def new_id(self, object_name: str) -> str:
        prefix = ID_PREFIXES.get(object_name) or object_name.rpartition(".")[2][:8]
        return self.ids.new(prefix, 14)


def canned_object(object_name: str, canvas: Canvas, *, object_id: str | None = None,
                  values: Mapping[str, Any] | None = None, depth: int = 0) -> dict[str, Any]:
    """One object of ``object_name`` with every field the SDK declares, ``object_id`` as its
    id and each of ``values`` whose key is a field and whose value that field accepts
    (the ids in the request's path are among them: ``fee`` of a fee's refund)."""
    kind = object_kind(object_name)
    fields = kind.fields or {}
    body = {name: _value(name, field_kind, canvas, depth) for name, field_kind in fields.items()}
    body["object"] = object_name
    if "id" in fields:
        body["id"] = object_id or canvas.new_id(object_name)
    if depth == 0 and "id" in fields:
        _point_lists_at(body, canvas.url)
    for name, value in (values or {}).items():
        field_kind = fields.get(name)
        if field_kind is not None and name not in ("id", "object"):
            fitted = _fit(value, field_kind)
            if fitted is not _UNFIT:
                body[name] = fitted
    return body


def _point_lists_at(body: dict[str, Any], request_path: str) -> None:
    """A list inside an object (``charge.refunds``) has its own URL under the object's, so
    that ``charge.refunds.retrieve("re_…")`` reaches the right path."""
    object_path = request_path.rstrip("/")
    if not object_path.endswith("/" + str(body["id"])):
        object_path = f"{object_path}/{body['id']}"
    for name, value in body.items():
        if isinstance(value, dict) and value.get("object") == "list":
            value["url"] = f"{object_path}/{name}"


def deleted_object(object_name: str, object_id: str) -> dict[str, Any]:
    return {"id": object_id, "object": object_name, "deleted": True}


def list_of(item: dict[str, Any], url: str, *, search: bool = False) -> dict[str, Any]:
    if search:
        return {"object": "search_result", "data": [item], "has_more": False,
                "next_page": None, "url": url}
    return {"object": "list", "data": [item], "has_more": False, "url": url}


def _value(name: str, kind: Kind, canvas: Canvas, depth: int) -> Any:
    if "object" in kind.types and kind.fields is None and not kind.resource:
        return {}  # a free-form hash (metadata): the SDK reads it as a dict, never null
    if _is_list(kind) and depth < MAX_NESTING:  # ``charge.refunds``: one item, as stripe-mock
        return _inner_list(kind, canvas, depth)
    if kind.any or "null" in kind.types:
        return None
    if kind.resource and "string" in kind.types:
        return canvas.new_id(kind.resource)
    if kind.enum:
        return sorted(kind.enum)[0]
    if kind.decimal:
        return "0"
    if "string" in kind.types:
        return _string(name, canvas)
    if "number" in kind.types:
        return canvas.now if name in ("created", "updated") else 0
    if "boolean" in kind.types:
        return False
    if "array" in kind.types:
        return []
    if kind.resource:
        if depth >= MAX_NESTING:
            return None
        return canned_object(kind.resource, canvas, depth=depth + 1)
    if kind.fields is not None and depth < MAX_NESTING:
        return {key: _value(key, inner, canvas, depth + 1) for key, inner in kind.fields.items()}
    return {}


def _is_list(kind: Kind) -> bool:
    return kind.fields is not None and kind.fields.get("object", Kind()).enum == {"list"}


def _inner_list(kind: Kind, canvas: Canvas, depth: int) -> dict[str, Any]:
    items = (kind.fields or {})["data"].items
    data = ([canned_object(items.resource, canvas, depth=depth + 1)]
            if items is not None and items.resource and depth + 1 < MAX_NESTING else [])
    return {"object": "list", "data": data, "has_more": False, "url": canvas.url}


def _string(name: str, canvas: Canvas) -> str:
    if name == "currency":
        return "usd"
    if name == "url":
        return canvas.url
    return ""


class _Unfit:
    """A request value that does not fit the field of the same name."""


_UNFIT: Any = _Unfit()


def _fit(value: Any, kind: Kind) -> Any:
    """``value`` from a form (strings, nested dicts and lists) as the field's JSON type."""
    if isinstance(value, Mapping):
        return dict(value) if "object" in kind.types and not kind.resource else _UNFIT
    if isinstance(value, list):
        return _UNFIT
    text = str(value)
    if kind.enum and text in kind.enum:
        return text
    if "boolean" in kind.types and text in ("true", "false"):
        return text == "true"
    if "number" in kind.types and text.lstrip("-").isdigit():
        return int(text)
    if "string" in kind.types and (kind.open_enum or text in kind.enum):
        return text
    return _UNFIT
