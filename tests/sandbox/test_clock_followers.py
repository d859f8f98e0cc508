"""The sandbox's clock followers: a follower's token goes back to it with every move and
is never shown; a move out of bounds is refused with a 400 and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from simulator.sandbox import timeline

FOLLOWER = "http://127.0.0.1:9/service"


class _Answer:
    def raise_for_status(self) -> None:
        return None

    def json(self) -> dict[str, Any]:
        return {"next_due_at": None}


def test_a_follower_gets_its_token_back_with_each_move(
        api: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[dict[str, Any]] = []

    def post(url: str, **kwargs: Any) -> _Answer:
        sent.append({"url": url, **kwargs})
        return _Answer()

    monkeypatch.setattr(requests, "post", post)
    assert api.post("/_sandbox/clock/followers",
                    data={"url": FOLLOWER, "token": "sync-secret"}).status_code == 200
    assert api.post("/_sandbox/clock/advance", data={"seconds": "60"}).status_code == 200
    assert sent and all(call["headers"] == {"X-Test-Token": "sync-secret"} for call in sent)
    assert sent[0]["url"] == f"{FOLLOWER}{timeline.SYNC_PATH}"
    shown = api.get("/_sandbox/clock").get_data(as_text=True)
    assert FOLLOWER in shown and "sync-secret" not in shown


def test_removing_a_follower_forgets_its_token(api: FlaskClient) -> None:
    api.post("/_sandbox/clock/followers", data={"url": FOLLOWER, "token": "sync-secret"})
    api.delete("/_sandbox/clock/followers", data={"url": FOLLOWER})
    assert api.get("/_sandbox/clock").json["followers"] == []


@pytest.mark.parametrize("seconds", ["nan", "inf", "-inf", "1e400", "1e30", "-5", "soon", ""])
def test_a_move_out_of_bounds_is_refused_and_changes_nothing(api: FlaskClient,
                                                             seconds: str) -> None:
    before = api.get("/_sandbox/clock").json["offset_seconds"]
    answer = api.post("/_sandbox/clock/advance", data={"seconds": seconds})
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert answer.json["error"]["type"] == "invalid_request_error"
    assert api.get("/_sandbox/clock").json["offset_seconds"] == before
