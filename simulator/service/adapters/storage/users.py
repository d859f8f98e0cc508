"""Users and their sign-in credentials. Names and addresses are encrypted at rest, an
address is found by its blind index, and only an API token's SHA-256 is kept."""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, fields

from simulator.service.adapters.storage.store import Store, normalized_email
from simulator.service.domain.card_numbers import mask_card_numbers
from simulator.service.domain.credentials import token_digest
from simulator.service.domain.user import User

USER_FIELDS = tuple(f.name for f in fields(User))


class UserRecords(Store):
    """Users (buyers, sellers and admins) and their credentials."""

    def add_user(self, user: User) -> None:
        values = asdict(user)
        values["name"] = self.cipher.encrypt(mask_card_numbers(user.name))
        values["email"] = self.cipher.encrypt(user.email)
        values["email_index"] = self.cipher.blind_index(normalized_email(user.email))
        values["api_token"] = token_digest(user.api_token) if user.api_token else None
        self._insert("users", values)

    def _user(self, row: sqlite3.Row | None) -> User | None:
        if row is None:
            return None
        data = {name: row[name] for name in USER_FIELDS if name in row.keys()}  # noqa: SIM118
        data["name"] = self.cipher.decrypt(data["name"])
        data["email"] = self.cipher.decrypt(data["email"])
        data["api_token"] = ""  # only its SHA-256 is stored
        return User(**data)

    def get_user(self, user_id: str) -> User | None:
        return self._user(self._one("SELECT * FROM users WHERE id = ?", user_id))

    def get_user_by_token(self, api_token: str) -> User | None:
        """By the token's SHA-256: the token itself is never stored."""
        return self._user(self._one("SELECT * FROM users WHERE api_token = ?",
                                    token_digest(api_token)))

    def get_user_by_email(self, email: str) -> User | None:
        """Through the blind index (the address itself is stored encrypted)."""
        indexes = self.cipher.blind_indexes(normalized_email(email))
        marks = ", ".join("?" for _ in indexes)
        return self._user(self._one(
            f"SELECT * FROM users WHERE email_index IN ({marks}) ORDER BY id LIMIT 1", *indexes))

    def list_users(self, role: str | None = None) -> list[User]:
        """Buyers before admins, by name (sorted here: names are stored encrypted)."""
        if role is None:
            rows = self._all_rows("SELECT * FROM users")
        else:
            rows = self._all_rows("SELECT * FROM users WHERE role = ?", role)
        users = [user for row in rows if (user := self._user(row)) is not None]
        users.sort(key=lambda user: user.name)
        users.sort(key=lambda user: user.role, reverse=True)
        return users

    # -- sign-in credentials (``domain/credentials.py``) ---------------------------------
    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        self.connection().execute("UPDATE users SET password_hash = ? WHERE id = ?",
                                  (password_hash, user_id))

    def password_hash_of(self, user_id: str) -> str | None:
        row = self._one("SELECT password_hash FROM users WHERE id = ?", user_id)
        return str(row[0]) if row and row[0] else None

    def set_api_token(self, user_id: str, api_token: str) -> None:
        """A new token for the user (the old one stops working); only its digest is kept."""
        self.connection().execute("UPDATE users SET api_token = ? WHERE id = ?",
                                  (token_digest(api_token), user_id))
