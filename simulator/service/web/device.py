"""The buyer's device and address, the fraud rules' checkout signals.

Buyer pages set a device cookie: a random value signed with the app's secret key
(itsdangerous), so a client cannot forge another device's id or spread one id across
made-up buyers without the key. It lives a year and is the same across sign-ins, so one
browser used by many accounts shows. A request without a valid cookie (an API client)
has no device signal; its address still counts. The address is ``request.remote_addr``:
the app trusts no proxy header, so a forwarded-for header cannot change it."""

from __future__ import annotations

import hashlib
import secrets

from flask import Flask, Response, current_app, request
from itsdangerous import BadSignature, Signer

from simulator.service.domain.fraud import CheckoutSignals

COOKIE = "payments_device"
SALT = "device-cookie"
MAX_AGE_SECONDS = 365 * 24 * 3600
BUYER_BLUEPRINTS = ("pages",)


def _signer() -> Signer:
    return Signer(current_app.secret_key or "", salt=SALT)


def device_id() -> str | None:
    """The stored device id (a digest of the cookie's random value), or None."""
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        return None
    try:
        value = _signer().unsign(cookie)
    except BadSignature:
        return None
    return "dev_" + hashlib.sha256(value).hexdigest()[:24]


def checkout_signals() -> CheckoutSignals:
    return CheckoutSignals(ip=request.remote_addr or None, device=device_id())


def _set_device_cookie(response: Response) -> Response:
    if request.blueprint not in BUYER_BLUEPRINTS or device_id() is not None:
        return response
    value = _signer().sign(secrets.token_urlsafe(18)).decode()
    response.set_cookie(COOKIE, value, max_age=MAX_AGE_SECONDS, httponly=True,
                        samesite="Lax", secure=request.is_secure, path="/")
    return response


def install(app: Flask) -> None:
    app.after_request(_set_device_cookie)
