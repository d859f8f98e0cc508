"""Rules that need no payment: run when a buyer starts a checkout, on what we know of
the buyer, their address and their device. A block refuses the checkout."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from simulator.service.domain.fraud.policy import FraudPolicy
from simulator.service.domain.fraud.verdict import Verdict, count_rule


@dataclass(frozen=True)
class CheckoutSignals:
    """Captured by the web layer when the checkout is asked for."""

    ip: str | None = None
    device: str | None = None

    @property
    def network(self) -> str | None:
        return network_of(self.ip)


def network_of(ip: str | None) -> str | None:
    """The address's network: IPv4 /24, IPv6 /64 (one household or small office)."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


@dataclass(frozen=True)
class CheckoutFacts:
    """Counts over the policy's windows, each including the checkout being started."""

    buyer_checkouts_hour: int = 1
    buyer_checkouts_day: int = 1
    buyer_failures_day: int = 0
    ip_checkouts_hour: int = 0
    ip_failures_day: int = 0
    device_buyers_day: int = 0
    network_buyers_day: int = 0


def checkout_verdict(policy: FraudPolicy, facts: CheckoutFacts) -> Verdict:
    p, f = policy, facts
    return Verdict((
        count_rule("buyer_velocity", "buyer_checkouts_hour", p.buyer_checkouts_per_hour,
                    f.buyer_checkouts_hour,
                    lambda n: f"{n} checkouts started by this buyer in the last hour."),
        count_rule("buyer_velocity", "buyer_checkouts_day", p.buyer_checkouts_per_day,
                    f.buyer_checkouts_day,
                    lambda n: f"{n} checkouts started by this buyer in the last day."),
        count_rule("buyer_velocity", "buyer_failures_day", p.buyer_failures_per_day,
                    f.buyer_failures_day,
                    lambda n: f"{n} failed payments by this buyer in the last day."),
        count_rule("ip_velocity", "ip_checkouts_hour", p.ip_checkouts_per_hour,
                    f.ip_checkouts_hour,
                    lambda n: f"{n} checkouts started from this IP address in the last hour."),
        count_rule("ip_velocity", "ip_failures_day", p.ip_failures_per_day,
                    f.ip_failures_day,
                    lambda n: f"{n} failed payments from this IP address in the last day."),
        count_rule("shared_device", "shared_device", p.device_buyers_per_day,
                    f.device_buyers_day,
                    lambda n: f"This device was used by {n} different buyers in the last day."),
        count_rule("shared_network", "shared_network", p.network_buyers_per_day,
                    f.network_buyers_day,
                    lambda n: f"This network was used by {n} different buyers in the last"
                              " day."),
    ))
