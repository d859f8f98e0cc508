"""The web layer's door to the service's storage, beside ``PaymentService``.

``PaymentService`` (``payments/``) carries out the payment rules; everything else a page
or route needs of the database is a use case here, one object each, typed on the small
protocols of ``domain/stores.py`` (never on the SQLite ``Repository``) and built once by
``web/runtime.py``:

- ``accounts``: who is signing in (API token, session, e-mail address and password);
- ``buyers``: a buyer's wins with their attempts and orders, an order for its receipt;
- ``back_office``: the admin's counts and lists, and a payment's timeline;
- ``security``: security events (recorded or counted) and the alerts they raise;
- ``auction``: the auction system's wins, recorded once;
- ``controls``: what test mode's routes do to the records (reset, crash points);
- ``monitoring``: the metrics collector, request latencies, alerts forwarded as jobs.

No module of ``web/`` touches the repository itself (``tests/test_house_rules.py``).
"""
