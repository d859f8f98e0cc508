"""Who is asking: bearer tokens for the API, a signed session cookie for the pages, and
the admin role.

People sign in with their e-mail address and password (``authenticate``; the hash is
checked with ``domain/credentials.py``); the session cookie then names them, and ends
``session_lifetime_seconds`` after sign-in or ``session_idle_seconds`` after the last
request, whichever comes first (wall clock: moving the test clock signs nobody out).
API clients send ``Authorization: Bearer <api_token>``, looked up by its SHA-256; a
bearer header that is present but wrong is refused, never ignored in favour of a cookie.
Forms posted from the pages carry a per-session CSRF token (a missing or wrong one is
counted as a security event); the JSON API accepts the cookie only with a JSON body,
which a cross-site form cannot send.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from flask import g, request, session

from simulator.common.clock import system_time
from simulator.service.web import security_log
from simulator.service.web.errors import Forbidden, InvalidRequest, Unauthenticated, WebError
from simulator.service.web.runtime import service_runtime

SESSION_USER = "user_id"
SESSION_CSRF = "csrf_token"
SESSION_STARTED = "signed_in_at"
SESSION_SEEN = "seen_at"
CSRF_FIELD = "csrf_token"
SEEN_RESOLUTION_SECONDS = 60  # the cookie is rewritten at most once a minute

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Viewer:
    """The signed-in user, as the web layer needs them."""

    id: str
    name: str
    email: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _viewer_of(user: Any) -> Viewer:
    return Viewer(id=user.id, name=user.name, email=user.email, role=user.role)


def current_viewer() -> Viewer | None:
    """The bearer token's user, else the session cookie's, else nobody (cached per request)."""
    if "viewer" not in g:
        g.viewer = _from_bearer() if _bearer_token() is not None else _from_session()
    return cast(Viewer | None, g.viewer)


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise WebError("invalid_token", 401,
                       "Send the API token as 'Authorization: Bearer <token>'.")
    return token.strip()


def _from_bearer() -> Viewer:
    token = _bearer_token() or ""
    user = service_runtime().accounts.by_token(token)
    if user is None:
        raise WebError("invalid_token", 401, "The API token is not valid.")
    return _viewer_of(user)


def _from_session() -> Viewer | None:
    user_id = session.get(SESSION_USER)
    if not user_id:
        return None
    if _session_expired():
        session.clear()
        return None
    user = service_runtime().accounts.by_id(user_id)
    return _viewer_of(user) if user is not None else None


def _session_expired() -> bool:
    """Too long since sign-in, or since the last request (then noted, once a minute)."""
    config = service_runtime().config
    now = system_time()
    started = _number(session.get(SESSION_STARTED))
    seen = _number(session.get(SESSION_SEEN))
    if now - started > config.session_lifetime_seconds:
        return True
    if now - seen > config.session_idle_seconds:
        return True
    if now - seen > SEEN_RESOLUTION_SECONDS:
        session[SESSION_SEEN] = now
    return False


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) else 0.0


def require_viewer() -> Viewer:
    viewer = current_viewer()
    if viewer is None:
        raise Unauthenticated()
    return viewer


def require_admin() -> Viewer:
    viewer = require_viewer()
    if not viewer.is_admin:
        raise Forbidden("This page is for administrators.")
    return viewer


def authenticate(email: str, password: str) -> Any:
    """The user with this address and password, else None (the same work either way)."""
    return service_runtime().accounts.authenticate(email, password)


def sign_in(user_id: str) -> None:
    """A fresh session (nothing carried over from before sign-in: no fixation)."""
    session.clear()
    session.permanent = True
    session[SESSION_USER] = user_id
    session[SESSION_CSRF] = secrets.token_urlsafe(24)
    session[SESSION_STARTED] = session[SESSION_SEEN] = system_time()


def sign_out() -> None:
    session.clear()


def login_required(view: F) -> F:
    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        require_viewer()
        return view(*args, **kwargs)

    return cast(F, guarded)


def admin_required(view: F) -> F:
    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        require_admin()
        return view(*args, **kwargs)

    return cast(F, guarded)


def csrf_token() -> str:
    """The session's form token (made on first use, e.g. by the login page)."""
    if SESSION_CSRF not in session:
        session[SESSION_CSRF] = secrets.token_urlsafe(24)
    return str(session[SESSION_CSRF])


def check_csrf() -> None:
    """Forms posted from our pages must carry the session's token."""
    expected = session.get(SESSION_CSRF)
    given = request.form.get(CSRF_FIELD, "")
    if not expected or not hmac.compare_digest(str(expected).encode(), given.encode()):
        security_log.count("csrf_failed", f"{request.method} {request.path}")
        raise InvalidRequest("The form has expired. Reload the page and try again.")


def check_api_origin() -> None:
    """A cookie-authenticated API call must be JSON (cross-site forms cannot send it)."""
    if _bearer_token() is None and request.method == "POST" and not request.is_json:
        raise WebError("unsupported_media_type", 415, "Send a JSON body (application/json).")
