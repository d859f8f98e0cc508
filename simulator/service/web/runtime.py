"""What the blueprints reach through ``current_app``: the config, the clock and the
collaborators ``create_app`` wired together. Nothing here is global to the process.

The blueprints reach the database only through ``service`` (the payment rules) and the
use cases (``service/usecases/``) that ``ServiceRuntime.assemble`` builds over the
repository; ``repo`` itself is kept for closing the store (and for tests), never read
by a page or route (``tests/test_house_rules.py``)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import current_app

from simulator.common.clock import Clock
from simulator.service.adapters.admin_reports import AdminReports
from simulator.service.config import ServiceConfig
from simulator.service.usecases.accounts import Accounts
from simulator.service.usecases.auction import AuctionWins
from simulator.service.usecases.back_office import AdminQueries
from simulator.service.usecases.buyers import BuyerQueries
from simulator.service.usecases.controls import ControlOperations
from simulator.service.usecases.monitoring import Monitoring
from simulator.service.usecases.security import SecurityLog

if TYPE_CHECKING:
    from simulator.service.adapters.receipts import ReceiptStore
    from simulator.service.adapters.repositories import Repository
    from simulator.service.adapters.stripe_gateway import StripeGateway
    from simulator.service.adapters.webhook_endpoint import EndpointSecrets
    from simulator.service.payments import PaymentService

EXTENSION = "payment_service"


class ClockOffsetFile:
    """The service clock's offset kept in a small file beside the database, so that every
    gunicorn worker and the scheduler agree after ``POST /_test/clock/advance`` (the
    sandbox keeps its offset in SQLite for the same reason). Test mode only."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        # (inode, size, mtime) of the file last read, and its offset. The clock is read
        # several times a request; a ``stat`` costs far less than opening and parsing
        # the file, and ``set`` always replaces it with a new inode.
        self._seen: tuple[tuple[int, int, int], float] | None = None

    def read(self) -> float:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return 0.0
        version = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        seen = self._seen
        if seen is not None and seen[0] == version:
            return seen[1]
        try:
            offset = float(json.loads(self.path.read_text())["offset_seconds"])
        except (FileNotFoundError, ValueError, KeyError):
            return 0.0
        self._seen = (version, offset)
        return offset

    def advance(self, seconds: float) -> float:
        return self.set(self.read() + seconds)

    def set(self, offset: float) -> float:
        partial = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        partial.write_text(json.dumps({"offset_seconds": offset}))
        partial.replace(self.path)  # atomic: readers see the old or the new offset
        return offset


@dataclass
class ServiceRuntime:
    config: ServiceConfig
    clock: Clock
    repo: Repository
    service: PaymentService
    gateway: StripeGateway
    receipts: ReceiptStore
    webhook_secrets: EndpointSecrets
    # The use cases: the web layer's door to storage besides ``service``.
    accounts: Accounts
    buyers: BuyerQueries
    admin: AdminQueries
    security: SecurityLog
    auction: AuctionWins
    controls: ControlOperations
    monitoring: Monitoring
    clock_offset: ClockOffsetFile | None = None
    # What ``X-Test-Token`` must carry on the test routes (``adapters/control_token.py``).
    test_token: str | None = None

    @classmethod
    def assemble(cls, *, config: ServiceConfig, clock: Clock, repo: Repository,
                 service: PaymentService, gateway: StripeGateway, receipts: ReceiptStore,
                 webhook_secrets: EndpointSecrets, clock_offset: ClockOffsetFile | None = None,
                 test_token: str | None = None) -> ServiceRuntime:
        """The runtime with its use cases, each over ``repo``."""
        return cls(
            config=config, clock=clock, repo=repo, service=service, gateway=gateway,
            receipts=receipts, webhook_secrets=webhook_secrets,
            accounts=Accounts(repo), buyers=BuyerQueries(repo),
            admin=AdminQueries(repo, AdminReports(repo)), security=SecurityLog(repo, clock),
            auction=AuctionWins(repo, service), controls=ControlOperations(repo, clock),
            monitoring=Monitoring(repo, config), clock_offset=clock_offset,
            test_token=test_token)

    @property
    def webhook_endpoint_id(self) -> str | None:
        """This service's endpoint at the sandbox (None with ``STRIPE_WEBHOOK_SECRET``)."""
        return None if self.config.stripe_webhook_secret else self.webhook_secrets.endpoint_id

    def set_clock_offset(self, offset: float) -> None:
        if self.clock_offset is not None:
            self.clock_offset.set(offset)
        else:
            self.clock.set_offset(offset)

    def advance_clock(self, seconds: float) -> None:
        if self.clock_offset is not None:
            self.clock_offset.advance(seconds)
        else:
            self.clock.advance(seconds)


def service_runtime() -> ServiceRuntime:
    rt: ServiceRuntime = current_app.extensions[EXTENSION]
    return rt


def runtime_of(app: Any) -> ServiceRuntime:
    rt: ServiceRuntime = app.extensions[EXTENSION]
    return rt


def attach(app: Any, rt: ServiceRuntime) -> None:
    app.extensions[EXTENSION] = rt
