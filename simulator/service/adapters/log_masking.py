"""No card number in the logs: every log record made in the service's process has its
message (arguments included), traceback and stack masked (``domain/card_numbers.py``)
before any handler sees it, whatever the logger (gunicorn's access log too).

``CardNumberFilter`` can be put on a handler of one's own; ``install_log_masking`` puts
the same masking into the process's log record factory, so no handler or logger can be
forgotten. PCI DSS forbids a full card number in logs
(https://docs.stripe.com/security/guide).
"""

from __future__ import annotations

import logging
from typing import Any

from simulator.service.domain.card_numbers import contains_card_number, mask_card_numbers

_FORMATTER = logging.Formatter()


def mask_record(record: logging.LogRecord) -> None:
    """Mask ``record`` in place: its message, its exception text and its stack."""
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # arguments that do not fit: logging reports that
        return
    masked = mask_card_numbers(message)
    if masked != message:
        record.msg, record.args = masked, None
    if record.exc_info and not record.exc_text:
        text = _FORMATTER.formatException(record.exc_info)
        if contains_card_number(text):
            record.exc_text = mask_card_numbers(text)
    if record.stack_info and contains_card_number(record.stack_info):
        record.stack_info = mask_card_numbers(record.stack_info)


class CardNumberFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


class _MaskingRecordFactory:
    """Wraps the factory in place before it, so records are masked as they are made."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.wrapped(*args, **kwargs)
        mask_record(record)
        return record


def install_log_masking() -> None:
    """Mask every record this process makes from now on (once; later calls do nothing)."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _MaskingRecordFactory):
        logging.setLogRecordFactory(_MaskingRecordFactory(factory))
