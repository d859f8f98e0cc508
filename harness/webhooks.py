"""Build, sign and send Stripe webhook deliveries by hand: correctly signed, tampered,
aged, replayed, twice or out of order. For testing any webhook endpoint the way Stripe
(or an attacker) would call it; the signature is Stripe's scheme
(https://docs.stripe.com/webhooks#verify-manually)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from simulator.common.clock import system_time
from simulator.common.ids import default_ids


@dataclass(frozen=True)
class Delivery:
    """One POST as Stripe would make it: the exact bytes and the signature header."""

    event_id: str
    payload: bytes
    signature: str

    def tampered(self) -> Delivery:
        """The same signature over a body an attacker changed (an amount)."""
        body = json.loads(self.payload)
        body.setdefault("data", {}).setdefault("object", {})["amount_total"] = 1
        return Delivery(self.event_id, json.dumps(body).encode(), self.signature)


@dataclass
class WebhookBuilder:
    """``event(type, object)`` makes an event; ``sign`` turns it into a delivery;
    ``send`` posts a delivery to ``url`` and returns the response."""

    url: str
    secret: str
    now: Any = field(default=system_time)  # the clock the receiver checks against
    api_version: str = "2026-10-28.endive"

    def event(self, event_type: str, data_object: Mapping[str, Any],
              event_id: str | None = None) -> dict[str, Any]:
        return {"id": event_id or default_ids.new("evt"), "object": "event",
                "api_version": self.api_version, "created": int(self.now()),
                "type": event_type, "livemode": False, "pending_webhooks": 1,
                "request": {"id": None, "idempotency_key": None},
                "data": {"object": dict(data_object)}}

    def sign(self, event: Mapping[str, Any], *, secret: str | None = None,
             age_seconds: int = 0) -> Delivery:
        payload = json.dumps(event, separators=(",", ":")).encode()
        timestamp = int(self.now()) - age_seconds
        signed = f"{timestamp}.".encode() + payload
        mac = hmac.new((secret or self.secret).encode(), signed, hashlib.sha256).hexdigest()
        return Delivery(str(event["id"]), payload, f"t={timestamp},v1={mac}")

    def send(self, delivery: Delivery, *, signature: str | None = None) -> requests.Response:
        headers = {"Content-Type": "application/json", "User-Agent": "Stripe/1.0",
                   "Stripe-Signature": delivery.signature if signature is None else signature}
        if signature == "":
            del headers["Stripe-Signature"]
        return requests.post(self.url, data=delivery.payload, headers=headers, timeout=30)

    def send_all(self, deliveries: list[Delivery]) -> list[requests.Response]:
        """In the order given: twice, out of order, a replay, as the list says."""
        return [self.send(delivery) for delivery in deliveries]
