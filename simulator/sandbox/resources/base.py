"""What every Stripe object module shares: the object base class, the registry of object
types, loading and saving, expansion and list pages (and, re-exported, the request
context ``Ctx`` from ``simulator/sandbox/context.py``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar

from simulator.sandbox.context import Ctx
from simulator.sandbox.errors import InvalidRequestError, resource_missing

MAX_EXPAND_DEPTH = 4


@dataclass(kw_only=True)
class StripeObject:
    """Base of every stored Stripe object. Subclasses are dataclasses whose fields are the
    state we model; ``serialize`` lists every field Stripe returns, in Stripe's order."""

    OBJECT: ClassVar[str]
    PREFIX: ClassVar[str]
    NOUN: ClassVar[str]
    EXPANDABLE: ClassVar[frozenset[str]] = frozenset()
    INCLUDABLE: ClassVar[frozenset[str]] = frozenset()
    # What lists of this object filter on (``store.page(filters=...)``), by name.
    FILTERS: ClassVar[tuple[str, ...]] = ()

    id: str
    created: int

    def index(self) -> dict[str, str | None]:
        """Each of ``FILTERS`` and its value, here the attribute of that name (None: no
        value, which no filter matches). The store keeps them in step with the object."""
        return {name: filter_value(getattr(self, name)) for name in self.FILTERS}

    def is_deleted(self) -> bool:
        return False

    def serialize(self, ctx: Ctx) -> dict[str, Any]:
        raise NotImplementedError

    def include(self, ctx: Ctx, name: str) -> Any:
        """The value of an includable property (present only when expanded)."""
        raise NotImplementedError

    @classmethod
    def of_rendered(cls, ctx: Ctx, data: dict[str, Any]) -> StripeObject | None:
        """The object behind one of its rendered hashes, to expand inside it. Stored
        objects are loaded by id; objects kept inside another (a Checkout Session's line
        items) rebuild themselves from the hash."""
        return load_any(ctx, data["id"])

    def state(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _field_names(type(self))}

    @classmethod
    def from_state(cls: type[T], data: dict[str, Any]) -> T:
        return cls(**data)


def filter_value(value: str | bool | None) -> str | None:
    """A list filter's stored value: booleans as ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def list_filters(**values: str | bool | None) -> dict[str, str]:
    """``store.page`` filters, booleans as stored; a value of None filters nothing. The
    first named filter leads the query through its index: name the most selective first."""
    return {name: stored for name, value in values.items()
            if (stored := filter_value(value)) is not None}


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type[StripeObject]) -> tuple[str, ...]:
    """Asked once per class: ``dataclasses.fields`` costs more than the copy itself."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


T = TypeVar("T", bound=StripeObject)
REGISTRY: dict[str, type[StripeObject]] = {}


def register(cls: type[T]) -> type[T]:
    REGISTRY[cls.OBJECT] = cls
    return cls


# -- persistence ------------------------------------------------------------------------
class Storable(Protocol):
    """What saving needs of an object; a flow that sees an object through a protocol of
    its own (``payment_confirmation.ConfirmablePayment``) can still save it."""

    OBJECT: ClassVar[str]

    @property
    def id(self) -> str: ...
    @property
    def created(self) -> int: ...
    def state(self) -> dict[str, Any]: ...
    def index(self) -> dict[str, str | None]: ...
    def is_deleted(self) -> bool: ...


def save(ctx: Ctx, obj: Storable) -> None:
    ctx.store.put(obj.id, obj.OBJECT, obj.created, obj.state(), obj.index(), obj.is_deleted())


def find(ctx: Ctx, cls: type[T], object_id: str) -> T | None:
    row = ctx.store.get(object_id, cls.OBJECT)
    return cls.from_state(row.data) if row else None


