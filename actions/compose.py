"""Short replies that fit a phone: which results an answer shows, and their response variables.

An answer leads with the one result that matters, adds at most two other plausible items in one line
each, and keeps the rest (referrals, undecided, superseded, schemes the person never hinted at) behind
"更多相关政策". The document title is cited once per reply; later items by number and article.
Wording: domain.yml (sentences) and labels.yml (fragments).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from actions.config import label, profile_fields, settings
from actions.render import citation, fragment, missing_text, tier_text, value_label
from actions.results import is_found, ordered
from policies.present import (
    amount_text,
    bands_text,
    discretion_text,
    has_amount,
    payout_and_duration,
    status_in_a_line,
)

# how each status leads an answer; a status not listed here (the knowledge base may add some) leads
# with the generic response, which states the rule and that the office decides
LEAD_RESPONSE = {
    "eligible": "utter_lead_eligible",
    "needs_info": "utter_lead_needs_info",
    "ineligible": "utter_lead_ineligible",
    "referral": "utter_lead_referral",
    "review": "utter_lead_review",
    "can_register": "utter_lead_can_register",
    "superseded": "utter_lead_superseded",
}
GENERIC_LEAD = "utter_lead_other"
HIDDEN_STATUSES = {"superseded", "ineligible", "referral"}


class Citations:
    """Cites a document in full the first time in one reply, by number and article afterwards."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.seen: set[str] = set()

    def __call__(self, source: Mapping[str, Any] | None) -> str:
        source = dict(source or {})
        title = str(source.get("title") or "")
        if title and title in self.seen and source.get("doc_number"):
            return fragment(
                self.language,
                "citation_again",
                details=source.get("doc_number") or "",
                article=source.get("article") or "",
            )
        self.seen.add(title)
        return citation(source, self.language)


def first_failed_condition(result: Mapping[str, Any], language: str) -> str:
    """The condition that failed first: from the structured `conditions` when the engine gives them,
    else the first "不符合"/"Not met" reason."""
    for condition in result.get("conditions") or []:
        if isinstance(condition, Mapping) and condition.get("outcome") == "unmet":
            return str(condition.get("label") or condition.get("condition") or "")
    unmet = {"zh": "不符合", "en": "Not met"}[language]
    reasons = [str(r) for r in result.get("reasons") or []]
    for reason in reasons:
        if reason.startswith(unmet) and not reason.startswith(unmet + "任何"):
            return reason.split("：", 1)[-1].split(": ", 1)[-1]
    return reasons[0] if reasons else ""


def open_text(
    result: Mapping[str, Any],
    skipped: Iterable[str],
    language: str,
    limit: int | None = None,
    relevant: set[str] | None = None,
) -> str:
    """ "还需确认：学历、职称" (at most `limit`, rare paths last: the next questions come one at a time
    anyway) and, always in full, the facts the person skipped: "您未提供、仍待确认：积分". With
    `relevant`, only facts that can still change the answer (a hukou holder is not told a residence
    permit is still open)."""
    from policies.questions import rarity

    limit = limit or settings()["answer"]["max_open_facts"]
    skipped = set(skipped)
    missing = [f for f in result.get("missing_facts") or [] if f in profile_fields()]
    asked_not = [f for f in missing if f not in skipped]
    if relevant is not None and any(f in relevant for f in asked_not):
        asked_not = [f for f in asked_not if f in relevant]
    asked_not.sort(key=lambda fact: rarity(fact, {}))
    given_not = [f for f in missing if f in skipped]
    parts = []
    if asked_not:
        facts = missing_text(asked_not[:limit], language)
        if len(asked_not) > limit:
            facts += fragment(language, "and_more")
        parts.append(fragment(language, "open_facts", facts=facts))
    if given_not:
        parts.append(fragment(language, "skipped_facts", facts=missing_text(given_not, language)))
    return label("fragments", language, "list_separator").join(parts)


def office_checks_text(result: Mapping[str, Any], language: str) -> str:
    """The conditions the office checks itself and the person was not asked (scope rules such as the
    employer type, team size): said with the answer, so "you appear to qualify" never hides them."""
    checks = [str(c["label"]) for c in result.get("conditions") or [] if c.get("outcome") == "not_checked"]
    separator = label("fragments", language, "list_separator")
    return fragment(language, "office_checks", checks=separator.join(checks)) if checks else ""


def amount_or_benefit(result: Mapping[str, Any], language: str) -> str:
    return (
        amount_text(result, language)
        if has_amount(result)
        else str(result.get("benefit") or "").rstrip("。. ")
    )


