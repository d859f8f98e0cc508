"""The payment service's HTTP layer: thin Flask blueprints over ``PaymentService``.

``api`` (JSON API), ``webhooks`` (Stripe's signed deliveries), ``pages`` (the buyer's
pages), ``admin`` (the back office), ``auth`` (demo users, bearer tokens, roles),
``errors`` (the one error handler) and ``testing`` (test-only clock and job routes).
"""
