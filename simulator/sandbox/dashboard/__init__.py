"""The sandbox's dashboard at ``/``: Stripe's Dashboard in test mode, for demos and for
finding out what a test did. Payments, Checkout Sessions, customers, events with their
JSON, webhook endpoints with every delivery attempt (and a resend button), the one
clock (+1 h, +6 h, +24 h, moving every follower too), fault switches, reset and
snapshots, refreshed live while a demo runs.

Like the ``/_sandbox`` control plane it needs no API key (a local, test-mode tool on
loopback); its forms only accept posts from the dashboard's own pages
(``security.py``). Reads go through the store and the resources' serializers
(``listings.py``), writes through the same operations the control plane uses
(``controls.py``); ``routes.py`` parses, calls and renders.
"""
