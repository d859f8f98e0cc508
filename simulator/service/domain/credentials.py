"""How a user proves who they are: a password (stored as a salted, slow hash) for the
pages, and an API token (stored as its SHA-256) for the JSON API.

Passwords are hashed with Werkzeug's scrypt (``werkzeug.security``, maintained with
Flask): a stolen database gives no password back without a costly search per user.
API tokens are long random strings (192 bits), so one fast SHA-256 is enough to make the
stored value useless to someone who copies the database; the token is looked up by its
digest, so the plain token is never stored or compared.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from werkzeug.security import check_password_hash, generate_password_hash

PASSWORD_METHOD = "scrypt"
MIN_PASSWORD_LENGTH = 10
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
# Checked when no user has the address, so a wrong address costs what a wrong password
# does (no telling which addresses exist by timing).
_DUMMY_HASH = generate_password_hash("not a password of anyone", method=PASSWORD_METHOD)


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return generate_password_hash(password, method=PASSWORD_METHOD)


def password_matches(stored_hash: str | None, password: str) -> bool:
    """Constant work whether or not there is a stored hash."""
    if not stored_hash:
        check_password_hash(_DUMMY_HASH, password)
        return False
    return check_password_hash(stored_hash, password)


def new_password() -> str:
    """A demo or test password: 16 URL-safe characters (96 bits)."""
    return secrets.token_urlsafe(12)


def new_api_token() -> str:
    return f"tok_{secrets.token_urlsafe(24)}"


def token_digest(token: str) -> str:
    """What is stored for an API token (hex SHA-256)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def is_token_digest(value: str) -> bool:
    return bool(_DIGEST.match(value))


def same_secret(given: str | None, expected: str | None) -> bool:
    """Compare two secrets in constant time; nothing matches a missing one."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
