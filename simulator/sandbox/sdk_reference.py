"""What the pinned ``stripe`` package says the API is: its paths, parameters and objects.

The official SDK is generated from Stripe's spec for exactly the API version it pins, so it
is the project's ground truth instead of a copied spec:

- operations: every ``self._request(method, "/v1/...")`` call in its service classes
  (``stripe/**/_*_service.py``), read with :mod:`ast` from the installed package's source,
  with the name of the ``*Params`` TypedDict the method takes;
- parameters: those TypedDicts (``stripe.params``), nested ones included, with which keys
  are required;
- objects: the resource classes registered in ``stripe._object_classes`` and their
  annotations (nested ``StripeObject`` classes, ``Literal`` enums, expandable ids).

Types are reduced to :class:`Kind`: the JSON types a value may have, its enum values where
the SDK lists them, and the fields or items inside it.
"""

from __future__ import annotations

import ast
import decimal
import importlib
import re
import types
import typing
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, ForwardRef, Literal, Union

import stripe
import typing_extensions
from stripe._list_object import ListObject
from stripe._object_classes import OBJECT_CLASSES
from stripe._stripe_object import StripeObject

JSON_TYPES = ("string", "number", "boolean", "object", "array", "null")
_PARAMS_NAME = re.compile(r"\b(\w+Params\w*)\b")


@dataclass(frozen=True, order=True)
class SdkOperation:
    """One API operation as the SDK calls it: ``POST /v1/customers/{customer}``."""

    method: str
    path: str
    params: str | None = None
    returns: str | None = None
    # The ``object`` names of the classes ``returns`` names (a union lists several).
    objects: tuple[str, ...] = ()

    @property
    def answers_list(self) -> bool:
        return (self.returns or "").startswith("ListObject[")

    @property
    def answers_search(self) -> bool:
        return (self.returns or "").startswith("SearchResultObject[")


@dataclass
class Kind:
    """The JSON a field may hold: its types, enum values, and nested fields or items.

    ``fields`` is None when nothing is known about an object's keys (metadata, free-form
    hashes); ``any`` is set when the SDK does not constrain the value at all."""

    types: set[str] = field(default_factory=set)
    enum: set[str] = field(default_factory=set)
    fields: dict[str, Kind] | None = None
    items: Kind | None = None
    required: set[str] = field(default_factory=set)
    any: bool = False
    resource: str | None = None
    free_string: bool = False  # a plain ``str`` is allowed: an enum beside it is open
    decimal: bool = False  # a decimal sent as a string ("642.00")

    @property
    def open_enum(self) -> bool:
        return self.free_string or not self.enum

    def accepts(self, value: Any) -> bool:
        """Whether a decoded JSON value has one of this kind's types."""
        return self.any or json_type(value) in self.types


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


# -- operations ---------------------------------------------------------------------------
def package_root() -> Path:
    return Path(stripe.__file__).resolve().parent


def service_files() -> list[Path]:
    return sorted(package_root().rglob("_*_service.py"))


def _string(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"):
        return _string(node.func.value)
    return None


def _params_name(function: ast.FunctionDef) -> str | None:
    for arg in [*function.args.args, *function.args.kwonlyargs]:
        if arg.arg == "params" and arg.annotation is not None:
            match = _PARAMS_NAME.search(ast.unparse(arg.annotation))
            return match.group(1) if match else None
    return None


def _returns(call: ast.Call, function: ast.FunctionDef) -> str | None:
    for node in ast.walk(function):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "cast" and call in node.args[1:]):
            return _string(node.args[0])
    return None


def _imported_classes(tree: ast.AST) -> dict[str, tuple[str, str]]:
    """Names a service module imports (for type checkers too): name -> (module, class)."""
    return {alias.asname or alias.name: (node.module, alias.name)
            for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
            for alias in node.names}


def _returned_objects(returns: str | None, imported: dict[str, tuple[str, str]]
                      ) -> tuple[str, ...]:
    """The ``object`` names of the SDK classes named in a ``cast`` type string."""
    found = []
    for name in re.findall(r"\b([A-Z]\w*)\b", returns or ""):
        if name in ("ListObject", "SearchResultObject", "Union", "Optional", "Any"):
            continue
        module, class_name = imported.get(name, ("", ""))
        object_name = _OBJECT_NAMES.get((module, class_name))
        if object_name:
            found.append(object_name)
    return tuple(found)


