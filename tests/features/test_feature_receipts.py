"""features/receipts."""

import pytest
from pytest_bdd import scenarios

from harness.steps.receipts import *  # noqa: F403

pytestmark = [pytest.mark.features, pytest.mark.browser]
scenarios("receipts")
