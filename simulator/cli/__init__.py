"""Sub-commands of ``stripe-sim``, one module each."""