def load(ctx: Ctx, cls: type[T], object_id: str, param: str = "id") -> T:
    """The object, or Stripe's ``resource_missing`` (404 for ids in the URL)."""
    obj = find(ctx, cls, object_id) if isinstance(object_id, str) else None
    if obj is None or obj.is_deleted():
        raise resource_missing(cls.NOUN, str(object_id), param)
    return obj


def load_any(ctx: Ctx, object_id: str) -> StripeObject | None:
    row = ctx.store.get(object_id)
    if row is None or row.type not in REGISTRY:
        return None
    return REGISTRY[row.type].from_state(row.data)


# -- expansion (https://docs.stripe.com/expand) ----------------------------------------
def parse_expand(paths: list[str] | None) -> list[list[str]]:
    parsed: list[list[str]] = []
    for path in paths or []:
        parts = path.split(".")
        levels = len(parts) - (1 if parts and parts[0] == "data" else 0)
        if levels > MAX_EXPAND_DEPTH:
            raise InvalidRequestError(
                f"You cannot expand more than {MAX_EXPAND_DEPTH} levels of a property."
                f" Property: {path}",
                param="expand",
            )
        parsed.append(parts)
    return parsed


def render(ctx: Ctx, obj: StripeObject, expand: list[list[str]] | None = None) -> dict[str, Any]:
    data = obj.serialize(ctx)
    for path in expand or []:
        _expand_path(ctx, obj, data, path, ".".join(path))
    return data


def _expand_path(
    ctx: Ctx, obj: StripeObject, data: dict[str, Any], path: list[str], full: str
) -> None:
    name, rest = path[0], path[1:]
    if name in obj.INCLUDABLE:
        value = obj.include(ctx, name)
        data[name] = value
        if rest and isinstance(value, dict) and value.get("object") == "list":
            _expand_in_list(ctx, value, rest, full)
        return
    if name not in obj.EXPANDABLE:
        raise InvalidRequestError(f"This property cannot be expanded ({full}).", param="expand")
    value = data.get(name)
    if value is None:
        return
    if isinstance(value, str):
        target = load_any(ctx, value)
        if target is None:
            return
        expanded = target.serialize(ctx)
        data[name] = expanded
        value, obj_for_rest = expanded, target
    else:
        found = _object_of(ctx, value)
        if found is None:
            return
        obj_for_rest = found
    if rest:
        _expand_path(ctx, obj_for_rest, value, rest, full)


def _expand_in_list(ctx: Ctx, listing: dict[str, Any], path: list[str], full: str) -> None:
    if path[0] != "data" or len(path) < 2:
        raise InvalidRequestError(f"This property cannot be expanded ({full}).", param="expand")
    for item in listing["data"]:
        item_obj = _object_of(ctx, item)
        if item_obj is not None:
            _expand_path(ctx, item_obj, item, path[1:], full)


def _object_of(ctx: Ctx, data: dict[str, Any]) -> StripeObject | None:
    """The stored object behind an already-rendered hash, for its expansion rules."""
    if data.get("object") not in REGISTRY or not isinstance(data.get("id"), str):
        return None
    return REGISTRY[data["object"]].of_rendered(ctx, data)


def render_row(ctx: Ctx, object_type: str, state: dict[str, Any]) -> dict[str, Any]:
    """A stored object of another type, rendered without importing its module."""
    return REGISTRY[object_type].from_state(state).serialize(ctx)


def list_object(url: str, data: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


# -- events' previous_attributes --------------------------------------------------------
def previous_attributes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The old values of what changed, recursing into hashes as Stripe does: a key that
    was added shows as ``null`` (https://docs.stripe.com/api/events/object)."""
    changed: dict[str, Any] = {}
    for key, old in before.items():
        new = after.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            changed[key] = previous_attributes(old, new)
        else:
            changed[key] = old
    for key in after.keys() - before.keys():
        changed[key] = None
    return changed


Serializer = Callable[[Ctx, StripeObject], dict[str, Any]]

__all__ = ["Ctx"]  # re-exported: every object module takes it from here
