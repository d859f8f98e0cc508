"""The Stripe sandbox: Stripe's /v1 API, stateful, on SQLite."""
