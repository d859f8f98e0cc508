"""SetupIntents (https://docs.stripe.com/api/setup_intents): saving a card for later
payments without charging it.

Confirming checks the card as attaching would: a card that simulates an issuer decline
fails the setup (``setup_intent.setup_failed``, a 402 ``card_error`` carrying the
SetupIntent); a card that requires 3-D Secure, or any supporting card when
``payment_method_options[card][request_three_d_secure]`` is ``any``/``challenge``, waits in
``requires_action`` for the sandbox's challenge page (or its control route); otherwise the
setup succeeds and the PaymentMethod is attached to the customer, if there is one. A card
set up this way is then charged off session without a new challenge where Stripe allows it
(``authenticationRequiredOnSetup``: https://docs.stripe.com/testing#authentication-and-setup).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from simulator.sandbox import cards, versions
from simulator.sandbox.errors import DOC_URL, CardError, InvalidRequestError, parameter_unknown
from simulator.sandbox.params import apply_metadata
from simulator.sandbox.resources.base import Ctx, StripeObject, load, save
from simulator.sandbox.resources.common import UNSET, Cancellation
from simulator.sandbox.resources.customer import Customer
from simulator.sandbox.resources.payment_method import (
    PaymentMethod,
    attach,
    chosen_payment_method,
    load_payment_method,
)
from simulator.sandbox.resources.setup_intent_requests import (
    SetupIntentConfirm,
    SetupIntentCreate,
    SetupIntentFields,
    SetupIntentUpdate,
)

Status = Literal["requires_payment_method", "requires_confirmation", "requires_action",
                 "processing", "canceled", "succeeded"]
CANCELLATION_REASONS = ("abandoned", "requested_by_customer", "duplicate")
CONFIRMABLE: tuple[Status, ...] = ("requires_payment_method", "requires_confirmation",
                                   "requires_action")
CANCELABLE: tuple[Status, ...] = ("requires_payment_method", "requires_confirmation",
                                  "requires_action")
AUTHENTICATION_FAILED = (
    "The latest attempt to set up the payment method has failed because authentication"
    " failed.")


@dataclass(kw_only=True)
class SetupIntent(StripeObject):
    OBJECT = "setup_intent"
    PREFIX = "seti"
    NOUN = "setup_intent"
    FILTERS = ("customer", "payment_method")
    EXPANDABLE = frozenset({"customer", "payment_method", "latest_attempt", "mandate",
                            "on_behalf_of", "single_use_mandate", "application"})

    client_secret: str
    status: Status = "requires_payment_method"
    usage: str = "off_session"
    customer: str | None = None
    description: str | None = None
    payment_method: str | None = None
    payment_method_types: list[str] = field(default_factory=lambda: ["card"])
    automatic_payment_methods: dict[str, Any] | None = None
    request_three_d_secure: str = "automatic"
    last_setup_error: dict[str, Any] | None = None
    cancellation_reason: str | None = None
    return_url: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    def next_action(self, ctx: Ctx) -> dict[str, Any] | None:
        if self.status != "requires_action":
            return None
        url = f"{ctx.base_url}/_sandbox/three_d_secure/{self.id}"
        return {"redirect_to_url": {"return_url": self.return_url, "url": url},
                "type": "redirect_to_url"}

    def serialize(self, ctx: Ctx) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "object": "setup_intent",
            "application": None,
            "automatic_payment_methods": self.automatic_payment_methods,
            "cancellation_reason": self.cancellation_reason,
            "client_secret": self.client_secret,
            "created": self.created,
            "customer": self.customer,
            "description": self.description,
            "excluded_payment_method_types": None,
            "flow_directions": None,
            "last_setup_error": self.last_setup_error,
            "latest_attempt": None,
            "livemode": False,
            "mandate": None,
            "metadata": dict(self.metadata),
            "next_action": self.next_action(ctx),
            "on_behalf_of": None,
            "payment_method": self.payment_method,
            "payment_method_configuration_details": None,
            "payment_method_options": {"card": {
                "mandate_options": None, "network": None,
                "request_three_d_secure": self.request_three_d_secure}},
            "payment_method_types": list(self.payment_method_types),
            "single_use_mandate": None,
            "status": self.status,
            "usage": self.usage,
        }
        if versions.at_least(ctx.api_version, "endive"):
            data["allowed_payment_method_types"] = list(self.payment_method_types)
        return data

    def unexpected_state(self, ctx: Ctx, message: str) -> InvalidRequestError:
        return InvalidRequestError(message, code="setup_intent_unexpected_state",
                                   extra={"setup_intent": self.serialize(ctx)})


# -- operations -------------------------------------------------------------------------
def _set_fields(ctx: Ctx, seti: SetupIntent, fields: SetupIntentFields) -> None:
    if fields.customer is not UNSET:
        customer = fields.customer
        seti.customer = load(ctx, Customer, customer, "customer").id if customer else None
    if fields.description is not UNSET:
        seti.description = fields.description
    seti.metadata = apply_metadata(seti.metadata, fields.metadata)
    seti.request_three_d_secure = fields.request_three_d_secure or seti.request_three_d_secure


def create_setup_intent(ctx: Ctx, request: SetupIntentCreate) -> SetupIntent:
    seti_id = f"seti_1{ctx.ids.sortable(23)}"
    seti = SetupIntent(id=seti_id, created=ctx.now,
                       client_secret=f"{seti_id}_secret_{ctx.ids.token(25)}")
    seti.usage = request.usage
    _set_fields(ctx, seti, request.fields)
    if request.payment_method_types is not None and not versions.accepts_payment_method_types(
            ctx.api_version):
        raise parameter_unknown("payment_method_types")
    seti.automatic_payment_methods = request.automatic_payment_methods
    payment = chosen_payment_method(ctx, request.payment_method)
    seti.return_url = request.return_url
    if payment is not None:
        seti.payment_method = payment[0].id
        seti.status = "requires_confirmation"
    ctx.emit("setup_intent.created", seti)
    if request.confirm:
        if payment is None:
            raise InvalidRequestError(
                "You cannot confirm this SetupIntent because it's missing a payment method."
                " You can update the SetupIntent with a payment method and then confirm it"
                " again.", code="setup_intent_unexpected_state", param="payment_method")
        return _confirm(ctx, seti, *payment)
    _save_new_payment_method(ctx, payment)
    save(ctx, seti)
    return seti


def create_checkout_setup_intent(ctx: Ctx, customer: str | None, data: dict[str, Any],
                                 request_three_d_secure: str | None) -> SetupIntent:
    """The SetupIntent a ``setup`` Checkout Session is made with: card only, for off
    session use, waiting for the card the customer enters on the page."""
    seti_id = f"seti_1{ctx.ids.sortable(23)}"
    seti = SetupIntent(id=seti_id, created=ctx.now, customer=customer,
                       client_secret=f"{seti_id}_secret_{ctx.ids.token(25)}",
                       description=data.get("description"),
                       metadata=dict(data.get("metadata") or {}),
                       request_three_d_secure=request_three_d_secure or "automatic")
    save(ctx, seti)
    ctx.emit("setup_intent.created", seti)
    return seti


def confirm_with_payment_method(ctx: Ctx, seti: SetupIntent, pm: PaymentMethod,
                                fresh: bool) -> SetupIntent:
    """Confirm with the card the customer entered (``fresh``: not stored yet); a decline
    is raised as a ``CardError`` once its state is saved."""
    if seti.status not in CONFIRMABLE:
        raise seti.unexpected_state(
            ctx, f"You cannot confirm this SetupIntent because it has a status of"
            f" {seti.status}.")
    return _confirm(ctx, seti, pm, fresh)


def set_customer(ctx: Ctx, seti: SetupIntent, customer_id: str) -> None:
    seti.customer = customer_id
    save(ctx, seti)


def _save_new_payment_method(ctx: Ctx, payment: tuple[PaymentMethod, bool] | None) -> None:
    if payment is not None and payment[1]:
        save(ctx, payment[0])


def retrieve_setup_intent(ctx: Ctx, seti_id: str) -> SetupIntent:
    return load(ctx, SetupIntent, seti_id)


def update_setup_intent(ctx: Ctx, seti_id: str, request: SetupIntentUpdate) -> SetupIntent:
    seti = load(ctx, SetupIntent, seti_id)
    if seti.status in ("succeeded", "canceled", "processing"):
        raise seti.unexpected_state(
            ctx, f"You cannot update this SetupIntent because it has a status of"
            f" {seti.status}.")
    _set_fields(ctx, seti, request.fields)
    payment = chosen_payment_method(ctx, request.payment_method)
    if payment is not None:
        _save_new_payment_method(ctx, payment)
        seti.payment_method = payment[0].id
        seti.status = "requires_confirmation"
    save(ctx, seti)
    return seti


def confirm_setup_intent(ctx: Ctx, seti_id: str, request: SetupIntentConfirm) -> SetupIntent:
    seti = load(ctx, SetupIntent, seti_id)
    payment = chosen_payment_method(ctx, request.payment_method)
    seti.return_url = request.return_url or seti.return_url
    if seti.status not in CONFIRMABLE:
        raise seti.unexpected_state(
            ctx, f"You cannot confirm this SetupIntent because it has a status of"
            f" {seti.status}.")
    if payment is None:
        if seti.payment_method is None:
            raise InvalidRequestError(
                "You cannot confirm this SetupIntent because it's missing a payment method."
                " You can update the SetupIntent with a payment method and then confirm it"
                " again.", code="setup_intent_unexpected_state", param="payment_method")
        payment = (load_payment_method(ctx, seti.payment_method, "payment_method"), False)
    return _confirm(ctx, seti, *payment)


def cancel_setup_intent(ctx: Ctx, seti_id: str, request: Cancellation) -> SetupIntent:
    seti = load(ctx, SetupIntent, seti_id)
    reason = request.reason
    if seti.status not in CANCELABLE:
        raise seti.unexpected_state(
            ctx, f"You cannot cancel this SetupIntent because it has a status of"
            f" {seti.status}.")
    seti.status, seti.cancellation_reason = "canceled", reason
    save(ctx, seti)
    ctx.emit("setup_intent.canceled", seti)
    return seti


# -- confirmation -----------------------------------------------------------------------
def _confirm(ctx: Ctx, seti: SetupIntent, pm: PaymentMethod, fresh: bool) -> SetupIntent:
    """Check the card as attaching would, ask for 3-D Secure where the card or the
    options want it, else succeed and attach."""
    seti.payment_method, seti.last_setup_error = pm.id, None
    profile = pm.profile()
    if profile.declines_on_attach and profile.decline is not None:
        _fail(ctx, seti, pm, fresh, profile.decline)
    if _needs_challenge(seti, profile):
        seti.status = "requires_action"
        if fresh:
            save(ctx, pm)
        save(ctx, seti)
        ctx.emit("setup_intent.requires_action", seti)
        return seti
    _succeed(ctx, seti, pm, fresh)
    return seti


def _needs_challenge(seti: SetupIntent, profile: cards.CardProfile) -> bool:
    three_ds = profile.three_ds
    if three_ds is cards.ThreeDS.FRICTIONLESS:
        return False
    if three_ds.required:
        return True
    return seti.request_three_d_secure in ("any", "challenge") and three_ds.supported


def _succeed(ctx: Ctx, seti: SetupIntent, pm: PaymentMethod, fresh: bool) -> None:
    seti.status = "succeeded"
    if seti.customer is not None and pm.customer != seti.customer:
        attach(ctx, pm, seti.customer)  # saves the PaymentMethod
    elif fresh:
        save(ctx, pm)
    save(ctx, seti)
    ctx.emit("setup_intent.succeeded", seti)


def _fail(ctx: Ctx, seti: SetupIntent, pm: PaymentMethod, fresh: bool,
          decline: cards.Decline) -> None:
    """Back to ``requires_payment_method`` with ``last_setup_error``; raised as Stripe's
    402, which carries the SetupIntent (the state is committed before the answer)."""
    pm_data = pm.serialize(ctx)
    seti.last_setup_error = {
        "code": decline.code, "decline_code": decline.decline_code,
        "doc_url": DOC_URL.format(code=decline.code.replace("_", "-")),
        "message": decline.message, "payment_method": pm_data, "type": "card_error"}
    seti.status, seti.payment_method = "requires_payment_method", None
    if fresh:
        save(ctx, pm)
    save(ctx, seti)
    ctx.emit("setup_intent.setup_failed", seti)
    raise CardError(decline.message, code=decline.code, param=decline.param,
                    decline_code=decline.decline_code,
                    extra={"setup_intent": seti.serialize(ctx), "payment_method": pm_data})


def complete_authentication(ctx: Ctx, seti_id: str,
                            outcome: Literal["authenticate", "fail"]) -> SetupIntent:
    """The customer passes or fails the challenge of a SetupIntent in ``requires_action``."""
    seti = load(ctx, SetupIntent, seti_id)
    if seti.status != "requires_action" or seti.payment_method is None:
        raise seti.unexpected_state(
            ctx, f"This SetupIntent has no pending 3D Secure authentication; its status is"
            f" {seti.status}.")
    pm = load_payment_method(ctx, seti.payment_method, "payment_method")
    if outcome == "authenticate":
        _succeed(ctx, seti, pm, fresh=False)
        return seti
    seti.last_setup_error = {
        "code": "setup_intent_authentication_failure",
        "doc_url": DOC_URL.format(code="setup-intent-authentication-failure"),
        "message": AUTHENTICATION_FAILED, "payment_method": pm.serialize(ctx),
        "type": "invalid_request_error"}
    seti.status, seti.payment_method = "requires_payment_method", None
    save(ctx, seti)
    ctx.emit("setup_intent.setup_failed", seti)
    return seti
