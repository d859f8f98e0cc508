"""Locust users: the load run's personas (``locustfile.py``) and the benchmarks' loads
(``bench_service.py``, ``bench_sandbox.py``). Run through ``stripe-sim load`` and
``stripe-sim bench service|sandbox|webhooks``; they import ``simulator``, never the
other way round."""
