"""The payment service over HTTPS (``stripe-sim service --tls-cert --tls-key``): TLS 1.3
only, and the sandbox delivering its webhooks there, trusting only the CA it is given.

Real processes throughout: a sandbox started with ``--webhook-ca-bundle`` and the
service under gunicorn with a certificate issued by a throwaway CA (``trustme``).
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import trustme
from integration_support import ALICE, SandboxControl, record_win

from harness.servers import RunningServer, free_port
from harness.service import ServiceClient
from simulator.cli.health import SERVICE_HEALTH, wait_healthy
from simulator.service.web.runtime import ClockOffsetFile

pytestmark = pytest.mark.slow
RETRY_AFTER_FIRST_FAILURE = 5 * 60  # the sandbox's "test" retry profile


@dataclass(frozen=True)
class Certificate:
    """A server certificate and key for 127.0.0.1, and the CA that issued it."""

    cert: str
    key: str
    ca: str


def issue(folder: Path, name: str) -> Certificate:
    ca = trustme.CA(organization_name=f"stripe-sim tests {name}")
    server = ca.issue_cert("127.0.0.1", "localhost")
    paths = Certificate(str(folder / f"{name}.crt"), str(folder / f"{name}.key"),
                        str(folder / f"{name}-ca.pem"))
    Path(paths.cert).write_bytes(b"".join(blob.bytes() for blob in server.cert_chain_pems))
    server.private_key_pem.write_to_path(paths.key)
    ca.cert_pem.write_to_path(paths.ca)
    return paths


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Certificate]:
    folder = tmp_path_factory.mktemp("tls")
    return {name: issue(folder, name) for name in ("trusted", "unknown")}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory,
            certificates: dict[str, Certificate]) -> Iterator[SandboxControl]:
    """A sandbox trusting only the "trusted" CA for its webhook deliveries."""
    folder = tmp_path_factory.mktemp("tls-sandbox")
    port, db = free_port(), str(folder / "sandbox.sqlite3")
    log_path = str(folder / "sandbox.log")
    command = [sys.executable, "-m", "simulator", "sandbox", "--port", str(port),
               "--db", db, "--workers", "1", "--threads", "4",
               "--webhook-ca-bundle", certificates["trusted"].ca]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    server = RunningServer(f"http://127.0.0.1:{port}", process, db, log_path)
    try:
        wait_healthy(server.url, process, log_path)
        yield SandboxControl(server)
    finally:
        server.stop()


def start_https_service(folder: Path, sandbox: SandboxControl, certificate: Certificate,
                        port: int) -> RunningServer:
    """``stripe-sim service --tls-cert --tls-key`` in test mode, answering once healthy
    over HTTPS (checked against the certificate's own CA)."""
    folder.mkdir(parents=True, exist_ok=True)
    db = str(folder / "service.sqlite3")
    clock_file = ClockOffsetFile(f"{db}.clock.json")
    clock_file.set(sandbox.offset())
    log_path = str(folder / f"service-{port}.log")
    command = [sys.executable, "-m", "simulator.cli.service", "--port", str(port),
               "--db", db, "--receipts-dir", str(folder / "receipts"), "--workers", "1",
               "--threads", "4", "--stripe-api-base", sandbox.url, "--test-mode",
               "--tls-cert", certificate.cert, "--tls-key", certificate.key]
    # The service registers its own endpoint at the sandbox and keeps that secret.
    env = {k: v for k, v in os.environ.items() if k != "STRIPE_WEBHOOK_SECRET"}
    env["STRIPE_SECRET_KEY"] = "sk_test_payment_service_tls"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                   start_new_session=True)
    url = f"https://127.0.0.1:{port}"
    server = RunningServer(url, process, db, log_path)
    try:
        wait_healthy(url, process, log_path, health_path=SERVICE_HEALTH,
                     verify=certificate.ca)
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, sandbox: SandboxControl,
            certificates: dict[str, Certificate]) -> Iterator[RunningServer]:
    server = start_https_service(tmp_path_factory.mktemp("tls-service"), sandbox,
                                 certificates["trusted"], free_port())
    yield server
    server.stop()


def https_buyer(url: str, ca: str) -> ServiceClient:
    """Alice's API client, trusting only ``ca`` (not the environment's bundle, which
    requests would otherwise prefer to a session's ``verify``)."""
    buyer = ServiceClient(url, ALICE.api_token)
    buyer.session.trust_env = False
    buyer.session.verify = ca
    return buyer


def handshake(url: str, ca: str, *, maximum: ssl.TLSVersion | None = None) -> str:
    """Open a TLS connection as a client limited to ``maximum``; the protocol agreed."""
    host, port = url.removeprefix("https://").split(":")
    context = ssl.create_default_context(cafile=ca)
    if maximum is not None:
        context.maximum_version = maximum
    with (socket.create_connection((host, int(port)), timeout=5) as raw,
          context.wrap_socket(raw, server_hostname=host) as tls):
        return str(tls.version())


