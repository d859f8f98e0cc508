"""features/fraud."""

import pytest
from pytest_bdd import scenarios

from harness.steps.fraud import *  # noqa: F403

pytestmark = [pytest.mark.features, pytest.mark.browser]
scenarios("fraud")
