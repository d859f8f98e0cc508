"""Bank accounts for the delayed-notification debit methods, ``sepa_debit`` and
``us_bank_account``: validating what a customer types, what Stripe shows of it, and the
test accounts' outcomes (https://docs.stripe.com/testing#sepa-direct-debit and
https://docs.stripe.com/payments/ach-direct-debit/accept-a-payment#test-account-numbers).

A debit is ``processing`` first and settles later: succeeds, or fails with the bank's
reason. Accounts outside the test list succeed. Nothing here touches the store."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Literal

BankMethod = Literal["sepa_debit", "us_bank_account"]
BANK_METHODS: tuple[BankMethod, ...] = ("sepa_debit", "us_bank_account")
CURRENCY: dict[str, str] = {"sepa_debit": "eur", "us_bank_account": "usd"}
# Test mode settles a debit at once (the next tick of the sandbox's jobs), the "delayed"
# test accounts after three minutes of the sandbox clock; live debits take days.
SETTLE_SECONDS = 0
DELAYED_SETTLE_SECONDS = 3 * 60
TEST_ROUTING_NUMBER = "110000000"


@dataclass(frozen=True)
class DebitOutcome:
    succeeds: bool
    after_seconds: int = SETTLE_SECONDS
    failure_code: str | None = None
    failure_message: str | None = None


_FAILS = "The customer's bank account could not be debited"
SEPA_TEST_IBANS: dict[str, DebitOutcome] = {
    "AT611904300234573201": DebitOutcome(True),
    "AT861904300235473202": DebitOutcome(False, failure_code="insufficient_funds",
                                         failure_message=f"{_FAILS}: insufficient funds."),
    "AT591904300235473203": DebitOutcome(True),
    "AT321904300235473204": DebitOutcome(True, DELAYED_SETTLE_SECONDS),
    "DE89370400440532013000": DebitOutcome(True),
    "DE62370400440532013001": DebitOutcome(False, failure_code="insufficient_funds",
                                           failure_message=f"{_FAILS}: insufficient funds."),
    # Italy's failing test IBAN, which ``stripe trigger checkout.session.async_payment_failed``
    # pays with.
    "IT60X0542811101000000123456": DebitOutcome(
        False, failure_code="insufficient_funds",
        failure_message=f"{_FAILS}: insufficient funds."),
}
ACH_TEST_ACCOUNTS: dict[str, DebitOutcome] = {
    "000123456789": DebitOutcome(True),
    "000111111113": DebitOutcome(False, failure_code="account_closed",
                                 failure_message=f"{_FAILS}: the account is closed."),
    "000111111116": DebitOutcome(False, failure_code="no_account",
                                 failure_message=f"{_FAILS}: no such account."),
    "000222222227": DebitOutcome(False, failure_code="insufficient_funds",
                                 failure_message=f"{_FAILS}: insufficient funds."),
    "000333333335": DebitOutcome(False, failure_code="debit_not_authorized",
                                 failure_message=f"{_FAILS}: the debit was not authorized."),
}


class InvalidAccount(ValueError):
    """What the customer typed is not an account: ``param`` names the field."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param


def sepa_details(iban: str) -> dict[str, Any]:
    """``payment_method.sepa_debit`` for ``iban`` (checked by its mod-97 check digits)."""
    compact = re.sub(r"\s+", "", iban).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", compact) or not _iban_valid(compact):
        raise InvalidAccount(f"The IBAN you provided ({iban}) is invalid.", "sepa_debit[iban]")
    return {"bank_code": compact[4:9], "branch_code": compact[9:14] or None,
            "country": compact[:2], "fingerprint": _fingerprint(compact),
            "generated_from": {"charge": None, "setup_attempt": None}, "last4": compact[-4:]}


def us_bank_details(routing_number: str, account_number: str, holder_type: str | None,
                    account_type: str | None) -> dict[str, Any]:
    """``payment_method.us_bank_account`` (the routing number's ABA checksum checked)."""
    if not re.fullmatch(r"\d{9}", routing_number) or not _aba_valid(routing_number):
        raise InvalidAccount(f"Invalid routing number: {routing_number}.",
                             "us_bank_account[routing_number]")
    if not re.fullmatch(r"\d{4,17}", account_number):
        raise InvalidAccount("Invalid account number: it must be 4 to 17 digits.",
                             "us_bank_account[account_number]")
    return {"account_holder_type": holder_type or "individual",
            "account_type": account_type or "checking", "bank_name": "STRIPE TEST BANK",
            "financial_connections_account": None,
            "fingerprint": _fingerprint(routing_number + account_number),
            "last4": account_number[-4:], "networks": {"preferred": "ach", "supported": ["ach"]},
            "routing_number": routing_number, "status_details": None}


def outcome_for(method: str, details: dict[str, Any]) -> DebitOutcome:
    """How a debit from this account ends, found again by the account's fingerprint."""
    table = SEPA_TEST_IBANS if method == "sepa_debit" else ACH_TEST_ACCOUNTS
    for account, outcome in table.items():
        key = account if method == "sepa_debit" else TEST_ROUTING_NUMBER + account
        if _fingerprint(key) == details.get("fingerprint"):
            return outcome
    return DebitOutcome(True)


def _iban_valid(iban: str) -> bool:
    digits = "".join(str(int(char, 36)) for char in iban[4:] + iban[:4])
    return int(digits) % 97 == 1


def _aba_valid(routing: str) -> bool:
    weights = (3, 7, 1) * 3
    return sum(int(d) * w for d, w in zip(routing, weights, strict=True)) % 10 == 0


def _fingerprint(account: str) -> str:
    return hashlib.sha256(f"bank:{account}".encode()).hexdigest()[:16]
