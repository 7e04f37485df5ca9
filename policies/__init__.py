"""人才直达车 talent-policy knowledge base and eligibility engine (pure Python, no Rasa).

from policies import evaluate, normalise_profile, ProfileError
evaluate({"district": "青浦", "education": "博士", ...}, topic="rent_subsidy", language="en")
"""

from .engine import TOPICS, evaluate
from .errors import PolicyDataError, ProfileError
from .knowledge import default_knowledge_base, load_knowledge_base
from .profile import normalise_profile, profile_fields

__all__ = [
    "TOPICS",
    "PolicyDataError",
    "ProfileError",
    "default_knowledge_base",
    "evaluate",
    "load_knowledge_base",
    "normalise_profile",
    "profile_fields",
]
