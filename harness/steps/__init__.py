"""pytest-bdd step definitions for the reference marketplace's features, by area. A test
module (or conftest) imports the modules it needs: ``from harness.steps.common import *``.
Steps are phrased as a buyer, an admin or Stripe would say them; state passes between
steps through ``target_fixture``, never a global."""
