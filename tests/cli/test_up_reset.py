"""``up --reset``'s clean-up on its own (the whole command is in ``test_up.py``): what
earlier runs left goes, each kind named in one line; anything else in the folder stays."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.cli.up import _start_over


def test_reset_removes_what_up_kept_and_says_what_went(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    for folder in ("sms", "mail/new", "receipts"):
        (data / folder).mkdir(parents=True)
    (data / "sms" / "outbox.jsonl").write_text('{"to": "+12025550142"}\n')
    (data / "mail" / "new" / "1.eml").write_text("Subject: Your receipt\n\nHi\n")
    for name in ("service.sqlite3", "service.sqlite3.session-secret", "sandbox.sqlite3",
                 "service.log"):
        (data / name).write_text("x")
    (data / "my-notes.txt").write_text("mine")

    _start_over(data)

    said = capsys.readouterr().out.strip()
    assert said.startswith(f"Starting over: removed 4 files and 3 folders from {data}")
    for kind in ("caught mail", "sent text messages", "receipts", "the sandbox's data",
                 "the service's data"):
        assert kind in said
    assert sorted(p.name for p in data.iterdir()) == ["my-notes.txt"]


def test_reset_of_a_folder_with_nothing_to_remove_says_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _start_over(tmp_path / "never-made")
    assert capsys.readouterr().out == ""
