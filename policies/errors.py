"""Errors the policies package raises; each names what is wrong so callers can show one clear line."""

from __future__ import annotations


class ProfileError(ValueError):
    """A profile (or query) value the engine cannot accept; `field` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class PolicyDataError(ValueError):
    """Policy data that breaks the schema; `location` names the file (and key path) at fault."""

    def __init__(self, location: str, message: str) -> None:
        super().__init__(f"{location}: {message}")
        self.location = location
        self.message = message
