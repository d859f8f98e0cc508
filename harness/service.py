"""Run the payment service in tests, and talk to it.

- ``start_service_in_process``: the real Flask app under werkzeug's threaded server on a
  free loopback port, in a thread. The sandbox (a separate process) delivers webhooks to
  it over real HTTP, while the test still reaches the app's collaborators (repository,
  fake mailer) directly.
- ``start_service_process``: ``stripe-sim service`` under gunicorn in a subprocess, as
  ``stripe-sim up`` runs it.
- ``ServiceClient``: the JSON API as a buyer calls it (bearer token), plus the test-only
  clock and job routes (``config.test_mode``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import stripe
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from harness.servers import RunningServer, free_port
from simulator.cli.health import SERVICE_HEALTH, wait_healthy
from simulator.service.adapters.control_token import HEADER as TEST_TOKEN_HEADER
from simulator.service.config import ServiceConfig
from simulator.service.web.runtime import EXTENSION, ClockOffsetFile, ServiceRuntime

SERVICE_TEST_KEY = "sk_test_payment_service_tests"


def service_config(workdir: str | os.PathLike[str], stripe_api_base: str | None,
                   **overrides: Any) -> ServiceConfig:
    """A test-mode config with its database and receipts under ``workdir``."""
    folder = Path(workdir)
    folder.mkdir(parents=True, exist_ok=True)
    values: dict[str, Any] = {
        "stripe_secret_key": SERVICE_TEST_KEY,
        "stripe_api_base": stripe_api_base,
        "db_path": str(folder / "service.sqlite3"),
        "receipts_dir": str(folder / "receipts"),
        "session_secret": "test-session-secret",
        "reminder_jitter_seconds": 0,
        "test_mode": True,
        "rate_limits": "off",
    }
    values.update(overrides)
    return ServiceConfig(**values)


@dataclass
class InProcessService:
    url: str
    app: Flask
    config: ServiceConfig
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def runtime(self) -> ServiceRuntime:
        rt: ServiceRuntime = self.app.extensions[EXTENSION]
        return rt

    def stop(self) -> None:
        """Stop serving and remove the webhook endpoint this service registered, so the
        sandbox stops delivering to a port nobody listens on."""
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()
        rt = self.runtime
        if self.config.follow_sandbox_clock:
            from simulator.service.adapters.sandbox_clock import unfollow_sandbox_clock

            unfollow_sandbox_clock(self.config)
        if rt.webhook_endpoint_id:
            from simulator.service.adapters.webhook_endpoint import delete_webhook_endpoint

            with contextlib.suppress(stripe.InvalidRequestError):  # another stop did it
                delete_webhook_endpoint(self.config, rt.webhook_endpoint_id)
        rt.repo.close()


def _not_ready(environ: Any, start_response: Any) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


def start_service_in_process(config: ServiceConfig, *, port: int = 0,
                             **app_options: Any) -> InProcessService:
    """Bind the port (a free one by default) first, so the app knows its public URL (the
    webhook endpoint it registers and the Checkout return URLs point at it), then serve
    the app there."""
    from simulator.service.app import create_app

    server = make_server("127.0.0.1", port, _not_ready, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    config = dataclasses.replace(config, public_url=url)
    try:
        app = create_app(config, **app_options)
    except BaseException:
        server.server_close()
        raise
    server.app = app
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name=f"service-{server.server_port}", daemon=True)
    thread.start()
    return InProcessService(url, app, config, server, thread)


def wait_service_healthy(url: str, process: subprocess.Popen[bytes], log_path: str,
                         timeout: float = 30.0) -> None:
    wait_healthy(url, process, log_path, health_path=SERVICE_HEALTH, timeout=timeout)


def start_service_process(workdir: str | os.PathLike[str], stripe_api_base: str | None, *,
                          port: int | None = None, workers: int = 2, threads: int = 4,
                          test_mode: bool = True, clock_offset: float = 0.0,
                          env: dict[str, str] | None = None,
                          new_session: bool = False) -> RunningServer:
    """``stripe-sim service`` under gunicorn in a subprocess, answering once healthy.
    ``clock_offset`` starts a test-mode service's clock where the sandbox's already is.
    With no ``stripe_api_base`` it talks to real Stripe test mode (``STRIPE_SECRET_KEY``
    and ``STRIPE_WEBHOOK_SECRET`` from the environment). ``new_session`` puts it in a
    process group of its own, so ``RunningServer.kill`` takes every worker with it."""
    port = port or free_port()
    folder = Path(workdir)
    folder.mkdir(parents=True, exist_ok=True)
    db = str(folder / "service.sqlite3")
    if clock_offset:
        ClockOffsetFile(f"{db}.clock.json").advance(clock_offset)
    log_path = str(folder / f"service-{port}.log")
    command = [sys.executable, "-m", "simulator.cli.service", "--port", str(port), "--db", db,
               "--receipts-dir", str(folder / "receipts"),
               "--workers", str(workers), "--threads", str(threads)]
    environment = {**os.environ, **(env or {})}
    if stripe_api_base:
        command += ["--stripe-api-base", stripe_api_base]
        environment["STRIPE_SECRET_KEY"] = (env or {}).get("STRIPE_SECRET_KEY",
                                                           SERVICE_TEST_KEY)
    if test_mode:
        command.append("--test-mode")
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                   env=environment, start_new_session=new_session)
    url = f"http://127.0.0.1:{port}"
    wait_service_healthy(url, process, log_path)
    return RunningServer(url, process, db, log_path)


class ServiceClient:
    """A buyer's (or admin's) API calls, and the test-only control routes (which need
    the service's test token: ``InProcessService.runtime.test_token``, or
    ``read_control_token(db)`` for a process)."""

    def __init__(self, url: str, api_token: str | None = None, timeout: float = 30.0, *,
                 test_token: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.timeout = timeout
        self.test_token = test_token
        if api_token:
            self.session.headers["Authorization"] = f"Bearer {api_token}"

    def as_user(self, api_token: str) -> ServiceClient:
        return ServiceClient(self.url, api_token, self.timeout, test_token=self.test_token)

    def create_checkout(self, auction_id: str) -> requests.Response:
        return self.session.post(f"{self.url}/payments/checkout/create",
                                 json={"auction_id": auction_id}, timeout=self.timeout)

    def status(self, payment_session_id: str) -> requests.Response:
        return self.session.get(f"{self.url}/payments/checkout/{payment_session_id}/status",
                                timeout=self.timeout)

    def retry(self, payment_session_id: str) -> requests.Response:
        return self.session.post(f"{self.url}/payments/retry/{payment_session_id}",
                                 timeout=self.timeout)

    def follow_return(self, checkout_session_id: str) -> requests.Response:
        """What the browser does after Stripe's redirect to ``success_url``."""
        return self.session.get(f"{self.url}/payments/return",
                                params={"session_id": checkout_session_id},
                                timeout=self.timeout, allow_redirects=False)

    def advance_clock(self, seconds: int) -> dict[str, Any]:
        return self._control("/_test/clock/advance", {"seconds": seconds})

    def run_jobs(self) -> dict[str, Any]:
        return self._control("/_test/jobs/run", {})

    def _control(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {TEST_TOKEN_HEADER: self.test_token} if self.test_token else {}
        response = requests.post(f"{self.url}{path}", json=body, timeout=self.timeout,
                                 headers=headers)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result
