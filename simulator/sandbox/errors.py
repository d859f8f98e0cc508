"""Stripe's error objects, raised anywhere below the HTTP layer and rendered by one handler.

The JSON shape and HTTP statuses follow https://docs.stripe.com/api/errors so that the
official SDKs raise the matching class (``InvalidRequestError`` for 400/404,
``CardError`` for 402, ``AuthenticationError`` for 401, ``IdempotencyError`` for
``type=idempotency_error``, ``RateLimitError`` for 429).
"""

from __future__ import annotations

from typing import Any

DOC_URL = "https://stripe.com/docs/error-codes/{code}"


class StripeError(Exception):
    status = 400
    type = "invalid_request_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.param = param
        self.decline_code = decline_code
        if status is not None:
            self.status = status
        self.extra = extra or {}
        self.headers = headers or {}

    def to_dict(self, request_log_url: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.code:
            body["code"] = self.code
        if self.decline_code:
            body["decline_code"] = self.decline_code
        if self.code:
            body["doc_url"] = DOC_URL.format(code=self.code.replace("_", "-"))
        body["message"] = self.message
        if self.param:
            body["param"] = self.param
        body.update(self.extra)
        if request_log_url:
            body["request_log_url"] = request_log_url
        body["type"] = self.type
        return {"error": body}


class InvalidRequestError(StripeError):
    pass


class NotFoundError(InvalidRequestError):
    status = 404


class AuthenticationError(StripeError):
    status = 401


class PermissionError_(StripeError):
    status = 403


class IdempotencyError(StripeError):
    type = "idempotency_error"


class CardError(StripeError):
    status = 402
    type = "card_error"


class RateLimitError(StripeError):
    """Stripe answers rate limits with 429, ``type=invalid_request_error``, ``code=rate_limit``."""

    status = 429

    def __init__(self, message: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("code", "rate_limit")
        super().__init__(message or RATE_LIMIT_MESSAGE, **kwargs)


RATE_LIMIT_MESSAGE = (
    "Testmode request rate limit exceeded, the rate limits in testmode are lower than livemode."
    " You can learn more about rate limits here https://stripe.com/docs/rate-limits."
)


class ApiError(StripeError):
    status = 500
    type = "api_error"


def parameter_missing(param: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"Missing required param: {param}.", code="parameter_missing", param=param
    )


def parameter_unknown(param: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"Received unknown parameter: {param}", code="parameter_unknown", param=param
    )


def resource_missing(noun: str, object_id: str, param: str = "id") -> InvalidRequestError:
    """Stripe answers 404 when the id is in the URL and 400 when it is a parameter."""
    error_class = NotFoundError if param == "id" else InvalidRequestError
    return error_class(
        f"No such {noun}: '{object_id}'", code="resource_missing", param=param
    )


def unexpected_state(message: str, param: str | None = None) -> InvalidRequestError:
    return InvalidRequestError(message, code="payment_intent_unexpected_state", param=param)
