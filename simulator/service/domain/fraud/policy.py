"""The fraud rules' thresholds, in one typed object with defaults. The service config's
``fraud`` setting (a mapping, e.g. in the local JSON file) overrides any of them."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from simulator.service.domain.fraud.verdict import Decision

HOUR = 3600
DAY = 24 * HOUR


@dataclass(frozen=True)
class Limit:
    """A count at or over ``review`` holds for a human; at or over ``block`` refuses."""

    review: int
    block: int

    def __post_init__(self) -> None:
        if not 0 < self.review <= self.block:
            raise ValueError(f"a limit needs 0 < review <= block, got {self}")

    def decide(self, count: int) -> Decision:
        if count >= self.block:
            return "block"
        return "review" if count >= self.review else "allow"


@dataclass(frozen=True)
class FraudPolicy:
    # Checkouts started (new payment attempts, every win counted) per buyer / IP / device.
    buyer_checkouts_per_hour: Limit = field(default_factory=lambda: Limit(10, 30))
    buyer_checkouts_per_day: Limit = field(default_factory=lambda: Limit(30, 100))
    ip_checkouts_per_hour: Limit = field(default_factory=lambda: Limit(10, 20))
    # Failed payments per buyer / IP in the last day, across wins.
    buyer_failures_per_day: Limit = field(default_factory=lambda: Limit(5, 15))
    ip_failures_per_day: Limit = field(default_factory=lambda: Limit(6, 12))
    # Different buyers seen on one device, or one network (IPv4 /24, IPv6 /64), in a day.
    device_buyers_per_day: Limit = field(default_factory=lambda: Limit(3, 5))
    network_buyers_per_day: Limit = field(default_factory=lambda: Limit(6, 12))
    # Payments with one card fingerprint, and different buyers using it, in a day. In
    # test mode every buyer pays with the same few test cards, so a demo's three buyers
    # sharing 4242 4242 4242 4242 stay under these.
    card_payments_per_day: Limit = field(default_factory=lambda: Limit(10, 25))
    card_buyers: Limit = field(default_factory=lambda: Limit(4, 8))
    # The amount against the median of the buyer's paid orders: only with at least
    # ``amount_min_history`` of them, and only above ``amount_floor`` (minor units).
    amount_review_multiple: float = 5.0
    amount_block_multiple: float = 20.0
    amount_floor: int = 20_000
    amount_min_history: int = 1
    # Failed attempts on the same win before this payment.
    failed_attempts: Limit = field(default_factory=lambda: Limit(3, 6))
    # Stripe Radar's risk levels (https://docs.stripe.com/radar/risk-evaluation).
    radar_review_levels: tuple[str, ...] = ("elevated", "highest")
    radar_block_levels: tuple[str, ...] = ()
    # A card issued in another country than the buyer's: review (or "block", "allow").
    country_mismatch: Decision = "review"
    # Addresses not counted by the IP and network rules: the machine itself (a local
    # demo, a test run, a proxy on the same host). Every buyer there shares one address.
    trusted_networks: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    window_hour: int = HOUR
    window_day: int = DAY

    def trusts(self, ip: str | None) -> bool:
        if not ip:
            return False
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address in ipaddress.ip_network(net, strict=False)
                   for net in self.trusted_networks)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> FraudPolicy:
        """Overrides by name; a limit as ``[review, block]`` or ``{"review": …, …}``."""
        policy = cls()
        known = {f.name: getattr(policy, f.name) for f in fields(cls)}
        changes: dict[str, Any] = {}
        for name, value in (settings or {}).items():
            if name not in known:
                raise ValueError(f"unknown fraud setting: {name}")
            current = known[name]
            if isinstance(current, Limit):
                value = Limit(**value) if isinstance(value, Mapping) else Limit(*value)
            elif isinstance(current, tuple):
                value = tuple(value)
            elif isinstance(current, float):
                value = float(value)
            elif isinstance(current, int):
                value = int(value)
            changes[name] = value
        if changes.get("country_mismatch", "review") not in ("allow", "review", "block"):
            raise ValueError("fraud setting country_mismatch: allow, review or block")
        return replace(policy, **changes)
