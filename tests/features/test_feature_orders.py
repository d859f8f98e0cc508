"""features/orders."""

import pytest
from pytest_bdd import scenarios

from harness.steps.orders import *  # noqa: F403

pytestmark = [pytest.mark.features, pytest.mark.browser]
scenarios("orders")
