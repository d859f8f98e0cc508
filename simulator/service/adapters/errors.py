"""What the adapters raise, in the service's own words.

The web layer maps these to its error JSON: ``PaymentsUnavailable`` is a 503 the buyer may
retry later, ``StripeRejected`` is a request Stripe refused (a bug or bad input on our
side, never retried), ``InvalidSignature`` is a webhook delivery to answer with 400.
"""

from __future__ import annotations

from typing import Literal

PAYMENTS_UNAVAILABLE_MESSAGE = (
    "Payments are temporarily unavailable, please try again in a minute"
)

UnavailableReason = Literal["circuit_open", "retries_exhausted", "not_retryable"]


class AdapterError(Exception):
    """Base of everything the adapters raise on purpose."""


class PaymentsUnavailable(AdapterError):
    """Stripe cannot be reached or keeps failing: the circuit is open, or every attempt
    of this call failed with a connection error, a 409, a 429 or a 5xx."""

    code = "payments_unavailable"
    http_status = 503

    def __init__(self, reason: UnavailableReason, *, attempts: int = 0,
                 last_error: str | None = None) -> None:
        super().__init__(PAYMENTS_UNAVAILABLE_MESSAGE)
        self.message = PAYMENTS_UNAVAILABLE_MESSAGE
        self.reason: UnavailableReason = reason
        self.attempts = attempts
        self.last_error = last_error


class StripeRejected(AdapterError):
    """Stripe answered a 4xx other than 409/429: the request itself is wrong (a bad
    parameter, an object in the wrong state, a bad key). Retrying cannot help."""

    def __init__(self, *, code: str | None, param: str | None, message: str,
                 http_status: int | None, error_type: str | None = None,
                 decline_code: str | None = None, request_id: str | None = None) -> None:
        super().__init__(f"{code or error_type or 'stripe_error'}: {message}")
        self.code = code
        self.param = param
        self.message = message
        self.http_status = http_status
        self.error_type = error_type
        self.decline_code = decline_code
        self.request_id = request_id


class InvalidSignature(AdapterError):
    """A webhook delivery whose ``Stripe-Signature`` is missing, does not match the
    payload, or is timestamped outside the tolerance (a possible replay)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MailNotSent(AdapterError):
    """The SMTP server could not be reached or refused the message. ``permanent`` is
    true for a 5xx SMTP reply (e.g. an unknown recipient): sending again cannot help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class ReceiptExists(AdapterError):
    """A receipt is written once: the order already has one at ``path``."""

    def __init__(self, order_id: str, path: str) -> None:
        super().__init__(f"receipt of order {order_id} exists already; receipts are never"
                         " rewritten")
        self.order_id = order_id
        self.path = path


class ReceiptTampered(AdapterError):
    """A stored receipt is not what was recorded when it was written: its SHA-256
    differs, or it no longer decrypts (altered, or swapped for another file)."""

    def __init__(self, order_id: str, reason: str) -> None:
        super().__init__(f"receipt of order {order_id} failed its integrity check: {reason}")
        self.order_id = order_id
        self.reason = reason
