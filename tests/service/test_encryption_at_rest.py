"""Encryption at rest: what the repository encrypts, where its key comes from, how a
database made before encryption is upgraded, and ``stripe-sim keys rotate``."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from simulator.__main__ import main
from simulator.cli.instance import lock_data_file, release
from simulator.service.adapters.encryption import (
    DataCipher,
    DataKeyError,
    KeyFile,
    default_key_file,
    new_key,
)
from simulator.service.adapters.receipts import ReceiptStore
from simulator.service.adapters.repositories import Repository
from simulator.service.config import load_config
from simulator.service.domain.alerts import Alert
from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.inbox import InboxClaim
from simulator.service.domain.notification import Mail
from simulator.service.domain.order import Order
from simulator.service.domain.user import User

NOW = 1_763_733_780
ADA = User("usr_ada", "Ada Lovelace", "Ada.Lovelace@example.com", "buyer", "tok_ada", "GB")
STORED_ADA = replace(ADA, api_token="")  # what is read back: only the token's digest is kept
PAYLOAD = json.dumps({"id": "evt_1", "type": "checkout.session.completed", "data": {"object": {
    "customer_details": {"name": "Ada Lovelace", "email": "ada.lovelace@example.com"}}}})
WIN = AuctionWin("win_1", 17, "Brass telescope", "sel_1", ADA.id, 64_200, "usd", NOW)
CLAIM = InboxClaim("host:1", NOW + 60, NOW, lambda _owner: True)


def fill(repo: Repository) -> None:
    with repo.transaction():
        repo.add_user(ADA)
        repo.claim_webhook_event("evt_1", "checkout.session.completed", PAYLOAD, NOW, CLAIM)
        repo.queue_mail(Mail("receipt:ord_1", ADA.email, "Your receipt for lot 17",
                             "Hello Ada Lovelace"), NOW)
        repo.set_state("webhook_endpoint", {"secrets": ["whsec_topsecret"]}, NOW)
        repo.add_alert(Alert("mail_failed", "warning", "Ada.Lovelace@example.com refused", NOW))
        repo.add_security_event("sign_in_failed", "for Ada.Lovelace@example.com", "::1", NOW)


def raw(db: Path) -> bytes:
    return b"".join(path.read_bytes() for path in (db, Path(f"{db}-wal")) if path.exists())


SECRETS = (b"Ada.Lovelace@example.com", b"ada.lovelace@example.com", b"Ada Lovelace",
           b"whsec_topsecret", b"customer_details", b"tok_ada")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "service.sqlite3"


def test_contact_details_payloads_and_secrets_are_not_in_the_file(db: Path) -> None:
    repo = Repository(db)
    fill(repo)

    while_running = raw(db)
    repo.close()
    after_close = raw(db)

    assert Path(f"{db}-wal").exists() or while_running != after_close
    for data in (while_running, after_close):
        for secret in SECRETS:
            assert secret not in data, secret


def test_the_repository_reads_it_all_back(db: Path) -> None:
    repo = Repository(db)
    fill(repo)

    assert repo.get_user(ADA.id) == STORED_ADA
    assert repo.list_users() == [STORED_ADA]
    assert repo.get_webhook_event("evt_1").payload == PAYLOAD  # type: ignore[union-attr]
    [mail] = repo.list_mail()
    assert (mail.to, mail.text) == (ADA.email, "Hello Ada Lovelace")
    assert repo.get_state("webhook_endpoint") == {"secrets": ["whsec_topsecret"]}
    assert repo.list_alerts()[0].message == "Ada.Lovelace@example.com refused"
    assert repo.list_security_events()[0]["detail"] == "for Ada.Lovelace@example.com"


def test_an_email_address_is_found_through_its_blind_index(db: Path) -> None:
    repo = Repository(db)
    fill(repo)

    assert repo.get_user_by_email(" ada.LOVELACE@example.com ") == STORED_ADA
    assert repo.get_user_by_email("grace@example.com") is None
    assert [row["dedupe_key"] for row in repo.mail_to("ADA.lovelace@example.com")] == [
        "receipt:ord_1"]
    [index] = repo.connection().execute("SELECT email_index FROM users").fetchone()
    assert len(index) == 64 and b"lovelace" not in index.encode()


def test_the_key_file_is_made_owner_only_beside_the_database(db: Path) -> None:
    Repository(db).close()
    key_file = default_key_file(str(db))

    assert key_file == db.parent / "service.sqlite3.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    keys = KeyFile(key_file).read()
    assert keys is not None and len(keys) == 1
    repo = Repository(db)  # the next start reads the same key
    assert repo.cipher.keys == keys


def test_a_key_from_the_environment_is_used_instead_of_a_file(db: Path) -> None:
    key = new_key()
    config = load_config(environ={"SERVICE_DATA_KEY": key, "SERVICE_DB": str(db)},
                         local_file="/nonexistent.json")

    cipher = DataCipher.from_config(config)

    assert cipher.keys == [key] and cipher.source == "SERVICE_DATA_KEY"
    assert not default_key_file(str(db)).exists()


def test_a_malformed_key_is_refused_in_one_line() -> None:
    with pytest.raises(DataKeyError, match="SERVICE_DATA_KEY: not a Fernet key"):
        DataCipher.for_database(":memory:", keys="not-a-key")


def test_a_start_with_another_key_says_which_key_was_used(db: Path) -> None:
    repo = Repository(db)
    fill(repo)
    repo.close()

    with pytest.raises(DataKeyError, match="cannot be decrypted with the key"
                                           r"\(s\) in SERVICE_DATA_KEY"):
        Repository(db, cipher=DataCipher([new_key()], source="SERVICE_DATA_KEY"))


def older_version_database(db: Path) -> None:
    """A database as the version before encryption left it: plain text everywhere."""
    db.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(db)
    conn.executescript("""
        CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT, email TEXT, role TEXT,
                            api_token TEXT, country TEXT);
        CREATE TABLE webhook_inbox (event_id TEXT PRIMARY KEY, type TEXT, payload TEXT,
                                    received_at INTEGER, status TEXT, attempts INTEGER,
                                    error TEXT, processed_at INTEGER, claimed_by TEXT,
                                    claimed_until FLOAT);
        CREATE TABLE service_state (key TEXT PRIMARY KEY, value TEXT, updated_at INTEGER);
    """)
    conn.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?)",
                 (ADA.id, ADA.name, ADA.email, ADA.role, ADA.api_token, ADA.country))
    conn.execute("INSERT INTO webhook_inbox (event_id, type, payload, received_at, status,"
                 " attempts) VALUES ('evt_1', 'checkout.session.completed', ?, ?,"
                 " 'processed', 1)", (PAYLOAD, NOW))
    conn.execute("INSERT INTO service_state VALUES ('webhook_endpoint', ?, ?)",
                 (json.dumps({"secrets": ["whsec_topsecret"]}), NOW))
    conn.commit()
    conn.close()


def test_a_database_from_before_encryption_is_encrypted_at_start(db: Path) -> None:
    older_version_database(db)
    assert b"Ada.Lovelace@example.com" in raw(db)

    repo = Repository(db)

    assert repo.get_user(ADA.id) == STORED_ADA
    assert repo.get_user_by_email(ADA.email) == STORED_ADA
    assert repo.get_webhook_event("evt_1").payload == PAYLOAD  # type: ignore[union-attr]
    assert repo.get_state("webhook_endpoint") == {"secrets": ["whsec_topsecret"]}
    repo.close()
    for secret in SECRETS:
        assert secret not in raw(db), secret  # free pages were rewritten too


def paid_order_with_receipt(repo: Repository, receipts: Path) -> bytes:
    pdf = b"%PDF-1.4 Ada's receipt"
    path = ReceiptStore(receipts, repo.cipher).save("ord_1", pdf)
    with repo.transaction():
        repo.add_win(WIN)
        repo.add_order(Order("ord_1", "win_1", ADA.id, "paid", NOW, NOW, "txn_1", path,
                             hashlib.sha256(pdf).hexdigest()))
    return pdf


def rotate(db: Path, receipts: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["keys", "rotate", "--db", str(db), "--receipts-dir", str(receipts)])
    out, err = capsys.readouterr()
    return code, (out + err).strip()


def test_rotation_re_encrypts_everything_with_a_new_key(
        db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SERVICE_DATA_KEY", raising=False)
    receipts = tmp_path / "receipts"
    repo = Repository(db)
    fill(repo)
    pdf = paid_order_with_receipt(repo, receipts)
    old = DataCipher(repo.cipher.keys)
    old_receipt = (receipts / "ord_1.pdf.enc").read_bytes()
    repo.close()

    code, said = rotate(db, receipts, capsys)

    assert code == 0, said
    assert said.startswith("re-encrypted ") and said.endswith(
        f"1 receipts with the new key; old keys retired from {db}.key")
    [key] = KeyFile(default_key_file(str(db))).read() or []
    assert key not in old.keys
    repo = Repository(db)
    assert repo.get_user(ADA.id) == STORED_ADA
    assert repo.get_user_by_email(ADA.email) == STORED_ADA
    assert repo.get_webhook_event("evt_1").payload == PAYLOAD  # type: ignore[union-attr]
    assert ReceiptStore(receipts, repo.cipher).load("ord_1", repo.get_order("ord_1")
                                                    .receipt_sha256) == pdf  # type: ignore[union-attr]
    with pytest.raises(DataKeyError):  # the old key opens nothing any more
        old.decrypt(repo.connection().execute("SELECT email FROM users").fetchone()[0])
    with pytest.raises(DataKeyError):
        old.decrypt_bytes((receipts / "ord_1.pdf.enc").read_bytes())
    assert (receipts / "ord_1.pdf.enc").read_bytes() != old_receipt
    assert repo.verify_audit_chain() is None


def test_rotation_encrypts_a_receipt_from_before_encryption(
        db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    receipts = tmp_path / "receipts"
    receipts.mkdir()
    (receipts / "ord_1.pdf").write_bytes(b"%PDF-1.4 old receipt")
    repo = Repository(db)
    with repo.transaction():
        repo.add_user(ADA)
        repo.add_win(WIN)
        repo.add_order(Order("ord_1", "win_1", ADA.id, "paid", NOW, NOW, "txn_1",
                             str(receipts / "ord_1.pdf")))
    repo.close()

    code, said = rotate(db, receipts, capsys)

    assert code == 0, said
    assert sorted(p.name for p in receipts.iterdir()) == ["ord_1.pdf.enc"]
    repo = Repository(db)
    order = repo.get_order("ord_1")
    assert order is not None and order.receipt_path == str(receipts / "ord_1.pdf.enc")
    assert order.receipt_sha256 == hashlib.sha256(b"%PDF-1.4 old receipt").hexdigest()
    assert [entry.action for entry in repo.audit_for("order", "ord_1")] == [
        "order.receipt_encrypted"]


def test_rotation_keeps_the_old_keys_when_a_receipt_was_tampered_with(
        db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    receipts = tmp_path / "receipts"
    repo = Repository(db)
    paid_order_with_receipt(repo, receipts)
    repo.connection().execute("UPDATE orders SET receipt_sha256 = ?", ("0" * 64,))
    keys = list(repo.cipher.keys)
    repo.close()

    code, said = rotate(db, receipts, capsys)

    assert code == 1
    assert "1 receipts refused (receipt of order ord_1 failed its integrity check" in said
    assert said.endswith("old keys kept so nothing is lost")
    assert (KeyFile(default_key_file(str(db))).read() or [])[1:] == keys


def test_rotation_waits_for_the_service_to_stop(db: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    Repository(db).close()
    running = lock_data_file(str(db), "payment service")
    try:
        code, said = rotate(db, tmp_path / "receipts", capsys)
    finally:
        release(running)

    assert code == 2
    assert said == (f"stripe-sim keys: {db} is in use by a running payment service; stop"
                    " it, then rotate the keys")


def test_a_new_key_can_be_generated_for_the_environment(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "generate"]) == 0
    key = capsys.readouterr().out.strip()
    assert DataCipher([key]).decrypt(DataCipher([key]).encrypt("x")) == "x"


def test_card_numbers_an_older_version_stored_are_masked_at_start(db: Path) -> None:
    older_version_database(db)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE webhook_inbox SET payload = ?", (PAYLOAD.replace(
        "Ada Lovelace", "4242 4242 4242 4242"),))
    conn.commit()
    conn.close()

    repo = Repository(db)

    stored = repo.connection().execute("SELECT payload FROM webhook_inbox").fetchone()[0]
    assert "**** **** **** 4242" in (repo.cipher.decrypt(stored) or "")
    assert "4242 4242 4242 4242" not in (repo.cipher.decrypt(stored) or "")


def test_rotation_with_keys_from_the_environment(db: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = new_key(), new_key()
    repo = Repository(db, cipher=DataCipher([old]))
    fill(repo)
    repo.close()
    monkeypatch.setenv("SERVICE_DATA_KEY", f"{new},{old}")

    code, said = rotate(db, tmp_path / "receipts", capsys)

    assert code == 0, said
    assert said.endswith("now remove the old keys (all but the first) from SERVICE_DATA_KEY")
    assert not default_key_file(str(db)).exists()
    assert Repository(db, cipher=DataCipher([new])).get_user(ADA.id) == STORED_ADA
