"""/v1 routes for payments (filled in by its resource modules)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("payments", __name__)
