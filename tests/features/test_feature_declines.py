"""features/declines."""

import pytest
from pytest_bdd import scenarios

from harness.steps.declines import *  # noqa: F403

pytestmark = [pytest.mark.features, pytest.mark.browser]
scenarios("declines")
