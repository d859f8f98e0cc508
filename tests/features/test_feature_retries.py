"""features/retries."""

import pytest
from pytest_bdd import scenarios

from harness.steps.retries import *  # noqa: F403

pytestmark = [pytest.mark.features, pytest.mark.browser]
scenarios("retries")
