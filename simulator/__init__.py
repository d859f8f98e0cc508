"""A local Stripe sandbox, a reference payment service, and the harness around them."""

__version__ = "0.1.0"
