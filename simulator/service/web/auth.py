"""Who is asking: demo users, bearer tokens for the API, a signed session cookie for the
pages, and the admin role.

Demo mode has no passwords: the login page lists the seeded users and remembers the one
chosen in Flask's signed session cookie. API clients send ``Authorization: Bearer
<api_token>``; a bearer header that is present but wrong is refused, never ignored in
favour of a cookie. Forms posted from the pages carry a per-session CSRF token; the JSON
API accepts the cookie only with a JSON body, which a cross-site form cannot send.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from flask import g, request, session

from simulator.service.web.errors import Forbidden, InvalidRequest, Unauthenticated, WebError
from simulator.service.web.runtime import service_runtime

SESSION_USER = "user_id"
SESSION_CSRF = "csrf_token"
CSRF_FIELD = "csrf_token"

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
    user = service_runtime().repo.get_user_by_token(token)
    if user is None:
        raise WebError("invalid_token", 401, "The API token is not valid.")
    return _viewer_of(user)


def _from_session() -> Viewer | None:
    user_id = session.get(SESSION_USER)
    if not user_id:
        return None
    user = service_runtime().repo.get_user(user_id)
    return _viewer_of(user) if user is not None else None


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


def sign_in(user_id: str) -> None:
    session.clear()
    session[SESSION_USER] = user_id
    session[SESSION_CSRF] = secrets.token_urlsafe(24)


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
    if not expected or not hmac.compare_digest(str(expected), given):
        raise InvalidRequest("The form has expired. Reload the page and try again.")


def check_api_origin() -> None:
    """A cookie-authenticated API call must be JSON (cross-site forms cannot send it)."""
    if _bearer_token() is None and request.method == "POST" and not request.is_json:
        raise WebError("unsupported_media_type", 415, "Send a JSON body (application/json).")
