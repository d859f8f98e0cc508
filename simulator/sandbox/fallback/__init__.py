"""The stripe-mock-compatible mode (``stripe-sim sandbox --fallback fixtures``)."""
