"""Realistic test data with Faker: buyers, auction lots and amounts below and above the
$500 at which the service asks for 3-D Secure. Seeded per scenario, so a failure can be
replayed with the same names and amounts."""

from __future__ import annotations

from dataclasses import dataclass, field

from faker import Faker

from simulator.common.ids import default_ids
from simulator.service.domain.credentials import new_api_token, new_password

THREE_D_SECURE_ABOVE = 50_000  # cents: the service's USD threshold


@dataclass(frozen=True)
class Buyer:
    """A person of the marketplace, with the password they sign in with and their API
    token (the service keeps only hashes of both)."""

    id: str
    name: str
    email: str
    country: str = "US"
    password: str = field(default_factory=new_password, repr=False)
    api_token: str = field(default_factory=new_api_token, repr=False)


@dataclass(frozen=True)
class Lot:
    number: int
    title: str
    amount: int  # minor units
    currency: str = "usd"

    @property
    def display(self) -> str:
        return f"${self.amount / 100:,.2f}"


class DataBuilder:
    def __init__(self, seed: int | None = None) -> None:
        self.fake = Faker()
        if seed is not None:
            self.fake.seed_instance(seed)

    def buyer(self, name: str | None = None, country: str = "US") -> Buyer:
        full = name or self.fake.name()
        handle = "".join(c for c in full.lower() if c.isalpha())[:20] or "buyer"
        suffix = default_ids.new("b", 6)[2:].lower()
        return Buyer(default_ids.new("usr", 12), full, f"{handle}.{suffix}@example.test",
                     country)

    def lot(self, amount: int | None = None, *, number: int | None = None,
            title: str | None = None, currency: str = "usd") -> Lot:
        return Lot(number or self.fake.unique.random_int(100, 99_999),
                   title or f"{self.fake.color_name()} {self.fake.word()} "
                   f"{self.fake.random_element(['clock', 'vase', 'lamp', 'chair', 'print'])}",
                   amount if amount is not None else self.amount_under_threshold(), currency)

    def amount_under_threshold(self) -> int:
        return self.fake.random_int(1_000, THREE_D_SECURE_ABOVE - 100)

    def amount_over_threshold(self) -> int:
        return self.fake.random_int(THREE_D_SECURE_ABOVE + 100, 500_000)
