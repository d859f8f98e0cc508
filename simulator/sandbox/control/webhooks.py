"""/_sandbox/webhooks routes (filled in by the webhook delivery module)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("control_webhooks", __name__, url_prefix="/_sandbox/webhooks")
