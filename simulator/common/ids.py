"""Stripe-style object ids and secrets.

Stripe ids are a prefix and a random base-62 tail (``cus_NffrFeUfNV2Hib``). Ids are made
with ``secrets`` so several processes never collide; a seeded generator exists for tests
that want repeatable ids in a single process.
"""

from __future__ import annotations

import random
import secrets
import string
import time

ALPHABET = string.ascii_letters + string.digits
# Digits in ASCII order, so that time-ordered ids also sort as strings.
ALPHABET_SORTED = string.digits + string.ascii_uppercase + string.ascii_lowercase
_TIME_CHARS = 8
_BYTE_TO_ALNUM = bytes(ord(ALPHABET[i % len(ALPHABET)]) for i in range(256))


class IdGenerator:
    def __init__(self, seed: int | None = None) -> None:
        self._rng: random.Random | None = random.Random(seed) if seed is not None else None
        # The time head of the last sortable id: a request makes several ids within the
        # same millisecond, and the head is the same for all of them.
        self._head: tuple[int, str] = (-1, "")

    def token(self, length: int) -> str:
        if self._rng is not None:
            return "".join(self._rng.choice(ALPHABET) for _ in range(length))
        # One urandom call per id; 62 of 256 byte values map evenly enough for ids
        # (secrets.choice per character costs more than the rest of a request).
        return secrets.token_bytes(length).translate(_BYTE_TO_ALNUM).decode("ascii")

    def sortable(self, length: int) -> str:
        """A token whose first characters grow with time, as Stripe's ids do.

        Ids that grow land at the right edge of the database's indexes, so each insert
        touches the same few pages instead of a random one (far less to write per commit).
        The rest is random, so ids made in the same millisecond never collide.
        """
        if self._rng is not None or length <= _TIME_CHARS + 4:
            return self.token(length)
        millis = int(time.time() * 1000)
        last_millis, head = self._head
        if millis != last_millis:
            head = _time_head(millis)
            self._head = (millis, head)
        return head + self.token(length - _TIME_CHARS)

    def new(self, prefix: str, length: int = 24) -> str:
        """A new id such as ``pi_3Qx…``; ``prefix`` is given without the underscore."""
        return f"{prefix}_{self.sortable(length)}"

    def secret(self, prefix: str, length: int = 32) -> str:
        """A secret such as ``whsec_…``, always from ``secrets``."""
        return f"{prefix}_{''.join(secrets.choice(ALPHABET) for _ in range(length))}"

    def hex(self, nbytes: int = 16) -> str:
        if self._rng is not None:
            return f"{self._rng.getrandbits(nbytes * 8):0{nbytes * 2}x}"
        return secrets.token_hex(nbytes)


def _time_head(millis: int) -> str:
    head = ""
    for _ in range(_TIME_CHARS):
        millis, digit = divmod(millis, 62)
        head = ALPHABET_SORTED[digit] + head
    return head


default_ids = IdGenerator()
