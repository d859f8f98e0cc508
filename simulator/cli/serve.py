"""Serving a WSGI app with gunicorn (several worker processes) or, for tests and
debugging, a single threaded werkzeug server."""

from __future__ import annotations

from typing import Any

from flask import Flask


def serve(app_factory: Any, host: str, port: int, workers: int, threads: int) -> None:
    """Serve with gunicorn; ``app_factory`` builds the app in each worker after fork."""
    from gunicorn.app.base import BaseApplication

    class _Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread" if threads > 1 else "sync")
            self.cfg.set("keepalive", 30)
            self.cfg.set("accesslog", None)
            self.cfg.set("loglevel", "warning")
            self.cfg.set("graceful_timeout", 5)
            self.cfg.set("timeout", 120)
            # Long GET URLs (many expand[] and filters) get Stripe-shaped errors, not 414 pages.
            self.cfg.set("limit_request_line", 8190)

        def load(self) -> Flask:
            return app_factory()

    _Server().run()
