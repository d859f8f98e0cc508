"""API keys, as Stripe checks them (https://docs.stripe.com/keys).

Any test-mode secret or restricted key is accepted; live keys are always refused, so a
misconfigured client can never send real credentials anywhere through the sandbox.
"""

from __future__ import annotations

import base64
import binascii

from simulator.sandbox.errors import AuthenticationError

NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization"
    " header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See"
    " https://stripe.com/docs/api#authentication for details, or we can help at"
    " https://support.stripe.com/."
)
TEST_PREFIXES = ("sk_test_", "rk_test_")
LIVE_PREFIXES = ("sk_live_", "rk_live_", "pk_live_")


def masked(key: str) -> str:
    """Stripe shows a key's prefix and last four characters: ``sk_live_****1234``."""
    prefix_end = key.find("_", key.find("_") + 1) + 1 if key.count("_") >= 2 else 0
    prefix = key[:prefix_end]
    return f"{prefix}{'*' * max(len(key) - prefix_end - 4, 4)}{key[-4:]}"


def key_from_header(authorization: str | None) -> str:
    if not authorization or not authorization.strip():
        raise AuthenticationError(NO_KEY)
    scheme, _, credentials = authorization.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer":
        key = credentials
    elif scheme.lower() == "basic":
        try:
            key = base64.b64decode(credentials, validate=True).decode("utf-8").split(":")[0]
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise AuthenticationError(
                "Invalid API Key provided: the Authorization header could not be decoded."
            ) from None
    else:
        raise AuthenticationError(
            "Invalid Authorization header: use Bearer auth ('Authorization: Bearer"
            " YOUR_SECRET_KEY') or HTTP Basic auth with the key as the username."
        )
    if not key:
        raise AuthenticationError(NO_KEY)
    return key


def authenticate(authorization: str | None) -> str:
    """The test key in the header, or Stripe's 401 ``AuthenticationError``."""
    key = key_from_header(authorization)
    if key.startswith(LIVE_PREFIXES):
        raise AuthenticationError(
            f"Invalid API Key provided: {masked(key)}. This is a local Stripe sandbox: it"
            " accepts test-mode keys (sk_test_...) only and never live keys."
        )
    if key.startswith("pk_test_"):
        raise AuthenticationError(
            "This API call cannot be made with a publishable API key. Please use a secret API"
            " key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys."
        )
    if not key.startswith(TEST_PREFIXES) or len(key) <= len("sk_test_"):
        raise AuthenticationError(f"Invalid API Key provided: {masked(key)}")
    return key
