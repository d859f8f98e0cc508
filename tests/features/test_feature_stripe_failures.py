"""features/stripe_failures."""

import pytest
from pytest_bdd import scenarios

from harness.steps.stripe_failures import *  # noqa: F403

pytestmark = [pytest.mark.features, pytest.mark.browser]
scenarios("stripe_failures")
