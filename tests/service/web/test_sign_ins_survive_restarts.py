"""A restart signs nobody out: with no ``SERVICE_SESSION_SECRET`` the key that signs the
session cookie is made once and kept owner-only beside the database, so the next process
(or another worker) reads the same one."""

from __future__ import annotations

import dataclasses
import stat
from pathlib import Path

from flask import Flask
from web_support import ALICE, FakePaymentService, sign_in

from simulator.common.clock import Clock
from simulator.service.adapters.local_secrets import session_key_path
from simulator.service.adapters.repositories import Repository
from simulator.service.app import create_app
from simulator.service.config import ServiceConfig


def start(config: ServiceConfig, repo: Repository) -> Flask:
    service = FakePaymentService()
    app = create_app(config, clock=Clock(), service=service)  # type: ignore[arg-type]
    service.attach_inbox(repo, Clock())
    app.testing = True
    return app


def test_a_signed_in_buyer_stays_signed_in_across_a_restart(config: ServiceConfig,
                                                            repo: Repository) -> None:
    config = dataclasses.replace(config, session_secret="")
    before = start(config, repo).test_client()
    assert sign_in(before, ALICE).status_code == 303
    cookie = before.get_cookie("payments_session")
    assert cookie is not None

    after = start(config, repo).test_client()  # a new process: a new app, the same files
    after.set_cookie("payments_session", cookie.value)
    page = after.get("/payments/winnings")

    assert page.status_code == 200, page.headers.get("Location")
    key = session_key_path(config.db_path)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_text().strip() not in Path(config.db_path).read_bytes().decode(
        errors="replace")


def test_a_configured_secret_wins_and_no_key_file_is_made(config: ServiceConfig,
                                                          repo: Repository) -> None:
    config = dataclasses.replace(config, session_secret="from-the-environment")
    app = start(config, repo)
    assert app.secret_key == "from-the-environment"
    assert not session_key_path(config.db_path).exists()


def test_a_forged_cookie_is_still_refused(config: ServiceConfig, repo: Repository) -> None:
    config = dataclasses.replace(config, session_secret="")
    client = start(config, repo).test_client()
    client.set_cookie("payments_session", "eyJ1c2VyIjoidXNyX2FsaWNlIn0.forged.signature")
    assert client.get("/payments/winnings").status_code in (302, 303)
