"""JSON for stored objects and responses. ``orjson`` encodes several times faster than the
standard library, and the sandbox encodes every object it saves and every answer."""

from __future__ import annotations

from typing import Any

import orjson


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)


def dumps_text(value: Any) -> str:
    """For columns people read with the ``sqlite3`` shell: JSON as TEXT, not a BLOB."""
    return orjson.dumps(value).decode()
