"""The stripe-mock-compatible answer for a request the sandbox has no state for.

``stripe-sim sandbox --fallback fixtures`` turns this on. A /v1 request on a path the
pinned SDK knows but the sandbox does not route, or naming an id in its path that the
sandbox does not hold, is answered as stripe-mock answers it: its parameters are checked
against the SDK's params type, then a canned object of the operation's return type comes
back with the requested id and the request's values where they fit. Each such answer
carries ``Stripe-Sim-Fallback: fixtures`` so nobody mistakes it for state.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from simulator.sandbox.errors import InvalidRequestError, parameter_unknown
from simulator.sandbox.fallback.canned import (
    Canvas,
    canned_object,
    deleted_object,
    list_of,
)
from simulator.sandbox.sdk_reference import Kind, SdkOperation, operations, params_kind

FALLBACK_HEADER = "Stripe-Sim-Fallback"
FALLBACK_MODE = "fixtures"
# Keys every request may carry whatever its params type says (the SDK adds them itself).
ALWAYS_ALLOWED = frozenset({"expand"})


@dataclass(frozen=True)
class Route:
    """One SDK operation with the pattern its path matches."""

    operation: SdkOperation
    pattern: re.Pattern[str]
    literal_parts: int

    def match(self, path: str) -> list[str] | None:
        found = self.pattern.fullmatch(path)
        return list(found.groups()) if found else None


@cache
def routes() -> tuple[Route, ...]:
    """Every SDK operation, the most literal paths first (``/customers/search`` before
    ``/customers/{customer}``)."""
    built = []
    for operation in operations():
        parts = operation.path.split("/")
        pattern = "/".join("([^/]+)" if part.startswith("{") else re.escape(part)
                           for part in parts)
        literal = sum(not part.startswith("{") for part in parts)
        built.append(Route(operation, re.compile(pattern), literal))
    return tuple(sorted(built, key=lambda route: -route.literal_parts))


def find_route(method: str, path: str) -> tuple[Route, list[str]] | None:
    for route in routes():
        if route.operation.method == method.upper():
            ids = route.match(path)
            if ids is not None:
                return route, ids
    return None


def knows(method: str, path: str) -> bool:
    """Whether the pinned SDK has an operation for this method and path."""
    return find_route(method, path) is not None


def answer(method: str, path: str, params: Mapping[str, Any], canvas: Canvas
           ) -> dict[str, Any] | None:
    """The canned body for a request, or None when the SDK knows no such operation.

    Raises :class:`InvalidRequestError` for a parameter the operation does not take or a
    required one left out, as stripe-mock does."""
    found = find_route(method, path)
    if found is None:
        return None
    route, path_ids = found
    operation = route.operation
    check_params(operation, params)
    object_name = operation.objects[0]
    object_id = path_ids[-1] if path_ids and not _creates_in_collection(operation) else None
    if method.upper() == "DELETE" and object_id:
        return deleted_object(object_name, object_id)
    values = {**_path_ids(operation, path_ids), **(params if method.upper() == "POST" else {})}
    item = canned_object(object_name, canvas, object_id=object_id, values=values)
    if operation.answers_list or operation.answers_search:
        return list_of(item, path, search=operation.answers_search)
    return item


def _path_ids(operation: SdkOperation, path_ids: list[str]) -> dict[str, str]:
    """The parent ids in a nested path by their names: ``{fee}`` of
    ``/v1/application_fees/{fee}/refunds/{id}`` gives ``fee``."""
    names = re.findall(r"\{(\w+)\}", operation.path)
    return dict(zip(names[:-1], path_ids[:-1], strict=False))


def _creates_in_collection(operation: SdkOperation) -> bool:
    """``POST /v1/customers/{customer}/sources``: the id in the path is the parent's."""
    return not operation.path.endswith("}")


def check_params(operation: SdkOperation, params: Mapping[str, Any]) -> None:
    if operation.params is None:
        if set(params) - ALWAYS_ALLOWED:
            unknown = sorted(set(params) - ALWAYS_ALLOWED)[0]
            raise parameter_unknown(unknown)
        return
    try:
        kind = params_kind(operation.params)
    except KeyError:
        return
    _check(kind, params, prefix="")


def _check(kind: Kind, params: Mapping[str, Any], prefix: str) -> None:
    if kind.fields is None:
        return
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else key
        inner = kind.fields.get(key)
        if inner is None:
            if not prefix and key in ALWAYS_ALLOWED:
                continue
            raise parameter_unknown(name)
        if isinstance(value, Mapping) and inner.fields is not None:
            _check(inner, value, name)
        elif isinstance(value, list) and inner.items is not None:
            for item in value:
                if isinstance(item, Mapping):
                    _check(inner.items, item, f"{name}[]")
    for key in sorted(kind.required - set(params)):
        name = f"{prefix}[{key}]" if prefix else key
        raise InvalidRequestError(f"Missing required param: {name}.", code="parameter_missing",
                                  param=name)

