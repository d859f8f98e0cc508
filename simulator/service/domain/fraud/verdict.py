"""What a fraud rule says about a checkout or a payment, and how the rules' answers
combine: the strictest decision wins, and every rule's reason is kept for the admin."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

Decision = Literal["allow", "review", "block"]
DECISIONS: tuple[Decision, ...] = ("allow", "review", "block")  # least to most strict


@dataclass(frozen=True)
class RuleResult:
    """One rule's answer: ``code`` names the rule's finding (``allow`` answers carry the
    rule's name), ``reason`` is a sentence an admin can act on."""

    rule: str
    decision: Decision
    code: str
    reason: str

    @classmethod
    def allow(cls, rule: str, reason: str) -> RuleResult:
        return cls(rule, "allow", rule, reason)


@dataclass(frozen=True)
class Verdict:
    results: tuple[RuleResult, ...]

    @property
    def decision(self) -> Decision:
        return max((r.decision for r in self.results), key=DECISIONS.index, default="allow")

    @property
    def findings(self) -> tuple[RuleResult, ...]:
        """The rules that did not allow, strictest first."""
        return tuple(sorted((r for r in self.results if r.decision != "allow"),
                            key=lambda r: -DECISIONS.index(r.decision)))

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.findings)

    @property
    def reasons(self) -> str:
        return "; ".join(r.reason for r in self.findings)


class Threshold(Protocol):
    """What ``count_rule`` needs of a limit (``policy.Limit``)."""

    def decide(self, count: int) -> Decision: ...


def count_rule(rule: str, code: str, limit: Threshold, count: int,
               describe: Callable[[int], str]) -> RuleResult:
    """A rule on a count: the limit decides, ``describe`` says the count in words."""
    decision = limit.decide(count)
    if decision == "allow":
        return RuleResult.allow(rule, describe(count))
    return RuleResult(rule, decision, code, describe(count))
