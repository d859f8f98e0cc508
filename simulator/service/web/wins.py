"""``POST /payments/wins``: the auction timer reports a closed auction and its winner.

The caller is the auction system, not a user: it sends the shared secret
``config.auction_api_token`` as ``Authorization: Bearer``, so no buyer token, session
cookie or CSRF rule applies here. Unset, the route refuses every call (403). Each
refusal of the secret is recorded as a security event.

Idempotent by auction id (the win's id): the same win again answers 200 with
``created: false``; the same id with other fields is a 409 ``conflict``.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Collection, Mapping
from dataclasses import asdict
from typing import Any, NoReturn

from flask import Blueprint, Response, jsonify, request

from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.window import PaymentWindow
from simulator.service.usecases.auction import WinConflict
from simulator.service.web import security_log
from simulator.service.web.errors import (
    Forbidden,
    InvalidRequest,
    Unauthenticated,
    WebError,
    error_body,
)
from simulator.service.web.runtime import ServiceRuntime, service_runtime

bp = Blueprint("wins", __name__)

FIELDS = ("auction_id", "lot", "title", "seller_id", "buyer_id", "amount", "currency",
          "ended_at")
IDENTIFIER = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_TITLE = 200
# Stripe's largest amount: eight digits in the minor unit
# (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts).
MAX_AMOUNT = 99_999_999
# The auction timer's clock may run a little ahead of ours; further is a bug.
MAX_FUTURE_SECONDS = 300
DISABLED = "The auction API is not enabled: set AUCTION_API_TOKEN."


class InvalidField(InvalidRequest):
    """One field of the win is missing or wrong; ``param`` names it, as Stripe's do."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


@bp.errorhandler(InvalidField)
def _invalid_field(error: InvalidField) -> tuple[Response, int]:
    body = error_body(error.code, error.message)
    body["error"]["param"] = error.param
    return jsonify(body), error.http_status


@bp.post("/payments/wins")
def record_win() -> tuple[Response, int]:
    rt = service_runtime()
    _check_auction_token(rt)
    win = win_from_json(_json_object(), now=rt.clock.timestamp(),
                        currencies=rt.config.three_d_secure_thresholds)
    _check_buyer(rt, win.buyer_id)
    recorded, created = _record_once(rt, win)
    body = win_body(recorded, rt.config.payment_window_hours, created=created)
    return jsonify(body), 201 if created else 200


def win_body(win: AuctionWin, window_hours: int, *, created: bool) -> dict[str, Any]:
    closes_at = PaymentWindow(win.ended_at, window_hours).closes_at
    return {**asdict(win), "window_closes_at": closes_at, "created": created}


# -- the auction system's secret -------------------------------------------------------------
def _check_auction_token(rt: ServiceRuntime) -> None:
    expected = rt.config.auction_api_token
    if not expected:
        _refuse(rt, "auction_api_disabled", "AUCTION_API_TOKEN is not set",
                Forbidden(DISABLED))
    given = _bearer_token()
    if given is None:
        _refuse(rt, "auction_api_unauthenticated", "no bearer token", Unauthenticated(
            "Send the auction API token as 'Authorization: Bearer <token>'."))
    elif not hmac.compare_digest(given.encode(), expected.encode()):
        _refuse(rt, "auction_api_unauthenticated", "wrong bearer token",
                Unauthenticated("The auction API token is not valid."))


def _bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _refuse(rt: ServiceRuntime, kind: str, detail: str, refusal: WebError) -> NoReturn:
    """Counted (one row per kind and five minutes): anyone can knock as often as they like."""
    security_log.count(kind, f"POST {request.path}: {detail}")
    raise refusal


# -- the body -------------------------------------------------------------------------------
def _json_object() -> Mapping[str, Any]:
    if not request.is_json:
        raise WebError("unsupported_media_type", 415, "Send a JSON body (application/json).")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object describing the win.")
    return body


def win_from_json(body: Mapping[str, Any], *, now: int,
                  currencies: Collection[str]) -> AuctionWin:
    """The win the body describes; the first wrong field raises ``InvalidField``."""
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise InvalidField(unknown[0], f"Unknown field {unknown[0]!r}; a win has "
                                       f"{', '.join(FIELDS)}.")
    win = AuctionWin(
        id=_identifier(body, "auction_id"), lot=_integer(body, "lot", 1),
        title=_title(body), seller_id=_identifier(body, "seller_id"),
        buyer_id=_identifier(body, "buyer_id"), amount=_integer(body, "amount", 1, MAX_AMOUNT),
        currency=_currency(body, currencies), ended_at=_integer(body, "ended_at", 1),
    )
    if win.ended_at > now + MAX_FUTURE_SECONDS:
        raise InvalidField("ended_at", f"ended_at ({win.ended_at}) is more than "
                                       f"{MAX_FUTURE_SECONDS} s after the service's clock ({now}).")
    return win


def _required(body: Mapping[str, Any], name: str) -> Any:
    if body.get(name) is None:
        raise InvalidField(name, f"{name} is required.")
    return body[name]


def _identifier(body: Mapping[str, Any], name: str) -> str:
    value = _required(body, name)
    if not isinstance(value, str) or not IDENTIFIER.fullmatch(value):
        raise InvalidField(name, f"{name} must be 1 to 64 letters, digits, '_' or '-'.")
    return value


def _integer(body: Mapping[str, Any], name: str, low: int, high: int | None = None) -> int:
    value = _required(body, name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidField(name, f"{name} must be an integer.")
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise InvalidField(name, f"{name} must be {bounds}.")
    return value


def _title(body: Mapping[str, Any]) -> str:
    value = _required(body, "title")
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > MAX_TITLE:
        raise InvalidField("title", f"title must be 1 to {MAX_TITLE} characters.")
    return value.strip()


def _currency(body: Mapping[str, Any], currencies: Collection[str]) -> str:
    """Only currencies the service has a 3-D Secure threshold for (see ``config``)."""
    value = _required(body, "currency")
    if not isinstance(value, str) or value not in currencies:
        raise InvalidField("currency", f"currency must be one of {', '.join(sorted(currencies))}"
                                       " (lowercase ISO code).")
    return value


def _check_buyer(rt: ServiceRuntime, buyer_id: str) -> None:
    if not rt.auction.is_buyer(buyer_id):
        raise InvalidField("buyer_id", f"buyer_id: no buyer with id {buyer_id!r}.")


# -- once per auction -----------------------------------------------------------------------
def _record_once(rt: ServiceRuntime, win: AuctionWin) -> tuple[AuctionWin, bool]:
    """Recorded once (``usecases/auction.py``); the same id with other values is a 409."""
    try:
        return rt.auction.record_once(win)
    except WinConflict as conflict:
        raise WebError("conflict", 409, str(conflict)) from None
