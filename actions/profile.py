"""Tracker -> policies/ profile: the slots named like profile fields, each checked on its own."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker

from actions.config import DEFAULT_LANGUAGE, LANGUAGES, profile_fields

logger = logging.getLogger(__name__)


def conversation_language(tracker: Tracker) -> str:
    """zh or en; an unset slot means Chinese."""
    language = tracker.get_slot("language")
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def normalise_field(name: str, value: Any) -> Any:
    """The canonical value of one profile field; raises policies.ProfileError when it is not valid."""
    from policies import normalise_profile

    return normalise_profile({name: value}).get(name, value)


def profile_from_tracker(tracker: Tracker) -> dict[str, Any]:
    """Every filled profile slot that the engine accepts; a value it rejects is left out (= unknown).
    Facts the known ones imply are added (profile.yml `implies`: an agricultural team's leader works in
    agriculture), so the answer and the next question see the same person."""
    from policies import ProfileError
    from policies.questions import with_implied

    profile: dict[str, Any] = {}
    for name in profile_fields():
        value = tracker.get_slot(name)
        if value is None:
            continue
        try:
            profile[name] = normalise_field(name, value)
        except ProfileError as error:
            # a stale bad value must not stop the answer; it is simply treated as not known
            logger.info("profile field %s ignored: %s", name, error)
    return with_implied(profile)