def test_a_tls_1_2_client_is_refused(service: RunningServer,
                                     certificates: dict[str, Certificate]) -> None:
    with pytest.raises(ssl.SSLError) as refused:
        handshake(service.url, certificates["trusted"].ca, maximum=ssl.TLSVersion.TLSv1_2)
    assert "PROTOCOL_VERSION" in str(refused.value) or "UNSUPPORTED_PROTOCOL" in str(
        refused.value)


def test_a_tls_1_3_client_is_served(service: RunningServer,
                                    certificates: dict[str, Certificate]) -> None:
    assert handshake(service.url, certificates["trusted"].ca) == "TLSv1.3"
    answer = requests.get(f"{service.url}{SERVICE_HEALTH}", verify=certificates["trusted"].ca,
                          timeout=5)
    assert answer.status_code == 200


def test_plain_http_gets_no_answer_from_the_tls_port(service: RunningServer) -> None:
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{service.url.replace('https://', 'http://')}{SERVICE_HEALTH}",
                     timeout=5)


def test_the_sandbox_delivers_a_payment_to_the_https_endpoint(
        service: RunningServer, sandbox: SandboxControl,
        certificates: dict[str, Certificate]) -> None:
    now = int(sandbox.control("GET", "/clock").json()["now"])
    win = record_win(service.db_path, sandbox.url, 91, now - 60)
    buyer = https_buyer(service.url, certificates["trusted"].ca)
    started = buyer.create_checkout(win.id).json()
    assert started["checkout_url"].startswith(sandbox.url)
    checkout = started["checkout_url"].rsplit("/", 1)[-1]
    assert sandbox.complete(checkout)["status"] == "paid"
    sandbox.drain()

    assert buyer.status(started["payment_session_id"]).json()["status"] == "succeeded"
    attempts = [attempt for delivery in sandbox.deliveries()
                for attempt in delivery["attempts"] if attempt["url"].startswith(service.url)]
    assert attempts, "no delivery reached the https endpoint"
    assert {attempt["status_code"] for attempt in attempts} == {200}


def test_an_endpoint_whose_certificate_the_sandbox_does_not_trust_gets_it_later(
        tmp_path: Path, sandbox: SandboxControl,
        certificates: dict[str, Certificate]) -> None:
    """The delivery fails (the certificate is not from the CA the sandbox trusts), is
    recorded as a failed attempt and retried; once the endpoint presents a trusted
    certificate, the retry delivers it: nothing lost."""
    port = free_port()
    untrusted = start_https_service(tmp_path, sandbox, certificates["unknown"], port)
    try:
        now = int(sandbox.control("GET", "/clock").json()["now"])
        win = record_win(untrusted.db_path, sandbox.url, 92, now - 60)
        buyer = https_buyer(untrusted.url, certificates["unknown"].ca)
        started = buyer.create_checkout(win.id).json()
        assert sandbox.complete(started["checkout_url"].rsplit("/", 1)[-1])["status"] == "paid"
        sandbox.drain()
        assert buyer.status(started["payment_session_id"]).json()["status"] != "succeeded"
    finally:
        untrusted.stop()
    waiting = [d for d in sandbox.deliveries(status="pending")
               if d["attempts"] and d["attempts"][0]["url"].startswith(untrusted.url)]
    assert waiting, "the refused delivery is not waiting for a retry"
    for delivery in waiting:
        assert delivery["attempts"][0]["status_code"] is None
        assert "CERTIFICATE_VERIFY_FAILED" in delivery["attempts"][0]["error"]

    fixed = start_https_service(tmp_path, sandbox, certificates["trusted"], port)
    try:
        sandbox.advance(RETRY_AFTER_FIRST_FAILURE + 1)
        sandbox.drain()
        buyer = https_buyer(fixed.url, certificates["trusted"].ca)
        assert buyer.status(started["payment_session_id"]).json()["status"] == "succeeded"
        for delivery in waiting:
            retried = sandbox.control("GET", f"/webhooks/deliveries/{delivery['id']}").json()
            assert retried["status"] == "delivered"
            assert [a["status_code"] for a in retried["attempts"]][-1] == 200
    finally:
        fixed.stop()


@pytest.mark.parametrize(("arguments", "says"), [
    (["service", "--tls-cert", "cert.pem"],
     "--tls-cert and --tls-key go together: give both or neither"),
    (["service", "--tls-cert", "missing.pem", "--tls-key", "missing.key"],
     "--tls-cert missing.pem: no such file"),
    (["sandbox", "--webhook-ca-bundle", "missing-ca.pem"],
     "--webhook-ca-bundle missing-ca.pem: no such file"),
])
def test_a_tls_mistake_is_one_line_before_anything_starts(
        tmp_path: Path, arguments: list[str], says: str) -> None:
    answer = subprocess.run(
        [sys.executable, "-m", "simulator", *arguments, "--port", str(free_port()),
         "--db", str(tmp_path / "never.sqlite3")],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path)
    assert answer.returncode == 2, answer.stderr
    assert answer.stderr.strip().splitlines() == [f"stripe-sim {arguments[0]}: {says}"]
    assert not (tmp_path / "never.sqlite3").exists()
