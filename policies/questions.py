"""Which fact to ask next: the one that can still change the answer to the asked topic, common ones first.

Uses only the engine's public API (`evaluate`, `profile_fields`). A fact is worth a question when the
topic's outcome differs between its possible values given what is already known (what-if evaluation:
booleans, enum values, and for numbers the thresholds the conditions compare them with). Facts marked
`commonness: rare` in profile.yml (Nobel prize, former Fortune-500 executive, 青峰, agriculture …) are
asked only when nothing common can settle the answer, except on a path the person put us on themselves
(an agricultural team's leader): that scheme's own facts that settle it come first (paid-in capital
before the employer's tax). Facts the known ones imply (profile.yml `implies`) are not asked. One
evaluation takes well under a millisecond, so brute force over the open facts stays fast.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from .engine import evaluate
from .knowledge import default_knowledge_base
from .profile import profile_fields

POLICIES_DIR = Path(__file__).resolve().parent
# statuses that give the person something (the knowledge base may add more; unknown ones count as found)
UNDECIDED = {"needs_info"}
NOT_FOUND = {"needs_info", "ineligible", "superseded"}


@lru_cache(maxsize=1)
def fields_yaml() -> dict[str, dict[str, Any]]:
    """profile.yml's entries as written (for the dialogue keys `commonness` and `hinted_by`)."""
    with (POLICIES_DIR / "profile.yml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)["fields"]


RARE = 2


def rarity(fact: str, profile: Mapping[str, Any]) -> int:
    """0 common, 1 usual, 2 rare; a rare fact the person hinted at (profile.yml `hinted_by`) is usual."""
    spec = fields_yaml().get(fact, {})
    level = {"common": 0, "usual": 1, "rare": RARE}.get(str(spec.get("commonness", "usual")), 1)
    hints = spec.get("hinted_by") or {}
    if level == RARE and any(
        profile.get(f) == v or (isinstance(profile.get(f), list) and v in profile[f])
        for f, v in hints.items()
    ):
        return 1
    return level


def with_implied(profile: Mapping[str, Any]) -> dict[str, Any]:
    """The profile with the facts its known facts imply (profile.yml `implies`: a team's role or class
    says the person works in agriculture), unless the person said otherwise."""
    implied = dict(profile)
    for fact, spec in fields_yaml().items():
        value = profile.get(fact)
        if value in (None, "", [], False):
            continue  # only a known value (a bool: yes) implies anything
        for other, other_value in (spec.get("implies") or {}).items():
            if implied.get(other) in (None, "", []):
                implied[other] = other_value
    return implied


def pointless(fact: str, profile: Mapping[str, Any]) -> bool:
    """A question that makes no sense for this person (profile.yml `not_asked_when`), or a scope fact the
    answer states as a condition the office checks instead of asking it (`stated_not_asked`)."""
    if fields_yaml().get(fact, {}).get("stated_not_asked"):
        return True
    return makes_no_sense(fact, profile)


def makes_no_sense(fact: str, profile: Mapping[str, Any]) -> bool:
    """The question makes no sense for this person (profile.yml `not_asked_when`: a farmer and the
    key-industry list, a Shanghai hukou holder and the residence permit)."""
    when = fields_yaml().get(fact, {}).get("not_asked_when") or {}
    return any(profile.get(other) == value for other, value in when.items())


def possible_values(fact: str) -> list[Any]:
    """The values worth trying for one fact: each distinct answer class, not every number."""
    spec = profile_fields()[fact]
    if spec.type == "bool":
        return [True, False]
    if spec.type == "enum":
        return list(spec.values)
    if spec.type == "list":
        return [[value] for value in spec.values]
    probes: set[float] = set()
    for threshold in default_knowledge_base().thresholds(fact):
        probes.update((threshold - 1, threshold, threshold + 1))
    low = spec.minimum if spec.minimum is not None else 0
    high = spec.maximum
    probes.add(float(low))
    values = sorted(p for p in probes if p >= low and (high is None or p <= high))
    return [int(v) if spec.type == "int" or float(v).is_integer() else v for v in values]


def _signature(results: list[Mapping[str, Any]], found: frozenset[str]) -> tuple:
    """What the person would be told. Once something is found (`found`: those policies), only whether it
    stays found and at which tier counts: the other schemes are alternatives, not asked about, and a
    higher benefit of another topic superseding it is that topic's answer."""
    if not found:
        return tuple(sorted((r["policy_id"], r.get("status"), r.get("tier")) for r in results))
    kept = []
    for r in results:
        if r["policy_id"] in found:
            status = (
                "found"
                if r.get("status") not in NOT_FOUND or r.get("status") == "superseded"
                else r.get("status")
            )
            kept.append((r["policy_id"], status, r.get("tier")))
    return tuple(sorted(kept))


def _still_open(results: list[Mapping[str, Any]], fact: str) -> tuple:
    """The facts the undecided results would still need (besides `fact` itself)."""
    return tuple(
        sorted(
            (r["policy_id"], tuple(sorted(set(r.get("missing_facts") or []) - {fact})))
            for r in results
            if r.get("status") in UNDECIDED
        )
    )


def open_facts(
    profile: Mapping[str, Any], topic: str, district: str | None, skipped: Iterable[str] = ()
) -> tuple[list[Mapping[str, Any]], list[str]]:
    """The topic's current results and the facts they still miss (engine order), minus known/skipped."""
    outcome = evaluate(profile, topic=topic, district=district)
    closed = set(skipped) | {k for k, v in profile.items() if v not in (None, "", [])}
    closed |= {f for f in profile_fields() if pointless(f, profile)}
    fields = profile_fields()
    facts = [
        f
        for f in outcome.get("missing_facts", [])
        if f in fields and f not in closed and fields[f].role == "profile"
    ]
    return outcome.get("results", []), facts


def negative_value(fact: str) -> Any:
    """The everyday answer to a rare question (no / none / zero), or None when there is none."""
    spec = profile_fields()[fact]
    if spec.type == "bool":
        return False
    if spec.type in ("enum", "list") and "无" in spec.values:
        return "无" if spec.type == "enum" else ["无"]
    if spec.type in ("int", "number"):
        return spec.minimum if spec.minimum is not None else 0
    return None


def plausible(profile: Mapping[str, Any], topic: str | None, district: str | None = None) -> set[str]:
    """Policies worth mentioning to this person: those still possible when every rare path the person
    never hinted at (profile.yml `commonness: rare`) and every question that makes no sense for them
    (`not_asked_when`: never asked, so never listed as open) is answered the everyday way (no / none), and
    facts with an `everyday_value` (sector: 产业) take it."""
    everyday = dict(profile)
    for fact in profile_fields():
        if everyday.get(fact) not in (None, "", []):
            continue
        value = fields_yaml().get(fact, {}).get("everyday_value")
        if value is None and (rarity(fact, profile) == RARE or makes_no_sense(fact, profile)):
            value = negative_value(fact)
        if value is not None:
            everyday[fact] = value
    results = evaluate(everyday, topic=topic, district=district)["results"]
    return {r["policy_id"] for r in results if r.get("status") != "ineligible"}


def referenced_facts(policy: Any) -> set[str]:
    """The profile facts a policy's conditions and tiers read (what each check reports missing on {})."""
    facts: set[str] = set()
    for condition in (*policy.requires, *policy.confirm_last):
        if condition.check is not None:
            facts.update(condition.check({})[1])
    for tier in policy.tiers:
        facts.update(tier.check({})[1])
    return facts


def hinted(profile: Mapping[str, Any], results: Iterable[Mapping[str, Any]]) -> list[str]:
    """Schemes on a rare path the person put us on themselves: they stated one of its rare facts ("团队的
    带头人") or what makes one ordinary for them (sector 农业, profile.yml `hinted_by`). This is what the
    person asks about: such a scheme is plausible, is settled first, and its own rare facts may be asked."""
    from . import default_knowledge_base

    policies = {policy.id: policy for policy in default_knowledge_base().policies}
    chosen = []
    for result in results:
        policy = policies.get(result.get("policy_id"))
        rare = {f for f in referenced_facts(policy) if rarity(f, {}) == RARE} if policy else set()
        if any(fact in profile or rarity(fact, profile) < RARE for fact in rare):
            chosen.append(result["policy_id"])
    return chosen


def own_facts(policy_id: str) -> set[str]:
    """A scheme's own facts: those it reads that are rare for people in general (paid-in capital,
    shareholding for an agricultural team), as opposed to the facts every scheme reads (tax, degree)."""
    from . import default_knowledge_base

    policy = default_knowledge_base().by_id(policy_id)
    return {f for f in referenced_facts(policy) if rarity(f, {}) == RARE}


def decides(profile: Mapping[str, Any], fact: str, topic: str, district: str | None, policy_id: str) -> bool:
    """Whether some answer to `fact` settles the scheme (rules it out or makes it hold), rather than only
    narrowing what it still needs or sending it to the office's review."""
    for value in possible_values(fact):
        results = evaluate({**profile, fact: value}, topic=topic, district=district)["results"]
        status = next((r.get("status") for r in results if r["policy_id"] == policy_id), None)
        if status not in (*UNDECIDED, "review", None):
            return True
    return False


def _ranked(
    profile: Mapping[str, Any],
    facts: list[str],
    topic: str,
    district: str | None,
    judge: Any,
    shared: Mapping[str, int] | None = None,
) -> list[tuple[tuple, str]]:
    """(key, fact) for the facts whose answer changes what `judge` sees of the results; among equals,
    facts `shared` by more open schemes first (one answer settles several). Stops trying a fact's values
    as soon as two of them make a difference."""
    shared = shared or {}
    ranked = []
    for order, fact in enumerate(facts):
        strict: set[tuple] = set()
        loose: set[tuple] = set()
        for value in possible_values(fact):
            results = evaluate({**profile, fact: value}, topic=topic, district=district)["results"]
            strict.add(judge(results, fact, True))
            if len(strict) > 1:
                break
            loose.add(judge(results, fact, False))
        changes = len(strict) > 1
        if not changes and len(loose) < 2:
            continue  # no answer to this question can change what the person is told
        ranked.append(((rarity(fact, profile), not changes, -shared.get(fact, 0), order), fact))
    return sorted(ranked)


def _own_facts_first(
    profile: Mapping[str, Any], ranked: list[str], topic: str, district: str | None, policy_id: str
) -> list[str]:
    """The questions of a scheme the person put us on: first the facts that settle it, its own before
    the ones every scheme shares (an agricultural team leader is asked the paid-in capital before the
    employer's tax), then the rest; otherwise in `ranked` order. Generic questions first let the
    question cap end the conversation before the scheme's own decisive facts were asked."""
    own = own_facts(policy_id)
    settles = {fact for fact in ranked if decides(profile, fact, topic, district, policy_id)}
    return sorted(ranked, key=lambda fact: (fact not in settles, fact not in own))


def rank_questions(
    profile: Mapping[str, Any],
    topic: str,
    district: str | None = None,
    skipped: Iterable[str] = (),
    max_unknown: int | None = None,
) -> list[str]:
    """Facts that can change the topic's answer, best question first; empty when nothing can.

    Once something is found, only facts that change it (its tier, or whether it holds). Before that,
    the most valuable scheme still open that is plausible for this person comes first: its facts that
    decide it (or narrow what it still needs), common facts before usual ones. Rare facts (Nobel
    prize, 青峰, agriculture …) only when nothing common can settle the answer, and then one. After
    `max_unknown` "不知道" answers about facts the answer still depends on, no more questions."""
    skipped = list(skipped)
    profile = with_implied(profile)
    results, facts = open_facts(profile, topic, district, skipped)
    still_needed = {f for r in results if r.get("status") in UNDECIDED for f in r.get("missing_facts") or []}
    if max_unknown is not None and len(set(skipped) & still_needed) >= max_unknown:
        return []  # the person does not know these facts: answer with what is open instead of more questions
    found = frozenset(r["policy_id"] for r in results if r.get("status") not in NOT_FOUND)
    if found:
        ranked = _ranked(profile, facts, topic, district, lambda r, f, _: _signature(r, found))
        return [fact for key, fact in ranked if key[0] < RARE]
    named = hinted(profile, results)
    worth = plausible(profile, topic, district) | set(named)
    unanswered = set(skipped)
    shared: dict[str, int] = {}
    for result in results:
        if result.get("status") in UNDECIDED and result["policy_id"] in worth:
            for fact in result.get("missing_facts") or []:
                shared[fact] = shared.get(fact, 0) + 1
    # the scheme the person's own words point at is settled first (the order is stable otherwise)
    for lead in sorted(results, key=lambda r: r["policy_id"] not in named):
        if lead.get("status") not in UNDECIDED or lead["policy_id"] not in worth:
            continue
        own = [f for f in facts if f in (lead.get("missing_facts") or [])]
        # a scheme waiting on a fact the person could not give cannot be settled: its other questions
        # could only rule it out, and the answer already says what is still open
        blocked = bool(unanswered & set(lead.get("missing_facts") or []))
        if blocked:
            continue

        def judge(
            results: list, fact: str, strict: bool, lead_id: str = lead["policy_id"], blocked: bool = blocked
        ) -> tuple:
            mine = [r for r in results if r["policy_id"] == lead_id]
            if strict or blocked:
                return _signature(mine, frozenset())
            return _still_open(mine, fact)

        own_path = lead["policy_id"] in named  # its rare facts are the person's own path: worth asking
        ranked = [
            fact
            for key, fact in _ranked(profile, own, topic, district, judge, shared)
            if key[0] < RARE or own_path
        ]
        if ranked and own_path:
            return _own_facts_first(profile, ranked, topic, district, lead["policy_id"])
        if ranked:
            return ranked
    # nothing common can settle the answer: one rare path is worth one question
    if any(rarity(f, profile) == RARE for f in [*skipped, *profile]):
        return []
    ranked = _ranked(profile, facts, topic, district, lambda r, f, strict: _signature(r, frozenset()))
    return [fact for _, fact in ranked[:1]]


def next_question(
    profile: Mapping[str, Any],
    topic: str,
    district: str | None = None,
    skipped: Iterable[str] = (),
    max_unknown: int | None = None,
) -> str | None:
    """The one fact to ask next for this topic, or None when asking cannot change the answer.
    Remembered for the same question (a form turn asks for it more than once)."""
    frozen = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in profile.items()))
    return _next_question(frozen, topic, district, tuple(skipped), max_unknown)


@lru_cache(maxsize=512)
def _next_question(
    frozen: tuple, topic: str, district: str | None, skipped: tuple, max_unknown: int | None
) -> str | None:
    profile = {k: list(v) if isinstance(v, tuple) else v for k, v in frozen}
    ranked = rank_questions(profile, topic, district, skipped, max_unknown)
    return ranked[0] if ranked else None
