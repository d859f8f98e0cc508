"""The sandbox account's own settings, as Stripe keeps them per account: its default API
version, which every request without a ``Stripe-Version`` header gets and in which events
are rendered (https://docs.stripe.com/api/versioning,
https://docs.stripe.com/webhooks/versioning).

The setting lives in the store's ``meta`` table, so every server process sees one value.
A version given at start-up (``stripe-sim sandbox --api-version``,
``SANDBOX_DEFAULT_API_VERSION``) is written there and comes back after a reset; the
control plane (``POST /_sandbox/account``) can change it while the sandbox runs.
"""

from __future__ import annotations

from typing import Any

from simulator.sandbox.store import Store
from simulator.sandbox.versions import ACCOUNT_DEFAULT_VERSION, LATEST_VERSION, validate

API_VERSION_KEY = "account.default_api_version"


def default_api_version(store: Store) -> str:
    return store.get_meta(API_VERSION_KEY) or ACCOUNT_DEFAULT_VERSION


def set_default_api_version(store: Store, version: str) -> str:
    """Refuses a version Stripe doesn't have, with the API's own error."""
    checked = validate(version)
    with store.transaction():
        store.set_meta(API_VERSION_KEY, checked)
    return checked


def configure(store: Store, configured_version: str | None) -> None:
    """Apply the version the sandbox was started with (none: keep what is stored)."""
    if configured_version:
        set_default_api_version(store, configured_version)


def settings(store: Store, merchant_name: str) -> dict[str, Any]:
    return {
        "object": "sandbox.account",
        "business_name": merchant_name,
        "default_api_version": default_api_version(store),
        "latest_api_version": LATEST_VERSION,
    }
