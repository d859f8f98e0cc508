"""features/three_d_secure."""

import pytest
from pytest_bdd import scenarios

from harness.steps.three_d_secure import *  # noqa: F403

pytestmark = [pytest.mark.features, pytest.mark.browser]
scenarios("three_d_secure")
