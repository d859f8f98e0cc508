"""The marketplace's users as the payment service sees them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["buyer", "admin"]


@dataclass(frozen=True)
class User:
    id: str
    name: str
    email: str
    role: Role
    api_token: str
    country: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"
