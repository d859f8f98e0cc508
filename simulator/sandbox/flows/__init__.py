"""Use cases that span several Stripe objects (docs/design.md, "Layers").

A resource module knows its own object and refers to others by id; when one request
changes or checks two kinds of object (a product and its first price, a payment and its
charge), the flow lives here, one layer above the objects and below the routes.
"""
