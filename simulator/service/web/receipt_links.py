"""Receipt links signed to expire: ``/payments/receipts/<order id>.pdf?sig=<token>``.

The CloudFront signed-URL idea: the link carries its own proof. The token names the
order (and, for the record, the user it was made for), is signed with the app's secret
key (``itsdangerous``, HMAC-SHA256, a salt of its own) and expires 24 hours after it was
made, on the service's clock. A download still needs a signed-in viewer allowed to see
the order (its buyer, or an admin); a link that is missing, altered, expired or made for
another order answers 403 and is recorded as a security event.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import current_app, request, url_for
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from simulator.common.clock import Clock
from simulator.service.web.errors import Forbidden
from simulator.service.web.runtime import service_runtime

LINK_LIFETIME_SECONDS = 24 * 3600
SALT = "stripe-sim receipt link"
REFUSED_MESSAGE = ("This receipt link has expired or is not valid. Open the receipt again"
                   " from your payment page.")


class _ServiceClockSigner(TimestampSigner):
    """Timestamps from the service's clock, so a link expires when the service's time
    (which tests and the sandbox move) says so."""

    def __init__(self, *args: Any, clock: Clock, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clock = clock

    def get_timestamp(self) -> int:
        return self.clock.timestamp()


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.secret_key or "", salt=SALT, signer=_ServiceClockSigner,
        signer_kwargs={"clock": service_runtime().clock, "digest_method": hashlib.sha256})


def receipt_url(order_id: str, user_id: str) -> str:
    """A link to the order's receipt for ``user_id``, valid for 24 hours."""
    token = _serializer().dumps({"order": order_id, "user": user_id})
    return url_for("pages.receipt", order_id=order_id, sig=token)


def check_receipt_link(order_id: str, user_id: str) -> None:
    """Refuse (403, recorded) a request by ``user_id`` whose ``sig`` is not a live link
    to this order."""
    reason = _refusal(request.args.get("sig"), order_id)
    if reason is None:
        return
    service_runtime().security.record("receipt_link_refused",
                                      f"order {order_id}, user {user_id}: {reason}",
                                      request.remote_addr or "")
    raise Forbidden(REFUSED_MESSAGE)


def _refusal(token: str | None, order_id: str) -> str | None:
    """Why the link is refused; None when it holds."""
    if not token:
        return "no signature"
    try:
        signed = _serializer().loads(token, max_age=LINK_LIFETIME_SECONDS)
    except SignatureExpired:
        return "expired"
    except BadSignature:
        return "bad signature (altered)"
    if not isinstance(signed, dict) or signed.get("order") != order_id:
        return "made for another order"
    return None
