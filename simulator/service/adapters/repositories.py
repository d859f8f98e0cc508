"""The payment service's SQLite store, as one ``Repository``.

Each aggregate's reads and writes live in a module of ``adapters/storage/`` (users,
payments, audit, alerts and security events, the webhook inbox, jobs, the service's
state, mail, metrics, and the upgrades of older data); ``Repository`` is all of them on
one store, so a caller holds one object and every method joins the caller's transaction.
The tables kept by adapters of their own (fraud signals, text messages, disputes) are
reached as its attributes, on the same store. The tables are declared in
``storage/schema.py``, made when the store opens.

Nothing above the adapters names this class: the payment rules are typed on
``payments/ports.PaymentStore`` and the use cases on the protocols of
``domain/stores.py``; the wiring (``app.py``, ``web/runtime.py``) hands this in.

At rest (``adapters/encryption.py``), buyer contact details, webhook payloads, mail, alert
and security-event texts and the service's own settings are encrypted; e-mail addresses
are found by a blind index. Free text is stripped of card numbers before it is stored
(``domain/card_numbers.py``). Every audit entry is linked to the one before it by a
SHA-256 hash, computed inside the write transaction (``domain/audit.py``).
"""

from __future__ import annotations

from pathlib import Path

from simulator.service.adapters.disputes import DisputeRecords
from simulator.service.adapters.encryption import DataCipher
from simulator.service.adapters.fraud_signals import FraudSignals
from simulator.service.adapters.sms_records import TextMessageRecords
from simulator.service.adapters.storage.inbox import InboxRecords
from simulator.service.adapters.storage.jobs import JobRecords
from simulator.service.adapters.storage.mail import MailRecords
from simulator.service.adapters.storage.metrics import MetricRecords
from simulator.service.adapters.storage.migrations import Migrations
from simulator.service.adapters.storage.payments import PaymentRecords
from simulator.service.adapters.storage.security import SecurityRecords
from simulator.service.adapters.storage.store import BUSY_TIMEOUT_SECONDS
from simulator.service.adapters.storage.users import UserRecords


class Repository(UserRecords, PaymentRecords, SecurityRecords, InboxRecords, JobRecords,
                 MailRecords, MetricRecords, Migrations):
    """The service's records, by domain name. Methods join the caller's transaction.
    Opening it brings a database made by an older version up to date."""

    def __init__(self, path: str | Path, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS,
                 cipher: DataCipher | None = None) -> None:
        super().__init__(path, busy_timeout=busy_timeout, cipher=cipher)
        self._upgrade_stored_data()
        self._hash_plain_api_tokens()

    @property
    def fraud_signals(self) -> FraudSignals:
        return FraudSignals(self)

    @property
    def text_messages(self) -> TextMessageRecords:
        return TextMessageRecords(self)

    @property
    def disputes(self) -> DisputeRecords:
        return DisputeRecords(self)
