"""Stripe's form encoding: bracket keys to nested values, and typed reads that raise
Stripe's own errors.

``line_items[0][price_data][currency]=usd`` becomes
``{"line_items": [{"price_data": {"currency": "usd"}}]}``; ``expand[]=a`` and
``expand[0]=a`` both become lists. Every value Stripe receives is a string; the typed
reads below turn them into ints, booleans and enums with Stripe's messages, and
``Params.finish`` refuses whatever a handler did not read as ``parameter_unknown``.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from simulator.sandbox.errors import InvalidRequestError, parameter_missing, parameter_unknown

_INTEGER = re.compile(r"-?[0-9]{1,19}")  # int() refuses over 4300 digits: bound it first
_KEY = re.compile(r"([^\[\]]+)|\[([^\[\]]*)\]")

# Stripe's documented metadata limits: https://docs.stripe.com/api/metadata
METADATA_MAX_KEYS = 50
METADATA_KEY_MAX = 40
METADATA_VALUE_MAX = 500

Nested = dict[str, Any]
# No Stripe parameter is nested this deep; deeper keys are refused before they are parsed.
MAX_NESTING = 12


def _split_key(key: str) -> list[str]:
    parts: list[str] = []
    for match in _KEY.finditer(key):
        head, inner = match.groups()
        parts.append(head if head is not None else inner)
        if len(parts) > MAX_NESTING:
            raise InvalidRequestError(
                f"Invalid parameter: {key[:60]}... is nested more than {MAX_NESTING} levels deep.",
                param=parts[0],
            )
    return parts or [key]


def _insert(tree: Nested, parts: list[str], value: str, raw_key: str) -> None:
    node: Any = tree
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, list):
            if last:
                node.append(value)
                return
            node.append({})
            node = node[-1]
            continue
        if last:
            node[part] = value
            return
        following = parts[depth + 1]
        default: Any = [] if following == "" else {}
        child = node.setdefault(part, default)
        if not isinstance(child, (dict, list)):
            raise InvalidRequestError(f"Invalid hash: {raw_key}", param=raw_key.split("[")[0])
        node = child


def parse_form(pairs: Iterable[tuple[str, str]]) -> Nested:
    tree: Nested = {}
    for key, value in pairs:
        _insert(tree, _split_key(key), value, key)
    return tree


class Params:
    """A view of one (possibly nested) hash of request parameters.

    Each read removes the key; ``finish()`` refuses anything left over, with the full
    bracketed name (``card[foo]``) as Stripe reports it.
    """

    def __init__(self, data: Mapping[str, Any] | None, prefix: str = "") -> None:
        self._data: dict[str, Any] = dict(data or {})
        self._prefix = prefix
        self._children: list[Params] = []
        self._asked: set[str] = set()

    # -- naming -------------------------------------------------------------------------
    def name(self, key: str) -> str:
        return f"{self._prefix}[{key}]" if self._prefix else key

    def __contains__(self, key: str) -> bool:
        self._asked.add(key)
        return key in self._data

    def keys(self) -> list[str]:
        return list(self._data)

    def is_empty(self) -> bool:
        return not self._data

    def raw(self, key: str) -> Any:
        self._asked.add(key)
        return self._data.pop(key, None)

    def peek(self, key: str) -> Any:
        return self._data.get(key)

    # -- scalar reads -------------------------------------------------------------------
    def _scalar(self, key: str, required: bool) -> str | None:
        self._asked.add(key)
        if key not in self._data:
            if required:
                raise parameter_missing(self.name(key))
            return None
        value = self._data.pop(key)
        if not isinstance(value, str):
            raise InvalidRequestError(f"Invalid string: {json.dumps(value)}", param=self.name(key))
        return value

    def string(
        self,
        key: str,
        *,
        required: bool = False,
        max_length: int = 5000,
        empty_is_none: bool = True,
    ) -> str | None:
        value = self._scalar(key, required)
        if value is None:
            return None
        if value == "" and empty_is_none:
            if required:
                raise parameter_missing(self.name(key))
            return None
        if len(value) > max_length:
            raise InvalidRequestError(
                f"Invalid string: {value[:20]}...; must be at most {max_length} characters",
                param=self.name(key),
                code="string_too_long" if max_length < 5000 else None,
            )
        return value

    def required_string(self, key: str, *, max_length: int = 5000) -> str:
        value = self.string(key, required=True, max_length=max_length)
        assert value is not None
        return value

    def integer(
        self,
        key: str,
        *,
        required: bool = False,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int | None:
        value = self._scalar(key, required)
        if value is None or (value == "" and not required):
            return None
        # ASCII digits in Stripe's 64-bit range only (int() takes " 5" and non-ASCII digits).
        if not _INTEGER.fullmatch(value) or not -(2**63) <= int(value) < 2**63:
            raise InvalidRequestError(
                f"Invalid integer: {value}", code="parameter_invalid_integer", param=self.name(key)
            )
        number = int(value)
        if minimum is not None and number < minimum:
            raise InvalidRequestError(
                f"This value must be greater than or equal to {minimum}.",
                code="parameter_invalid_integer",
                param=self.name(key),
            )
        if maximum is not None and number > maximum:
            raise InvalidRequestError(
                f"This value must be less than or equal to {maximum}.",
                code="parameter_invalid_integer",
                param=self.name(key),
            )
        return number

    def required_integer(
        self, key: str, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        value = self.integer(key, required=True, minimum=minimum, maximum=maximum)
        assert value is not None
        return value

    def boolean(self, key: str, *, required: bool = False) -> bool | None:
        value = self._scalar(key, required)
        if value is None:
            return None
        lowered = value.lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
        raise InvalidRequestError(f"Invalid boolean: {value}", param=self.name(key))

    def enum(self, key: str, choices: Iterable[str], *, required: bool = False) -> str | None:
        value = self._scalar(key, required)
        if value is None:
            return None
        options = list(choices)
        if value not in options:
            raise invalid_enum(self.name(key), value, options)
        return value

    def currency(self, key: str = "currency", *, required: bool = False) -> str | None:
        value = self.string(key, required=required)
        if value is None:
            return None
        return currency_code(value, self.name(key))

    # -- structured reads ---------------------------------------------------------------
    def hash(self, key: str, *, required: bool = False) -> Params | None:
        self._asked.add(key)
        if key not in self._data:
            if required:
                raise parameter_missing(self.name(key))
            return None
        value = self._data.pop(key)
        if value == "":
            return Params({}, self.name(key))
        if not isinstance(value, dict):
            raise InvalidRequestError(f"Invalid hash: {_describe(value)}", param=self.name(key))
        child = Params(value, self.name(key))
        self._children.append(child)
        return child

    def array(self, key: str, *, required: bool = False) -> list[Any] | None:
        self._asked.add(key)
        if key not in self._data:
            if required:
                raise parameter_missing(self.name(key))
            return None
        value = self._data.pop(key)
        if value == "":
            return []
        if isinstance(value, dict) and value and all(k.isdigit() for k in value):
            # The SDKs send arrays as ``key[0]=…&key[1]=…``.
            value = [value[k] for k in sorted(value, key=int)]
        if isinstance(value, dict):
            raise InvalidRequestError("Invalid array", param=self.name(key))
        if not isinstance(value, list):
            value = [value]
        return value

    def hashes(self, key: str, *, required: bool = False) -> list[Params]:
        """An array of hashes, such as ``line_items``; each element checked by its reader."""
        items = self.array(key, required=required) or []
        children: list[Params] = []
        for index, item in enumerate(items):
            name = f"{self.name(key)}[{index}]"
            if not isinstance(item, dict):
                raise InvalidRequestError(f"Invalid hash: {_describe(item)}", param=name)
            child = Params(item, name)
            self._children.append(child)
            children.append(child)
        return children

    def strings(self, key: str, *, required: bool = False) -> list[str] | None:
        items = self.array(key, required=required)
        if items is None:
            return None
        for item in items:
            if not isinstance(item, str):
                raise InvalidRequestError(
                    f"Invalid string: {_describe(item)}", param=self.name(key)
                )
        return list(items)

    def metadata(self, key: str = "metadata") -> dict[str, str] | None:
        """Metadata changes: ``None`` when absent, ``{}`` for ``metadata=""`` (clear all);
        a key whose value is ``""`` maps to ``""`` (the caller removes it)."""
        self._asked.add(key)
        if key not in self._data:
            return None
        value = self._data.pop(key)
        if value == "":
            return {}
        if not isinstance(value, dict):
            raise InvalidRequestError(f"Invalid hash: {_describe(value)}", param=self.name(key))
        changes: dict[str, str] = {}
        for meta_key, meta_value in value.items():
            if not isinstance(meta_value, str):
                raise InvalidRequestError(
                    f"Invalid string: {json.dumps(meta_value)}",
                    param=f"{self.name(key)}[{meta_key}]",
                )
            if len(meta_key) > METADATA_KEY_MAX:
                raise InvalidRequestError(
                    f"Metadata keys can have up to {METADATA_KEY_MAX} characters, but you passed"
                    f" in a key that is {len(meta_key)} characters. Invalid key: {meta_key}",
                    param=f"{self.name(key)}[{meta_key}]",
                )
            if len(meta_value) > METADATA_VALUE_MAX:
                raise InvalidRequestError(
                    f"Metadata values can have up to {METADATA_VALUE_MAX} characters, but you"
                    f" passed in a value that is {len(meta_value)} characters."
                    f" Invalid value: {meta_value}",
                    param=f"{self.name(key)}[{meta_key}]",
                )
            changes[meta_key] = meta_value
        return changes

    def finish(self) -> None:
        """Refuse every parameter no reader took (Stripe's ``parameter_unknown``)."""
        for child in self._children:
            child.finish()
        if self._data:
            first = next(iter(self._data))
            value = self._data[first]
            name = self.name(first)
            is_array = isinstance(value, dict) and all(k.isdigit() for k in value)
            if isinstance(value, dict) and value and not is_array:
                name = f"{name}[{next(iter(value))}]"
            error = parameter_unknown(name)
            guesses = difflib.get_close_matches(first, sorted(self._asked), n=1)
            if guesses:
                error.message += f". Did you mean {guesses[0]}?"
                error.args = (error.message,)
            raise error


def apply_metadata(
    current: dict[str, str], changes: dict[str, str] | None, param: str = "metadata"
) -> dict[str, str]:
    """Merge metadata as Stripe does: ``""`` removes a key, ``metadata=""`` clears all."""
    if changes is None:
        return current
    if not changes:
        return {}
    merged = dict(current)
    for key, value in changes.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    if len(merged) > METADATA_MAX_KEYS:
        raise InvalidRequestError(
            f"Metadata can have up to {METADATA_MAX_KEYS} keys, but you've set {len(merged)}."
            " Email us at support+metadata@stripe.com for more information.",
            param=param,
        )
    return merged


def currency_code(value: str, param: str) -> str:
    """``value`` as a supported ISO currency code in lower case, or Stripe's refusal."""
    lowered = value.lower()
    if not re.fullmatch(r"[a-z]{3}", lowered) or lowered not in SUPPORTED_CURRENCIES:
        raise InvalidRequestError(
            f"Invalid currency: {lowered}. Stripe currently supports these currencies: "
            + ", ".join(sorted(SUPPORTED_CURRENCIES)),
            param=param,
        )
    return lowered


def invalid_enum(param: str, value: str, options: list[str]) -> InvalidRequestError:
    if len(options) == 2:
        listed = f"{options[0]} or {options[1]}"
    elif len(options) > 2:
        listed = ", ".join(options[:-1]) + f", or {options[-1]}"
    else:
        listed = options[0]
    return InvalidRequestError(f"Invalid {param}: must be one of {listed}", param=param)


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!s}" for k in value) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


