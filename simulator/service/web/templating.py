"""What every template can use: the signed-in viewer, the CSRF token, the server's clock
(the countdowns follow it) and a few formatting filters."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask

from simulator.service.domain.money import format_money
from simulator.service.web.auth import csrf_token, current_viewer
from simulator.service.web.errors import WebError
from simulator.service.web.runtime import service_runtime


def countdown(seconds: int | float | None) -> str:
    """``5h 3m 2s``, as the page's script renders it once it runs."""
    left = max(0, int(seconds or 0))
    if left == 0:
        return "Window closed"
    hours, rest = divmod(left, 3600)
    minutes, secs = divmod(rest, 60)
    parts = ([f"{hours}h"] if hours else []) + ([f"{minutes}m"] if hours or minutes else [])
    return " ".join([*parts, f"{secs}s"])


def timestamp_text(value: int | float | None) -> str:
    if not value:
        return ""
    return dt.datetime.fromtimestamp(value, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def safe_viewer() -> Any:
    """The error page renders even when the viewer cannot be known (a bad token)."""
    try:
        return current_viewer()
    except WebError:
        return None


def _globals() -> dict[str, Any]:
    rt = service_runtime()
    return {
        "merchant": rt.config.merchant_name,
        "viewer": safe_viewer(),
        "server_now": rt.clock.timestamp(),
        "stripe_label": "Stripe (test mode)" if rt.config.uses_real_stripe
        else "the local Stripe sandbox",
        "csrf_token": csrf_token,
    }


def install(app: Flask) -> None:
    app.context_processor(_globals)
    app.add_template_filter(countdown, "countdown")
    app.add_template_filter(timestamp_text, "datetime")
    app.add_template_filter(format_money, "money")
