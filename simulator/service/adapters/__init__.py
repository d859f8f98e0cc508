"""Adapters between the payment service's domain and the outside world: Stripe, SQLite,
SMTP and the receipt store."""
