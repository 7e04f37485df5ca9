"""Latency fixes for the Rasa server, installed by its launcher (scripts/rasa_server.py) before Rasa starts.

The first two and the fourth memoise work Rasa 3.6 repeats on every message, the third moves first-call
costs to start-up; none changes what Rasa computes, sends or answers.

1. Rasa 3.6 checks every action server response with `jsonschema.validate(response, schema)`. That call
first validates the *schema itself* against JSON Schema's meta-schema, every time (jsonschema 4.x;
RasaHQ/rasa#11717). Measured on this machine: ~19 ms of CPU per custom-action call, and a turn of this
assistant makes 2-5 of them (slot extraction runs `action_detect_language` and
`action_validate_slot_mappings` on every message) — about half of a turn's time.

The response schema is a constant, so we check it once and keep the compiled validator: every
response is still validated against exactly the same schema and a bad one raises the same
`ValidationError` with the same message.

2. Every event read back from the tracker store (the whole session, on every message) and every event
an action returns is turned into an object by `Event.resolve_by_type`, which walks Rasa's whole Event
class tree for each one. We remember the class found for each event name (first match in Rasa's own
order; an unknown name still falls through to Rasa). Measured: tracker retrieval 8.3 -> 3.7 ms a turn
in an 8-turn conversation, more as a session grows.

3. The first message after start-up paid for TensorFlow building DIET's graph (~275 ms) and for the
tracker store's first connection (~40 ms). The server now parses two messages and reads an unknown
conversation before it accepts requests (nothing is written), so the first person gets a normal turn.

4. Every custom action call carries the whole domain (86 KB of JSON: every slot and response in both
languages), encoded again for each call: ~1.4 ms of CPU, and a turn makes 3-5 calls (session start, slot
mappings, language, the form, the answer). The domain does not change while a model is loaded, so its
JSON is made once per domain object and put into each request body, which stays byte for byte what
aiohttp would have sent.
"""

from __future__ import annotations

from typing import Any


def install_cached_response_validation() -> None:
    """Make RemoteAction validate action server responses with a validator built once."""
    from jsonschema import ValidationError, exceptions, validators
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)  # once, at start-up, instead of once per response
    validator = validator_class(schema)

    def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        # the same steps as jsonschema.validate after its schema check, and Rasa's own error message
        error = exceptions.best_match(validator.iter_errors(result))
        if error is None:
            return True
        assert isinstance(error, ValidationError)
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error

    RemoteAction._validate_action_result = validate_action_result


def install_cached_event_classes() -> None:
    """Make Event.resolve_by_type look event classes up by name instead of walking the class tree."""
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    rasa_resolve_by_type = Event.resolve_by_type
    classes: dict[str, type[Event]] = {}

    def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
        if type_name not in classes:
            # (re)read the tree: event classes imported since the last miss are found too
            for event_class in all_subclasses(Event):
                classes.setdefault(event_class.type_name, event_class)
        if type_name in classes:
            return classes[type_name]
        return rasa_resolve_by_type(type_name, default)  # Rasa's answer for unknown names

    Event.resolve_by_type = staticmethod(resolve_by_type)


def action_call_body(body: dict[str, Any], domain_json: Any) -> bytes | None:
    """The request body of an action call as aiohttp encodes it (json.dumps, UTF-8), with the domain's
    JSON from `domain_json(domain)`; None for any other request (left to aiohttp)."""
    import json

    if not isinstance(body, dict) or "next_action" not in body or not isinstance(body.get("domain"), dict):
        return None
    if next(reversed(body)) != "domain":  # Rasa puts it last; anything else is not ours to rewrite
        return None
    rest = json.dumps({key: value for key, value in body.items() if key != "domain"})
    return f'{rest[:-1]}, "domain": {domain_json(body["domain"])}}}'.encode()


def install_cached_domain_json() -> None:
    """Make action calls send the domain's JSON made once per domain instead of once per call."""
    import json

    from rasa.utils.endpoints import EndpointConfig

    rasa_request = EndpointConfig.request
    made: list[tuple[object, str]] = []  # (the domain dict, its JSON): the model's one domain

    def domain_json(domain: dict[str, Any]) -> str:
        if not made or made[0][0] is not domain:  # a newly loaded model brings a new domain dict
            made[:] = [(domain, json.dumps(domain))]
        return made[0][1]

    async def request(self: EndpointConfig, *args: Any, **kwargs: Any) -> Any:
        data = action_call_body(kwargs.get("json"), domain_json) if "data" not in kwargs else None
        if data is not None:
            del kwargs["json"]
            kwargs["data"] = data  # Content-Type stays application/json (EndpointConfig sets the header)
        return await rasa_request(self, *args, **kwargs)

    EndpointConfig.request = request


# one message per language the NLU serves; parsing touches no conversation
WARM_UP_MESSAGES = ("你好，青浦的租房补贴怎么申请？", "hello, how do I apply for the rent subsidy?")
WARM_UP_CONVERSATION = "__warm_up__"  # read, never written


async def warm_up(agent: Any) -> None:
    """Run NLU and a tracker store read once, so their first-call costs are not a person's first turn."""
    for text in WARM_UP_MESSAGES:
        await agent.parse_message(text)
    await agent.tracker_store.retrieve(WARM_UP_CONVERSATION)


def install_warm_up() -> None:
    """Warm the agent up right after `rasa run` loads it, before the server accepts requests."""
    import rasa.core.run

    load_agent_on_start = rasa.core.run.load_agent_on_start

    async def load_and_warm_up(*args: Any, **kwargs: Any) -> Any:
        agent = await load_agent_on_start(*args, **kwargs)
        if agent.is_ready():
            await warm_up(agent)
        return agent

    rasa.core.run.load_agent_on_start = load_and_warm_up


def install_latency_fixes() -> None:
    """All four; call before Rasa's own main()."""
    install_cached_response_validation()
    install_cached_event_classes()
    install_warm_up()
    install_cached_domain_json()
