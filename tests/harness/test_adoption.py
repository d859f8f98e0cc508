"""Another team adopts the harness: a tiny Flask shop of its own, with its own Stripe
Checkout integration, in a folder outside this repository, tested with nothing but
``pip install``-ed plugin fixtures and the Checkout page object, paying through the
sandbox in a real browser."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SHOP = '''
"""A shop that sells one poster through Stripe Checkout."""
import os

import stripe
from flask import Flask, redirect, request

def create_app(api_base: str) -> Flask:
    app = Flask(__name__)
    client = stripe.StripeClient("sk_test_poster_shop", base_addresses={"api": api_base})
    paid = set()

    @app.post("/buy")
    def buy():
        session = client.v1.checkout.sessions.create(params={
            "mode": "payment",
            "success_url": request.host_url + "thanks?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": request.host_url,
            "line_items": [{"quantity": 1, "price_data": {
                "currency": "usd", "unit_amount": 2500,
                "product_data": {"name": "Poster: Blue Marble"}}}],
        })
        return redirect(session.url, 303)

    @app.get("/thanks")
    def thanks():
        session = client.v1.checkout.sessions.retrieve(request.args["session_id"])
        if session.payment_status == "paid":
            paid.add(session.id)
        return f"<h1 id='thanks'>Thank you: {session.payment_status}</h1>"

    @app.get("/")
    def home():
        return "<form method='post' action='/buy'><button id='buy'>Buy</button></form>"

    return app
'''

TEST = '''
import threading

import pytest
from werkzeug.serving import make_server

from harness.pages.checkout import CardDetails
from shop import create_app


@pytest.fixture
def shop_url(stripe_sandbox):
    server = make_server("127.0.0.1", 0, create_app(stripe_sandbox.url), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_a_customer_buys_the_poster(page, checkout_page, shop_url, stripe_sandbox):
    page.goto(shop_url)
    page.click("#buy")
    checkout_page.pay(CardDetails("4242 4242 4242 4242"), email="jo@example.test")
    page.wait_for_selector("#thanks")
    assert page.inner_text("#thanks") == "Thank you: paid"
    events = stripe_sandbox.events_for("checkout.session.completed")
    assert len(events) == 1


def test_a_declined_card_keeps_the_customer_on_the_page(page, checkout_page, shop_url):
    page.goto(shop_url)
    page.click("#buy")
    checkout_page.pay(CardDetails("4000 0000 0000 9995"), email="jo@example.test")
    assert "insufficient funds" in checkout_page.payment_error()
'''


def test_a_project_outside_this_repository_tests_its_checkout_with_the_plugin(
        tmp_path: Path) -> None:
    (tmp_path / "shop.py").write_text(textwrap.dedent(SHOP))
    (tmp_path / "test_shop.py").write_text(textwrap.dedent(TEST))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_shop.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "2 passed" in done.stdout


def test_a_live_key_is_refused_before_anything_runs(tmp_path: Path) -> None:
    (tmp_path / "test_nothing.py").write_text("def test_never_runs():\n    assert False\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_nothing.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "STRIPE_SECRET_KEY": "sk_live_123"})
    assert done.returncode == 4
    assert "refusing to run with a live Stripe key" in done.stdout + done.stderr
    assert "test_never_runs" not in done.stdout


def test_sandbox_only_scenarios_are_skipped_against_real_stripe_with_a_reason(
        tmp_path: Path) -> None:
    (tmp_path / "test_tagged.py").write_text(textwrap.dedent('''
        import pytest

        @pytest.mark.sandbox_only
        def test_moves_stripes_clock():
            assert False
    '''))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
         "--stripe-backend=stripe-test", "test_tagged.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "STRIPE_SECRET_KEY": "sk_test_from_the_dashboard"})
    assert done.returncode == 0, done.stdout
    assert "1 skipped" in done.stdout
    assert "needs the sandbox" in done.stdout
