"""Three-valued conditions over profile facts: True (met), False (not met), None (unknown: a fact is missing).

Conditions are data (conditions.yml, policy files). `compile_condition` checks every fact name and value against
the profile vocabulary once, at load time, and returns a small closure; evaluation is then cheap.
An evaluation returns (value, missing): `missing` lists the unknown facts that would decide it, in the order the
condition mentions them, and is empty whenever the value is known.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .errors import PolicyDataError
from .profile import FieldSpec, profile_fields

Outcome = tuple[bool | None, tuple[str, ...]]
Check = Callable[[Mapping[str, Any]], Outcome]
# fact -> (comparison, number) of every condition on it, gathered while compiling: where its answer can
# change, and which way
Thresholds = dict[str, set[tuple[str, float]]]
NUMERIC_COMPARISONS = ("equals", "at_least", "at_most", "more_than", "less_than")

COMPARISONS = (
    "equals",
    "in",
    "at_least",
    "at_most",
    "more_than",
    "less_than",
    "includes",
    "includes_any",
    "known",
)
COMBINATORS = ("all", "any", "not", "condition")
_KNOWN_TRUE: Outcome = (True, ())
_KNOWN_FALSE: Outcome = (False, ())


def _merge(missing: list[str], extra: tuple[str, ...]) -> None:
    for fact in extra:
        if fact not in missing:
            missing.append(fact)


def _first_decides(checks: list[Check], decisive: bool) -> Check:
    """Kleene's and/or: the first part known to be `decisive` decides the whole (False for all_of, True
    for any_of); otherwise any unknown part leaves it unknown, with the facts that would decide it."""
    decided, otherwise = (_KNOWN_TRUE, _KNOWN_FALSE) if decisive else (_KNOWN_FALSE, _KNOWN_TRUE)

    def check(facts: Mapping[str, Any]) -> Outcome:
        missing: list[str] = []
        for part in checks:
            value, unknown = part(facts)
            if value is decisive:
                return decided
            if value is None:
                _merge(missing, unknown)
        return (None, tuple(missing)) if missing else otherwise

    return check


def all_of(checks: list[Check]) -> Check:
    return _first_decides(checks, decisive=False)


def any_of(checks: list[Check]) -> Check:
    return _first_decides(checks, decisive=True)


def negation(inner: Check) -> Check:
    def check(facts: Mapping[str, Any]) -> Outcome:
        value, unknown = inner(facts)
        return (None, unknown) if value is None else (not value, ())

    return check


def _comparable(spec: FieldSpec, operand: Any, where: str, op: str) -> Any:
    """Turn a condition operand into the value the fact is compared with; checks it against the vocabulary."""
    if spec.type in ("int", "number"):
        if isinstance(operand, bool) or not isinstance(operand, int | float):
            raise PolicyDataError(where, f"{spec.name} {op}: expected a number, got {operand!r}")
        return operand
    if spec.type == "bool":
        if not isinstance(operand, bool):
            raise PolicyDataError(where, f"{spec.name} {op}: expected true or false, got {operand!r}")
        return operand
    if str(operand) not in spec.values:
        raise PolicyDataError(where, f"{spec.name} {op}: {operand!r} is not one of {', '.join(spec.values)}")
    return str(operand)


def _fact_test(spec: FieldSpec, op: str, operand: Any, times: int, where: str) -> Callable[[Any], bool]:
    """The comparison of one known fact value."""
    if op == "in" or op == "includes_any":
        if not isinstance(operand, list) or not operand:
            raise PolicyDataError(where, f"{spec.name} {op}: expected a non-empty list")
        allowed = frozenset(_comparable(spec, item, where, op) for item in operand)
        if op == "in":
            return lambda value: value in allowed
        return lambda value: any(item in allowed for item in value)
    target = _comparable(spec, operand, where, op)
    if op == "equals":
        return lambda value: value == target
    if op == "includes":
        if spec.type != "list":
            raise PolicyDataError(where, f"{spec.name}: 'includes' needs a list field")
        return lambda value: value.count(target) >= times
    if spec.type == "enum" and spec.ordered:
        # Ordered enums list the highest value first, so "at least" means "ranked at or above".
        rank = spec.rank(target)
        tests = {
            "at_least": lambda value: spec.rank(value) <= rank,
            "at_most": lambda value: spec.rank(value) >= rank,
            "more_than": lambda value: spec.rank(value) < rank,
            "less_than": lambda value: spec.rank(value) > rank,
        }
        return tests[op]
    if spec.type not in ("int", "number"):
        raise PolicyDataError(where, f"{spec.name}: {op!r} needs a number or an ordered field")
    tests = {
        "at_least": lambda value: value >= target,
        "at_most": lambda value: value <= target,
        "more_than": lambda value: value > target,
        "less_than": lambda value: value < target,
    }
    return tests[op]


def fact_check(expression: Mapping[str, Any], where: str, thresholds: Thresholds | None = None) -> Check:
    name = expression["fact"]
    specs = profile_fields()
    if name not in specs or specs[name].role != "profile":
        raise PolicyDataError(where, f"unknown profile field {name!r}")
    spec = specs[name]
    ops = [key for key in expression if key in COMPARISONS]
    extra = set(expression) - {"fact", "times", *COMPARISONS}
    if len(ops) != 1 or extra:
        raise PolicyDataError(
            where, f"fact {name!r} needs exactly one of {', '.join(COMPARISONS)} (got {sorted(expression)})"
        )
    op = ops[0]
    if op == "known":
        return _known_check(name, expression[op], where)
    times = expression.get("times", 1)
    if op in ("includes", "includes_any") and spec.type != "list":
        raise PolicyDataError(where, f"{name}: {op!r} needs a list field")
    if spec.type == "list" and op not in ("includes", "includes_any"):
        raise PolicyDataError(where, f"{name}: a list field takes 'includes' or 'includes_any'")
    test = _fact_test(spec, op, expression[op], times, where)
    if thresholds is not None and spec.type in ("int", "number") and op in NUMERIC_COMPARISONS:
        thresholds.setdefault(name, set()).add((op, float(expression[op])))
    unknown: Outcome = (None, (name,))

    def check(facts: Mapping[str, Any]) -> Outcome:
        value = facts.get(name)
        if value is None:
            return unknown
        return _KNOWN_TRUE if test(value) else _KNOWN_FALSE

    return check


def _known_check(name: str, wanted: Any, where: str) -> Check:
    """Whether a fact was given at all; never unknown itself, so it can choose between two ways of deciding."""
    if not isinstance(wanted, bool):
        raise PolicyDataError(where, f"{name} known: expected true or false")

    def check(facts: Mapping[str, Any]) -> Outcome:
        return _KNOWN_TRUE if (facts.get(name) is not None) == wanted else _KNOWN_FALSE

    return check


def compile_condition(
    expression: Any, where: str, resolve: Callable[[str], Check], thresholds: Thresholds | None = None
) -> Check:
    """Compile a condition expression; `resolve` returns the compiled check of a named condition. The numbers
    it compares facts with are added to `thresholds` (named conditions add theirs when they are compiled)."""
    if isinstance(expression, str):
        return resolve(expression)
    if not isinstance(expression, Mapping) or not expression:
        raise PolicyDataError(where, f"a condition must be a name or a mapping, got {expression!r}")
    if "fact" in expression:
        return fact_check(expression, where, thresholds)
    if len(expression) != 1 or next(iter(expression)) not in COMBINATORS:
        raise PolicyDataError(
            where, f"unknown condition form {sorted(expression)}; use fact/all/any/not/condition"
        )
    ((kind, body),) = expression.items()
    if kind == "condition":
        return resolve(body)
    if kind == "not":
        return negation(compile_condition(body, where, resolve, thresholds))
    if not isinstance(body, list) or not body:
        raise PolicyDataError(where, f"{kind!r} needs a non-empty list")
    parts = [
        compile_condition(part, f"{where}.{kind}[{i}]", resolve, thresholds) for i, part in enumerate(body)
    ]
    return all_of(parts) if kind == "all" else any_of(parts)
