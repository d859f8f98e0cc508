"""Serving a WSGI app with gunicorn (several worker processes) or, for tests and
debugging, a single threaded werkzeug server."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask

from simulator.cli.command import CommandError


@dataclass(frozen=True)
class TlsFiles:
    """A PEM certificate (chain) and its private key: serve HTTPS with them."""

    cert: str
    key: str

    def check(self) -> TlsFiles:
        """Refuse missing or unreadable files, or a key that does not fit the
        certificate, in one line before anything starts."""
        for flag, path in (("--tls-cert", self.cert), ("--tls-key", self.key)):
            if not Path(path).is_file():
                raise CommandError(f"{flag} {path}: no such file")
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
                self.cert, self.key)
        except (ssl.SSLError, OSError) as error:
            raise CommandError(f"--tls-cert/--tls-key: cannot use them: {error}") from None
        return self


def tls_files(cert: str | None, key: str | None) -> TlsFiles | None:
    """Both or neither: half a TLS configuration is a mistake, not plain HTTP."""
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise CommandError("--tls-cert and --tls-key go together: give both or neither")
    return TlsFiles(cert, key).check()


def tls13_only(config: Any, default_ssl_context_factory: Callable[[], ssl.SSLContext]
               ) -> ssl.SSLContext:
    """gunicorn's ``ssl_context`` server hook: its context (certificate and key from
    ``certfile``/``keyfile``), refusing every protocol older than TLS 1.3."""
    context = default_ssl_context_factory()
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    return context


def serve(app_factory: Any, host: str, port: int, workers: int, threads: int,
          tls: TlsFiles | None = None) -> None:
    """Serve with gunicorn; ``app_factory`` builds the app in each worker after fork.
    With ``tls``, over HTTPS, TLS 1.3 only."""
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
            if tls is not None:
                self.cfg.set("certfile", tls.cert)
                self.cfg.set("keyfile", tls.key)
                self.cfg.set("ssl_context", tls13_only)

        def load(self) -> Flask:
            return app_factory()

    _Server().run()
