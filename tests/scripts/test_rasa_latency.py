"""scripts/rasa_latency.py: the memoised steps give exactly what Rasa's own steps give."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event, SlotSet, deserialise_events
from rasa.shared.utils.common import all_subclasses

from scripts.rasa_latency import install_cached_event_classes, install_cached_response_validation, warm_up

VALID = {
    "events": [{"event": "slot", "timestamp": None, "name": "district", "value": "松江"}],
    "responses": [{"response": "utter_greet", "buttons": []}],
}
INVALID = [
    {"events": "not a list", "responses": []},
    {"events": [{"event": "slot", "name": 3}], "responses": []},  # slot name must be a string
    {"events": [], "responses": ["not an object"]},
]


@pytest.fixture
def rasa_validation():
    """Rasa's own validation method, restored after the test."""
    original = RemoteAction._validate_action_result
    yield original
    RemoteAction._validate_action_result = original


def error_of(validate, result) -> str:
    with pytest.raises(ValidationError) as caught:
        validate(RemoteAction("action_x", None), result)
    return caught.value.message


def test_valid_response_passes(rasa_validation):
    install_cached_response_validation()
    assert RemoteAction("action_x", None)._validate_action_result(VALID) is True


@pytest.mark.parametrize("result", INVALID)
def test_invalid_response_fails_with_rasas_own_message(rasa_validation, result):
    expected = error_of(rasa_validation, result)
    install_cached_response_validation()
    assert error_of(RemoteAction._validate_action_result, result) == expected
    assert "Failed to validate Action server response" in expected


def test_validation_no_longer_rechecks_the_schema(rasa_validation):
    action = RemoteAction("action_x", None)

    def per_call_ms(runs: int = 20) -> float:
        start = time.perf_counter()
        for _ in range(runs):
            action._validate_action_result(VALID)
        return (time.perf_counter() - start) * 1000 / runs

    before = per_call_ms()
    install_cached_response_validation()
    after = per_call_ms()
    # measured ~19 ms -> ~0.3 ms on this machine; a generous margin for a busy CI box
    assert after < before / 5


@pytest.fixture
def rasa_resolve_by_type():
    """Rasa's own event class lookup, restored after the test."""
    original = Event.__dict__["resolve_by_type"]
    yield original.__func__
    Event.resolve_by_type = original


def test_event_classes_resolve_as_rasa_resolves_them(rasa_resolve_by_type):
    names = sorted({cls.type_name for cls in all_subclasses(Event)})
    expected = {name: rasa_resolve_by_type(name) for name in names}
    install_cached_event_classes()
    assert {name: Event.resolve_by_type(name) for name in names} == expected
    assert Event.resolve_by_type("slot") is SlotSet


def test_unknown_event_names_get_rasas_answer(rasa_resolve_by_type):
    install_cached_event_classes()
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        Event.resolve_by_type("no_such_event")


def test_events_deserialise_the_same(rasa_resolve_by_type):
    serialised = [
        {"event": "user", "text": "我34岁", "parse_data": {"intent": {"name": "inform"}, "entities": []}},
        {"event": "slot", "name": "age", "value": 34},
        {"event": "action", "name": "validate_policy_form"},
        {"event": "bot", "text": "您的用人单位注册在该区并在该区纳税吗？"},
        {"event": "active_loop", "name": "policy_form"},
    ]
    expected = deserialise_events(serialised)
    install_cached_event_classes()
    assert deserialise_events(serialised) == expected
    assert [type(e) for e in deserialise_events(serialised)] == [type(e) for e in expected]


ROOT = Path(__file__).resolve().parents[2]
MODEL = Path(os.environ.get("MODELS_DIR", ROOT / "models")) / "assistant.tar.gz"


@pytest.mark.e2e  # runs after `make train` in `make test`, against the model CI trained or cached
async def test_warm_up_runs_the_real_model_and_stores_nothing(tmp_path, monkeypatch):
    from rasa.core.agent import load_agent
    from rasa.core.utils import AvailableEndpoints

    assert MODEL.exists(), f"no trained model at {MODEL}: make train"
    from rasa.utils.endpoints import EndpointConfig

    tracker_db = EndpointConfig(type="SQL", dialect="sqlite", db=str(tmp_path / "tracker.db"))
    agent = await load_agent(model_path=str(MODEL), endpoints=AvailableEndpoints(tracker_store=tracker_db))
    parsed = []
    rasa_parse = type(agent).parse_message

    async def recording_parse(self, text):
        result = await rasa_parse(self, text)
        parsed.append(result["intent"]["name"])
        return result

    monkeypatch.setattr(type(agent), "parse_message", recording_parse)
    await warm_up(agent)
    assert len(parsed) == 2 and set(parsed) <= set(agent.domain.intents)  # both languages went through NLU
    assert list(await agent.tracker_store.keys()) == []  # and no conversation was written
