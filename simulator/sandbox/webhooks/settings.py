"""How this sandbox delivers webhooks: its retry profile and timeout, and per endpoint a
retry profile, chaos options and the secrets kept alive by a roll.

Sandbox-wide values live in the ``meta`` table, per-endpoint ones in
``webhook_endpoint_settings``; both are shared by every server process.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from simulator.sandbox.errors import InvalidRequestError
from simulator.sandbox.resources.base import Ctx, load, save
from simulator.sandbox.resources.webhook_endpoint import WebhookEndpoint
from simulator.sandbox.store import Store
from simulator.sandbox.webhooks.schedule import DEFAULT_PROFILE, PROFILES, RetryPolicy, policy

PROFILE_KEY = "webhooks.profile"
TIMEOUT_KEY = "webhooks.timeout_seconds"
# Stripe waits a few seconds for an answer; its documented upper bound is 30 s.
DEFAULT_TIMEOUT_SECONDS = 10.0
MAX_TIMEOUT_SECONDS = 30.0
STALE_TIMESTAMP_SECONDS = 600
MAX_ROLL_EXPIRY_SECONDS = 7 * 24 * 3600
MAX_DUPLICATES = 10
SECRET_PATTERN = re.compile(r"whsec_[A-Za-z0-9]{24,64}")



@dataclass(frozen=True)
class SandboxDelivery:
    """The sandbox-wide delivery settings."""

    profile: str = DEFAULT_PROFILE
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS

    def to_dict(self) -> dict[str, Any]:
        return {"profile": self.profile, "timeout_seconds": self.timeout_seconds,
                "profiles": {name: list(p.delays) for name, p in PROFILES.items()}}


@dataclass
class Chaos:
    """Misbehaviour to test a receiver against; all off by default.

    ``duplicate``: extra copies of every delivery (Stripe may deliver an event more than
    once: https://docs.stripe.com/webhooks#handle-duplicate-events). ``reorder``: hold
    deliveries until the next drain and send them newest first (Stripe doesn't guarantee
    order: https://docs.stripe.com/webhooks#event-ordering). ``delay_ms``: queue each
    delivery that much later on the sandbox clock. ``stale_timestamp``: sign with a
    timestamp 600 s in the past, which receivers must reject (replay protection).
    """

    duplicate: int = 0
    reorder: bool = False
    delay_ms: int = 0
    stale_timestamp: bool = False


@dataclass
class RolledSecret:
    secret: str
    expires_at: float


@dataclass
class EndpointDelivery:
    """Per-endpoint delivery settings (none of them are Stripe API fields)."""

    endpoint_id: str
    profile: str | None = None
    chaos: Chaos = field(default_factory=Chaos)
    rolled_secrets: list[RolledSecret] = field(default_factory=list)

    def live_secrets(self, now: float) -> list[str]:
        """Previous secrets still within their expiry, newest first."""
        live = [r for r in self.rolled_secrets if r.expires_at > now]
        return [r.secret for r in sorted(live, key=lambda r: -r.expires_at)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint_id,
            "profile": self.profile,
            "chaos": asdict(self.chaos),
            "previous_secrets_expire_at": [int(r.expires_at) for r in self.rolled_secrets],
        }


def sandbox_settings(store: Store) -> SandboxDelivery:
    profile = store.get_meta(PROFILE_KEY) or DEFAULT_PROFILE
    timeout = float(store.get_meta(TIMEOUT_KEY) or DEFAULT_TIMEOUT_SECONDS)
    return SandboxDelivery(profile if profile in PROFILES else DEFAULT_PROFILE, timeout)


def save_sandbox_settings(store: Store, settings: SandboxDelivery) -> None:
    with store.transaction():
        store.set_meta(PROFILE_KEY, settings.profile)
        store.set_meta(TIMEOUT_KEY, repr(settings.timeout_seconds))


def endpoint_settings(store: Store, endpoint_id: str) -> EndpointDelivery:
    row = store.conn.execute(
        "SELECT profile, chaos, rolled_secrets FROM webhook_endpoint_settings"
        " WHERE endpoint_id = ?",
        (endpoint_id,),
    ).fetchone()
    if row is None:
        return EndpointDelivery(endpoint_id)
    rolled = [RolledSecret(**r) for r in json.loads(row[2])]
    return EndpointDelivery(endpoint_id, row[0], Chaos(**json.loads(row[1])), rolled)


def save_endpoint_settings(store: Store, settings: EndpointDelivery) -> None:
    store.conn.execute(
        "INSERT INTO webhook_endpoint_settings (endpoint_id, profile, chaos, rolled_secrets)"
        " VALUES (?, ?, ?, ?) ON CONFLICT(endpoint_id) DO UPDATE SET profile = excluded.profile,"
        " chaos = excluded.chaos, rolled_secrets = excluded.rolled_secrets",
        (
            settings.endpoint_id,
            settings.profile,
            json.dumps(asdict(settings.chaos)),
            json.dumps([asdict(r) for r in settings.rolled_secrets]),
        ),
    )


def retry_policy(store: Store, endpoint: EndpointDelivery) -> RetryPolicy:
    """The endpoint's own profile, else the sandbox's."""
    return policy(endpoint.profile or sandbox_settings(store).profile)


# -- operations of the control plane ------------------------------------------------------
def roll_secret(ctx: Ctx, endpoint_id: str, expires_in: float) -> tuple[WebhookEndpoint, float]:
    """A new signing secret for the endpoint; the current one keeps verifying for
    ``expires_in`` sandbox seconds (https://docs.stripe.com/webhooks#roll-endpoint-secrets).
    Returns the endpoint (with its new ``secret``) and when the old one expires."""
    if expires_in < 0 or expires_in > MAX_ROLL_EXPIRY_SECONDS:
        raise InvalidRequestError(
            "expires_in must be between 0 and 604800 seconds (7 days).", param="expires_in"
        )
    endpoint = load(ctx, WebhookEndpoint, endpoint_id)
    settings = endpoint_settings(ctx.store, endpoint_id)
    expires_at = ctx.now + expires_in
    kept = [r for r in settings.rolled_secrets if r.expires_at > ctx.now]
    if expires_in > 0:
        kept.append(RolledSecret(endpoint.secret, expires_at))
    settings.rolled_secrets = kept
    endpoint.secret = ctx.ids.secret("whsec")
    save(ctx, endpoint)
    save_endpoint_settings(ctx.store, settings)
    return endpoint, expires_at


def set_secret(ctx: Ctx, endpoint_id: str, secret: str) -> WebhookEndpoint:
    """Sign the endpoint's deliveries with a secret its receiver already knows, as the
    Stripe CLI keeps one secret per device across ``stripe listen`` sessions. Not
    possible on Stripe's API; a control-plane convenience for local forwarding."""
    if not SECRET_PATTERN.fullmatch(secret):
        raise InvalidRequestError(
            "secret must be whsec_ followed by 24 to 64 letters or digits.", param="secret"
        )
    endpoint = load(ctx, WebhookEndpoint, endpoint_id)
    endpoint.secret = secret
    save(ctx, endpoint)
    return endpoint


def set_chaos(ctx: Ctx, endpoint_id: str, chaos: Chaos) -> EndpointDelivery:
    load(ctx, WebhookEndpoint, endpoint_id)
    if chaos.duplicate < 0 or chaos.duplicate > MAX_DUPLICATES:
        raise InvalidRequestError(
            f"duplicate must be between 0 and {MAX_DUPLICATES}.", param="duplicate"
        )
    if chaos.delay_ms < 0:
        raise InvalidRequestError("delay_ms must not be negative.", param="delay_ms")
    settings = endpoint_settings(ctx.store, endpoint_id)
    settings.chaos = chaos
    save_endpoint_settings(ctx.store, settings)
    return settings


def set_endpoint_profile(ctx: Ctx, endpoint_id: str, profile: str | None) -> EndpointDelivery:
    """Override the sandbox's retry profile for one endpoint (``None`` removes it)."""
    load(ctx, WebhookEndpoint, endpoint_id)
    check_profile(profile)
    settings = endpoint_settings(ctx.store, endpoint_id)
    settings.profile = profile
    save_endpoint_settings(ctx.store, settings)
    return settings


def configure_sandbox(
    store: Store, profile: str | None, timeout_seconds: float | None
) -> SandboxDelivery:
    check_profile(profile)
    if timeout_seconds is not None and not 0 < timeout_seconds <= MAX_TIMEOUT_SECONDS:
        raise InvalidRequestError(
            f"timeout_seconds must be more than 0 and at most {MAX_TIMEOUT_SECONDS:g}.",
            param="timeout_seconds",
        )
    with store.transaction():
        current = sandbox_settings(store)
        updated = SandboxDelivery(profile or current.profile,
                                  timeout_seconds or current.timeout_seconds)
        save_sandbox_settings(store, updated)
    return updated


def check_profile(profile: str | None) -> None:
    if profile is not None and profile not in PROFILES:
        raise InvalidRequestError(
            f"Invalid profile: must be one of {', '.join(PROFILES)}", param="profile"
        )
