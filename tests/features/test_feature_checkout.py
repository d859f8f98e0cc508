"""features/checkout."""

import pytest
from pytest_bdd import scenarios

pytestmark = [pytest.mark.features, pytest.mark.browser]
scenarios("checkout")
