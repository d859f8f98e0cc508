"""features/webhooks."""

import pytest
from pytest_bdd import scenarios

from harness.steps.webhooks import *  # noqa: F403

pytestmark = [pytest.mark.features]
scenarios("webhooks")
