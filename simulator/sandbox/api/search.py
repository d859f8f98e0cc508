"""/v1/{customers,charges,payment_intents,prices,products}/search
(https://docs.stripe.com/api/pagination/search): a query in Stripe's search language,
``limit`` (1-100, default 10) and a ``page`` cursor from the previous answer's
``next_page``; newest first, as Stripe answers when nothing ranks one above another.

Unlike Stripe, whose index lags writes by up to a minute, the sandbox searches what is
stored now: a test that searches right after a write finds it here, and should not rely
on that against Stripe (https://docs.stripe.com/search#data-freshness)."""

from __future__ import annotations

import base64
import binascii

from flask import Blueprint

from simulator.sandbox.api.endpoint import SearchResult, stripe_endpoint
from simulator.sandbox.errors import InvalidRequestError
from simulator.sandbox.params import Params
from simulator.sandbox.resources.base import REGISTRY, Ctx, StripeObject, render
from simulator.sandbox.search_query import Query, parse_query

bp = Blueprint("search", __name__)

# The searchable resources: the URL's resource name and the stored object type.
SEARCHABLE = {"customers": "customer", "charges": "charge",
              "payment_intents": "payment_intent", "prices": "price", "products": "product"}
BATCH = 100
PAGE_PREFIX = "page_"


def search(ctx: Ctx, params: Params, resource: str) -> SearchResult:
    query = parse_query(params.required_string("query"), resource)
    limit = params.integer("limit", minimum=1, maximum=100) or 10
    offset = _offset(params.string("page"))
    matches = list(_matching(ctx, SEARCHABLE[resource], query))
    chosen = matches[offset:offset + limit]
    more = len(matches) > offset + limit
    return SearchResult(f"/v1/{resource}/search", chosen, more,
                        _page_token(offset + limit) if more else None, len(matches))


def _matching(ctx: Ctx, object_type: str, query: Query) -> list[StripeObject]:
    """Every stored object of the type whose rendering matches, newest first."""
    cls = REGISTRY[object_type]
    found: list[StripeObject] = []
    after: tuple[int, int] | None = None
    while True:
        page = ctx.store.page(object_type, limit=BATCH, after=after)
        for row in page.rows:
            obj = cls.from_state(row.data)
            if query.matches(render(ctx, obj)):
                found.append(obj)
        if not page.has_more or not page.rows:
            return found
        last = page.rows[-1]
        after = ctx.store.position(last.id, object_type)


def _page_token(offset: int) -> str:
    return PAGE_PREFIX + base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(token: str | None) -> int:
    if token is None:
        return 0
    try:
        decoded = base64.urlsafe_b64decode(token.removeprefix(PAGE_PREFIX).encode()).decode()
        kind, _, number = decoded.partition(":")
        if kind == "offset" and number.isdigit():
            return int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidRequestError(f"Invalid page: {token}. The page must be the next_page value"
                              " of a previous search.", param="page")


def _route(resource: str) -> None:
    def view(ctx: Ctx, params: Params) -> SearchResult:
        return search(ctx, params, resource)

    view.__name__ = f"search_{resource}"
    bp.add_url_rule(f"/v1/{resource}/search", view.__name__, stripe_endpoint(view),
                    methods=["GET"])


for _resource in SEARCHABLE:
    _route(_resource)
