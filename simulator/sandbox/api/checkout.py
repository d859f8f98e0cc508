"""/v1 routes for checkout (filled in by its resource modules)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("checkout", __name__)
