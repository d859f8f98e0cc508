"""The dashboard is open to anyone on this machine, as the ``/_sandbox`` control plane
is (no API key: a local, test-mode tool). But any web page the developer visits could
make their browser post a form to ``127.0.0.1:12111``, so a form is accepted only when
the browser says it comes from the dashboard itself (``Sec-Fetch-Site: same-origin``,
else an ``Origin`` equal to the dashboard's), and only on a loopback or configured host
name (a DNS-rebinding page would otherwise be "same-origin" under its own name).

Pages carry a Content-Security-Policy allowing only the dashboard's own script and
style sheet: no inline script anywhere."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Request, Response

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")


def refusal(request: Request, public_url: str | None) -> str | None:
    """Why a state-changing request must be refused, or None to let it through."""
    if request.method not in STATE_CHANGING:
        return None
    host = urlsplit(f"//{request.host}").hostname or ""
    allowed = {*LOOPBACK_HOSTS, urlsplit(public_url).hostname if public_url else None}
    if host not in allowed:
        return f"the dashboard only takes forms on a loopback address, not {host!r}"
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return None if site == "same-origin" else f"a {site} form (Sec-Fetch-Site)"
    origin = request.headers.get("Origin")
    if origin is None:
        return "no Origin header: forms are only accepted from the dashboard's pages"
    if origin.rstrip("/") != request.host_url.rstrip("/"):
        return f"a form from {origin}"
    return None


def protect(response: Response) -> Response:
    """Headers every dashboard answer carries."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    # Same-origin posts keep their Origin header (some browsers send "null" otherwise).
    response.headers["Referrer-Policy"] = "same-origin"
    if response.mimetype in ("text/html", "application/json"):
        response.headers["Cache-Control"] = "no-store"
    return response


def wants_page(request: Request) -> bool:
    """A browser opening an API URL: no API key, and HTML asked for by name. SDKs and
    curl send a key, and ``Accept: */*`` or JSON, so they never match."""
    if request.method != "GET" or request.headers.get("Authorization"):
        return False
    return any(value in ("text/html", "application/xhtml+xml")
               for value, _ in request.accept_mimetypes)
