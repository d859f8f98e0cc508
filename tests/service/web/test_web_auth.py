"""Who may do what: bearer tokens, the login cookie, CSRF on forms, the admin role."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from web_support import ADMIN, ALICE, FakePaymentService, csrf

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


def test_the_login_page_lists_the_demo_users(anonymous: FlaskClient) -> None:
    page = anonymous.get("/payments/login").text
    for name in ("Alice Buyer", "Bob Buyer", "Ada Admin"):
        assert f'data-user-name="{name}"' in page


def test_choosing_a_user_signs_in_and_goes_to_their_home(browser_as: Callable[[User], FlaskClient],
                                                         anonymous: FlaskClient) -> None:
    anonymous.get("/payments/login")
    buyer = anonymous.post("/payments/login",
                           data={"user_id": ALICE.id, "csrf_token": csrf(anonymous)})
    assert buyer.headers["Location"] == "/payments/winnings"
    admin = browser_as(ADMIN).get("/payments/winnings")
    assert 'data-testid="current-user" data-user-id="usr_admin"' in admin.text


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
    anonymous.get("/payments/login?next=/payments/sessions/ps_1")
    answer = anonymous.post("/payments/login", data={
        "user_id": ALICE.id, "csrf_token": csrf(anonymous), "next": "/payments/sessions/ps_1"})
    assert answer.headers["Location"] == "/payments/sessions/ps_1"


def test_login_never_redirects_off_site(anonymous: FlaskClient) -> None:
    anonymous.get("/payments/login")
    for target in ("https://evil.test/", "//evil.test/x"):
        answer = anonymous.post("/payments/login", data={
            "user_id": ALICE.id, "csrf_token": csrf(anonymous), "next": target})
        assert answer.headers["Location"] == "/payments/winnings"


def test_forms_without_the_csrf_token_are_refused(alice: FlaskClient,
                                                  service: FakePaymentService) -> None:
    answer = alice.post("/payments/winnings/win_17/pay", data={})
    assert answer.status_code == 400
    assert 'data-code="invalid_request"' in answer.text
    assert service.calls == []


def test_an_unknown_user_cannot_sign_in(anonymous: FlaskClient) -> None:
    anonymous.get("/payments/login")
    answer = anonymous.post("/payments/login",
                            data={"user_id": "usr_ghost", "csrf_token": csrf(anonymous)})
    assert answer.status_code == 400


def test_admin_pages_are_for_admins_only(alice: FlaskClient, admin: FlaskClient,
                                         anonymous: FlaskClient) -> None:
    assert alice.get("/payments/admin/payments").status_code == 403
    assert 'data-code="forbidden"' in alice.get("/payments/admin/").text
    assert anonymous.get("/payments/admin/").headers["Location"].startswith("/payments/login")
    assert admin.get("/payments/admin/payments").status_code == 200


def test_signing_out_forgets_the_user(alice: FlaskClient) -> None:
    alice.post("/payments/logout", data={"csrf_token": csrf(alice)})
    assert alice.get("/payments/winnings").status_code == 302
