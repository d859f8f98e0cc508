"""The JSON API: bodies, statuses, and every refusal rendered by the one handler."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from web_support import ALICE, FakePaymentService, payment_session, status_view

from simulator.service.adapters.errors import PaymentsUnavailable, StripeRejected
from simulator.service.domain.user import User
from simulator.service.payments import CheckoutStarted, PaymentRefused

Api = Callable[[User], FlaskClient]


def create(api_as: Api, auction_id: object = "win_17") -> object:
    return api_as(ALICE).post("/payments/checkout/create", json={"auction_id": auction_id})


def test_create_answers_201_with_the_checkout_url(api_as: Api) -> None:
    answer = create(api_as)
    session = payment_session()
    assert answer.status_code == 201
    assert answer.json == {
        "payment_session_id": session.id, "checkout_url": session.checkout_url,
        "expires_at": session.expires_at, "window_ends_at": session.window_ends_at,
        "status": "open", "attempt": 1, "created": True,
    }


def test_an_open_session_returned_again_answers_200(api_as: Api,
                                                    service: FakePaymentService) -> None:
    service.started = CheckoutStarted(payment_session(), created=False)
    answer = create(api_as)
    assert answer.status_code == 200
    assert answer.json["created"] is False


@pytest.mark.parametrize("body", [{}, {"auction_id": ""}, {"auction_id": 17}, None])
def test_create_needs_an_auction_id(api_as: Api, service: FakePaymentService,
                                    body: object) -> None:
    answer = api_as(ALICE).post("/payments/checkout/create", json=body)
    assert answer.status_code == 400
    assert answer.json["error"]["code"] == "invalid_request"
    assert "auction_id is required" in answer.json["error"]["message"]
    assert service.calls == []


@pytest.mark.parametrize(("code", "status", "message"), [
    ("not_winner", 403, "Only the winning bidder can pay for this lot."),
    ("already_paid", 409, "This lot has already been paid for."),
    ("window_closed", 410, "The 24-hour payment window for this lot has closed."),
    ("retries_exhausted", 409, "You have used every payment attempt for this lot."),
    ("not_found", 404, "No such auction: win_404"),
])
def test_refusals_answer_their_status_code_and_message(
        api_as: Api, service: FakePaymentService, code: str, status: int, message: str) -> None:
    service.raises["start_checkout"] = PaymentRefused(code, status, message)
    answer = create(api_as)
    assert answer.status_code == status
    assert answer.json == {"error": {"code": code, "message": message}}


def test_payments_unavailable_answers_503_with_retry_after(api_as: Api,
                                                           service: FakePaymentService) -> None:
    service.raises["start_checkout"] = PaymentRefused(
        "payments_unavailable", 503,
        "Payments are temporarily unavailable, please try again in a minute")
    answer = create(api_as)
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "60"
    assert answer.json["error"]["code"] == "payments_unavailable"


def test_an_unavailable_gateway_leaking_through_is_a_503_too(
        api_as: Api, service: FakePaymentService) -> None:
    service.raises["start_checkout"] = PaymentsUnavailable("circuit_open")
    answer = create(api_as)
    assert answer.status_code == 503
    assert answer.json["error"] == {
        "code": "payments_unavailable",
        "message": "Payments are temporarily unavailable, please try again in a minute"}


def test_a_request_stripe_rejected_is_a_502_without_stripe_details(
        api_as: Api, service: FakePaymentService) -> None:
    service.raises["start_checkout"] = StripeRejected(
        code="parameter_invalid_integer", param="expires_at", message="Invalid integer",
        http_status=400)
    answer = create(api_as)
    assert answer.status_code == 502
    assert answer.json["error"]["code"] == "payment_provider_error"
    assert "expires_at" not in answer.text


def test_an_unexpected_error_is_a_500_json_without_internals(
        api_as: Api, service: FakePaymentService, caplog: pytest.LogCaptureFixture) -> None:
    service.raises["start_checkout"] = KeyError("secret_internal_detail")
    answer = create(api_as)
    assert answer.status_code == 500
    assert answer.json == {"error": {"code": "internal_error",
                                     "message": "Something went wrong on our side."}}
    assert "secret_internal_detail" not in answer.text
    assert "unexpected error on POST /payments/checkout/create" in caplog.text


def test_status_answers_the_payment_view(api_as: Api, service: FakePaymentService) -> None:
    service.view = status_view(payment_session(status="failed", failure_reason="Declined."),
                               attempts_left=3)
    answer = api_as(ALICE).get("/payments/checkout/ps_win_17_1/status")
    assert answer.status_code == 200
    assert answer.json["status"] == "failed"
    assert answer.json["failure_reason"] == "Declined."
    assert answer.json["attempts_left"] == 3
    assert service.called("status") == [(ALICE.id, "ps_win_17_1")]


def test_status_of_someone_elses_payment_is_forbidden(api_as: Api,
                                                      service: FakePaymentService) -> None:
    service.raises["status"] = PaymentRefused("forbidden", 403,
                                              "This payment belongs to another buyer.")
    answer = api_as(ALICE).get("/payments/checkout/ps_other/status")
    assert answer.status_code == 403
    assert answer.json["error"]["code"] == "forbidden"


def test_retry_starts_a_new_attempt(api_as: Api, service: FakePaymentService) -> None:
    service.started = CheckoutStarted(payment_session(attempt=2), created=True)
    answer = api_as(ALICE).post("/payments/retry/ps_win_17_1")
    assert answer.status_code == 201
    assert answer.json["attempt"] == 2
    assert service.called("retry") == [(ALICE.id, "ps_win_17_1")]


def test_unknown_api_routes_answer_json_404(api_as: Api) -> None:
    answer = api_as(ALICE).get("/payments/nothing-here")
    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "not_found"


def test_health(anonymous: FlaskClient) -> None:
    answer = anonymous.get("/payments/health")
    assert answer.status_code == 200
    assert answer.json["status"] == "ok"
    assert answer.json["stripe"] == "sandbox"
