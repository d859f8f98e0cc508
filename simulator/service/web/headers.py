"""Security headers on every response, pages, API and errors alike.

- ``Content-Security-Policy``: scripts, styles, images and fetches from this origin only
  (the templates have no inline script or style; ``static/*.js`` do the work), no
  plugins, no ``<base>``, and ``frame-ancestors 'none'``: no other site can frame a page
  (``X-Frame-Options: DENY`` says the same to older browsers).
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin`` (a receipt link's
  signature never leaves for another site), ``Cross-Origin-Opener-Policy``.
- ``Strict-Transport-Security`` when the service's public URL is https.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.wrappers import Response

from simulator.service.config import ServiceConfig

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(https: bool) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if https:
        headers["Strict-Transport-Security"] = HSTS
    return headers


def install(app: Flask, config: ServiceConfig) -> None:
    headers = security_headers(config.public_url.lower().startswith("https://"))

    @app.after_request
    def _secure(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response