_OBJECT_NAMES = {tuple(entry): name for name, entry in OBJECT_CLASSES.items()}


def operations_in_source(source: str, package: str = "") -> list[SdkOperation]:
    """The /v1 operations a service module's (synchronous) methods call; ``package`` is
    the subpackage its params types live in (``checkout`` for ``stripe/checkout/``)."""
    found = []
    tree = ast.parse(source)
    imported = _imported_classes(tree)
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef):
            continue
        for call in ast.walk(function):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "_request" and len(call.args) >= 2):
                continue
            method, path = _string(call.args[0]), _string(call.args[1])
            if method and path and path.startswith("/v1/"):
                params = _params_name(function)
                qualified = f"{package}.{params}" if params and package else params
                returns = _returns(call, function)
                found.append(SdkOperation(method.upper(), path, qualified, returns,
                                          _returned_objects(returns, imported)))
    return found


@cache
def operations() -> tuple[SdkOperation, ...]:
    """Every /v1 operation of the pinned SDK, one per method and path, sorted."""
    unique: dict[tuple[str, str], SdkOperation] = {}
    root = package_root()
    for path in service_files():
        package = ".".join(path.parent.relative_to(root).parts)
        for operation in operations_in_source(path.read_text(encoding="utf-8"), package):
            unique.setdefault((operation.method, operation.path), operation)
    return tuple(sorted(unique.values()))


# -- resolving annotations ----------------------------------------------------------------
@cache
def _namespace() -> dict[str, Any]:
    """Names the SDK's forward references use: resources, params and typing helpers."""
    names: dict[str, Any] = {"Literal": Literal, "Union": Union}
    for object_name in OBJECT_CLASSES:
        cls = object_class(object_name)
        if cls is not None:
            names.setdefault(cls.__name__, cls)
            names.setdefault(_prefixed_name(object_name), cls)
    return names


class _Names(dict[str, Any]):
    """Falls back to ``stripe.params``, which loads its TypedDicts lazily."""

    def __missing__(self, name: str) -> Any:
        try:
            return getattr(stripe.params, name)
        except AttributeError:
            raise KeyError(name) from None


def _prefixed_name(object_name: str) -> str:
    """``checkout.session`` -> ``CheckoutSession``, as the SDK spells cross-package refs."""
    return "".join(part.title() for part in re.split(r"[._]", object_name))


def _evaluate(annotation: Any, owner: Any) -> Any:
    if isinstance(annotation, ForwardRef):
        annotation = annotation.__forward_arg__
    if not isinstance(annotation, str):
        return annotation
    module = importlib.import_module(owner.__module__)
    local = _Names({**_namespace(), **{k: v for k, v in vars(owner).items()
                                       if isinstance(v, type)}})
    try:
        return eval(annotation, dict(vars(module)), local)  # the SDK's own annotations
    except Exception:  # a name the SDK only imports for type checkers
        return Any


def kind_of(annotation: Any, owner: Any, depth: int = 0) -> Kind:
    """Reduce one SDK annotation to the JSON it allows."""
    annotation = _evaluate(annotation, owner)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is Any or depth > 12:
        return Kind(any=True)
    if origin in (typing.NotRequired, typing.Required, typing.Annotated):
        return kind_of(args[0], owner, depth)
    if origin in (Union, types.UnionType):
        merged = Kind()
        for arg in args:
            _merge(merged, kind_of(arg, owner, depth))
        return merged
    if origin is Literal:
        return Kind(types={json_type(a) for a in args},
                    enum={a for a in args if isinstance(a, str)})
    if annotation is type(None):
        return Kind(types={"null"})
    if annotation is bool:
        return Kind(types={"boolean"})
    if annotation in (int, float):
        return Kind(types={"number"})
    if annotation is str:
        return Kind(types={"string"}, free_string=True)
    if annotation is decimal.Decimal:  # Stripe sends decimals as strings ("642.00")
        return Kind(types={"string"}, free_string=True, decimal=True)
    if origin in (list, typing.List):  # noqa: UP006
        return Kind(types={"array"}, items=kind_of(args[0], owner, depth + 1) if args else None)
    if origin in (dict, typing.Dict):  # noqa: UP006
        return Kind(types={"object"})
    if isinstance(annotation, type):
        return _class_kind(annotation, depth)
    if origin is ListObject:  # a list inside an object (``charge.refunds``)
        items = kind_of(args[0], owner, depth + 1) if args else None
        return Kind(types={"object"},
                    fields={**_LIST_FIELDS, "data": Kind(types={"array"}, items=items)})
    if origin is not None and isinstance(origin, type):  # UntypedStripeObject[str]
        return Kind(types={"object"})
    return Kind(any=True)


