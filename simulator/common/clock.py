"""The one clock both servers read: system time plus a movable offset.

Under freezegun the system time is the frozen time, so in-process tests need nothing
else; out-of-process tests move the offset (``/_sandbox/clock/advance``).
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Callable


class Clock:
    """System time shifted by an offset in seconds.

    ``offset_source`` lets the offset live somewhere shared (the sandbox keeps it in
    SQLite so every worker process agrees); without one the offset is held here.
    """

    def __init__(self, offset_source: Callable[[], float] | None = None) -> None:
        self._offset = 0.0
        self._offset_source = offset_source

    @property
    def offset(self) -> float:
        return self._offset_source() if self._offset_source else self._offset

    def set_offset(self, seconds: float) -> None:
        if self._offset_source is not None:
            raise RuntimeError("this clock's offset is owned by its offset source")
        self._offset = seconds

    def advance(self, seconds: float) -> None:
        self.set_offset(self._offset + seconds)

    def now(self) -> float:
        """Seconds since the epoch, as a float."""
        return time.time() + self.offset

    def timestamp(self) -> int:
        """Whole seconds since the epoch: what Stripe puts in ``created``."""
        return int(self.now())

    def datetime(self) -> _dt.datetime:
        return _dt.datetime.fromtimestamp(self.now(), tz=_dt.UTC)


def monotonic() -> float:
    """For measuring durations (benchmarks, timeouts); never for business time."""
    return time.perf_counter()


def system_time() -> float:
    """Wall-clock time with no offset, for logs and lease expiry between processes."""
    return time.time()
