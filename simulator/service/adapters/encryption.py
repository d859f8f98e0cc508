"""Encryption at rest: buyer contact details, stored webhook payloads, mail and receipt
files are Fernet tokens (AES-128-CBC with HMAC-SHA256, from ``cryptography``), so a
copied database file or receipt reveals none of them without the key.

Keys, newest first, come from configuration: ``SERVICE_DATA_KEY`` (one or more
comma-separated Fernet keys), else a key file, by default ``<db>.key`` beside the
database, created owner-only (0600) on first use. Every key in the list can decrypt
(``MultiFernet``); only the first encrypts. ``stripe-sim keys rotate`` puts a new key in
front, re-encrypts everything with it and then retires the old ones.

Encrypted text is ``enc1:<token>``; anything else in an encrypted column was written by
an older version, before encryption, and is read as it is (and encrypted at start-up).
Values looked up by equality (an e-mail address) also get a blind index: an HMAC-SHA256
keyed from the data key, never the value itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import stat
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from simulator.service.config import ServiceConfig

log = logging.getLogger("simulator.service.encryption")

PREFIX = "enc1:"
PREFIX_BYTES = PREFIX.encode()
KEY_FILE_HEADER = (
    "# stripe-sim data keys (Fernet), newest first. Owner-only; keep it apart from\n"
    "# backups of the database: without it the encrypted data cannot be read.\n"
)
_INDEX_LABEL = b"stripe-sim blind index v1"


class DataKeyError(Exception):
    """A key that is missing, malformed, or not the one the data was encrypted with."""


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


def parse_keys(text: str, source: str) -> list[str]:
    """Keys from ``text``: separated by commas, spaces or lines; ``#`` lines ignored."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    keys = [key for key in " ".join(lines).replace(",", " ").split() if key]
    if not keys:
        raise DataKeyError(f"{source} holds no data key")
    for key in keys:
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise DataKeyError(f"{source}: not a Fernet key (32 url-safe base64-encoded"
                               " bytes; make one with `stripe-sim keys generate`)") from None
    return keys


def default_key_file(db_path: str) -> Path:
    """Beside the database, as the instance lock and the clock offset are."""
    return Path(f"{db_path}.key")


class KeyFile:
    """The embedded default's keys: one file, owner-only, replaced atomically."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def read(self) -> list[str] | None:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return None
        if stat.S_IMODE(self.path.stat().st_mode) & 0o077:
            log.warning("%s can be read by other users; chmod 600 it", self.path)
        return parse_keys(text, str(self.path))

    def load_or_create(self) -> list[str]:
        """The keys, or a new one when there is no file yet. Several processes starting
        at once agree on one key: the file appears whole or not at all (``link``)."""
        keys = self.read()
        if keys is not None:
            return keys
        partial = self._write_partial([new_key()])
        try:
            os.link(partial, self.path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            partial.unlink()
        return self.read() or []

    def write(self, keys: Sequence[str]) -> None:
        """Replace the file's keys (a reader sees the old list or the new one)."""
        os.replace(self._write_partial(keys), self.path)

    def _write_partial(self, keys: Sequence[str]) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(KEY_FILE_HEADER + "".join(f"{key}\n" for key in keys))
            handle.flush()
            os.fsync(handle.fileno())
        return partial


class DataCipher:
    """Encrypts and decrypts values with a list of keys, newest first."""

    def __init__(self, keys: Sequence[str], *, source: str = "the data key") -> None:
        if not keys:
            raise DataKeyError(f"{source} holds no data key")
        self.keys = list(keys)
        self.source = source
        self._fernet = MultiFernet([Fernet(key) for key in self.keys])
        self._index_keys = [hmac.new(key.encode("ascii"), _INDEX_LABEL, hashlib.sha256).digest()
                            for key in self.keys]

    @classmethod
    def ephemeral(cls) -> DataCipher:
        """For a database that lives in memory and dies with the process."""
        return cls([new_key()], source="a key in memory")

    @classmethod
    def for_database(cls, db_path: str, *, keys: str | None = None,
                     key_file: str | None = None) -> DataCipher:
        """``keys`` (``SERVICE_DATA_KEY``) when given, else the key file (made if
        missing); an in-memory database without either gets a key of its own."""
        if keys:
            return cls(parse_keys(keys, "SERVICE_DATA_KEY"), source="SERVICE_DATA_KEY")
        if key_file is None and db_path == ":memory:":
            return cls.ephemeral()
        file = KeyFile(key_file or default_key_file(db_path))
        return cls(file.load_or_create(), source=str(file.path))

    @classmethod
    def from_config(cls, config: ServiceConfig) -> DataCipher:
        return cls.for_database(config.db_path, keys=config.data_key,
                                key_file=config.data_key_file)

    # -- text (database columns) -----------------------------------------------------------
    @staticmethod
    def is_encrypted(value: str | None) -> bool:
        return value is not None and value.startswith(PREFIX)

    def encrypt(self, value: str | None) -> str | None:
        if value is None:
            return None
        return PREFIX + self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def decrypt(self, value: str | None) -> str | None:
        """The plain text; a value without the prefix is an older version's plain text."""
        if value is None or not value.startswith(PREFIX):
            return value
        return self._decrypt_token(value[len(PREFIX):].encode("ascii")).decode("utf-8")

    def reencrypt(self, value: str | None) -> str | None:
        """``value`` encrypted with the newest key (plain text gets encrypted)."""
        return self.encrypt(self.decrypt(value))

    # -- bytes (receipt files) -------------------------------------------------------------
    def encrypt_bytes(self, data: bytes) -> bytes:
        return PREFIX_BYTES + self._fernet.encrypt(data)

    def decrypt_bytes(self, data: bytes) -> bytes:
        if not data.startswith(PREFIX_BYTES):
            return data  # written before encryption
        return self._decrypt_token(data[len(PREFIX_BYTES):])

    @staticmethod
    def bytes_encrypted(data: bytes) -> bool:
        return data.startswith(PREFIX_BYTES)

    def _decrypt_token(self, token: bytes) -> bytes:
        try:
            return self._fernet.decrypt(token)
        except InvalidToken:
            raise DataKeyError(
                f"data cannot be decrypted with the key(s) in {self.source}: it was"
                " encrypted with another key, or altered") from None

    # -- blind indexes ---------------------------------------------------------------------
    def blind_index(self, value: str) -> str:
        """The newest key's index of ``value`` (what is stored)."""
        return self.blind_indexes(value)[0]

    def blind_indexes(self, value: str) -> list[str]:
        """``value``'s index under every key, newest first (what a lookup matches, so a
        row indexed before a rotation finished is still found)."""
        data = value.encode("utf-8")
        return [hmac.new(key, data, hashlib.sha256).hexdigest() for key in self._index_keys]
