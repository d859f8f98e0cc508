"""An OpenAPI 3 document built at test time from what the pinned SDK knows
(:mod:`simulator.sandbox.sdk_reference`): its /v1 paths and, for each operation, its
``*Params`` TypedDict as form fields (POST) or query parameters (GET, DELETE). It is what
schemathesis fuzzes; nothing of Stripe's spec is stored in the project.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from simulator.sandbox.sdk_reference import Kind, SdkOperation, params_kind

MAX_DEPTH = 4  # deeper hashes are left free-form: enough to reach the sandbox's checks
_PATH_PARAM = re.compile(r"\{(\w+)\}")


def json_schema(kind: Kind, depth: int = 0) -> dict[str, Any]:
    """A JSON schema allowing what the SDK's type allows (JSON types, closed enums,
    nested fields and items up to ``MAX_DEPTH``)."""
    if kind.any or not kind.types:
        return {}
    options: list[dict[str, Any]] = []
    for json_type in sorted(kind.types):
        if json_type == "string" and kind.enum and not kind.free_string:
            options.append({"type": "string", "enum": sorted(kind.enum)})
        elif json_type == "number":
            options.append({"type": "integer"})
        elif json_type == "object" and kind.fields is not None and depth < MAX_DEPTH:
            options.append({
                "type": "object",
                "properties": {name: json_schema(inner, depth + 1)
                               for name, inner in sorted(kind.fields.items())},
                **({"required": sorted(kind.required)} if kind.required else {}),
            })
        elif json_type == "array" and kind.items is not None and depth < MAX_DEPTH:
            options.append({"type": "array", "items": json_schema(kind.items, depth + 1)})
        elif json_type != "null":
            options.append({"type": json_type})
    return options[0] if len(options) == 1 else {"anyOf": options}


def _scalar(schema: dict[str, Any]) -> bool:
    return schema.get("type") in ("string", "integer", "boolean")


def operation_object(operation: SdkOperation) -> dict[str, Any]:
    kind = params_kind(operation.params) if operation.params else Kind(types={"object"},
                                                                       fields={})
    fields = kind.fields or {}
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PATH_PARAM.findall(operation.path)
    ]
    document: dict[str, Any] = {
        "operationId": f"{operation.method}{operation.path}",
        "responses": {"default": {"description": "a Stripe object or a Stripe error"}},
    }
    if operation.method == "POST":
        schema = json_schema(kind)
        if schema.get("type") != "object":
            schema = {"type": "object", "properties": {}}
        document["requestBody"] = {"required": bool(kind.required), "content": {
            "application/x-www-form-urlencoded": {
                "schema": schema,
                "encoding": {name: {"style": "deepObject", "explode": True}
                             for name, inner in schema.get("properties", {}).items()
                             if not _scalar(inner)},
            }}}
    else:
        for name, inner in sorted(fields.items()):
            schema = json_schema(inner)
            if _scalar(schema):  # the SDK's nested query hashes (created[gte]) stay out
                parameters.append({"name": name, "in": "query", "schema": schema,
                                   "required": name in kind.required})
    document["parameters"] = parameters
    return document


def openapi_document(operations: Iterable[SdkOperation]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for operation in operations:
        paths.setdefault(operation.path, {})[operation.method.lower()] = (
            operation_object(operation))
    return {
        "openapi": "3.0.0",
        "info": {"title": "Stripe /v1 as the pinned SDK calls it", "version": "sdk"},
        "servers": [{"url": "/"}],
        "paths": paths,
    }
