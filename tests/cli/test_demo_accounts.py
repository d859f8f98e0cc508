"""The demo accounts ``stripe-sim up`` prints: passwords made at random once, only their
hashes in the database, kept owner-only beside it for the next start."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from simulator.common.clock import Clock
from simulator.common.ids import IdGenerator
from simulator.service.adapters.repositories import Repository
from simulator.service.domain.credentials import password_matches
from simulator.service.seed import demo_accounts, demo_accounts_path, seed_demo


def test_demo_accounts_sign_in_and_survive_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "service.sqlite3")
    repo = Repository(db)
    try:
        data = seed_demo(repo, Clock(), IdGenerator(3))
        path = demo_accounts_path(db)
        accounts = demo_accounts(repo, data, path)
        assert [a.role for a in accounts] == ["admin", "buyer", "buyer", "buyer"]
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        for account, user in zip(accounts, [data.admin, *data.buyers], strict=True):
            assert password_matches(repo.password_hash_of(user.id), account.password)
            assert repo.get_user_by_token(account.api_token) == repo.get_user(user.id)
        raw = Path(db).read_bytes() + Path(f"{db}-wal").read_bytes()
        assert not any(a.password.encode() in raw or a.api_token.encode() in raw
                       for a in accounts)
        again = demo_accounts(repo, seed_demo(repo, Clock(), IdGenerator(3)), path)
        assert again == accounts  # the same passwords on the next start
        path.unlink()
        renewed = demo_accounts(repo, data, path)
        assert {a.password for a in renewed}.isdisjoint(a.password for a in accounts)
        assert not password_matches(repo.password_hash_of(data.admin.id), accounts[0].password)
    finally:
        repo.close()
