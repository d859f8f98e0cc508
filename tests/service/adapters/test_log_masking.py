"""Log records lose their card numbers before any handler sees them."""

from __future__ import annotations

import io
import logging

from simulator.service.adapters.log_masking import CardNumberFilter, install_log_masking


def handler_output(logger: logging.Logger, *, with_filter: bool) -> io.StringIO:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    if with_filter:
        handler.addFilter(CardNumberFilter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return stream


def test_the_filter_masks_the_message_its_arguments_and_the_traceback() -> None:
    logger = logging.getLogger("test.log_masking.filter")
    out = handler_output(logger, with_filter=True)

    logger.info("name %s, card %s", "Ada", "4242-4242-4242-4242")
    try:
        raise ValueError("typed 4000002760003184")
    except ValueError:
        logger.exception("failed for %s", "5555 5555 5555 4444")

    text = out.getvalue()
    assert "name Ada, card ****-****-****-4242" in text
    assert "failed for **** **** **** 4444" in text
    assert "ValueError: typed ************3184" in text
    assert "4242-4242-4242-4242" not in text and "4000002760003184" not in text


def test_once_installed_every_logger_is_masked_without_a_filter() -> None:
    install_log_masking()
    install_log_masking()  # a second app in the same process changes nothing
    logger = logging.getLogger("test.log_masking.anywhere")
    out = handler_output(logger, with_filter=False)

    logger.warning("%s", "4242424242424242")

    assert out.getvalue() == "************4242\n"
    assert "_MaskingRecordFactory" in type(logging.getLogRecordFactory()).__name__
    assert not isinstance(getattr(logging.getLogRecordFactory(), "wrapped", None),
                          type(logging.getLogRecordFactory()))
