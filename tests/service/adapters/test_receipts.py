"""Receipt PDFs, parsed back with pypdf: what they say, and what they never say."""

from __future__ import annotations

import hashlib
import io
import re
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader

from simulator.service.adapters.encryption import DataCipher, new_key
from simulator.service.adapters.errors import ReceiptExists, ReceiptTampered
from simulator.service.adapters.receipts import (
    ReceiptData,
    ReceiptStore,
    receipt_for,
    render_receipt,
)
from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.transaction import Transaction
from simulator.service.domain.user import User

PAID_AT = 1763733780  # 21 November 2025, 14:03 UTC
CARD_NUMBER_LIKE = re.compile(r"\d{13,19}")

RECEIPT = ReceiptData(
    receipt_number="ord_4kT9sQ2xVb7LmN1pR8cZ3yWe",
    merchant_name="Lot & Hammer Auctions",
    lot=17,
    title="Brass telescope, c. 1890",
    buyer_name="Ada Lovelace",
    buyer_email="ada@example.com",
    amount=64200,
    currency="usd",
    card_brand="visa",
    card_last4="4242",
    three_d_secure_result="authenticated",
    paid_at=PAID_AT,
    payment_reference="ch_3QxYz0123abcDEF",
)


def _pdf(receipt: ReceiptData) -> PdfReader:
    return PdfReader(io.BytesIO(render_receipt(receipt)))


def _text(receipt: ReceiptData) -> str:
    return "\n".join(page.extract_text() for page in _pdf(receipt).pages)


def test_a_receipt_is_a_one_page_pdf() -> None:
    pdf = _pdf(RECEIPT)

    assert len(pdf.pages) == 1
    assert pdf.metadata is not None and pdf.metadata.title == f"Receipt {RECEIPT.receipt_number}"


def test_it_names_the_merchant_lot_buyer_amount_and_card() -> None:
    text = _text(RECEIPT)

    for expected in ("Lot & Hammer Auctions", "Receipt", "ord_4kT9sQ2xVb7LmN1pR8cZ3yWe",
                     "21 November 2025, 14:03 UTC", "Ada Lovelace <ada@example.com>",
                     "Lot 17: Brass telescope, c. 1890", "Total paid", "$642.00",
                     "Visa ending in 4242", "Authenticated with 3-D Secure",
                     "ch_3QxYz0123abcDEF"):
        assert expected in text, expected


def test_it_never_shows_a_card_number() -> None:
    typed_in = replace(RECEIPT, title="Telescope 4242 4242 4242 4242",
                       buyer_name="Ada 4000-0027-6000-3184", card_last4="4111111111111111")

    text = _text(typed_in)

    assert CARD_NUMBER_LIKE.search(text) is None
    assert CARD_NUMBER_LIKE.search(re.sub(r"[ -]", "", text)) is None
    assert "Telescope [number removed]" in text
    assert "Visa ending in 1111" in text


@pytest.mark.parametrize(("result", "wording"), [
    (None, "Not requested"),
    ("attempt_acknowledged", "3-D Secure attempted (card not enrolled)"),
    ("some_new_result", "Some new result"),
])
def test_the_three_d_secure_outcome_in_words(result: str | None, wording: str) -> None:
    assert wording in _text(replace(RECEIPT, three_d_secure_result=result))


def test_characters_outside_latin1_are_drawn_with_stand_ins() -> None:
    text = _text(replace(RECEIPT, currency="eur", title="\u201cLa Lune\u201d \u2013 oil"))

    assert "EUR 642.00" in text
    assert '"La Lune" - oil' in text


def test_a_long_title_is_shortened_to_fit() -> None:
    text = _text(replace(RECEIPT, title="A very long description " * 10))

    line = next(line for line in text.splitlines() if line.startswith("Lot 17:"))
    assert "..." in line and "$642.00" in text


def test_the_same_receipt_renders_the_same_bytes() -> None:
    assert render_receipt(RECEIPT) == render_receipt(replace(RECEIPT))


def test_a_receipt_for_a_paid_win() -> None:
    win = AuctionWin(id="win_17", lot=17, title="Brass telescope", seller_id="u_seller",
                     buyer_id="u_ada", amount=64200, currency="usd", ended_at=PAID_AT - 600)
    buyer = User(id="u_ada", name="Ada Lovelace", email="ada@example.com", role="buyer",
                 api_token="tok")
    txn = Transaction(id="txn_1", payment_session_id="ps_1", win_id="win_17", amount=64200,
                      fee=1892, net=62308, currency="usd", status="succeeded",
                      card_brand="visa", card_last4="4242", three_d_secure_result=None,
                      risk_level="normal", risk_score=12, charge_id="ch_1",
                      payment_intent_id="pi_1", created_at=PAID_AT)

    receipt = receipt_for(win, txn, "ord_1", buyer, "Lot & Hammer Auctions")

    assert (receipt.receipt_number, receipt.lot, receipt.title, receipt.amount) \
        == ("ord_1", 17, "Brass telescope", 64200)
    assert (receipt.card_last4, receipt.paid_at, receipt.payment_reference) \
        == ("4242", PAID_AT, "ch_1")


