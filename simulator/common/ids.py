"""Stripe-style object ids and secrets.

Stripe ids are a prefix and a random base-62 tail (``cus_NffrFeUfNV2Hib``). Ids are made
with ``secrets`` so several processes never collide; a seeded generator exists for tests
that want repeatable ids in a single process.
"""

from __future__ import annotations

import random
import secrets
import string

ALPHABET = string.ascii_letters + string.digits
_BYTE_TO_ALNUM = bytes(ord(ALPHABET[i % len(ALPHABET)]) for i in range(256))


class IdGenerator:
    def __init__(self, seed: int | None = None) -> None:
        self._rng: random.Random | None = random.Random(seed) if seed is not None else None

    def token(self, length: int) -> str:
        if self._rng is not None:
            return "".join(self._rng.choice(ALPHABET) for _ in range(length))
        # One urandom call per id; 62 of 256 byte values map evenly enough for ids
        # (secrets.choice per character costs more than the rest of a request).
        return secrets.token_bytes(length).translate(_BYTE_TO_ALNUM).decode("ascii")

    def new(self, prefix: str, length: int = 24) -> str:
        """A new id such as ``pi_3Qx…``; ``prefix`` is given without the underscore."""
        return f"{prefix}_{self.token(length)}"

    def secret(self, prefix: str, length: int = 32) -> str:
        """A secret such as ``whsec_…``, always from ``secrets``."""
        return f"{prefix}_{''.join(secrets.choice(ALPHABET) for _ in range(length))}"

    def hex(self, nbytes: int = 16) -> str:
        if self._rng is not None:
            return f"{self._rng.getrandbits(nbytes * 8):0{nbytes * 2}x}"
        return secrets.token_hex(nbytes)


default_ids = IdGenerator()