def lead_variables(
    result: Mapping[str, Any],
    language: str,
    cite: Citations,
    skipped: Iterable[str] = (),
    relevant: set[str] | None = None,
) -> dict[str, str]:
    """Variables of the utter_lead_* responses."""
    amount = amount_or_benefit(result, language)
    # 视实际贡献: the maximum is not a promise; who sets the amount is said beside it
    tail = (
        discretion_text(result, language) + payout_and_duration(result, language)
        if has_amount(result)
        else ""
    )
    return {
        "title": str(result.get("title") or result.get("policy_id") or ""),
        "tier_text": tier_text(result, language),
        "amount": amount + tail,
        "benefit": str(result.get("benefit") or ""),
        "how_to_apply": str(result.get("how_to_apply") or fragment(language, "none")),
        "contact": str(result.get("contact") or fragment(language, "none")),
        "open_text": open_text(result, skipped, language, relevant=relevant),
        "failed_text": first_failed_condition(result, language),
        "office_checks": office_checks_text(result, language),
        "summary": str(result.get("summary") or ""),
        "citation": cite(result.get("source")),
    }


def lead_state(result: Mapping[str, Any], language: str) -> str:
    """A result's state in one phrase: its tier and amount when found, the open facts, or its status."""
    status = str(result.get("status"))
    if status == "eligible":
        space = " " if language == "en" else ""
        return (tier_text(result, language).strip() + space + amount_or_benefit(result, language)).strip()
    if status == "needs_info":
        return open_text(result, (), language)
    return status_in_a_line(status, language)


def other_line(result: Mapping[str, Any], language: str) -> str:
    """One line of another plausible item: its amount when found, else its state in one phrase."""
    state = lead_state(result, language)
    return fragment(language, "other_item", title=result.get("title") or result.get("policy_id"), state=state)


