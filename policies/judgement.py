"""One policy judged against one profile, as data: each condition's outcome, the tier, the status.

Condition outcomes (the `conditions` of a result):
    met          the person's facts satisfy it
    unmet        the facts rule it out
    unknown      a fact it needs was not given (the engine asks for it)
    not_checked  the engine did not check it: only the office can (office_checks), or it is a scope rule asked
                 last (confirm_last) whose fact is not given yet; never shown as met
    review       unmet as written, but the document lets the office relax it (一般/可适当放宽): the office decides
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .conditions import Condition
from .knowledge import Policy, Tier

OUTCOMES = ("met", "unmet", "unknown", "not_checked", "review")


class ConditionResult(NamedTuple):
    """The outcome of one condition, or of the tier choice (`tier` set, `condition` its named condition if any)."""

    outcome: str
    condition: Condition | None = None
    tier: Tier | None = None


@dataclass
class Judgement:
    """One policy judged against one profile, before rendering."""

    policy: Policy
    status: str
    tier: Tier | None = None
    missing: list[str] = field(default_factory=list)
    confirm_missing: list[str] = field(default_factory=list)  # facts of confirm_last conditions not given yet
    checks: list[ConditionResult] = field(default_factory=list)
    notes: list[Mapping[str, str]] = field(default_factory=list)
    value: float = 0.0  # comparable total in yuan of a certain benefit, for 就高不重复 and sorting
    potential: float = 0.0  # the highest value still possible (undecided, under review or by ranking)
    superseded_by: Judgement | None = None

    @property
    def amounts(self) -> tuple[float | None, float | None, str | None]:
        source = self.tier if self.tier is not None else self.policy
        return source.max_amount, source.min_amount, source.unit

    def outcomes(self) -> set[str]:
        return {check.outcome for check in self.checks if check.tier is None}


def condition_outcome(condition: Condition, facts: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
    """met / unmet / unknown / review for a named condition, and the facts that would decide it when unknown."""
    if condition.check is None:
        return "not_checked", ()
    value, missing = condition.check(facts)
    if value is True:
        return "met", ()
    if value is None:
        return "unknown", missing
    if condition.review is None:
        return "unmet", ()
    relaxed, relax_missing = condition.review(facts)
    if relaxed is True:
        return "review", ()
    if relaxed is None:
        return "unknown", relax_missing
    return "unmet", ()
