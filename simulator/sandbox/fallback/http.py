"""Answering a /v1 request from the SDK's shapes when the sandbox has nothing for it."""

from __future__ import annotations

from flask import Response, g, request

from simulator.sandbox.api.endpoint import json_response, request_pairs, runtime
from simulator.sandbox.errors import StripeError
from simulator.sandbox.fallback.answer import FALLBACK_HEADER, FALLBACK_MODE, answer
from simulator.sandbox.fallback.canned import Canvas
from simulator.sandbox.params import parse_form


def enabled() -> bool:
    return runtime().config.fallback == FALLBACK_MODE and request.path.startswith("/v1/")


def wanted(error: StripeError) -> bool:
    """Whether an error is one the fallback answers instead: an id the sandbox does not
    hold, in the URL or in a parameter (stripe-mock accepts any id)."""
    return error.code == "resource_missing" and enabled()


def fallback_response() -> Response | None:
    """The canned answer for this request, or None when the SDK knows no such path."""
    rt = runtime()
    # A file upload's file is a parameter too (``POST /v1/files``).
    params = parse_form([*request_pairs(), *((name, "") for name in request.files)])
    canvas = Canvas(ids=rt.ids, now=rt.clock.timestamp(), url=request.path)
    body = answer(request.method, request.path, params, canvas)
    if body is None:
        return None
    response = json_response(body)
    response.headers[FALLBACK_HEADER] = FALLBACK_MODE
    request_id = g.get("request_id")
    if request_id:
        response.headers["Request-Id"] = request_id
    return response
