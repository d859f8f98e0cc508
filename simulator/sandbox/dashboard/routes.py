"""The dashboard's pages and buttons. A page reads (``listings.py``) and renders; a
button calls one operation (``controls.py``) and sends the browser back where it was,
with what happened in the query (no cookies, no session: nothing to forge)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from simulator.sandbox.api.endpoint import json_response, runtime
from simulator.sandbox.dashboard import controls, listings, security
from simulator.sandbox.dashboard.listings import (
    format_money,
    format_relative,
    format_time,
    pretty_json,
)
from simulator.sandbox.errors import InvalidRequestError, StripeError
from simulator.sandbox.faults import ACTIONS
from simulator.sandbox.resources.base import Ctx
from simulator.sandbox.resources.charge import Charge
from simulator.sandbox.resources.checkout_session import CheckoutSession
from simulator.sandbox.resources.customer import Customer
from simulator.sandbox.resources.event import Event
from simulator.sandbox.resources.payment_intent import PaymentIntent
from simulator.sandbox.resources.webhook_endpoint import WebhookEndpoint

bp = Blueprint("dashboard", __name__, template_folder="templates", static_folder="static",
               static_url_path="/dashboard/static")
POLL_MILLISECONDS = 2_000
_LOCAL_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9_./-]*")  # never //host or /\\host
# A browser that opens one of these API lists (``trigger`` suggests /v1/events) is sent
# to the dashboard's page for it instead of a 401 for the missing key.
BROWSER_PAGES = {"/v1/events": "dashboard.events", "/v1/payment_intents": "dashboard.payments",
                 "/v1/charges": "dashboard.payments", "/v1/customers": "dashboard.customers",
                 "/v1/checkout/sessions": "dashboard.checkout_sessions",
                 "/v1/webhook_endpoints": "dashboard.webhooks"}


@bp.before_app_request
def send_browsers_to_the_dashboard() -> BaseResponse | None:
    endpoint = BROWSER_PAGES.get(request.path)
    if endpoint is None or not security.wants_page(request):
        return None
    return redirect(url_for(endpoint), code=302)


@bp.before_request
def refuse_cross_site_forms() -> tuple[str, int] | None:
    reason = security.refusal(request, runtime().config.public_url)
    if reason is None:
        return None
    return render_template("dashboard/refused.html", reason=reason, **_chrome()), 403


@bp.after_request
def add_security_headers(response: Response) -> Response:
    return security.protect(response)


@bp.context_processor
def formatting() -> dict[str, Any]:
    now = runtime().clock.timestamp()
    return {"when": format_time, "money": format_money, "pretty": pretty_json,
            "ago": lambda ts: format_relative(ts, now)}


def _chrome() -> dict[str, Any]:
    """What every page shows around its content: the clock, and what a button did."""
    rt = runtime()
    return {"clock": listings.clock_view(rt), "version": listings.state_version(rt),
            "clock_steps": controls.CLOCK_STEPS, "poll_ms": POLL_MILLISECONDS,
            "notice": request.args.get("notice"), "error": request.args.get("error")}


def _page(template: str, **context: Any) -> str:
    return render_template(f"dashboard/{template}", **_chrome(), **context)


def _ctx() -> Ctx:
    rt = runtime()
    return listings.read_ctx(rt, rt.public_url(request.host_url))


# -- pages ----------------------------------------------------------------------------------
@bp.get("/")
def home() -> str:
    rt = runtime()
    with rt.store.read():
        ctx = _ctx()
        return _page("home.html", payments=listings.page_of(ctx, PaymentIntent, limit=5),
                     sessions=listings.page_of(ctx, CheckoutSession, limit=5),
                     events=listings.page_of(ctx, Event, limit=8),
                     deliveries=listings.deliveries(rt, limit=5))


@bp.get("/dashboard")
@bp.get("/dashboard/")
def dashboard_root() -> BaseResponse:
    return redirect(url_for("dashboard.home"), code=302)


@bp.get("/dashboard/payments")
def payments() -> str:
    with runtime().store.read():
        ctx = _ctx()
        return _page("payments.html",
                     intents=listings.page_of(ctx, PaymentIntent, older_than=_older("pi")),
                     charges=listings.page_of(ctx, Charge, older_than=_older("ch")))


@bp.get("/dashboard/checkout_sessions")
def checkout_sessions() -> str:
    with runtime().store.read():
        return _page("checkout_sessions.html",
                     sessions=listings.page_of(_ctx(), CheckoutSession, older_than=_older()))


@bp.get("/dashboard/customers")
def customers() -> str:
    with runtime().store.read():
        return _page("customers.html",
                     customers=listings.page_of(_ctx(), Customer, older_than=_older()))


@bp.get("/dashboard/events")
def events() -> str:
    event_type = request.args.get("type") or None
    with runtime().store.read():
        found = listings.page_of(_ctx(), Event, older_than=_older(), event_type=event_type)
        return _page("events.html", events=found, event_type=event_type)


@bp.get("/dashboard/events/<event_id>")
def event(event_id: str) -> tuple[str, int]:
    rt = runtime()
    with rt.store.read():
        ctx = _ctx()
        shown = listings.object_json(ctx, event_id)
        if shown is None or shown.get("object") != "event":
            return _page("missing.html", what="event", object_id=event_id), 404
        return _page("event.html", event=shown,
                     deliveries=listings.deliveries(rt, event_id=event_id),
                     endpoints=listings.page_of(ctx, WebhookEndpoint).items), 200


@bp.get("/dashboard/objects/<object_id>")
def stripe_object(object_id: str) -> tuple[str, int]:
    with runtime().store.read():
        shown = listings.object_json(_ctx(), object_id)
        if shown is None:
            return _page("missing.html", what="object", object_id=object_id), 404
        return _page("object.html", obj=shown), 200


@bp.get("/dashboard/webhooks")
def webhooks() -> str:
    rt = runtime()
    endpoint_id = request.args.get("we") or None
    with rt.store.read():
        return _page("webhooks.html", endpoint_id=endpoint_id,
                     endpoints=listings.page_of(_ctx(), WebhookEndpoint).items,
                     deliveries=listings.deliveries(rt, endpoint_id=endpoint_id))


@bp.get("/dashboard/sandbox")
def sandbox() -> str:
    rt = runtime()
    return _page("sandbox.html", faults=rt.faults.list(), actions=ACTIONS,
                 switches=controls.FAULT_SWITCHES, snapshots=controls.list_snapshots(rt))


@bp.get("/dashboard/live.json")
def live() -> Response:
    """What the page polls: a version that changes with anything shown, and the time."""
    rt = runtime()
    return json_response({"version": listings.state_version(rt),
                          "clock": listings.clock_view(rt).to_dict()})


def _older(prefix: str = "") -> str | None:
    """The ``older`` cursor of this list (``older_pi`` when a page shows two lists)."""
    return request.args.get(f"older_{prefix}" if prefix else "older") or None


# -- buttons --------------------------------------------------------------------------------
def _back(notice: str | None = None, error: str | None = None) -> BaseResponse:
    """303 to the page the form was on (a path of this site only), saying what happened."""
    target = request.form.get("next") or "/"
    path = target if _LOCAL_PATH.fullmatch(target) else "/"
    query = urlencode({k: v for k, v in (("notice", notice), ("error", error)) if v})
    return redirect(f"{path}?{query}" if query else path, code=303)


def _form_int(name: str, default: int) -> int:
    raw = request.form.get(name, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError:
        raise InvalidRequestError(f"{name} must be a whole number.",
                                           param=name) from None


@bp.post("/dashboard/clock/advance")
def advance_clock() -> BaseResponse:
    rt = runtime()
    try:
        jump = controls.advance_clock(rt, _form_int("seconds", 0),
                                      rt.public_url(request.host_url))
    except StripeError as error:
        return _back(error=error.message)
    unreachable = f"; not reached: {', '.join(jump.unreachable)}" if jump.unreachable else ""
    return _back(notice=f"Clock moved to {listings.clock_view(rt).text}: {jump.jobs_run} jobs"
                        f" run, {jump.webhooks_delivered} webhooks delivered{unreachable}")


@bp.post("/dashboard/events/<event_id>/resend")
def resend_event(event_id: str) -> BaseResponse:
    rt = runtime()
    try:
        queued = controls.resend_event(rt, _ctx(), event_id, request.form.get("endpoint") or None)
    except StripeError as error:
        return _back(error=error.message)
    return _back(notice=f"Resending {event_id}: {len(queued)} delivery(ies) queued")


@bp.post("/dashboard/faults")
def add_fault() -> BaseResponse:
    try:
        controls.add_fault(runtime(), _fault_request())
    except StripeError as error:
        return _back(error=error.message)
    return _back(notice="Fault armed")


def _fault_request() -> controls.FaultRequest:
    switch = request.form.get("switch")
    if switch:
        if switch not in controls.FAULT_SWITCHES:
            raise InvalidRequestError(f"No such fault switch: {switch}", param="switch")
        return controls.FAULT_SWITCHES[switch][1]
    form = request.form
    return controls.FaultRequest(
        method=(form.get("method") or "*").upper(), path=form.get("path") or "/v1/*",
        action=form.get("action") or "error", count=_form_int("count", 1),
        status=_form_int("status", 500), retry_after=_form_int("retry_after", 1),
        delay_ms=_form_int("delay_ms", 0))


@bp.post("/dashboard/faults/clear")
def clear_faults() -> BaseResponse:
    runtime().faults.clear()
    return _back(notice="Faults cleared")


@bp.post("/dashboard/reset")
def reset() -> BaseResponse:
    controls.reset_sandbox(runtime())
    return _back(notice="Sandbox reset: every object, delivery and fault is gone")


@bp.post("/dashboard/snapshots")
def save_snapshot() -> BaseResponse:
    name = request.form.get("name", "").strip()
    try:
        controls.save_snapshot(runtime(), name)
    except StripeError as error:
        return _back(error=error.message)
    return _back(notice=f"Snapshot {name} saved")


@bp.post("/dashboard/snapshots/<name>/restore")
def restore_snapshot(name: str) -> BaseResponse:
    try:
        controls.restore_snapshot(runtime(), name)
    except StripeError as error:
        return _back(error=error.message)
    return _back(notice=f"Snapshot {name} restored")