def choose(
    results: list[Mapping[str, Any]], plausible: set[str] | None, keep_order: bool = False
) -> tuple[Mapping[str, Any] | None, list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """(lead, at most two others, the rest for "更多"). Plausible = the person hinted at it or it needs
    nothing rare; superseded, ineligible and referral items never lead while something else exists."""
    current = [r for r in results if r.get("status")]
    current = current if keep_order else ordered(current)
    fits = [r for r in current if plausible is None or r["policy_id"] in plausible or is_found(r)]
    visible = [r for r in fits if r.get("status") not in HIDDEN_STATUSES]
    # nothing plausible is open: the decided schemes (why not) before one the person never hinted at
    lead_pool = visible or fits or [r for r in current if r.get("status") != "needs_info"] or current
    lead = lead_pool[0] if lead_pool else None
    others = [r for r in visible if r is not lead][: settings()["answer"]["max_other_items"]]
    shown = {id(lead), *(id(r) for r in others)}
    rest = [r for r in current if id(r) not in shown]
    return lead, others, rest


def tier_lines(policy_id: str, result: Mapping[str, Any], language: str) -> str:
    """The tiers of a policy as a compact list (from the knowledge base): amount per tier, or, where the
    tiers differ in who qualifies rather than in money, the benefit once and who qualifies per tier."""
    if result.get("bands"):
        # paid by a yearly ranking (can_register): the bands and their shares are the rule, nothing promised
        return "· " + bands_text(result, language)
    lines = []
    unpriced = []
    for tier in tiers_of(policy_id):
        priced = {"max_amount": tier.max_amount, "min_amount": tier.min_amount, "unit": tier.unit}
        amount = amount_text(priced, language) if has_amount(priced) else ""
        if not amount and tier.benefit:
            amount = str(tier.benefit.get(language) or "").rstrip("。. ")
        tier_label = str((tier.label or {}).get(language) or "")
        if not amount:
            unpriced.append("· " + (tier_label or str(tier.tier)))
        elif tier_label and len(tier_label) <= settings()["answer"]["max_tier_label_chars"]:
            lines.append(
                fragment(language, "tier_line_labelled", tier=tier.tier, label=tier_label, amount=amount)
            )
        else:
            lines.append(fragment(language, "tier_line", tier=tier.tier, amount=amount))
    if unpriced or not lines:
        lines.insert(0, "· " + amount_or_benefit(result, language))
    return "\n".join(lines + unpriced)


def tiers_of(policy_id: str) -> tuple[Any, ...]:
    from policies import default_knowledge_base

    for policy in default_knowledge_base().policies:
        if policy.id == policy_id:
            return tuple(policy.tiers)
    return ()


def key_conditions(policy_id: str, language: str) -> str:
    """The policy's general conditions (not the tiers'), the first few."""
    from policies import default_knowledge_base

    try:
        policy = default_knowledge_base().by_id(policy_id)
    except KeyError:
        return fragment(language, "not_stated")
    labels = [c.label[language] for c in policy.requires][: settings()["answer"]["max_reasons"]]
    # a plan or a referral that lists no condition: the document does not state one (not "none")
    return label("fragments", language, "list_separator").join(labels) or fragment(language, "not_stated")


def rule_lead(
    results: list[Mapping[str, Any]], plausible: set[str], text: str | None = None
) -> list[Mapping[str, Any]]:
    """For a question about the rule: the scheme the message names first ("积分租房补贴"), then plausible
    schemes, the one with the highest possible amount first."""
    named = named_schemes(results, text)
    fits = [r for r in results if r["policy_id"] in plausible and r.get("status") != "ineligible"]
    ranked = sorted(fits or results, key=lambda r: -highest_amount(r))
    return named + [r for r in ranked if r not in named]


def named_schemes(results: list[Mapping[str, Any]], text: str | None) -> list[Mapping[str, Any]]:
    """The schemes the message names by a word of their own title ("积分租房补贴"), in results' order."""
    from actions.understanding import names_scheme
    from policies import profile_fields

    districts = profile_fields()["district"].values
    return [r for r in results if names_scheme(str(r.get("title") or ""), text, districts)]


def highest_amount(result: Mapping[str, Any]) -> float:
    """The highest amount any tier of the scheme pays, in yuan over its duration (comparable)."""
    months = result.get("duration_months") or 12
    per = {"yuan": 1 / months, "yuan_per_month": 1, "yuan_per_year": 1 / 12}
    amounts = [(t.max_amount, t.unit) for t in tiers_of(result["policy_id"])]
    amounts.append((result.get("max_amount"), result.get("unit")))
    return max((a * per.get(u or "", 0) * months for a, u in amounts if a is not None), default=0.0)


def rule_variables(result: Mapping[str, Any], language: str, cite: Citations) -> dict[str, str]:
    """Variables of utter_rule_answer: the rule itself, no personal question."""
    payout = []
    if result.get("payout") and result.get("max_amount") is not None:
        payout.append(str(result["payout"]))
    if result.get("duration"):
        payout.append(str(result["duration"]))
    return {
        "title": str(result.get("title") or result.get("policy_id") or ""),
        "district_label": value_label(result.get("district"), language),
        "tiers_text": tier_lines(result["policy_id"], result, language),
        "conditions_text": key_conditions(result["policy_id"], language),
        "payout_text": label("fragments", language, "details_separator").join(payout)
        or fragment(language, "not_stated"),
        "how_to_apply": str(result.get("how_to_apply") or fragment(language, "none")),
        "citation": cite(result.get("source")),
    }


def choose_for_person(
    results: list[Mapping[str, Any]],
    worth: set[str],
    profile: Mapping[str, Any],
    text: str | None = None,
) -> tuple[Mapping[str, Any] | None, list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """choose() for a personalised answer: the scheme the message names ("积分租房补贴我能申请吗") and the
    schemes the person's own words point at (an agricultural team's leader asking about buying a home)
    are plausible and come first, the named one before the others."""
    from policies.questions import hinted as hinted_schemes

    named = [r["policy_id"] for r in named_schemes(results, text)]
    hinted = [*named, *(h for h in hinted_schemes(profile, results) if h not in named)]
    if not hinted:
        return choose(results, worth)
    first = [r for r in results if r["policy_id"] in named]
    first += ordered([r for r in results if r["policy_id"] in hinted and r not in first])
    return choose(
        first + ordered([r for r in results if r not in first]), worth | set(hinted), keep_order=True
    )


def can_depend_on_the_person(results: list[Mapping[str, Any]]) -> bool:
    """Whether checking the person's own case can tell them more than the rule: some result is judged on
    facts (a district whose documents are plans and referrals only has nothing to check)."""
    return any(r.get("status") != "referral" for r in results)


def is_personalised_answer(lead: Mapping[str, Any], profile: Mapping[str, Any]) -> bool:
    """An answer computed from the person's own facts (not a scheme stated as the document states it):
    only these carry "以上为根据您提供的信息作出的预估…"."""
    told = any(name != "district" for name in profile)
    return told and lead.get("status") not in ("referral", None)
