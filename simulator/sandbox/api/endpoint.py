"""The one wrapper every /v1 route goes through: parameters in, Stripe JSON out.

A route is a plain function ``(ctx, params, **url_args) -> result``; the wrapper builds
the context, runs the function inside one database transaction (with the idempotency
protocol for POSTs), renders the result with ``expand[]`` applied and refuses leftover
parameters. Card errors commit the state they record (a failed charge, the
PaymentIntent's ``last_payment_error``) before answering 402, as Stripe does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Response, current_app, g, request

from simulator.sandbox import codec
from simulator.sandbox.api import idempotency
from simulator.sandbox.errors import CardError, InvalidRequestError, StripeError
from simulator.sandbox.params import Params, parse_form
from simulator.sandbox.resources.base import (
    Ctx,
    StripeObject,
    list_object,
    parse_expand,
    render,
)
from simulator.sandbox.runtime import Runtime


@dataclass
class ListResult:
    """What a list operation returns; rendered as Stripe's list object."""

    url: str
    items: list[StripeObject]
    has_more: bool


@dataclass(frozen=True)
class SearchResult:
    """What a search returns; rendered as Stripe's ``search_result`` object
    (https://docs.stripe.com/api/pagination/search)."""

    url: str
    items: list[StripeObject]
    has_more: bool
    next_page: str | None
    total_count: int


Operation = Callable[..., Any]


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["sandbox"]
    return rt


def request_pairs() -> list[tuple[str, str]]:
    pairs = list(request.args.items(multi=True))
    if request.method in ("POST", "DELETE"):
        # Werkzeug silently drops a whole form that is not UTF-8; refuse it instead.
        try:
            request.get_data(cache=True).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRequestError(
                "Invalid request body: parameters must be UTF-8 form data"
                " (application/x-www-form-urlencoded)."
            ) from None
        pairs += list(request.form.items(multi=True))
    return pairs


_HOST_URLS: dict[tuple[Any, ...], str] = {}
_HOST_URLS_KEPT = 256


def host_url() -> str:
    """``request.host_url``, remembered per scheme, host and script root: Werkzeug
    rebuilds and decodes it on every call, which costs a few percent of a request."""
    environ = request.environ
    key = (environ.get("wsgi.url_scheme"), environ.get("HTTP_HOST"),
           environ.get("SERVER_NAME"), environ.get("SERVER_PORT"), environ.get("SCRIPT_NAME"))
    url = _HOST_URLS.get(key)
    if url is None:
        if len(_HOST_URLS) >= _HOST_URLS_KEPT:  # Host headers are the client's to choose
            _HOST_URLS.clear()
        url = _HOST_URLS[key] = request.host_url
    return url


def make_ctx(rt: Runtime) -> Ctx:
    return Ctx(
        store=rt.store,
        now=rt.clock.timestamp(),
        ids=rt.ids,
        api_version=g.api_version,
        base_url=rt.public_url(host_url()),
        request_id=g.request_id,
        idempotency_key=g.get("idempotency_key"),
        sink=rt.event_sink,
    )


def stripe_endpoint(operation: Operation) -> Callable[..., Response]:
    """Wrap an operation as a /v1 route (reads, writes and idempotent POSTs alike)."""

    @functools.wraps(operation)
    def view(**url_args: Any) -> Response:
        rt = runtime()
        pairs = request_pairs()
        params = Params(parse_form(pairs))
        expand = parse_expand(params.strings("expand"))
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        if key is None:
            status, body = _run(rt, operation, params, expand, url_args, key=None)
            return encoded_json_response(body, status)
        idempotency.check_key(key)
        g.idempotency_key = key
        endpoint = request.path
        print_ = idempotency.fingerprint(request.method, endpoint, pairs)
        if g.get("faults_armed", True) and rt.faults.armed():
            stored, status, body = _run_claimed_apart(rt, operation, params, expand, url_args,
                                                      key, print_)
        else:
            # One transaction claims the key, runs the operation and stores the result:
            # writers are serialised, so a concurrent request with the same key waits for
            # this one and then replays its result.
            with rt.store.transaction():
                stored = idempotency.claim(rt.store, key, endpoint, print_, rt.clock.now(),
                                           g.request_id)
                if stored is None:
                    status, body = _run(rt, operation, params, expand, url_args, key=key)
        if stored is not None:
            response = json_response(stored.body, stored.status)
            response.headers["Idempotent-Replayed"] = "true"
            response.headers["Original-Request"] = stored.request_id
            return response
        response = encoded_json_response(body, status)
        response.headers["Original-Request"] = g.request_id
        return response

    return view


