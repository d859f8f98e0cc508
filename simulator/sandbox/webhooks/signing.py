"""The ``Stripe-Signature`` header (https://docs.stripe.com/webhooks#verify-manually).

Stripe signs ``"{t}.{payload}"`` with HMAC-SHA256 keyed by the endpoint's signing secret
and sends ``t=<unix time>,v1=<hex digest>``. While a secret is being rolled, the header
carries one ``v1`` per live secret, so a receiver verifies with either the old or the
new one (https://docs.stripe.com/webhooks#roll-endpoint-secrets). Receivers reject a
timestamp more than 300 s away from their own clock (the SDKs' default tolerance).

The sandbox signs with its own clock's time. While that clock is not moved, deliveries
verify with ``stripe.Webhook.construct_event`` as they are; once
``POST /_sandbox/clock/advance`` has moved it more than 300 s, a receiver on real time
rejects them as replays (pass a larger ``tolerance`` in such tests, or move a Stripe
test clock instead, which leaves the sandbox clock alone).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

SCHEME = "v1"


def compute_signature(payload: str, secret: str, timestamp: int) -> str:
    """Hex HMAC-SHA256 of ``"{timestamp}.{payload}"`` keyed by ``secret``."""
    signed = f"{timestamp}.{payload}".encode()
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(payload: str, secrets: Sequence[str], timestamp: int) -> str:
    """``t=…,v1=…[,v1=…]``: one signature per live secret, newest first."""
    if not secrets:
        raise ValueError("a webhook needs at least one signing secret")
    parts = [f"t={timestamp}"]
    parts += [f"{SCHEME}={compute_signature(payload, s, timestamp)}" for s in secrets]
    return ",".join(parts)


def parse_header(header: str) -> tuple[int | None, list[str]]:
    """The timestamp and the ``v1`` signatures of a ``Stripe-Signature`` header."""
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == SCHEME:
            signatures.append(value)
    return timestamp, signatures


def verifies(payload: str, header: str, secret: str) -> bool:
    """Whether any ``v1`` in ``header`` was made with ``secret`` (no timestamp check)."""
    timestamp, signatures = parse_header(header)
    if timestamp is None:
        return False
    expected = compute_signature(payload, secret, timestamp)
    return any(hmac.compare_digest(expected, s) for s in signatures)
