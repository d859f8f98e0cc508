from __future__ import annotations

from simulator.service.domain.alerts import SignatureFailureBurst
from simulator.service.domain.audit import AuditEntry, user_actor


def test_an_audit_entry_shows_what_changed() -> None:
    entry = AuditEntry(user_actor("usr_1"), "payment_session.failed", "payment_session",
                       "ps_1", {"status": "open", "attempt": 1},
                       {"status": "failed", "attempt": 1, "failure_code": "expired_card"}, 10)
    assert entry.actor == "user:usr_1"
    assert entry.changed_fields() == {"status": ("open", "failed"),
                                      "failure_code": (None, "expired_card")}


def test_a_creation_has_no_before() -> None:
    entry = AuditEntry("stripe", "order.created", "order", "ord_1", None, {"status": "paid"}, 1)
    assert entry.changed_fields() == {"status": (None, "paid")}


def test_a_burst_of_signature_failures() -> None:
    burst = SignatureFailureBurst(threshold=10, window_seconds=300)
    assert not burst.is_burst(9) and burst.is_burst(10)
    alert = burst.alert(12, at=99)
    assert (alert.kind, alert.severity, alert.at) == ("webhook_signature_failures", "warning", 99)
    assert alert.message == "12 webhook deliveries with an invalid signature in 5 minutes."
