"""Who may do what: bearer tokens, the login cookie, CSRF on forms, the admin role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from freezegun import freeze_time
from web_support import (
    ADMIN,
    ALICE,
    BOB,
    NOW,
    PASSWORDS,
    FakePaymentService,
    csrf,
    sign_in,
)

from simulator.service.adapters.repositories import Repository
from simulator.service.domain.credentials import token_digest
from simulator.service.domain.user import User


def test_the_api_refuses_a_caller_without_credentials(anonymous: FlaskClient) -> None:
    answer = anonymous.post("/payments/checkout/create", json={"auction_id": "win_17"})
    assert answer.status_code == 401
    assert answer.json == {"error": {"code": "unauthenticated", "message": "Sign in to continue."}}


def test_a_wrong_or_malformed_bearer_token_is_refused(anonymous: FlaskClient,
                                                      service: FakePaymentService) -> None:
    wrong = anonymous.get("/payments/checkout/ps_1/status",
                          headers={"Authorization": "Bearer tok_nobody"})
    malformed = anonymous.get("/payments/checkout/ps_1/status",
                              headers={"Authorization": "Basic YWxpY2U6"})
    assert (wrong.status_code, wrong.json["error"]["code"]) == (401, "invalid_token")
    assert wrong.json["error"]["message"] == "The API token is not valid."
    assert (malformed.status_code, malformed.json["error"]["code"]) == (401, "invalid_token")
    assert service.calls == []


def test_a_bearer_token_acts_as_its_user(api_as: Callable[[User], FlaskClient],
                                         service: FakePaymentService) -> None:
    api_as(ALICE).post("/payments/checkout/create", json={"auction_id": "win_17"})
    assert service.called("start_checkout") == [(ALICE.id, "win_17")]


def test_a_wrong_bearer_token_is_not_rescued_by_a_session_cookie(
        alice: FlaskClient, service: FakePaymentService) -> None:
    answer = alice.get("/payments/checkout/ps_1/status",
                       headers={"Authorization": "Bearer tok_nobody"})
    assert answer.status_code == 401
    assert service.calls == []


def test_the_login_page_asks_for_an_address_and_password_and_lists_nobody(
        anonymous: FlaskClient) -> None:
    page = anonymous.get("/payments/login").text
    assert 'name="email"' in page and 'type="password"' in page
    for user in (ALICE, BOB, ADMIN):
        assert user.name not in page and user.email not in page and user.id not in page


def test_the_right_password_signs_in_and_goes_to_their_home(
        browser_as: Callable[[User], FlaskClient], anonymous: FlaskClient) -> None:
    buyer = sign_in(anonymous, ALICE)
    assert (buyer.status_code, buyer.headers["Location"]) == (303, "/payments/winnings")
    admin = browser_as(ADMIN).get("/payments/winnings")
    assert 'data-testid="current-user" data-user-id="usr_admin"' in admin.text


@pytest.mark.parametrize(("email", "password"), [
    ("alice@example.test", "not-alices-password"), ("ALICE@example.test", ""),
    ("ghost@example.test", "alice-correct-horse"), ("", "")])
def test_a_wrong_address_or_password_is_refused_and_recorded(
        anonymous: FlaskClient, repo: Repository, email: str, password: str) -> None:
    anonymous.get("/payments/login")
    answer = anonymous.post("/payments/login", data={
        "email": email, "password": password, "csrf_token": csrf(anonymous)})
    assert answer.status_code == 401
    assert "do not match an account" in answer.text
    assert anonymous.get("/payments/winnings").status_code == 302  # still nobody
    assert [e["kind"] for e in repo.list_security_events()] == ["sign_in_failed"]


def test_the_address_is_matched_whatever_its_case(anonymous: FlaskClient) -> None:
    capitalised = User(ALICE.id, ALICE.name, "Alice@Example.TEST", "buyer", "")
    assert sign_in(anonymous, capitalised, PASSWORDS[ALICE.id]).status_code == 303


def test_a_sign_in_is_a_security_event_and_an_audit_entry(alice: FlaskClient,
                                                          repo: Repository) -> None:
    assert [e["kind"] for e in repo.list_security_events()] == ["signed_in"]
    assert [entry.action for entry in repo.audit_for("user", ALICE.id)] == ["signed_in"]


def test_the_session_ends_after_its_lifetime_or_when_idle(
        alice: FlaskClient, frozen_time: None) -> None:
    with freeze_time(dt.datetime.fromtimestamp(NOW + 3000, tz=dt.UTC)):
        assert alice.get("/payments/winnings").status_code == 200  # noted as seen
    with freeze_time(dt.datetime.fromtimestamp(NOW + 3000 + 3601, tz=dt.UTC)):
        assert alice.get("/payments/winnings").status_code == 302  # idle an hour


def test_the_session_ends_after_eight_hours_however_busy(alice: FlaskClient) -> None:
    for hours in range(1, 9):
        with freeze_time(dt.datetime.fromtimestamp(NOW + hours * 3000, tz=dt.UTC)):
            assert alice.get("/payments/winnings").status_code == 200
    with freeze_time(dt.datetime.fromtimestamp(NOW + 8 * 3600 + 1, tz=dt.UTC)):
        assert alice.get("/payments/winnings").status_code == 302


def test_the_session_cookie_is_http_only_and_lax(anonymous: FlaskClient) -> None:
    answer = sign_in(anonymous, ALICE)
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie


def test_api_tokens_are_stored_as_their_sha256(repo: Repository,
                                               api_as: Callable[[User], FlaskClient],
                                               service: FakePaymentService) -> None:
    stored = [row[0] for row in repo.connection().execute("SELECT api_token FROM users")]
    assert sorted(stored) == sorted(token_digest(u.api_token) for u in (ALICE, BOB, ADMIN))
    raw = Path(repo.path).read_bytes()
    assert b"tok_alice" not in raw and b"alice-correct-horse" not in raw
    api_as(ALICE).post("/payments/checkout/create", json={"auction_id": "win_17"})
    assert service.called("start_checkout") == [(ALICE.id, "win_17")]
    assert repo.get_user_by_token(token_digest(ALICE.api_token)) is None  # the digest is no token


def test_a_plain_token_an_older_version_stored_is_hashed_at_start(repo: Repository) -> None:
    with repo.transaction() as conn:
        conn.execute("UPDATE users SET api_token = 'tok_legacy' WHERE id = ?", (BOB.id,))
    again = Repository(repo.path, cipher=repo.cipher)
    try:
        assert again.get_user_by_token("tok_legacy") is not None
        [stored] = again.connection().execute("SELECT api_token FROM users WHERE id = ?",
                                              (BOB.id,)).fetchone()
        assert stored == token_digest("tok_legacy")
    finally:
        again.close()


def test_the_cookie_works_for_the_json_api_with_a_json_body(
        alice: FlaskClient, service: FakePaymentService) -> None:
    as_form = alice.post("/payments/checkout/create", data={"auction_id": "win_17"})
    as_json = alice.post("/payments/checkout/create", json={"auction_id": "win_17"})
    assert as_form.status_code == 415  # a cross-site form cannot send JSON
    assert as_form.json["error"]["code"] == "unsupported_media_type"
    assert as_json.status_code == 201
    assert service.called("start_checkout") == [(ALICE.id, "win_17")]


def test_a_page_sends_an_anonymous_browser_to_the_login_page(anonymous: FlaskClient) -> None:
    answer = anonymous.get("/payments/winnings")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/payments/login?next=/payments/winnings"


def test_after_login_the_browser_returns_where_it_was_going(anonymous: FlaskClient) -> None:
    answer = sign_in(anonymous, ALICE, next_url="/payments/sessions/ps_1")
    assert answer.headers["Location"] == "/payments/sessions/ps_1"


OFF_SITE = ["https://evil.test/", "//evil.test/x", "/\\evil.test/", "\\/evil.test/",
            "/\t/evil.example/", "/%09/evil.example/", "/%2F/evil.example/",
            "/%5C/evil.example/", "/\n/evil", "/\r\nSet-Cookie:x=1", "javascript:alert(1)",
            "http:/evil.test", " //evil.test", "/\x00/evil.test", "x" * 3000]


@pytest.mark.parametrize("target", OFF_SITE)
def test_login_never_redirects_off_site(anonymous: FlaskClient, target: str) -> None:
    answer = sign_in(anonymous, ALICE, next_url=target)
    assert (answer.status_code, answer.headers["Location"]) == (303, "/payments/winnings")


@pytest.mark.parametrize("query", ["/%09/evil.example/", "%0a%0d/evil", "//evil.test",
                                   "/%5c/evil.example"])
def test_the_login_page_never_carries_an_off_site_next(anonymous: FlaskClient,
                                                       query: str) -> None:
    answer = anonymous.get(f"/payments/login?next={query}")
    assert answer.status_code == 200
    assert 'name="next" value=""' in answer.text


def test_forms_without_the_csrf_token_are_refused(alice: FlaskClient,
                                                  service: FakePaymentService) -> None:
    answer = alice.post("/payments/winnings/win_17/pay", data={})
    assert answer.status_code == 400
    assert 'data-code="invalid_request"' in answer.text
    assert service.calls == []


def test_choosing_a_user_id_no_longer_signs_anyone_in(anonymous: FlaskClient) -> None:
    anonymous.get("/payments/login")
    answer = anonymous.post("/payments/login",
                            data={"user_id": ADMIN.id, "csrf_token": csrf(anonymous)})
    assert answer.status_code == 401
    assert anonymous.get("/payments/admin/").status_code == 302


def test_a_form_without_its_csrf_token_is_counted_as_a_security_event(
        anonymous: FlaskClient, repo: Repository) -> None:
    for _ in range(3):
        assert anonymous.post("/payments/login", data={
            "email": ALICE.email, "password": PASSWORDS[ALICE.id]}).status_code == 400
    [event] = repo.list_security_events()
    assert (event["kind"], event["count"]) == ("csrf_failed", 3)


def test_admin_pages_are_for_admins_only(alice: FlaskClient, admin: FlaskClient,
                                         anonymous: FlaskClient) -> None:
    assert alice.get("/payments/admin/payments").status_code == 403
    assert 'data-code="forbidden"' in alice.get("/payments/admin/").text
    assert anonymous.get("/payments/admin/").headers["Location"].startswith("/payments/login")
    assert admin.get("/payments/admin/payments").status_code == 200


def test_signing_out_forgets_the_user(alice: FlaskClient) -> None:
    alice.post("/payments/logout", data={"csrf_token": csrf(alice)})
    assert alice.get("/payments/winnings").status_code == 302
