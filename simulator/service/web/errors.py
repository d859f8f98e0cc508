"""The refusals the web layer raises (``WebError`` and its kinds), and the body every
refusal is answered with, ``{"error": {"code": ..., "message": ...}}``. The handlers
that answer them are in ``error_handlers.py``; this module imports nothing of the
service, so every web module can raise its refusals."""

from __future__ import annotations

from typing import Any


class WebError(Exception):
    """A refusal decided by the web layer (authentication, input shape)."""

    def __init__(self, code: str, http_status: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status
        self.message = message


class Unauthenticated(WebError):
    def __init__(self, message: str = "Sign in to continue.") -> None:
        super().__init__("unauthenticated", 401, message)


class Forbidden(WebError):
    def __init__(self, message: str = "You are not allowed to see this page.") -> None:
        super().__init__("forbidden", 403, message)


class InvalidRequest(WebError):
    def __init__(self, message: str) -> None:
        super().__init__("invalid_request", 400, message)


class NotFound(WebError):
    def __init__(self, message: str) -> None:
        super().__init__("not_found", 404, message)


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}
