"""Confirming a PaymentIntent with a card, and completing its 3-D Secure challenge
(https://docs.stripe.com/payments/paymentintents/lifecycle).

Confirmation is :func:`confirm_with_payment_method`, a function of a PaymentIntent and a
PaymentMethod that every entry point shares (the API's ``confirm``, ``create`` with
``confirm=true``, the 3-D Secure page through :func:`complete_authentication`, and hosted
checkout): it asks for 3-D Secure or authorizes a charge. A decline is recorded (failed
charge, ``last_payment_error``, events) and then returned as the CardError that the API
answers with 402; the request's transaction commits that record, as Stripe's does.

The PaymentIntent arrives loaded and is seen through :class:`ConfirmablePayment`, the few
fields confirmation reads and sets: this module never imports the PaymentIntent's module, so
that :mod:`.payment_intent` builds on it without a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal, Protocol, TypeVar

from simulator.sandbox import cards
from simulator.sandbox.errors import DOC_URL, CardError, InvalidRequestError
from simulator.sandbox.resources import bank_debit, bank_transfer
from simulator.sandbox.resources import charge as charges
from simulator.sandbox.resources import dispute as disputes
from simulator.sandbox.resources.base import Ctx, Storable, previous_attributes, save
from simulator.sandbox.resources.payment_method import (
    CONSUMED_MESSAGE,
    PaymentMethod,
    load_payment_method,
)

# A PaymentIntent's status (https://docs.stripe.com/payments/paymentintents/lifecycle).
Status = Literal[
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
    "processing",
    "requires_capture",
    "canceled",
    "succeeded",
]


class ConfirmablePayment(charges.ChargedPayment, Storable, Protocol):
    """What confirming a payment and its 3-D Secure step read and change on the intent."""

    status: Status
    confirmation_method: str
    payment_method: str | None
    setup_future_usage: str | None
    latest_charge: str | None
    last_payment_error: dict[str, Any] | None
    amount_capturable: int
    amount_received: int
    card_options: dict[str, str]
    return_url: str | None
    return_url_required: bool
    authenticated_with: str | None
    payment_method_types: list[str]
    automatic_payment_methods: dict[str, Any] | None
    balance_options: dict[str, Any] | None
    funding: dict[str, Any] | None
    cash_applied: int

    @property
    def effective_capture_method(self) -> str: ...

    def serialize(self, ctx: Ctx) -> dict[str, Any]: ...

    def unexpected_state(self, ctx: Ctx, message: str, param: str | None = None
                         ) -> InvalidRequestError: ...


Payment = TypeVar("Payment", bound=ConfirmablePayment)

CONFIRMABLE: tuple[Status, ...] = (
    "requires_payment_method", "requires_confirmation", "requires_action"
)
MISSING_PAYMENT_METHOD = (
    "You cannot confirm this PaymentIntent because it's missing a payment method. You can"
    " either update the PaymentIntent with a payment method and then confirm it again, or"
    " confirm it again directly with a payment method or ConfirmationToken."
)
AUTHENTICATION_FAILED = (
    "The provided PaymentMethod has failed authentication. You can provide"
    " payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent"
    " again."
)
RETURN_URL_REQUIRED = (
    "A `return_url` must be specified because this Payment Intent is configured to"
    " automatically accept the payment methods enabled in the Dashboard, some of which may"
    " require a full page redirect to succeed. If you do not want to accept redirect-based"
    " payment methods, set `automatic_payment_methods[enabled]` to `true` and"
    " `automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and"
    " Payment Intents."
)


# -- one confirmation -------------------------------------------------------------------
@dataclass(frozen=True)
class Attempt:
    """How one confirmation is made (not stored on the PaymentIntent; the API reads it in
    ``payment_intent_requests.ConfirmOptions``)."""

    off_session: bool = False
    error_on_requires_action: bool = False


# -- confirming -------------------------------------------------------------------------
def check_usable(pi: ConfirmablePayment, pm: PaymentMethod) -> None:
    """A customer's PaymentMethod pays only that customer's PaymentIntents; one used
    without a customer, or detached, never pays again."""
    if pm.consumed:
        raise InvalidRequestError(CONSUMED_MESSAGE, param="payment_method")
    if pm.customer is not None and pi.customer is None:
        raise InvalidRequestError(
            f"The `payment_method` parameter supplied {pm.id} belongs to the Customer"
            f" {pm.customer}. Please include the Customer in the `customer` parameter on the"
            " PaymentIntent.", param="payment_method")
    if pm.customer is not None and pm.customer != pi.customer:
        raise InvalidRequestError(
            f"The customer does not have a payment method with the ID {pm.id}. The payment"
            " method must be attached to the customer.", param="payment_method")


def _cannot_confirm(ctx: Ctx, pi: ConfirmablePayment) -> InvalidRequestError:
    if pi.status == "succeeded":
        return pi.unexpected_state(ctx, "You cannot confirm this PaymentIntent because it has"
                                    " already succeeded after being previously confirmed.")
    return pi.unexpected_state(
        ctx,
        f"You cannot confirm this PaymentIntent because it has a status of {pi.status}. Only a"
        " PaymentIntent with one of the following statuses may be confirmed:"
        f" {', '.join(CONFIRMABLE)}.",
    )


def confirm_payment(ctx: Ctx, pi: Payment, payment: tuple[PaymentMethod, bool] | None,
                    attempt: Attempt) -> Payment:
    """Confirm with ``payment`` (a PaymentMethod and whether it is new and unsaved) or
    the one already on ``pi``; saves both and raises the CardError of a decline. Every
    entry point (the API, the hosted checkout page) confirms through here."""
    if pi.status not in CONFIRMABLE:
        raise _cannot_confirm(ctx, pi)
    if payment is None and pi.payment_method is None:
        raise pi.unexpected_state(ctx, MISSING_PAYMENT_METHOD)
    if payment is None:
        assert pi.payment_method is not None
        payment = (load_payment_method(ctx, pi.payment_method, "payment_method"), False)
    pm, fresh = payment
    check_usable(pi, pm)
    if pi.return_url_required and pi.return_url is None and not attempt.off_session:
        raise InvalidRequestError(RETURN_URL_REQUIRED)
    before = None if fresh else pm.state()
    failure = confirm_with_payment_method(ctx, pi, pm, attempt)
    save(ctx, pi)
    if fresh or pm.state() != before:
        save(ctx, pm)
    if failure is not None:
        raise failure
    return pi


# -- 3-D Secure gate, then authorization or decline -------------------------------------
class Gate(Enum):
    """Where 3-D Secure leaves a confirmation (https://docs.stripe.com/payments/3d-secure)."""

    PROCEED = "proceed"
    CHALLENGE = "challenge"
    FRICTIONLESS = "frictionless"
    AUTHENTICATED = "authenticated"
    OFF_SESSION_REFUSED = "off_session_refused"
    ATTEMPT_ERROR = "attempt_error"


def authentication_gate(pi: ConfirmablePayment, pm: PaymentMethod, attempt: Attempt) -> Gate:
    """Cards that require 3DS ask for it on session and are declined off session unless
    set up; any supporting card asks when ``request_three_d_secure`` is ``any`` or
    ``challenge`` (https://docs.stripe.com/payments/3d-secure/authentication-flow)."""
    three_ds = pm.profile().three_ds
    if pi.authenticated_with == pm.id:
        return Gate.AUTHENTICATED
    if three_ds is cards.ThreeDS.FRICTIONLESS:
        return Gate.FRICTIONLESS
    if attempt.off_session:
        refused = three_ds is cards.ThreeDS.REQUIRED or (
            three_ds is cards.ThreeDS.REQUIRED_UNLESS_SET_UP and pm.customer is None)
        return Gate.OFF_SESSION_REFUSED if refused else Gate.PROCEED
    if three_ds.required:
        return Gate.CHALLENGE
    requested = pi.card_options.get("request_three_d_secure") in ("any", "challenge")
    if requested and three_ds is cards.ThreeDS.OPTIONAL:
        return Gate.CHALLENGE
    if requested and three_ds is cards.ThreeDS.OPTIONAL_ERROR:
        return Gate.ATTEMPT_ERROR
    return Gate.PROCEED


def confirm_with_payment_method(
    ctx: Ctx, pi: ConfirmablePayment, pm: PaymentMethod, attempt: Attempt | None = None
) -> CardError | None:
    """Confirm ``pi`` with ``pm`` in memory (the caller saves both): ask for 3-D Secure,
    or authorize a charge. Returns the CardError of a decline, already recorded."""
    attempt = attempt or Attempt()
    if pm.type == bank_transfer.METHOD:
        bank_transfer.start_funding(ctx, pi, pm)
        return None
    bank_transfer.stop_funding(ctx, pi)
    if not pm.is_card:
        bank_debit.start_debit(ctx, pi, pm, _charge_id(ctx, pi))
        return None
    pi.payment_method = pm.id
    pi.last_payment_error = None
    gate = authentication_gate(pi, pm, attempt)
    if gate is Gate.CHALLENGE and not attempt.error_on_requires_action:
        pi.status = "requires_action"
        ctx.emit("payment_intent.requires_action", pi)
        return None
    three_ds = None
    if gate in (Gate.FRICTIONLESS, Gate.AUTHENTICATED):
        flow: Literal["challenge", "frictionless"] = (
            "frictionless" if gate is Gate.FRICTIONLESS else "challenge")
        three_ds = charges.three_d_secure_details(ctx, pm.brand, flow)
    return _authorize(ctx, pi, pm, _decline_for(pm, gate), three_ds)


def _decline_for(pm: PaymentMethod, gate: Gate) -> cards.Decline | None:
    if gate in (Gate.OFF_SESSION_REFUSED, Gate.CHALLENGE):  # CHALLENGE: error_on_requires_action
        return cards.AUTHENTICATION_REQUIRED
    if gate is Gate.ATTEMPT_ERROR:
        return cards.PROCESSING_ERROR
    profile = pm.profile()
    decline = profile.decline or profile.decline_after_auth
    if decline is not None and decline.code == "incorrect_cvc" and not pm.cvc_provided:
        return None  # "Stripe skips the CVC check if it is omitted"
    return decline


def _charge_id(ctx: Ctx, pi: ConfirmablePayment) -> str:
    return charges.attempt_id(ctx, pi.id, pi.latest_charge)


def _authorize(ctx: Ctx, pi: ConfirmablePayment, pm: PaymentMethod, decline: cards.Decline | None,
               three_ds: dict[str, Any] | None) -> CardError | None:
    charge = charges.authorize(ctx, charge_id=_charge_id(ctx, pi), payment_intent=pi,
                               payment_method=pm, decline=decline, three_d_secure=three_ds)
    pi.latest_charge = charge.id
    if decline is not None:
        return _record_decline(ctx, pi, pm, charge, decline)
    _record_authorization(ctx, pi, pm, charge)
    return None


def _record_authorization(ctx: Ctx, pi: ConfirmablePayment, pm: PaymentMethod,
                          charge: charges.Charge) -> None:
    _keep_payment_method(ctx, pi, pm)
    if pi.effective_capture_method == "manual":
        pi.status = "requires_capture"
        pi.amount_capturable = pi.amount
        save(ctx, charge)
        ctx.emit("charge.succeeded", charge)
        ctx.emit("payment_intent.amount_capturable_updated", pi)
        return
    # automatic_async captures in the background on Stripe; the sandbox captures at once
    # so that the balance transaction is there when the response is.
    charges.capture(ctx, charge, pi.amount)
    pi.status = "succeeded"
    pi.amount_received = pi.amount
    save(ctx, charge)
    ctx.emit("charge.succeeded", charge)
    ctx.emit("payment_intent.succeeded", pi)
    disputes.open_dispute(ctx, charge)


def _keep_payment_method(ctx: Ctx, pi: ConfirmablePayment, pm: PaymentMethod) -> None:
    """``setup_future_usage`` with a customer attaches the card once it is authorized
    (https://docs.stripe.com/payments/save-during-payment); otherwise a card used without
    a customer is spent."""
    if pm.customer is not None:
        return
    saving = pi.setup_future_usage or pi.card_options.get("setup_future_usage", "none") != "none"
    if pi.customer is not None and saving:
        before = pm.serialize(ctx)
        pm.customer = pi.customer
        ctx.emit("payment_method.attached", pm, previous_attributes(before, pm.serialize(ctx)))
    else:
        pm.consumed = True


def _payment_error(decline: cards.Decline, charge_id: str | None, pm: dict[str, Any],
                   error_type: str = "card_error") -> dict[str, Any]:
    """``last_payment_error``: the error the API answered with, and the PaymentMethod."""
    error: dict[str, Any] = {}
    if decline.advice_code:
        error["advice_code"] = decline.advice_code
    if charge_id:
        error["charge"] = charge_id
    error.update({"code": decline.code, "decline_code": decline.decline_code,
                  "doc_url": DOC_URL.format(code=decline.code.replace("_", "-")),
                  "message": decline.message})
    if decline.param:
        error["param"] = decline.param
    error.update({"payment_method": pm, "type": error_type})
    return error


def _record_decline(ctx: Ctx, pi: ConfirmablePayment, pm: PaymentMethod, charge: charges.Charge,
                    decline: cards.Decline) -> CardError:
    """Back to ``requires_payment_method`` with ``last_payment_error``; the failed charge
    and both events are kept (https://docs.stripe.com/declines)."""
    save(ctx, charge)
    pm_data = pm.serialize(ctx)
    pi.status = "requires_payment_method"
    pi.payment_method = None
    pi.authenticated_with = None
    pi.last_payment_error = _payment_error(decline, charge.id, pm_data)
    ctx.emit("charge.failed", charge)
    ctx.emit("payment_intent.payment_failed", pi)
    extra: dict[str, Any] = {"charge": charge.id}
    if decline.advice_code:
        extra["advice_code"] = decline.advice_code
    extra.update({"payment_intent": pi.serialize(ctx), "payment_method": pm_data})
    return CardError(decline.message, code=decline.code, param=decline.param,
                     decline_code=decline.decline_code, extra=extra)



# -- 3-D Secure, completed on the sandbox's authentication page --------------------------
def complete_authentication(
    ctx: Ctx, pi: Payment, outcome: Literal["authenticate", "fail"]
) -> Payment:
    """The customer passes or fails the challenge. Passing confirms the payment (or, with
    ``confirmation_method=manual``, waits for the server's confirm); failing returns the
    PaymentIntent to ``requires_payment_method`` with
    ``payment_intent_authentication_failure``."""
    if pi.status != "requires_action" or pi.payment_method is None or pi.funding is not None:
        raise pi.unexpected_state(
            ctx, f"This PaymentIntent has no pending 3D Secure authentication; its status"
            f" is {pi.status}.")
    pm = load_payment_method(ctx, pi.payment_method, "payment_method")
    before = pm.state()
    if outcome == "fail":
        _fail_authentication(ctx, pi, pm)
    elif pi.confirmation_method == "manual":
        pi.authenticated_with = pm.id
        pi.status = "requires_confirmation"
    else:
        pi.authenticated_with = pm.id
        confirm_with_payment_method(ctx, pi, pm)
    save(ctx, pi)
    if pm.state() != before:
        save(ctx, pm)
    return pi


def _fail_authentication(ctx: Ctx, pi: ConfirmablePayment, pm: PaymentMethod) -> None:
    failure = cards.Decline(code="payment_intent_authentication_failure", decline_code="",
                            message=AUTHENTICATION_FAILED)
    error = _payment_error(failure, None, pm.serialize(ctx), "invalid_request_error")
    del error["decline_code"]
    pi.status = "requires_payment_method"
    pi.payment_method = None
    pi.last_payment_error = error
    ctx.emit("payment_intent.payment_failed", pi)
