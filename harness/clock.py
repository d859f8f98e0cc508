"""One call moves every clock a scenario can see: the sandbox's and the payment
service's (the service follows the sandbox's clock; against real Stripe it moves alone),
code in the test process under freezegun, and each browser page's ``Date``
(Playwright's ``page.clock``). Nothing in a scenario sleeps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import Page

# Code that must keep real time under freezegun: Playwright's event loop and the HTTP
# stack waiting on sockets (their timeouts would never expire, or expire at once).
FREEZEGUN_IGNORE = ["playwright", "asyncio", "greenlet", "urllib3", "requests", "socket",
                    "ssl", "selectors", "concurrent", "gunicorn", "werkzeug", "aiosmtpd"]


@dataclass
class HarnessClock:
    """``advance(seconds)`` moves the servers (through ``move_servers``, which returns
    their new time), then the frozen test process and the attached pages to match."""

    move_servers: Callable[[int], float]
    read_servers: Callable[[], float]
    pages: list[Page] = field(default_factory=list)
    freezer: Any = None  # a running freezegun ``freeze_time`` (see ``freeze``)
    _freeze: Any = None

    def now(self) -> float:
        return self.read_servers()

    def advance(self, seconds: int) -> float:
        now = self.move_servers(seconds)
        if self.freezer is not None:
            self.freezer.move_to(dt.datetime.fromtimestamp(now, tz=dt.UTC))
        for page in self.pages:
            if not page.is_closed():
                page.clock.set_system_time(dt.datetime.fromtimestamp(now, tz=dt.UTC))
        return now

    def attach(self, page: Page) -> Page:
        """Give the page the servers' time, before it loads anything (countdowns)."""
        page.clock.install(time=dt.datetime.fromtimestamp(self.now(), tz=dt.UTC))
        self.pages.append(page)
        return page

    def freeze(self) -> Any:
        """Freeze the test process at the servers' time (ticking, as real time does);
        ``advance`` moves it with the rest. Stopped by ``unfreeze``."""
        from freezegun import freeze_time

        start = dt.datetime.fromtimestamp(self.now(), tz=dt.UTC)
        self._freeze = freeze_time(start, tick=True, ignore=FREEZEGUN_IGNORE)
        self.freezer = self._freeze.start()
        return self.freezer

    def unfreeze(self) -> None:
        if self._freeze is not None:
            self._freeze.stop()
            self._freeze = self.freezer = None


def parse_duration(text: str) -> int:
    """``24 hours``, ``1 hour``, ``30 minutes``, ``90 seconds``, ``2 days``."""
    amount, unit = text.split()
    seconds = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}[unit.rstrip("s")]
    return int(float(amount) * seconds)
