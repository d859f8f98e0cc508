"""/v1 routes for catalog (filled in by its resource modules)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("catalog", __name__)
