"""``stripe-sim bench seed``: cloned rows list as the sandbox's own do, filters included
(simulator/bench/seed.py)."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from simulator.bench.seed import seed
from simulator.sandbox.app import create_app
from simulator.sandbox.runtime import SandboxConfig


def client(db_path: Path) -> FlaskClient:
    api = create_app(SandboxConfig(db_path=str(db_path))).test_client()
    api.environ_base["HTTP_AUTHORIZATION"] = "Bearer sk_test_seed_tests"
    return api


def test_seeded_objects_list_by_email_type_and_customer(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.sqlite3"
    client(db)  # an empty sandbox file: the seeding makes its templates through the API
    report = seed(str(db), 50)
    assert report.by_type == {"customer": 10, "payment_intent": 10, "charge": 10, "event": 20}

    api = client(db)
    by_email = api.get("/v1/customers?email=bidder-3@example.com").get_json()["data"]
    assert [customer["email"] for customer in by_email] == ["bidder-3@example.com"]
    intents = api.get(f"/v1/payment_intents?customer={by_email[0]['id']}").get_json()["data"]
    assert [intent["customer"] for intent in intents] == [by_email[0]["id"]]
    created = api.get("/v1/events?type=customer.created&limit=100").get_json()["data"]
    assert len(created) == 11  # the template's and ten clones'
    assert {event["type"] for event in created} == {"customer.created"}
    assert by_email[0]["id"] in {event["data"]["object"]["id"] for event in created}


def test_seeding_again_adds_new_objects_beside_the_first(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.sqlite3"
    client(db)
    seed(str(db), 50)
    again = seed(str(db), 50)
    assert again.by_type == {"customer": 10, "payment_intent": 10, "charge": 10, "event": 20}

    api = client(db)
    customers = api.get("/v1/customers?limit=100").get_json()["data"]
    assert len({customer["id"] for customer in customers}) == 21  # the template and 2 x 10
    for customer in customers:  # each one's filter row names its own email
        found = api.get(f"/v1/customers?email={customer['email']}").get_json()["data"]
        assert customer["id"] in {other["id"] for other in found}