# -- the store --------------------------------------------------------------------------------
CIPHER = DataCipher.ephemeral()


def test_the_store_saves_and_loads_by_order_id(tmp_path: Path) -> None:
    store = ReceiptStore(tmp_path / "receipts", CIPHER)
    pdf = render_receipt(RECEIPT)

    path = store.save("ord_1", pdf)

    assert path == str(tmp_path / "receipts" / "ord_1.pdf.enc")
    assert store.load("ord_1") == pdf and store.exists("ord_1")
    assert store.load("ord_1", hashlib.sha256(pdf).hexdigest()) == pdf
    assert store.load("ord_2") is None and not store.exists("ord_2")
    assert [p.name for p in (tmp_path / "receipts").iterdir()] == ["ord_1.pdf.enc"]


def test_a_stored_receipt_is_encrypted_and_owner_only(tmp_path: Path) -> None:
    store = ReceiptStore(tmp_path / "receipts", CIPHER)

    path = Path(store.save("ord_1", render_receipt(RECEIPT)))

    raw = path.read_bytes()
    assert b"%PDF" not in raw and b"ada@example.com" not in raw
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ReceiptStore(tmp_path / "receipts", DataCipher.ephemeral()).exists("ord_1")
    with pytest.raises(ReceiptTampered, match="cannot be decrypted"):
        ReceiptStore(tmp_path / "receipts", DataCipher.ephemeral()).load("ord_1")


def test_a_receipt_is_written_once(tmp_path: Path) -> None:
    store = ReceiptStore(tmp_path, CIPHER)
    store.save("ord_1", b"%PDF-1.4 first")

    with pytest.raises(ReceiptExists, match="never rewritten") as refused:
        store.save("ord_1", b"%PDF-1.4 second")

    assert refused.value.path == str(tmp_path / "ord_1.pdf.enc")
    assert store.load("ord_1") == b"%PDF-1.4 first"
    assert [p.name for p in tmp_path.iterdir()] == ["ord_1.pdf.enc"]  # no leftovers


def test_a_receipt_that_is_not_what_was_recorded_is_refused(tmp_path: Path) -> None:
    store = ReceiptStore(tmp_path, CIPHER)
    first = store.save("ord_1", b"%PDF-1.4 one")
    store.save("ord_2", b"%PDF-1.4 two")
    recorded = hashlib.sha256(b"%PDF-1.4 one").hexdigest()

    Path(store.path_for("ord_2")).replace(first)  # another order's valid receipt swapped in

    with pytest.raises(ReceiptTampered, match="SHA-256 is not the one recorded"):
        store.load("ord_1", recorded)


def test_a_receipt_altered_on_disk_is_refused(tmp_path: Path) -> None:
    store = ReceiptStore(tmp_path, CIPHER)
    path = Path(store.save("ord_1", b"%PDF-1.4 one"))
    data = bytearray(path.read_bytes())
    data[-5] ^= 1
    path.write_bytes(bytes(data))

    with pytest.raises(ReceiptTampered, match="cannot be decrypted"):
        store.load("ord_1")


def test_a_plain_receipt_from_an_older_version_reads_and_is_encrypted_on_rotation(
        tmp_path: Path) -> None:
    (tmp_path / "ord_1.pdf").write_bytes(b"%PDF-1.4 old")
    old_store = ReceiptStore(tmp_path, CIPHER)
    assert old_store.load("ord_1") == b"%PDF-1.4 old"
    with pytest.raises(ReceiptExists):
        old_store.save("ord_1", b"%PDF-1.4 new")

    rotated = DataCipher([new_key(), *CIPHER.keys])
    path, sha256 = ReceiptStore(tmp_path, rotated).reencrypt("ord_1", None) or ("", "")

    assert path == str(tmp_path / "ord_1.pdf.enc")
    assert sha256 == hashlib.sha256(b"%PDF-1.4 old").hexdigest()
    assert [p.name for p in tmp_path.iterdir()] == ["ord_1.pdf.enc"]
    assert b"%PDF" not in Path(path).read_bytes()
    assert ReceiptStore(tmp_path, DataCipher(rotated.keys[:1])).load("ord_1") == b"%PDF-1.4 old"


@pytest.mark.parametrize("order_id", ["../secrets", "ord/1", "", "ord 1"])
def test_the_store_refuses_what_is_not_an_order_id(tmp_path: Path, order_id: str) -> None:
    with pytest.raises(ValueError, match="not an order id"):
        ReceiptStore(tmp_path, CIPHER).save(order_id, b"%PDF")
