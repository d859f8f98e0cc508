"""Stripe's search query language (https://docs.stripe.com/search#search-query-language),
parsed and evaluated against objects as the API renders them.

A query is clauses joined by spaces or ``AND`` (all must match) or by ``OR`` (any may),
never both; each clause is ``field operator value``, negated by a leading ``-``:

- ``:`` exact match (case-insensitive for strings); ``null`` as the value matches a
  missing or empty field, so ``-metadata['key']:null`` finds objects that have the key;
- ``~`` substring match, on string fields only, with at least 3 characters;
- ``>``, ``<``, ``>=``, ``<=`` on numeric fields (amounts, ``created`` as a Unix time).

Fields are dotted paths into the object (``payment_method_details.card.last4``) or
``metadata['key']`` / ``metadata["key"]``; values are quoted strings, or bare numbers and
booleans. Each searchable resource declares its fields and their kind; anything else is
refused with Stripe's ``invalid_request_error`` naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from simulator.sandbox.errors import InvalidRequestError

FieldKind = Literal["string", "token", "number", "boolean"]
Operator = Literal[":", "~", ">", "<", ">=", "<="]
MAX_CLAUSES = 10
MIN_SUBSTRING = 3
PARAM = "query"

# The query fields of each searchable resource (https://docs.stripe.com/search#query-fields-for-charges
# and its siblings). ``string`` fields take ``~``; ``token`` fields match exactly only.
SEARCH_FIELDS: dict[str, dict[str, FieldKind]] = {
    "charges": {
        "amount": "number", "billing_details.address.postal_code": "token",
        "created": "number", "currency": "token", "customer": "token",
        "disputed": "boolean", "payment_method_details.card.brand": "token",
        "payment_method_details.card.exp_month": "number",
        "payment_method_details.card.exp_year": "number",
        "payment_method_details.card.fingerprint": "token",
        "payment_method_details.card.last4": "token", "refunded": "boolean",
        "status": "token",
    },
    "customers": {"created": "number", "email": "string", "name": "string",
                  "phone": "string"},
    "payment_intents": {"amount": "number", "created": "number", "currency": "token",
                        "customer": "token", "status": "token"},
    "prices": {"active": "boolean", "currency": "token", "lookup_key": "token",
               "product": "token", "type": "token", "created": "number"},
    "products": {"active": "boolean", "description": "string", "name": "string",
                 "shippable": "boolean", "url": "string", "created": "number"},
}

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<conj>(?i:AND|OR))(?=\s|$)
    | (?P<neg>-)?
      (?P<field>metadata\[(?P<mq>['"])(?P<key>(?:\\.|(?!(?P=mq)).)*)(?P=mq)\]
              |[A-Za-z_][A-Za-z0-9_.]*)
      (?P<op>>=|<=|:|~|>|<)
      (?P<value>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|[^\s"']+)
    )""", re.VERBOSE)


@dataclass(frozen=True)
class Clause:
    field: str  # a dotted path, or "metadata" with ``key`` set
    operator: Operator
    value: str | float | bool | None  # None: the literal null
    negated: bool = False
    key: str | None = None  # the metadata key

    def matches(self, obj: Mapping[str, Any]) -> bool:
        found = _value_at(obj, self.field, self.key)
        return _compare(found, self.operator, self.value) != self.negated


@dataclass(frozen=True)
class Query:
    clauses: tuple[Clause, ...]
    any_of: bool = False  # OR; AND otherwise

    def matches(self, obj: Mapping[str, Any]) -> bool:
        results = (clause.matches(obj) for clause in self.clauses)
        return any(results) if self.any_of else all(results)


