"""The refusals a buyer sees, with their error codes and HTTP statuses."""

from __future__ import annotations

from simulator.service.domain.retry import Refused

HTTP_STATUS = {
    "not_found": 404, "forbidden": 403, "not_winner": 403, "already_paid": 409,
    "window_closed": 410, "retries_exhausted": 409, "payment_processing": 409,
    "payments_unavailable": 503, "checkout_failed": 502,
}


class PaymentRefused(Exception):
    """A refusal the buyer sees, with its error code and HTTP status."""

    def __init__(self, code: str, http_status: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status
        self.message = message

    @classmethod
    def of(cls, refusal: Refused) -> PaymentRefused:
        return cls(refusal.code, HTTP_STATUS[refusal.code], refusal.message)
