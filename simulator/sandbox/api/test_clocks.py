"""/v1 routes for test_clocks (filled in by its resource modules)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("test_clocks", __name__)
