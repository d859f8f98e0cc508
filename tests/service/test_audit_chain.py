"""The hash-chained audit log: every entry carries the hash of the one before it, an
edited or deleted entry is named by ``stripe-sim audit verify``, and writers in several
processes never fork the chain."""

from __future__ import annotations

import itertools
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from simulator.__main__ import main
from simulator.service.adapters.repositories import Repository
from simulator.service.domain.audit import GENESIS, AuditEntry, link_hash

NOW = 1_763_733_780


def entry(number: int, actor: str = "system") -> AuditEntry:
    return AuditEntry(actor, "order.paid", "order", f"ord_{number}", {"status": "created"},
                      {"status": "paid", "number": number}, NOW + number)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "service.sqlite3"


@pytest.fixture
def repo(db: Path) -> Repository:
    repository = Repository(db)
    for number in range(1, 6):
        with repository.transaction():
            repository.add_audit(entry(number))
    return repository


def tamper(db: Path, sql: str) -> None:
    """What someone with the database file (and no service) could do."""
    conn = sqlite3.connect(db)
    conn.execute(sql)
    conn.commit()
    conn.close()


def verify(db: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["audit", "verify", "--db", str(db)])
    out, err = capsys.readouterr()
    return code, out.strip(), err.strip()


def test_each_entry_carries_the_hash_of_the_one_before(repo: Repository) -> None:
    chain = list(repo.audit_chain())

    assert [stored.id for stored in chain] == [1, 2, 3, 4, 5]
    assert chain[0].previous_hash == GENESIS
    for before, after in itertools.pairwise(chain):
        assert after.previous_hash == before.hash
        assert after.hash == link_hash(before.hash or "", after.entry)
    assert repo.audit_head() == (5, chain[-1].hash)
    assert repo.verify_audit_chain() is None


def test_an_intact_log_verifies(repo: Repository, db: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    repo.close()
    code, out, err = verify(db, capsys)
    assert (code, err) == (0, "")
    assert out.startswith("audit log OK: 5 entries, every link holds")


def test_an_edited_entry_is_named(repo: Repository, db: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    repo.close()
    tamper(db, """UPDATE audit_log SET after = '{"number": 3, "status": "refunded"}'
                  WHERE id = 3""")

    code, out, err = verify(db, capsys)

    assert (code, out) == (1, "")
    assert err == ("stripe-sim audit verify: audit log broken at entry 3: its content does"
                   " not match its hash (edited)")


def test_an_entry_edited_with_its_hash_recomputed_breaks_the_next_link(
        repo: Repository, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    [*_, second, third, _fourth, _fifth] = list(repo.audit_chain())
    repo.close()
    forged = AuditEntry(third.entry.actor, "order.refunded", "order", "ord_3", None, None, NOW)
    tamper(db, f"""UPDATE audit_log SET action = 'order.refunded', before = NULL,
                   after = NULL, at = {NOW},
                   hash = '{link_hash(second.hash or "", forged)}' WHERE id = 3""")

    code, _, err = verify(db, capsys)

    assert code == 1
    assert err.endswith("audit log broken at entry 4: it does not follow entry 3 (an entry"
                        " between them was deleted or changed)")


def test_a_deleted_entry_is_named_by_the_one_after_it(repo: Repository, db: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    repo.close()
    tamper(db, "DELETE FROM audit_log WHERE id = 2")

    code, _, err = verify(db, capsys)

    assert code == 1
    assert "audit log broken at entry 3: it does not follow entry 1" in err


def test_deleting_the_newest_entries_is_noticed(repo: Repository, db: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    repo.close()
    tamper(db, "DELETE FROM audit_log WHERE id >= 4")

    code, _, err = verify(db, capsys)

    assert code == 1
    assert err.endswith("audit log broken at entry 5: it is missing: the newest entries were"
                        " deleted")


def test_an_entry_written_after_a_deletion_still_shows_it(repo: Repository, db: Path) -> None:
    tamper(db, "DELETE FROM audit_log WHERE id = 5")
    with repo.transaction():
        repo.add_audit(entry(6))

    broken = repo.verify_audit_chain()

    newest = list(repo.audit_chain())[-1]
    assert newest.entry.subject_id == "ord_6"  # it follows the recorded head, not the row
    assert broken is not None and broken.entry_id == newest.id
    assert "does not follow entry 4" in broken.reason


def test_writers_in_several_processes_never_fork_the_chain(db: Path) -> None:
    Repository(db).close()
    script = textwrap.dedent(f"""
        import sys
        from simulator.service.adapters.repositories import Repository
        from simulator.service.domain.audit import AuditEntry
        repo = Repository({str(db)!r})
        for number in range(25):
            with repo.transaction():
                repo.add_audit(AuditEntry(f"worker:{{sys.argv[1]}}", "order.paid", "order",
                                          f"ord_{{number}}", None, {{"n": number}}, {NOW}))
        """)
    workers = [subprocess.Popen([sys.executable, "-c", script, str(worker)])
               for worker in range(4)]
    assert [worker.wait(timeout=120) for worker in workers] == [0, 0, 0, 0]

    repo = Repository(db)
    chain = list(repo.audit_chain())
    assert len(chain) == 100
    assert len({stored.previous_hash for stored in chain}) == 100  # no two share a parent
    assert len({stored.entry.actor for stored in chain}) == 4  # they did interleave
    assert repo.verify_audit_chain() is None


def test_entries_from_an_older_version_are_chained_at_start(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE audit_log (id INTEGER PRIMARY KEY, actor TEXT, action TEXT,"
                 " subject_type TEXT, subject_id TEXT, before TEXT, after TEXT, at INTEGER)")
    conn.executemany("INSERT INTO audit_log (actor, action, subject_type, subject_id, after,"
                     " at) VALUES ('system', 'win.recorded', 'win', ?, '{}', ?)",
                     [(f"win_{n}", NOW + n) for n in range(3)])
    conn.commit()
    conn.close()

    repo = Repository(db)
    with repo.transaction():
        repo.add_audit(entry(4))

    assert [stored.id for stored in repo.audit_chain()] == [1, 2, 3, 4]
    assert repo.verify_audit_chain() is None


def test_a_reset_starts_a_new_chain(repo: Repository) -> None:
    repo.clear_business_data()
    with repo.transaction():
        repo.add_audit(entry(1))

    [only] = list(repo.audit_chain())
    assert only.previous_hash == GENESIS
    assert repo.verify_audit_chain() is None


def test_verify_without_a_database_says_so(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = verify(tmp_path / "nowhere.sqlite3", capsys)
    assert code == 2
    assert err == f"stripe-sim audit: no database at {tmp_path / 'nowhere.sqlite3'}"