def _run_claimed_apart(
    rt: Runtime,
    operation: Operation,
    params: Params,
    expand: list[list[str]],
    url_args: dict[str, Any],
    key: str,
    print_: str,
) -> tuple[idempotency.StoredResponse | None, int, bytes]:
    """The key claimed in its own transaction, visible as in flight (409) while a fault
    holds the request between the claim and the operation."""
    stored = idempotency.claim(rt.store, key, request.path, print_, rt.clock.now(), g.request_id)
    if stored is not None:
        return stored, 0, b""
    rt.faults.after_claim(request.method, request.path)
    try:
        status, body = _run(rt, operation, params, expand, url_args, key=key)
    except BaseException:
        idempotency.release(rt.store, key)
        raise
    return None, status, body


def _run(
    rt: Runtime,
    operation: Operation,
    params: Params,
    expand: list[list[str]],
    url_args: dict[str, Any],
    key: str | None,
) -> tuple[int, bytes]:
    """The answer's status and its JSON, encoded once for the response and the stored
    idempotent result alike."""
    writes = request.method != "GET"
    with rt.store.transaction() if writes else rt.store.read():
        ctx = make_ctx(rt)
        try:
            result = operation(ctx, params, **url_args)
            params.finish()
            status, body = 200, render_result(ctx, result, expand)
        except CardError as error:
            status, body = (
                error.status,
                error.to_dict(rt.request_log_url(request.host_url, g.request_id)),
            )
        encoded = codec.dumps(body)
        if key is not None:
            idempotency.complete(rt.store, key, status, encoded)
    if status == 402:
        rt.log_request_error(g.request_id, request.method, request.path, status, body)
    return status, encoded


def render_result(ctx: Ctx, result: Any, expand: list[list[str]]) -> dict[str, Any]:
    if isinstance(result, StripeObject):
        return render(ctx, result, expand)
    if isinstance(result, ListResult):
        item_paths = []
        for path in expand:
            if path[0] != "data" or len(path) < 2:
                name = ".".join(path)
                raise InvalidRequestError(
                    f"This property cannot be expanded ({name}). You may want to try expanding"
                    f" 'data.{name}' instead.",
                    param="expand",
                )
            item_paths.append(path[1:])
        data = [render(ctx, item, item_paths) for item in result.items]
        return list_object(result.url, data, result.has_more)
    if isinstance(result, SearchResult):
        return _search_result(ctx, result, expand)
    if isinstance(result, dict):
        return result
    raise TypeError(f"cannot render {type(result).__name__}")


def _search_result(ctx: Ctx, result: SearchResult, expand: list[list[str]]) -> dict[str, Any]:
    """Items expand as ``data.<field>``; ``total_count`` appears only when expanded."""
    for path in expand:
        if path != ["total_count"] and (path[0] != "data" or len(path) < 2):
            name = ".".join(path)
            raise InvalidRequestError(
                f"This property cannot be expanded ({name}). You may want to try expanding"
                f" 'data.{name}' instead.", param="expand")
    item_paths = [path[1:] for path in expand if path[0] == "data"]
    body: dict[str, Any] = {
        "object": "search_result", "url": result.url, "has_more": result.has_more,
        "data": [render(ctx, item, item_paths) for item in result.items],
        "next_page": result.next_page}
    if ["total_count"] in expand:
        body["total_count"] = result.total_count
    return body


def json_response(body: dict[str, Any], status: int = 200) -> Response:
    return encoded_json_response(codec.dumps(body), status)


def encoded_json_response(body: bytes, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="application/json")


def error_response(error: StripeError) -> Response:
    rt = runtime()
    request_id = g.get("request_id", "")
    body = error.to_dict(rt.request_log_url(request.host_url, request_id) if request_id else None)
    response = json_response(body, error.status)
    for name, value in error.headers.items():
        response.headers[name] = value
    rt.log_request_error(request_id, request.method, request.path, error.status, body)
    return response
