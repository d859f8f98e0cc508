"""The sandbox as a test sees it: the official SDK pointed at it, plus its ``/_sandbox``
control plane (clock, snapshots, faults, webhook deliveries, headless payment)."""

from __future__ import annotations

from typing import Any

import requests
import stripe

HARNESS_KEY = "sk_test_stripe_sim_harness"


class SandboxError(AssertionError):
    pass


class SandboxHandle:
    def __init__(self, url: str, key: str = HARNESS_KEY) -> None:
        self.url = url.rstrip("/")
        self.sdk = stripe.StripeClient(key, base_addresses={"api": self.url},
                                       max_network_retries=0)

    def control(self, verb: str, route: str, **params: Any) -> requests.Response:
        """A control-plane call: a GET's parameters in the query, others as a form."""
        query, form = (params, None) if verb == "GET" else (None, params or None)
        return requests.request(verb, f"{self.url}/_sandbox{route}", params=query, data=form,
                                timeout=600)

    def _ok(self, verb: str, route: str, **params: Any) -> dict[str, Any]:
        answer = self.control(verb, route, **params)
        if answer.status_code != 200:
            raise SandboxError(f"{verb} /_sandbox{route}: {answer.status_code} {answer.text}")
        body: dict[str, Any] = answer.json()
        return body

    # -- time ------------------------------------------------------------------------------
    def now(self) -> float:
        return float(self._ok("GET", "/clock")["now_float"])

    def offset(self) -> float:
        return float(self._ok("GET", "/clock")["offset_seconds"])

    def advance(self, seconds: int) -> dict[str, Any]:
        """Move the one time (this sandbox's and its followers'), in time order."""
        return self._ok("POST", "/clock/advance", seconds=seconds)

    # -- state -----------------------------------------------------------------------------
    def snapshot(self, name: str) -> None:
        self._ok("POST", f"/snapshots/{name}")

    def restore(self, name: str) -> None:
        self._ok("POST", f"/snapshots/{name}/restore")

    # -- paying without a browser ----------------------------------------------------------
    def complete(self, checkout_session_id: str, payment_method: str = "pm_card_visa",
                 three_d_secure: str | None = None) -> dict[str, Any]:
        params = {"payment_method": payment_method}
        if three_d_secure:
            params["three_d_secure"] = three_d_secure
        answer = self.control("POST", f"/checkout/sessions/{checkout_session_id}/complete",
                              **params)
        if answer.status_code not in (200, 402):
            raise SandboxError(answer.text)
        body: dict[str, Any] = answer.json()
        return body

    # -- webhooks and faults ---------------------------------------------------------------
    def drain(self) -> dict[str, Any]:
        return self._ok("POST", "/webhooks/drain")

    def resend(self, event_id: str) -> None:
        self._ok("POST", f"/webhooks/events/{event_id}/resend")

    def deliveries(self, **filters: str) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self._ok("GET", "/webhooks/deliveries", **filters)["data"]
        return data

    def chaos(self, endpoint_id: str, **settings: Any) -> None:
        self._ok("POST", f"/webhooks/endpoints/{endpoint_id}/chaos", **settings)

    def fault(self, *, path: str, action: str = "error", count: int = 1, status: int = 500,
              method: str = "POST", retry_after: int = 1) -> None:
        self._ok("POST", "/faults", method=method, path=path, action=action, count=count,
                 status=status, retry_after=retry_after)

    def clear_faults(self) -> None:
        self._ok("DELETE", "/faults")

    def events_for(self, event_type: str) -> list[Any]:
        events = self.sdk.v1.events.list(params={"type": event_type, "limit": 100})
        return list(events.auto_paging_iter())
