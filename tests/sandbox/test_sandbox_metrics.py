"""The sandbox's ``GET /metrics``, read back with Prometheus's parser after a scripted run:
requests by route and status, PaymentIntents and Checkout Sessions by status, webhook
deliveries to a local receiver, and the same counts whichever worker answers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from prometheus_client.parser import text_string_to_metric_families

from simulator.sandbox.app import create_app
from simulator.sandbox.runtime import SandboxConfig

TEST_KEY = "sk_test_sandbox_metrics"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict[Any, float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def receiver() -> Iterator[str]:
    """A webhook receiver on 127.0.0.1 that takes everything."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhooks"
    server.shutdown()
    server.server_close()


def sandbox(db_path: str) -> Flask:
    return create_app(SandboxConfig(db_path=db_path, public_url="http://sandbox.test"))


def api_client(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TEST_KEY}"
    return client


@pytest.fixture
def app(tmp_path: Any) -> Flask:
    return sandbox(f"{tmp_path}/sandbox.sqlite3")


def test_metrics_after_a_scripted_run(app: Flask, receiver: str) -> None:
    api = api_client(app)
    assert api.post("/v1/webhook_endpoints", data={
        "url": receiver, "enabled_events[]": "*"}).status_code == 200
    paid = api.post("/v1/payment_intents", data={
        "amount": 64200, "currency": "usd", "payment_method": "pm_card_visa",
        "confirm": "true", "payment_method_types[]": "card"})
    assert paid.status_code == 200 and paid.get_json(force=True)["status"] == "succeeded"
    unpaid = api.post("/v1/payment_intents", data={"amount": 1200, "currency": "usd"})
    assert unpaid.get_json(force=True)["status"] == "requires_payment_method"
    assert api.post("/v1/checkout/sessions", data={
        "mode": "payment", "success_url": "https://shop.test/ok",
        "line_items[0][price_data][currency]": "usd",
        "line_items[0][price_data][unit_amount]": 5000,
        "line_items[0][price_data][product_data][name]": "Lot 17",
        "line_items[0][quantity]": 1}).status_code == 200
    assert api.get("/v1/payment_intents/pi_missing").status_code == 404
    assert api.get("/v1/nothing_here").status_code == 404
    drained = app.test_client().post("/_sandbox/webhooks/drain").get_json(force=True)

    found = samples(app.test_client().get("/metrics").text)

    assert value(found, "sandbox_requests_total", route="/v1/payment_intents",
                 method="POST", status="200") == 2
    assert value(found, "sandbox_requests_total", route="/v1/payment_intents/<pi_id>",
                 method="GET", status="404") == 1
    assert value(found, "sandbox_requests_total", route="unmatched", method="GET",
                 status="404") == 1
    assert value(found, "sandbox_payment_intents", status="succeeded") == 1
    assert value(found, "sandbox_payment_intents", status="requires_payment_method") == 1
    assert value(found, "sandbox_checkout_sessions", status="open") == 1
    delivered = drained["deliveries"]["delivered"]
    assert delivered > 0
    assert value(found, "sandbox_webhook_deliveries", status="delivered") == delivered
    assert value(found, "sandbox_webhook_attempt_seconds_count") == delivered
    assert value(found, "sandbox_webhook_attempt_seconds_bucket", le="+Inf") == delivered
    assert value(found, "sandbox_jobs_pending", kind="checkout_session.expire") == 1


def test_every_worker_reports_every_workers_requests(tmp_path: Any) -> None:
    """Two apps over one database stand for two gunicorn workers; each adds its counts to
    the shared table at most a second after a request."""
    with freeze_time("2025-03-01 12:00:00") as frozen:
        first, second = (sandbox(f"{tmp_path}/sandbox.sqlite3") for _ in range(2))
        for worker, times in ((first, 3), (second, 2)):
            for _ in range(times):
                assert api_client(worker).get("/v1/customers").status_code == 200
        frozen.tick(1.0)
        for worker in (first, second):
            assert api_client(worker).get("/v1/customers").status_code == 200

        from_first = samples(first.test_client().get("/metrics").text)
        from_second = samples(second.test_client().get("/metrics").text)

    key = ("sandbox_requests_total",
           (("method", "GET"), ("route", "/v1/customers"), ("status", "200")))
    assert from_first[key] == from_second[key] == 7
