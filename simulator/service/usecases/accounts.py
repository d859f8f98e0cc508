"""Who is asking: users by API token, by id (a session) and by e-mail address and
password."""

from __future__ import annotations

from simulator.service.domain.credentials import password_matches
from simulator.service.domain.stores import CredentialStore
from simulator.service.domain.user import User


class Accounts:
    def __init__(self, store: CredentialStore) -> None:
        self.store = store

    def by_token(self, api_token: str) -> User | None:
        return self.store.get_user_by_token(api_token)

    def by_id(self, user_id: str) -> User | None:
        return self.store.get_user(user_id)

    def authenticate(self, email: str, password: str) -> User | None:
        """The user with this address and password, else None (the same work either way:
        the password is checked even when no one has the address)."""
        user = self.store.get_user_by_email(email) if email else None
        stored = self.store.password_hash_of(user.id) if user is not None else None
        if not password_matches(stored, password) or user is None:
            return None
        return user
