"""``POST /_sandbox/{payment,setup}_intents/{id}/three_d_secure``: the customer's answer to a
3-D Secure challenge without a browser (``outcome=authenticate|fail``), what the sandbox's
challenge page would submit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from flask import Blueprint, Response, request

from simulator.sandbox.api.endpoint import json_response, runtime
from simulator.sandbox.errors import InvalidRequestError
from simulator.sandbox.params import invalid_enum
from simulator.sandbox.resources import payment_intent as intents
from simulator.sandbox.resources import setup_intent as setups
from simulator.sandbox.resources.base import Ctx, StripeObject, render

bp = Blueprint("three_d_secure", __name__)
Outcome = Literal["authenticate", "fail"]
OUTCOMES: tuple[Outcome, ...] = ("authenticate", "fail")


@bp.post("/_sandbox/payment_intents/<pi_id>/three_d_secure")
def payment_intent(pi_id: str) -> Response:
    return _answer(lambda ctx, outcome: intents.complete_three_d_secure(ctx, pi_id, outcome))


@bp.post("/_sandbox/setup_intents/<seti_id>/three_d_secure")
def setup_intent(seti_id: str) -> Response:
    return _answer(lambda ctx, outcome: setups.complete_authentication(ctx, seti_id, outcome))


def _answer(complete: Callable[[Ctx, Outcome], StripeObject]) -> Response:
    outcome = request.values.get("outcome", "")
    if outcome not in OUTCOMES:
        raise invalid_enum("outcome", outcome, list(OUTCOMES)) if outcome else (
            InvalidRequestError("Missing required param: outcome.", code="parameter_missing",
                                param="outcome"))
    rt = runtime()
    with rt.store.transaction():
        ctx = Ctx(store=rt.store, now=rt.clock.timestamp(), ids=rt.ids,
                  base_url=rt.public_url(request.host_url), sink=rt.event_sink)
        body = render(ctx, complete(ctx, outcome))
    return json_response(body)
