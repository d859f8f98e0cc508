"""What every Locust process of a load run needs to know, made once by the process that
runs ``stripe-sim load`` and handed to Locust as one JSON value (the custom argument
``--stripe-sim-plan``, read from ``STRIPE_SIM_LOAD_PLAN``). Locust's master forwards its
custom arguments to every worker with each spawn, so workers on other machines need
nothing but the master's address.

Buyers are written straight into the service's database with their API tokens (the
only way to know a token in clear); their wins are recorded under load through the
auction API, as the auction system records them."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import requests

from simulator.common.clock import system_time
from simulator.common.ids import IdGenerator
from simulator.service.adapters.repositories import Repository
from simulator.service.adapters.webhook_endpoint import stored_endpoint
from simulator.service.domain.user import User

PLAN_VARIABLE = "STRIPE_SIM_LOAD_PLAN"
SANDBOX_KEY = "sk_test_load_clients"  # the Stripe API persona's key (any sk_test_ works)


@dataclass(frozen=True)
class SeededBuyer:
    id: str
    token: str


@dataclass
class LoadPlan:
    service_url: str
    sandbox_url: str
    auction_token: str
    webhook_secret: str
    # The service's clock minus this machine's: wins end and webhooks are signed in the
    # service's time (it refuses signatures more than 300 s away from it).
    clock_offset: float
    buyers: list[SeededBuyer]
    api_key: str = SANDBOX_KEY
    tag: str = field(default_factory=lambda: IdGenerator().token(6))

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> LoadPlan:
        data = json.loads(text)
        data["buyers"] = [SeededBuyer(**buyer) for buyer in data["buyers"]]
        return cls(**data)


class PlanError(RuntimeError):
    """The servers cannot be load-tested as they are (said in one line)."""


def seed_buyers(db_path: str, count: int, tag: str) -> list[SeededBuyer]:
    """``count`` buyers with API tokens, in one transaction."""
    ids = IdGenerator()
    buyers = [SeededBuyer(ids.new("usr", 14), f"tok_{secrets.token_urlsafe(24)}")
              for _ in range(count)]
    repo = Repository(db_path)
    try:
        with repo.transaction():
            for number, buyer in enumerate(buyers, 1):
                repo.add_user(User(buyer.id, f"Load buyer {tag}-{number}",
                                   f"load-{tag}-{number}@example.test", "buyer",
                                   buyer.token, "US"))
    finally:
        repo.close()
    return buyers


def webhook_secret(db_path: str) -> str:
    """The signing secret of the endpoint the service registered at the sandbox."""
    repo = Repository(db_path)
    try:
        endpoint = stored_endpoint(repo)
    finally:
        repo.close()
    if endpoint is None or not endpoint.secrets:
        raise PlanError(f"the service's database {db_path} holds no webhook endpoint;"
                        " start the service against the sandbox first")
    return endpoint.secrets[0]


def test_route_headers(db_path: str) -> dict[str, str]:
    """The service's test routes (``/_test/*``) want its test token, kept beside its
    database (or in ``SERVICE_TEST_TOKEN``)."""
    from simulator.service.adapters.control_token import HEADER, read_control_token

    token = read_control_token(db_path)
    return {HEADER: token} if token else {}


def service_clock_offset(service_url: str, db_path: str) -> float:
    """From the test-mode clock route; the load needs a service in test mode."""
    try:
        answer = requests.get(f"{service_url}/_test/clock", timeout=10,
                              headers=test_route_headers(db_path))
    except requests.RequestException as error:
        raise PlanError(f"the service at {service_url} does not answer: {error}") from None
    if answer.status_code != 200:
        raise PlanError(f"the service at {service_url} is not in test mode"
                        f" (GET /_test/clock answered {answer.status_code})")
    return float(answer.json()["now"]) - system_time()


def make_plan(service_url: str, sandbox_url: str, db_path: str, auction_token: str,
              buyers: int) -> LoadPlan:
    offset = service_clock_offset(service_url, db_path)
    tag = IdGenerator().token(6)
    seeded: Sequence[SeededBuyer] = seed_buyers(db_path, buyers, tag)
    return LoadPlan(service_url, sandbox_url, auction_token, webhook_secret(db_path), offset,
                    list(seeded), tag=tag)
