"""features/payment_window."""

import pytest
from pytest_bdd import scenarios

from harness.steps.payment_window import *  # noqa: F403

pytestmark = [pytest.mark.features, pytest.mark.browser]
scenarios("payment_window")
