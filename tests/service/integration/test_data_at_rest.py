"""What a copy of the service's files gives away: after a buyer paid (typing a card
number into the cardholder-name field of Stripe's page, as buyers do) and was mailed a
receipt, the database file, its write-ahead log and the receipt files hold no contact
detail, no secret (API token, webhook signing secret), no webhook payload and no PDF in
the clear, and no full card number is anywhere: not in the database (decrypted), the
logs, the receipts or the mail."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import pypdf
import pytest
import requests
from integration_support import ALICE, Marketplace

from simulator.service.adapters.receipts import ReceiptStore
from simulator.service.adapters.storage.schema import ENCRYPTED
from simulator.service.adapters.webhook_endpoint import STATE_KEY
from simulator.service.domain.card_numbers import luhn_valid

TYPED_NAME = "4242 4242 4242 4242"  # the card number, typed where the name goes
CARD_DIGITS = TYPED_NAME.replace(" ", "")


def every_luhn_number(text: str) -> list[str]:
    """Each sequence of whole digit groups (joined by a space or dash) of 13-19 digits
    that passes Luhn; digits inside a word (an id, a hex digest) are not a number."""
    found = []
    for run in re.finditer(r"(?<![0-9A-Za-z])[0-9]+(?:[ -][0-9]+)*(?![0-9A-Za-z])", text):
        groups = re.split(r"[ -]", run.group())
        for first in range(len(groups)):
            for last in range(first, len(groups)):
                digits = "".join(groups[first:last + 1])
                if 13 <= len(digits) <= 19 and luhn_valid(digits):
                    found.append(digits)
    return found


def pay_on_the_hosted_page(market: Marketplace, lot: int) -> str:
    """The buyer fills in Stripe's page (name field included) and pays; the order id."""
    win = market.win(lot, 12_500, title="Brass carriage clock")  # below 3-D Secure
    started = market.start(win)
    checkout_id = market.session(started["payment_session_id"]).checkout_session_id
    answer = requests.post(f"{market.sandbox.url}/c/pay/{checkout_id}/confirm", timeout=30,
                           data={"cardNumber": "4242 4242 4242 4242", "cardExpiry": "12 / 34",
                                 "cardCvc": "123", "billingName": TYPED_NAME,
                                 "billingCountry": "US", "billingPostalCode": "10001"})
    assert answer.status_code == 200 and "redirect" in answer.json(), answer.text
    market.sandbox.drain()
    market.service.runtime.service.run_due_jobs()  # the receipt and its mail
    [order] = market.orders(win)
    assert order.status == "paid" and order.receipt_sha256, order
    assert any(mail[0] == ALICE.email for mail in market.mailer.sent), market.mailer.sent
    return order.id


def files_of(market: Marketplace) -> dict[str, bytes]:
    """The raw bytes a copy of the service's data would hold (the WAL while it runs)."""
    db = Path(market.service.config.db_path)
    paths = [db, Path(f"{db}-wal"), *Path(market.service.config.receipts_dir).iterdir()]
    return {path.name: path.read_bytes() for path in paths if path.exists()}


def stored_text(market: Marketplace) -> str:
    """Every value in the database, decrypted: what the service itself can read."""
    repo = market.repo
    values = []
    tables = [row[0] for row in repo.connection().execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        for row in repo.connection().execute(f"SELECT * FROM {table}"):
            for column in row.keys():  # noqa: SIM118
                value = row[column]
                if isinstance(value, float):
                    continue  # a measured figure: its 17 decimals pass Luhn one time in ten
                if column in ENCRYPTED.get(table, ()):
                    value = repo.cipher.decrypt(value)
                values.append(str(value))
    return "\n".join(values)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def test_a_copy_of_the_files_reveals_nothing_without_the_key(market: Marketplace) -> None:
    pay_on_the_hosted_page(market, 31)
    [secret, *_] = market.repo.get_state(STATE_KEY)["secrets"]  # the signing secret
    inbox = market.repo.list_webhook_events()
    assert inbox and any("customer_details" in event.payload for event in inbox)

    files = files_of(market)

    assert any(name.endswith(".wal") or name.endswith("-wal") for name in files), files
    assert any(name.endswith(".pdf.enc") for name in files), files
    for name, data in files.items():
        for needle in (ALICE.email, ALICE.name, ALICE.api_token, secret, "customer_details",
                       "%PDF",
                       "Brass carriage clock" if name.endswith(".enc") else ALICE.email):
            assert needle.encode() not in data, f"{needle!r} is readable in {name}"


def test_no_full_card_number_is_kept_logged_mailed_or_printed(
        market: Marketplace, logs: pytest.LogCaptureFixture) -> None:
    order_id = pay_on_the_hosted_page(market, 32)

    inbox_text = "\n".join(event.payload for event in market.repo.list_webhook_events())
    assert "**** **** **** 4242" in inbox_text  # the name arrived, masked
    assert every_luhn_number(stored_text(market)) == []
    for data in files_of(market).values():
        assert CARD_DIGITS.encode() not in data and TYPED_NAME.encode() not in data
    assert every_luhn_number("\n".join(record.getMessage() for record in logs.records)) == []
    assert every_luhn_number(logs.text) == []
    pdf = ReceiptStore(market.service.config.receipts_dir, market.repo.cipher).load(order_id)
    assert pdf is not None
    receipt = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert every_luhn_number(receipt) == []
    for to, subject, text, attachments in market.mailer.sent:
        assert every_luhn_number(f"{to}\n{subject}\n{text}") == []
        for _, content, _ in attachments:
            assert CARD_DIGITS.encode() not in content


def test_a_card_number_logged_by_mistake_is_masked(market: Marketplace,
                                                   logs: pytest.LogCaptureFixture) -> None:
    logging.getLogger("simulator.service.payments").warning(
        "buyer typed %s into the name", TYPED_NAME)
    try:
        raise ValueError(f"bad name {CARD_DIGITS}")
    except ValueError:
        logging.getLogger("simulator.service").exception("handler failed")

    assert "buyer typed **** **** **** 4242 into the name" in logs.text
    assert every_luhn_number(logs.text) == []
