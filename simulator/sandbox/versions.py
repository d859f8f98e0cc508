"""Stripe API versions: which the sandbox accepts, and the field names that differ.

Since 2024-09-30 versions carry a release name (``2024-09-30.acacia``); monthly versions
within a release share it. The sandbox accepts any dated version whose release name
matches its date, and renders the few fields whose names or values changed between
``basil`` and ``endive`` (https://docs.stripe.com/changelog).
"""

from __future__ import annotations

import datetime as _dt
import functools
import re

from simulator.sandbox.errors import InvalidRequestError

# The newest version the sandbox speaks: the one the stripe-python 16.x SDK pins.
LATEST_VERSION = "2026-10-28.endive"
# What a request without ``Stripe-Version`` gets unless the sandbox is told otherwise: an
# account's default version is the one current when the account was made, so most
# accounts are older than the SDK (https://docs.stripe.com/api/versioning). Clover still
# takes ``payment_method_types`` on PaymentIntents and Checkout Sessions.
ACCOUNT_DEFAULT_VERSION = "2025-09-30.clover"

# First version date of each named release.
RELEASES: tuple[tuple[str, str], ...] = (
    ("2024-09-30", "acacia"),
    ("2025-03-31", "basil"),
    ("2025-09-30", "clover"),
    ("2026-03-25", "dahlia"),
    ("2026-09-30", "endive"),
)
OLDEST = "2011-01-01"
_VERSION = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\.([a-z]+))?$")


def release_of(date: str) -> str | None:
    name = None
    for start, release in RELEASES:
        if date >= start:
            name = release
    return name


def validate(version: str) -> str:
    match = _VERSION.match(version.strip())
    if match:
        date, name = match.groups()
        try:
            _dt.date.fromisoformat(date)
        except ValueError:
            match = None
        else:
            expected = release_of(date)
            newest = LATEST_VERSION.split(".")[0]
            if date < OLDEST or date > newest or name != expected:
                match = None
    if not match:
        raise InvalidRequestError(f"Invalid Stripe API version: {version}", param=None)
    return version.strip()


@functools.lru_cache(maxsize=256)
def at_least(version: str, release: str) -> bool:
    """Whether ``version`` is in ``release`` or a later one."""
    order = [name for _, name in RELEASES]
    current = release_of(version.split(".")[0])
    if current is None:
        return False
    return order.index(current) >= order.index(release)


def checkout_ui_mode(stored: str, version: str) -> str:
    """``hosted``/``embedded``/``custom`` became ``hosted_page``/``embedded_page``/``elements``
    in dahlia."""
    if at_least(version, "dahlia"):
        return stored
    return {"hosted_page": "hosted", "embedded_page": "embedded", "elements": "custom"}.get(
        stored, stored
    )


def ui_mode_from_request(value: str, version: str) -> str:
    if at_least(version, "dahlia"):
        return value
    return {"hosted": "hosted_page", "embedded": "embedded_page", "custom": "elements"}.get(
        value, value
    )


def accepts_payment_method_types(version: str) -> bool:
    """The ``payment_method_types`` request parameter was removed in endive."""
    return not at_least(version, "endive")
