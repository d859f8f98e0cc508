"""``stripe-sim keys``: the payment service's data keys (encryption at rest).

``keys generate`` prints a new Fernet key, for ``SERVICE_DATA_KEY``.

``keys rotate`` re-encrypts everything the service keeps encrypted (contact details,
webhook payloads, mail, its settings, and every receipt file) with a new key:

- with the key file (the default, ``<db>.key``): a new key is put in front of the old
  ones, everything is re-encrypted with it (the database in one transaction, each
  receipt file replaced atomically, its SHA-256 checked first), the database is
  compacted so no old ciphertext lingers, and only then are the old keys retired. A
  rotation cut off half-way leaves every key in the file, so everything still reads;
  running it again finishes the job.
- with ``SERVICE_DATA_KEY``: put the new key first and keep the old ones after it
  (``new,old``), run ``keys rotate``, then drop the old ones from the variable.

The service must be stopped: rotation takes the database's instance lock.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator.cli.command import Command, CommandError
from simulator.cli.instance import lock_data_file, release
from simulator.service.config import ConfigError, ServiceConfig, load_config

if TYPE_CHECKING:
    from simulator.service.adapters.encryption import DataCipher


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("generate", help="Print a new data key (for SERVICE_DATA_KEY).")
    rotate = actions.add_parser(
        "rotate", help="Re-encrypt everything with a new key (stop the service first).",
        description="Re-encrypt contact details, webhook payloads and receipts with a new"
                    " key, then retire the old one (the key file) or tell you to (the"
                    " SERVICE_DATA_KEY variable).")
    rotate.add_argument("--db", default=None, help="SQLite file (default: SERVICE_DB or"
                        " .sandbox/service.sqlite3)")
    rotate.add_argument("--receipts-dir", default=None,
                        help="default: RECEIPTS_DIR or .sandbox/receipts")
    rotate.add_argument("--key-file", default=None,
                        help="default: SERVICE_DATA_KEY_FILE or <db>.key")


def run(args: argparse.Namespace) -> int:
    from simulator.service.adapters.encryption import DataKeyError, new_key

    if args.action == "generate":
        print(new_key())
        return 0
    config = _config(args)
    if not Path(config.db_path).exists():
        raise CommandError(f"no database at {config.db_path}; nothing to rotate")
    try:
        lock = lock_data_file(config.db_path, "payment service")
    except CommandError:
        raise CommandError(f"{config.db_path} is in use by a running payment service;"
                           " stop it, then rotate the keys") from None
    try:
        report = rotate(config)
    except DataKeyError as error:
        raise CommandError(f"{error}; nothing was re-encrypted") from None
    finally:
        release(lock)
    print(report.summary())
    return 1 if report.refused else 0


def _config(args: argparse.Namespace) -> ServiceConfig:
    overrides: dict[str, Any] = {name: value for name, value in {
        "db_path": args.db, "receipts_dir": args.receipts_dir,
        "data_key_file": args.key_file}.items() if value is not None}
    try:
        return load_config(**overrides)
    except ConfigError as error:
        raise CommandError(str(error)) from None


@dataclass
class Rotation:
    values: int = 0
    receipts: int = 0
    refused: list[str] = field(default_factory=list)
    retired: str = ""

    def summary(self) -> str:
        done = (f"re-encrypted {self.values} stored values and {self.receipts} receipts"
                " with the new key")
        if self.refused:
            return (f"{done}; {len(self.refused)} receipts refused ({'; '.join(self.refused)});"
                    " old keys kept so nothing is lost")
        return f"{done}; {self.retired}"


def rotate(config: ServiceConfig) -> Rotation:
    """Re-encrypt the database and the receipts with the newest key (made here when the
    keys live in the key file) and retire the old keys once everything is done."""
    from simulator.service.adapters.encryption import (
        DataCipher,
        KeyFile,
        default_key_file,
        new_key,
        parse_keys,
    )

    if config.data_key:
        cipher, key_file = DataCipher(parse_keys(config.data_key, "SERVICE_DATA_KEY")), None
    else:
        key_file = KeyFile(config.data_key_file or default_key_file(config.db_path))
        key_file.write([new_key(), *(key_file.read() or [])])  # old keys still read
        cipher = DataCipher(key_file.read() or [], source=str(key_file.path))
    report = _reencrypt(config, cipher)
    if report.refused:
        return report
    if key_file is not None:
        key_file.write(cipher.keys[:1])
        report.retired = f"old keys retired from {key_file.path}"
    elif len(cipher.keys) > 1:
        report.retired = "now remove the old keys (all but the first) from SERVICE_DATA_KEY"
    else:
        report.retired = ("SERVICE_DATA_KEY holds one key: to rotate, put a new key"
                          " (stripe-sim keys generate) in front of it and run this again")
    return report


def _reencrypt(config: ServiceConfig, cipher: DataCipher) -> Rotation:
    from simulator.common.clock import Clock
    from simulator.service.adapters.errors import ReceiptTampered
    from simulator.service.adapters.receipts import ReceiptStore
    from simulator.service.adapters.repositories import Repository
    from simulator.service.adapters.sms_records import TextMessageRecords
    from simulator.service.domain.audit import SYSTEM, AuditEntry

    report = Rotation()
    repo = Repository(config.db_path, cipher=cipher)
    store = ReceiptStore(config.receipts_dir, cipher)
    try:
        report.values = repo.reencrypt_all()
        report.values += TextMessageRecords(repo).reencrypt()
        orders = {order.id: order for order in repo.orders_with_receipts()}
        for order_id in sorted(set(orders) | set(store.order_ids())):
            order = orders.get(order_id)
            try:
                stored = store.reencrypt(order_id, order.receipt_sha256 if order else None)
            except ReceiptTampered as tampered:
                report.refused.append(str(tampered))
                continue
            if stored is None:
                continue
            report.receipts += 1
            if order is not None and (order.receipt_path, order.receipt_sha256) != stored:
                moved = order.with_receipt(*stored, at=order.updated_at)
                with repo.transaction():
                    repo.save_order(moved)
                    repo.add_audit(AuditEntry(SYSTEM, "order.receipt_encrypted", "order",
                                              order.id, order.snapshot(), moved.snapshot(),
                                              Clock().timestamp()))
        repo.purge_free_pages()
    finally:
        repo.close()
    return report


KEYS = Command("keys", "Make or rotate the payment service's data keys (encryption at rest).",
               configure, run)
