"""scripts/rasa_latency.py: the memoised steps give exactly what Rasa's own steps give."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event, SlotSet, deserialise_events
from rasa.shared.utils.common import all_subclasses

from scripts.rasa_latency import (
    action_call_body,
    install_cached_domain_json,
    install_cached_event_classes,
    install_cached_response_validation,
    warm_up,
)

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


def action_call(domain: dict) -> dict:
    """A request body as RemoteAction._action_call_format makes it (the domain last)."""
    events = [
        {"event": "user", "text": "我34岁", "parse_data": {"intent": {"name": "inform"}, "entities": []}},
        {"event": "slot", "name": "age", "value": 34},
    ]
    tracker = {"sender_id": "bench:1", "slots": {"age": 34, "district": "青浦"}, "events": events}
    return {"next_action": "validate_policy_form", "sender_id": "bench:1", "tracker": tracker,
            "version": "3.6.20", "domain": domain}  # fmt: skip


@pytest.fixture(scope="module")
def real_domain() -> dict:
    from rasa.shared.core.domain import Domain

    return Domain.load(ROOT / "domain").as_dict()


def test_an_action_call_body_is_what_aiohttp_would_send(real_domain):
    body = action_call(real_domain)
    assert action_call_body(body, json.dumps) == json.dumps(body).encode("utf-8")
    assert action_call_body({"next_action": "x", "sender_id": "a"}, json.dumps) is None  # no domain
    assert action_call_body({"domain": {}, "next_action": "x"}, json.dumps) is None  # domain not last
    assert action_call_body({"text": "hi", "domain": {}}, json.dumps) is None  # not an action call
    assert action_call_body(None, json.dumps) is None


@pytest.fixture
def rasa_request():
    """Rasa's own EndpointConfig.request, restored after the test."""
    from rasa.utils.endpoints import EndpointConfig

    original = EndpointConfig.request
    yield original
    EndpointConfig.request = original


async def test_action_calls_send_the_same_bytes_with_the_domain_encoded_once(
    rasa_request, real_domain, monkeypatch
):
    from rasa.utils.endpoints import EndpointConfig
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from bot.testing.server import serve

    received: list[tuple[bytes, str]] = []

    async def webhook(request):
        received.append((await request.body(), request.headers["content-type"]))
        return JSONResponse({"events": [], "responses": []})

    encoded: list[int] = []
    dumps = json.dumps

    def counting_dumps(value, *args, **kwargs):
        encoded.append(id(value))
        return dumps(value, *args, **kwargs)

    install_cached_domain_json()
    monkeypatch.setattr(json, "dumps", counting_dumps)
    other_domain = {**real_domain, "version": "3.1"}  # a newly loaded model
    bodies = [action_call(real_domain), action_call(real_domain), action_call(other_domain)]
    async with serve(Starlette(routes=[Route("/webhook", webhook, methods=["POST"])])) as url:
        endpoint = EndpointConfig(url=f"{url}/webhook")
        for body in bodies:
            assert await endpoint.request(json=body, method="post") == {"events": [], "responses": []}
        await endpoint.request(json={"text": "not an action call"}, method="post")
    assert received == [(dumps(b).encode(), "application/json") for b in bodies] + [
        (b'{"text": "not an action call"}', "application/json")
    ]
    assert encoded.count(id(real_domain)) == 1 and encoded.count(id(other_domain)) == 1


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
