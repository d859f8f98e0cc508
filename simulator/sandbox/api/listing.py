"""List endpoints (https://docs.stripe.com/api/pagination): ``limit``, cursors and
``created`` filters, newest first."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from simulator.sandbox.api.endpoint import ListResult
from simulator.sandbox.errors import InvalidRequestError, resource_missing
from simulator.sandbox.params import Params
from simulator.sandbox.resources.base import Ctx, StripeObject

CREATED_OPS = ("gt", "gte", "lt", "lte")


def read_created(params: Params, key: str = "created") -> dict[str, int]:
    if key not in params:
        return {}
    raw = params.peek(key)
    if isinstance(raw, str):
        value = params.integer(key)
        return {"gte": value, "lte": value} if value is not None else {}
    created = params.hash(key)
    assert created is not None
    bounds: dict[str, int] = {}
    for op in CREATED_OPS:
        value = created.integer(op)
        if value is not None:
            bounds[op] = value
    return bounds


def list_objects(
    ctx: Ctx,
    params: Params,
    cls: type[StripeObject],
    url: str,
    filters: Mapping[str, str | None] | None = None,
    globs: tuple[str, Sequence[str]] | None = None,
) -> ListResult:
    """A page of ``cls`` objects, newest first. ``filters`` (None values left out) and
    ``globs`` (one filter's GLOB patterns, any of which may match) name filters that
    ``cls`` declares in ``FILTERS``."""
    given = {name: value for name, value in (filters or {}).items() if value is not None}
    unknown = (set(given) | ({globs[0]} if globs else set())) - set(cls.FILTERS)
    if unknown:
        raise ValueError(f"{cls.__name__} declares no list filter {sorted(unknown)}")
    limit = params.integer("limit", minimum=1, maximum=100)
    starting_after = params.string("starting_after")
    ending_before = params.string("ending_before")
    created = read_created(params)
    if starting_after and ending_before:
        raise InvalidRequestError(
            "Received both starting_after and ending_before parameters. Please pass in only one."
        )
    after = _cursor(ctx, cls, starting_after, "starting_after")
    before = _cursor(ctx, cls, ending_before, "ending_before")
    page = ctx.store.page(
        cls.OBJECT,
        limit=limit or 10,
        filters=given,
        globs=globs,
        created=created,
        after=after,
        before=before,
    )
    items = [cls.from_state(row.data) for row in page.rows]
    return ListResult(url, items, page.has_more)


def _cursor(ctx: Ctx, cls: type[StripeObject], object_id: str | None, param: str
            ) -> tuple[int, int] | None:
    if object_id is None:
        return None
    position = ctx.store.position(object_id, cls.OBJECT)
    if position is None:
        raise resource_missing(cls.NOUN, object_id, param)
    return position
