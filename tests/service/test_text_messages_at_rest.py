"""Phone numbers and texts at rest: encrypted, and re-encrypted by ``stripe-sim keys
rotate`` before the old key is retired (else they could never be read again)."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.__main__ import main
from simulator.service.adapters.encryption import DataCipher, DataKeyError
from simulator.service.adapters.repositories import Repository
from simulator.service.adapters.sms_records import TextMessageRecords
from simulator.service.domain.notification import TextMessage

PHONE = "+12025550142"


def test_rotation_re_encrypts_phones_and_texts(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("SERVICE_DATA_KEY", raising=False)
    db = tmp_path / "service.sqlite3"
    repo = Repository(db)
    texts = TextMessageRecords(repo)
    with repo.transaction():
        texts.set_phone("usr_1", PHONE)
        sms_id = texts.queue(TextMessage("receipt:ord_1", PHONE, "Lot 17 paid"), 1)
        assert sms_id is not None
        texts.mark_failed(sms_id, "SMS outbox unavailable", permanent=False)
    old = DataCipher(repo.cipher.keys)
    raw = repo.connection().execute("SELECT phone FROM user_phones").fetchone()[0]
    assert PHONE not in raw
    repo.close()

    code = main(["keys", "rotate", "--db", str(db), "--receipts-dir", str(tmp_path / "r")])
    said = "".join(capsys.readouterr())

    assert code == 0, said
    repo = Repository(db)
    texts = TextMessageRecords(repo)
    assert texts.phone_of("usr_1") == PHONE
    [kept] = texts.list()
    assert (kept.to, kept.text, kept.last_error) == (PHONE, "Lot 17 paid",
                                                     "SMS outbox unavailable")
    raw = repo.connection().execute("SELECT phone FROM user_phones").fetchone()[0]
    with pytest.raises(DataKeyError):  # the old key opens nothing any more
        old.decrypt(raw)
    repo.close()
