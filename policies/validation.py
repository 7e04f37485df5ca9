"""Checks a parsed data file against policies/schema.yml; the first error names the file and the key path."""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

import jsonschema

from .errors import PolicyDataError
from .profile import PACKAGE_DIR
from .strict_yaml import load_yaml

SCHEMA_FILE = PACKAGE_DIR / "schema.yml"


@lru_cache(maxsize=1)
def _schema() -> dict:
    return load_yaml(SCHEMA_FILE)


@cache
def _validator(kind: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator({"$ref": f"#/$defs/{kind}", "$defs": _schema()["$defs"]})


def validate_against(kind: str, data: Any, location: str) -> None:
    """Validate one parsed file against `$defs/<kind>` of schema.yml; the first error names its key path."""
    validator = _validator(kind)
    errors = sorted(
        validator.iter_errors(data), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path)))
    )
    if errors:
        error = jsonschema.exceptions.best_match(errors)
        path = "/".join(str(part) for part in error.absolute_path) or "(top)"
        raise PolicyDataError(f"{location} at {path}", _short(error))


def _short(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "unknown key")
    if error.validator == "enum":
        return f"{error.instance!r} is not one of: {', '.join(str(v) for v in error.validator_value)}"
    if len(error.message) > 200:  # e.g. "{...whole entry...} is not valid under any of the given schemas"
        return f"does not match the schema ({error.validator}: {error.message[-80:]})"
    return error.message
