"""What the contract tests compare of a refused SDK call: Stripe's error code, param and
message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import stripe


def refusal(call: Callable[[], Any]) -> dict[str, Any]:
    """The ``invalid_request_error`` ``call`` raises, as ``code``, ``param``, ``message``."""
    with pytest.raises(stripe.InvalidRequestError) as raised:
        call()
    error = raised.value
    return {"code": error.code, "param": error.param, "message": error.user_message}
