"""The hosted checkout page (each session's ``url``), its 3-D Secure test challenge, and
the routes that complete a session without a browser."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Literal, cast
from urllib.parse import urlencode

from flask import Blueprint, Response, g, redirect, render_template, request

from simulator.sandbox.api.endpoint import json_response, request_pairs, runtime
from simulator.sandbox.errors import InvalidRequestError, StripeError
from simulator.sandbox.hosted import card_form
from simulator.sandbox.hosted.checkout_flow import (
    Buyer,
    PaymentOutcome,
    after_challenge,
    card_payment_method,
    pay,
)
from simulator.sandbox.hosted.setup_flow import SetupOutcome, after_setup_challenge, save_card
from simulator.sandbox.params import Params, parse_form
from simulator.sandbox.resources import checkout_session as sessions
from simulator.sandbox.resources import payment_intent as intents
from simulator.sandbox.resources import setup_intent as setups
from simulator.sandbox.resources.balance_transaction import format_amount
from simulator.sandbox.resources.base import Ctx, find, render
from simulator.sandbox.resources.customer import Customer
from simulator.sandbox.resources.payment_method import (
    PaymentMethod,
    build_payment_method,
    resolve_payment_method,
)
from simulator.sandbox.resources.payment_method_data import CardDetails, PaymentMethodData

Challenge = Literal["authenticate", "fail"]
bp = Blueprint("hosted", __name__, template_folder="templates", static_folder="static",
               static_url_path="/c/static")
COUNTRIES = (
    ("US", "United States"), ("GB", "United Kingdom"), ("CA", "Canada"), ("AU", "Australia"),
    ("NZ", "New Zealand"), ("IE", "Ireland"), ("DE", "Germany"), ("FR", "France"),
    ("IT", "Italy"), ("ES", "Spain"), ("NL", "Netherlands"), ("BE", "Belgium"),
    ("AT", "Austria"), ("CH", "Switzerland"), ("SE", "Sweden"), ("NO", "Norway"),
    ("DK", "Denmark"), ("FI", "Finland"), ("PL", "Poland"), ("PT", "Portugal"),
    ("JP", "Japan"), ("SG", "Singapore"), ("HK", "Hong Kong"), ("IN", "India"),
    ("BR", "Brazil"), ("MX", "Mexico"),
)


@contextlib.contextmanager
def transaction() -> Iterator[Ctx]:
    rt = runtime()
    with rt.store.transaction():
        yield Ctx(store=rt.store, now=rt.clock.timestamp(), ids=rt.ids,
                  base_url=rt.public_url(request.host_url), request_id=g.request_id,
                  sink=rt.event_sink)


def merchant_name() -> str:
    return runtime().config.merchant_name


def _message(state: str, heading: str, detail: str, status: int = 200,
             link: str | None = None, link_text: str = "") -> tuple[str, int]:
    page = render_template("message.html", merchant=merchant_name(), state=state,
                           heading=heading, detail=detail, link=link, link_text=link_text)
    return page, status


# -- the page -----------------------------------------------------------------------------
@bp.get("/c/pay/<session_id>")
def checkout_page(session_id: str) -> Any:
    with transaction() as ctx:
        session = find(ctx, sessions.CheckoutSession, session_id)
        if session is None:
            return _message("not_found", "Page not found",
                            "This Checkout Session does not exist.", 404)
        unavailable = _unavailable(ctx, session)
        if unavailable is not None:
            return unavailable
        items = [{"name": item.description, "quantity": item.quantity,
                  "amount": format_amount(item.amount_subtotal, item.currency)}
                 for item in session.items()]
    currency = (session.currency or "usd")
    return render_template(
        "checkout.html", merchant=merchant_name(), session=session, line_items=items,
        setup=session.mode == "setup", currency=currency.upper(),
        subtotal=format_amount(session.amount_subtotal or 0, currency),
        discount=format_amount(session.amount_discount, currency),
        total=format_amount(session.amount_total or 0, currency),
        email=session.customer_email or _customer_email(ctx, session),
        email_locked=bool(session.customer_email or session.customer),
        countries=COUNTRIES, confirm_url=f"/c/pay/{session.id}/confirm",
    )


def _customer_email(ctx: Ctx, session: sessions.CheckoutSession) -> str | None:
    customer = find(ctx, Customer, session.customer) if session.customer else None
    return customer.email if customer else None


def _unavailable(ctx: Ctx, session: sessions.CheckoutSession) -> tuple[str, int] | None:
    """Paid and expired sessions show where they stand, as Checkout does."""
    if session.status == "complete" and session.mode == "setup":
        return _message("complete", "Your card has been saved",
                        f"{merchant_name()} can charge it for future payments.",
                        link=session.success_redirect(), link_text="Return to the merchant")
    if session.status == "complete":
        return _message("complete", "This payment is complete",
                        f"{merchant_name()} has received your payment.",
                        link=session.success_redirect(), link_text="Return to the merchant")
    if session.status == "expired" or ctx.now >= session.expires_at:
        return _message("expired", "This Checkout Session has expired",
                        "The time to pay has run out. Return to the merchant to start again.",
                        link=session.cancel_url, link_text="Return to the merchant")
    return None


@bp.post("/c/pay/<session_id>/confirm")
def confirm_from_page(session_id: str) -> Response:
    """The page's submit: the form is checked again here, then the card is charged."""
    form = {k: str(v) for k, v in (request.get_json(silent=True) or request.form).items()}
    with transaction() as ctx:
        session = find(ctx, sessions.CheckoutSession, session_id)
        if session is None or _unavailable(ctx, session) is not None:
            return json_response({"error": "This Checkout Session is no longer available.",
                                  "reload": True}, 409)
        if session.customer_email:
            form["email"] = session.customer_email
        today = runtime().clock.datetime()
        card, errors = card_form.validate(form, year=today.year, month=today.month,
                                          email_required=not session.customer)
        if card is None:
            return json_response({"field_errors": errors}, 400)
        buyer = Buyer(card.email, card.name, card.country, card.postal_code)
        try:
            payment = (card_payment_method(ctx, card), True)
            outcome = _attempt(ctx, session, payment, buyer)
        except StripeError as refused:
            return json_response({"error": refused.message}, 402)
    return json_response(_page_answer(outcome))