def parse_query(text: str, resource: str) -> Query:
    """The query, checked against ``resource``'s query fields; Stripe's 400 otherwise."""
    fields = SEARCH_FIELDS[resource]
    clauses: list[Clause] = []
    conjunctions: set[str] = set()
    position, expect_clause = 0, True
    text = text.strip()
    if not text:
        raise InvalidRequestError("Missing required param: query.", param=PARAM,
                                  code="parameter_missing")
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise _unparsable(text[position:].strip())
        position = match.end()
        if match.group("conj"):
            if expect_clause:
                raise _unparsable(match.group("conj"))
            conjunctions.add(match.group("conj").upper())
            expect_clause = True
            continue
        clauses.append(_clause(match, fields, resource))
        expect_clause = False
    if expect_clause:
        raise _unparsable(text)
    if len(conjunctions) > 1:
        raise InvalidRequestError(
            "Search query cannot combine AND and OR; use one or the other.", param=PARAM)
    if len(clauses) > MAX_CLAUSES:
        raise InvalidRequestError(
            f"Search query has {len(clauses)} clauses; the limit is {MAX_CLAUSES}.",
            param=PARAM)
    return Query(tuple(clauses), any_of=conjunctions == {"OR"})


def _clause(match: re.Match[str], fields: Mapping[str, FieldKind], resource: str) -> Clause:
    operator: Operator = match.group("op")  # type: ignore[assignment]
    raw = match.group("value")
    quoted = raw[0] in "'\""
    value: str | float | bool | None = _unquote(raw) if quoted else raw
    negated = bool(match.group("neg"))
    if match.group("key") is not None:
        key = _unescape(match.group("key"))
        if operator != ":":
            raise _bad_operator("metadata", operator, resource)
        return Clause("metadata", ":", None if raw == "null" else value, negated, key)
    field = match.group("field")
    kind = fields.get(field)
    if kind is None:
        raise InvalidRequestError(
            f"Field `{field}` is an unsupported search field for resource `{resource}`."
            f" See https://docs.stripe.com/search#query-fields-for-{resource.replace('_', '-')}"
            " for a list of supported fields.", param=PARAM)
    if raw == "null" and operator == ":":
        return Clause(field, ":", None, negated)
    return Clause(field, operator, _typed(value, kind, operator, field, resource, quoted),
                  negated)


def _typed(value: str | float | bool | None, kind: FieldKind, operator: Operator,
           field: str, resource: str, quoted: bool) -> str | float | bool:
    text = str(value)
    if kind == "number":
        if operator == "~":
            raise _bad_operator(field, operator, resource)
        try:
            return float(text)
        except ValueError:
            raise InvalidRequestError(
                f"Field `{field}` takes a number; `{text}` is not one.", param=PARAM) from None
    if operator in (">", "<", ">=", "<="):
        raise _bad_operator(field, operator, resource)
    if kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise InvalidRequestError(
                f"Field `{field}` takes true or false; `{text}` is neither.", param=PARAM)
        return text.lower() == "true"
    if operator == "~":
        if kind != "string":
            raise _bad_operator(field, operator, resource)
        if len(text) < MIN_SUBSTRING:
            raise InvalidRequestError(
                f"Substring search on `{field}` needs at least {MIN_SUBSTRING} characters.",
                param=PARAM)
    if not quoted and kind == "string":
        raise _unparsable(text)
    return text


def _compare(found: Any, operator: Operator, wanted: str | float | bool | None) -> bool:
    if wanted is None:
        return found is None or found == "" or found == {}
    if found is None:
        return False
    if isinstance(wanted, bool):
        return found is wanted
    if isinstance(wanted, float):
        if isinstance(found, bool) or not isinstance(found, int | float):
            return False
        return {":": found == wanted, ">": found > wanted, "<": found < wanted,
                ">=": found >= wanted, "<=": found <= wanted}.get(operator, False)
    text = str(found).lower()
    return wanted.lower() in text if operator == "~" else text == wanted.lower()


def _value_at(obj: Mapping[str, Any], path: str, key: str | None) -> Any:
    if key is not None:
        return (obj.get("metadata") or {}).get(key)
    found: Any = obj
    for part in path.split("."):
        if isinstance(found, Mapping):
            found = found.get(part)
        else:
            return None
    return found["id"] if isinstance(found, Mapping) and "id" in found else found


def _unquote(raw: str) -> str:
    return _unescape(raw[1:-1])


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _unparsable(near: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"We were unable to parse your search query near `{near[:40]}`. Try using the"
        " format `metadata[\"key\"]:\"value\"` to query for metadata or `key:\"value\"` to"
        " query for other fields.", param=PARAM)


def _bad_operator(field: str, operator: str, resource: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"Field `{field}` of resource `{resource}` does not support the `{operator}`"
        " operator.", param=PARAM)