_LIST_FIELDS = {
    "object": Kind(types={"string"}, enum={"list"}), "data": Kind(types={"array"}),
    "has_more": Kind(types={"boolean"}), "url": Kind(types={"string"}, free_string=True),
}


def _merge(into: Kind, other: Kind) -> None:
    into.types |= other.types
    into.enum |= other.enum
    into.any = into.any or other.any
    into.free_string = into.free_string or other.free_string
    into.decimal = into.decimal or other.decimal
    into.fields = other.fields if into.fields is None else into.fields
    into.items = other.items if into.items is None else into.items
    into.resource = into.resource or other.resource


def _class_kind(cls: type, depth: int) -> Kind:
    if typing_extensions.is_typeddict(cls):
        return Kind(types={"object"}, fields=_typed_dict_fields(cls, depth + 1),
                    required=set(getattr(cls, "__required_keys__", ())))
    if issubclass(cls, StripeObject):
        object_name = getattr(cls, "OBJECT_NAME", None)
        if object_name and depth > 0:
            return Kind(types={"object"}, resource=str(object_name))  # expandable: not inlined
        declared = _own_annotations(cls)
        return Kind(types={"object"},
                    fields={name: kind_of(a, cls, depth + 1) for name, a in declared.items()}
                    if declared else None)
    return Kind(types={"object"})


def _own_annotations(cls: type) -> dict[str, Any]:
    return {name: annotation for name, annotation in vars(cls).get("__annotations__", {}).items()
            if not name.startswith("_") and name.upper() != name}


def _typed_dict_fields(cls: type, depth: int) -> dict[str, Kind]:
    annotations: dict[str, Any] = {}
    for base in reversed(cls.__mro__):
        annotations.update(vars(base).get("__annotations__", {}))
    option_keys = set(vars(stripe.RequestOptions).get("__annotations__", {}))
    return {name: kind_of(annotation, cls, depth) for name, annotation in annotations.items()
            if name not in option_keys}


# -- objects and params -------------------------------------------------------------------
@cache
def object_class(object_name: str) -> type[StripeObject] | None:
    """The SDK's class for an ``object`` value (``checkout.session`` -> Session)."""
    entry = OBJECT_CLASSES.get(object_name)
    if entry is None:
        return None
    cls: type[StripeObject] = getattr(importlib.import_module(entry[0]), entry[1])
    return cls


def object_names() -> list[str]:
    return sorted(name for name in OBJECT_CLASSES if object_class(name) is not None)


@cache
def object_kind(object_name: str) -> Kind:
    """The fields of an object as the SDK's resource class declares them."""
    cls = object_class(object_name)
    if cls is None:
        raise KeyError(f"the SDK has no class for object {object_name!r}")
    declared = _own_annotations(cls)
    return Kind(types={"object"}, fields={name: kind_of(a, cls, 1) for name, a in declared.items()})


@cache
def params_kind(type_name: str) -> Kind:
    """A ``*Params`` TypedDict as a :class:`Kind` (request options left out); the name
    may carry its subpackage (``checkout.SessionCreateParams``)."""
    package, _, name = type_name.rpartition(".")
    module = importlib.import_module("stripe.params" + (f".{package}" if package else ""))
    cls = getattr(module, name, None)
    if cls is None or not typing_extensions.is_typeddict(cls):
        raise KeyError(f"the SDK has no params type {type_name!r}")
    return _class_kind(cls, 0)


def params_for(method: str, path: str) -> Kind | None:
    """The parameters of one operation, matched by path template shape."""
    shape = _shape(path)
    for operation in operations():
        if operation.method == method.upper() and _shape(operation.path) == shape:
            if operation.params is None:
                return Kind(types={"object"}, fields={})
            return params_kind(operation.params)
    return None


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}|<[^>]+>", "{}", path)


def version() -> str:
    return str(stripe.VERSION)


def api_version() -> str:
    return str(stripe.api_version)