Outcome = PaymentOutcome | SetupOutcome


def _attempt(ctx: Ctx, session: sessions.CheckoutSession, payment: tuple[PaymentMethod, bool],
             buyer: Buyer) -> Outcome:
    """Pay for the session, or save the card in ``setup`` mode."""
    if session.mode == "setup":
        return save_card(ctx, session.id, payment, buyer)
    return pay(ctx, session.id, payment, buyer)


@bp.post("/c/pay/<session_id>/finalize")
def finalize_from_page(session_id: str) -> Response:
    with transaction() as ctx:
        outcome = _after_challenge(ctx, sessions.retrieve_checkout_session(ctx, session_id))
    return json_response(_page_answer(outcome))


def _after_challenge(ctx: Ctx, session: sessions.CheckoutSession) -> Outcome:
    if session.mode == "setup":
        return after_setup_challenge(ctx, session.id)
    return after_challenge(ctx, session.id)


def _page_answer(outcome: Outcome) -> dict[str, Any]:
    if outcome.status in ("paid", "succeeded"):
        return {"redirect": outcome.redirect_url or f"/c/pay/{outcome.session.id}"}
    if outcome.status == "requires_action":
        return {"challenge_url": f"/c/pay/{outcome.session.id}/challenge"}
    return {"error": outcome.message or "Your card was declined."}


@bp.get("/c/pay/<session_id>/challenge")
def challenge_frame(session_id: str) -> Any:
    """Stripe.js shows the issuer's challenge in a frame inside a lightbox frame."""
    with transaction() as ctx:
        session = sessions.retrieve_checkout_session(ctx, session_id)
    intent = session.setup_intent if session.mode == "setup" else session.payment_intent
    inner = f"/_sandbox/three_d_secure/{intent}?embedded=1"
    return render_template("challenge_outer.html", inner_url=inner)


# -- the 3-D Secure test challenge ---------------------------------------------------------
@bp.get("/_sandbox/three_d_secure/<intent_id>")
def three_d_secure_page(intent_id: str) -> Any:
    if intent_id.startswith("seti_"):
        return _setup_challenge_page(intent_id)
    with transaction() as ctx:
        intent = find(ctx, intents.PaymentIntent, intent_id)
    if intent is None:
        return _message("not_found", "Page not found", "No such payment.", 404)
    if intent.status != "requires_action":
        return _message("done", "Nothing to authenticate",
                        f"This payment's status is {intent.status}.")
    embedded = request.args.get("embedded") == "1"
    return render_template(
        "three_d_secure.html", intent=intent, merchant=merchant_name(), embedded=embedded,
        amount=format_amount(intent.amount, intent.currency),
        action_url=f"/_sandbox/three_d_secure/{intent.id}")


