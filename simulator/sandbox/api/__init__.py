"""The /v1 HTTP layer: parse the request, call one operation, render Stripe's JSON."""