# The currencies Stripe settles card payments in (https://docs.stripe.com/currencies).
SUPPORTED_CURRENCIES = frozenset(
    [
        "usd",
        "aed",
        "afn",
        "all",
        "amd",
        "ang",
        "aoa",
        "ars",
        "aud",
        "awg",
        "azn",
        "bam",
        "bbd",
        "bdt",
        "bgn",
        "bhd",
        "bif",
        "bmd",
        "bnd",
        "bob",
        "brl",
        "bsd",
        "bwp",
        "byn",
        "bzd",
        "cad",
        "cdf",
        "chf",
        "clp",
        "cny",
        "cop",
        "crc",
        "cve",
        "czk",
        "djf",
        "dkk",
        "dop",
        "dzd",
        "egp",
        "etb",
        "eur",
        "fjd",
        "fkp",
        "gbp",
        "gel",
        "gip",
        "gmd",
        "gnf",
        "gtq",
        "gyd",
        "hkd",
        "hnl",
        "htg",
        "huf",
        "idr",
        "ils",
        "inr",
        "isk",
        "jmd",
        "jod",
        "jpy",
        "kes",
        "kgs",
        "khr",
        "kmf",
        "krw",
        "kwd",
        "kyd",
        "kzt",
        "lak",
        "lbp",
        "lkr",
        "lrd",
        "lsl",
        "mad",
        "mdl",
        "mga",
        "mkd",
        "mmk",
        "mnt",
        "mop",
        "mur",
        "mvr",
        "mwk",
        "mxn",
        "myr",
        "mzn",
        "nad",
        "ngn",
        "nio",
        "nok",
        "npr",
        "nzd",
        "omr",
        "pab",
        "pen",
        "pgk",
        "php",
        "pkr",
        "pln",
        "pyg",
        "qar",
        "ron",
        "rsd",
        "rub",
        "rwf",
        "sar",
        "sbd",
        "scr",
        "sek",
        "sgd",
        "shp",
        "sle",
        "sos",
        "srd",
        "std",
        "szl",
        "thb",
        "tjs",
        "tnd",
        "top",
        "try",
        "ttd",
        "twd",
        "tzs",
        "uah",
        "ugx",
        "uyu",
        "uzs",
        "vnd",
        "vuv",
        "wst",
        "xaf",
        "xcd",
        "xof",
        "xpf",
        "yer",
        "zar",
        "zmw",
    ]
)

# Currencies without minor units (https://docs.stripe.com/currencies#zero-decimal).
ZERO_DECIMAL_CURRENCIES = frozenset(
    [
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    ]
)