@bp.post("/_sandbox/three_d_secure/<intent_id>")
def three_d_secure_answer(intent_id: str) -> Any:
    outcome = request.form.get("outcome", "")
    if outcome not in ("authenticate", "fail"):
        raise InvalidRequestError("outcome must be authenticate or fail", param="outcome")
    if intent_id.startswith("seti_"):
        return _setup_challenge_answer(intent_id, cast(Challenge, outcome))
    with transaction() as ctx:
        intent = intents.complete_three_d_secure(ctx, intent_id, cast(Challenge, outcome))
    if request.form.get("embedded"):
        return render_template("challenge_done.html", outcome=outcome)
    if intent.return_url:
        status = "succeeded" if intent.status in ("succeeded", "requires_capture") else "failed"
        query = urlencode({"payment_intent": intent.id,
                           "payment_intent_client_secret": intent.client_secret,
                           "redirect_status": status})
        separator = "&" if "?" in intent.return_url else "?"
        return redirect(f"{intent.return_url}{separator}{query}", code=303)
    return _message("done", "Authentication complete" if outcome == "authenticate"
                    else "Authentication failed", f"This payment's status is {intent.status}.")


def _setup_challenge_page(setup_id: str) -> Any:
    """The same test challenge for saving a card (a SetupIntent): nothing is charged."""
    with transaction() as ctx:
        setup = find(ctx, setups.SetupIntent, setup_id)
    if setup is None:
        return _message("not_found", "Page not found", "No such setup.", 404)
    if setup.status != "requires_action":
        return _message("done", "Nothing to authenticate",
                        f"This setup's status is {setup.status}.")
    return render_template(
        "three_d_secure.html", intent=setup, merchant=merchant_name(),
        embedded=request.args.get("embedded") == "1", amount="a card saved for later",
        action_url=f"/_sandbox/three_d_secure/{setup.id}")


def _setup_challenge_answer(setup_id: str, outcome: Challenge) -> Any:
    with transaction() as ctx:
        setup = setups.complete_authentication(ctx, setup_id, outcome)
    if request.form.get("embedded"):
        return render_template("challenge_done.html", outcome=outcome)
    if setup.return_url:
        query = urlencode({"setup_intent": setup.id,
                           "setup_intent_client_secret": setup.client_secret,
                           "redirect_status": "succeeded" if setup.status == "succeeded"
                           else "failed"})
        separator = "&" if "?" in setup.return_url else "?"
        return redirect(f"{setup.return_url}{separator}{query}", code=303)
    return _message("done", "Authentication complete" if outcome == "authenticate"
                    else "Authentication failed", f"This setup's status is {setup.status}.")


# -- without a browser ----------------------------------------------------------------------
@bp.post("/_sandbox/checkout/sessions/<session_id>/complete")
def complete_headless(session_id: str) -> Response:
    """Pay a session (or save the card of a ``setup`` session) as a buyer would, for
    API-only tests: ``payment_method`` (an id or ``pm_card_*``) or ``card[number]``…,
    optional ``email``/``name``, and ``three_d_secure=authenticate|fail`` for cards that
    are challenged. The answer's ``status`` is ``paid`` (``succeeded`` for a setup),
    ``requires_action`` or ``declined``, with the session and its PaymentIntent (or
    SetupIntent)."""
    params = Params(parse_form(request_pairs()))
    buyer = Buyer(params.string("email"), params.string("name"))
    challenge = cast(Challenge, params.enum("three_d_secure", ("authenticate", "fail"))
                     or "authenticate")
    with transaction() as ctx:
        session = sessions.retrieve_checkout_session(ctx, session_id)
        outcome = _attempt(ctx, session, _headless_payment(ctx, params), buyer)
        if outcome.status == "requires_action":
            _answer_challenge(ctx, outcome, challenge)
            outcome = _after_challenge(ctx, session)
        body: dict[str, Any] = {"status": outcome.status,
                                "checkout_session": render(ctx, outcome.session)}
        if isinstance(outcome, SetupOutcome):
            body["setup_intent"] = render(ctx, outcome.setup_intent)
        else:
            body["payment_intent"] = render(ctx, outcome.payment_intent) \
                if outcome.payment_intent else None
        if outcome.status == "declined":
            body["error"] = outcome.error or {"message": outcome.message}
    return json_response(body, 402 if outcome.status == "declined" else 200)


def _headless_payment(ctx: Ctx, params: Params) -> tuple[PaymentMethod, bool]:
    pm_id = params.string("payment_method")
    if pm_id is not None:
        return resolve_payment_method(ctx, pm_id, "payment_method")
    card = params.hash("card")
    if card is None:
        raise InvalidRequestError("Missing required param: card or payment_method.",
                                  code="parameter_missing", param="payment_method")
    return build_payment_method(ctx, PaymentMethodData(
        type="card", card=CardDetails.from_params(card))), True


def _answer_challenge(ctx: Ctx, outcome: Outcome, challenge: Challenge) -> None:
    if isinstance(outcome, SetupOutcome):
        setups.complete_authentication(ctx, outcome.setup_intent.id, challenge)
    elif outcome.payment_intent is not None:
        intents.complete_three_d_secure(ctx, outcome.payment_intent.id, challenge)
