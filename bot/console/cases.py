"""The case lifecycle: waiting → assigned → closed, with who and when. ``CaseDesk`` is the router's
handoff hook (``hooks.HandoffHook``: ``is_open`` and ``on_handoff``) and what the console's API calls.

While a case is open the conversation's ``handoff_open`` flag is set: the router keeps forwarding the
person's messages to Rasa (its tracker and slots stay complete) but stores the assistant's replies as
``suppressed``. Closing resumes the assistant in Rasa and tells the person, in their language.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from policies import ProfileError

from ..models import Delivery, InboundMessage, Reply, split_conversation_id
from ..rasa_client import RasaUnavailable
from ..router import Router
from . import card, ratings, routing, waiting
from .audit import AuditLog
from .auth import Accounts, Staff
from .case_store import OPEN_STATUSES, CaseStore
from .privacy import TAKEOVER
from .render import person_label, profile_labels, profile_value
from .settings import config, error_text, held_explanation, person_text
from .workcalendar import expected_answer_text

log = logging.getLogger(__name__)

HANDED_BACK = "handed_back"


@dataclass
class CaseError(Exception):
    """A refused case action: HTTP status, machine code, one clear Chinese sentence."""

    status: int
    code: str
    message: str
    extra: dict[str, Any] | None = None

    @classmethod
    def of(cls, status: int, code: str, **values: Any) -> CaseError:
        return cls(status, code, error_text(code, **values))


class CaseDesk(waiting.PersonWait):
    def __init__(self, router: Router, accounts: Accounts, audit: AuditLog) -> None:
        self.router = router
        self.store = router.store
        self.cases = CaseStore(router.store)
        self.accounts = accounts
        self.audit = audit

    async def _db(self, fn, *args, **kwargs):
        return await self.store.call(fn, *args, **kwargs)

    def _publish(self, case: dict[str, Any], kind: str) -> None:
        self.router.bus.publish(case["conversation_id"], {"type": kind, "case_id": case["id"]})

    async def language_of(self, conversation_id: str) -> str:
        conversation = await self._db(self.store.conversation, conversation_id)
        return (conversation or {}).get("language") or self.router.default_language

    # -- the router's handoff hook ---------------------------------------------------------------------
    async def is_open(self, conversation_id: str) -> bool:
        return await self._db(self.store.handoff_open, conversation_id)

    async def on_handoff(
        self, message: InboundMessage, payload: dict[str, Any], language: str
    ) -> list[Reply]:
        """The assistant handed off: open a waiting case with its context, tell the person when to expect
        a human (office hours, in their language)."""
        language = payload.get("language") if payload.get("language") in ("zh", "en") else language
        reason = str(payload.get("reason") or "request_human")[:80]
        case, opened = await self._db(
            self.cases.open_case,
            message.conversation_id,
            reason=reason,
            summary=str(payload.get("summary") or "")[:2000] or None,
            payload=payload,
            language=language,
            opened_by="assistant",
        )
        if not opened:
            return []
        await self.audit.arecord(
            "assistant", "case_opened", case["id"], reason=reason, channel=message.channel
        )
        self._publish(case, "case_opened")
        now = dt.datetime.now(dt.timezone.utc)
        return [Reply(expected_answer_text(now, language), author="gateway")]

    async def _after_close(
        self, case: dict[str, Any] | None, conversation_id: str, language: str, outcome: str
    ) -> None:
        """Resume the assistant and tell the person; handed back (not answered by staff), the assistant
        answers the question the person asked last."""
        await self._db(waiting.forget_acknowledgement, self.store, conversation_id)
        await card.hand_back_facts(self, case)  # the officer's corrections, before the assistant resumes
        resumed = await self._hand_back(conversation_id)
        closing = [Reply(person_text("case_closed", language), author="gateway")]
        if case is not None and case.get("assignee") and outcome != waiting.CANCELLED_BY_PERSON:
            # a case staff handled may be rated (好差评); one message with the notice on WeChat
            await self._db(ratings.offer, self.store, conversation_id, case["id"])
            closing.append(ratings.prompt(language))
        await self.router.send(conversation_id, closing)
        if resumed and case is not None and outcome == HANDED_BACK:
            async with self.router.locks.hold(conversation_id):
                turn = await self._answer_last_words(case)
                if turn is not None:
                    await self.router.deliver(turn)

    async def close(self, conversation_id: str, closed_by: str = "staff", outcome: str = HANDED_BACK) -> bool:
        """Close whatever is open for a conversation, resume the assistant in Rasa and tell the person."""
        case = await self._db(self.cases.open_case_for, conversation_id)
        language = case["language"] if case else await self.language_of(conversation_id)
        async with self.router.locks.hold(conversation_id):
            case_id, closed = await self._db(
                self.cases.close_conversation, conversation_id, closed_by=closed_by, outcome=outcome
            )
        if not closed:
            return False
        actor = closed_by.split(":", 1)[1] if closed_by.startswith("staff:") else closed_by
        await self.audit.arecord(
            actor, "close", case_id, outcome=outcome, person=person_label(conversation_id)
        )
        if case_id is not None:
            self._publish({"id": case_id, "conversation_id": conversation_id}, "case_updated")
        await self._after_close(case, conversation_id, language, outcome)
        return True

    async def _tell_waiting(self, case: dict[str, Any], key: str, **values: Any) -> None:
        """Tell a waiting person their case moved (claimed, transferred) — not on WeChat (console.yml)."""
        if case["channel"] == "wechat":
            return
        if key == "case_requeued" and not values.get("district"):
            key = "case_transferred"  # back to the shared queue: no office to name
        text = person_text(key, case["language"], **values)
        await self.router.send(case["conversation_id"], [Reply(text, author="gateway")])

    async def _hand_back(self, conversation_id: str) -> bool:
        try:
            await self.router.rasa.hand_back(conversation_id)
            return True
        except RasaUnavailable as error:
            # The gateway no longer suppresses replies; Rasa stays paused until the next resume. Logged
            # loudly because the assistant will not answer this person.
            log.error("could not resume %s in Rasa: %s", split_conversation_id(conversation_id)[0], error)
            return False

    # -- reading ---------------------------------------------------------------------------------------------
    async def get(self, case_id: int) -> dict[str, Any]:
        case = await self._db(self.cases.get, case_id)
        if case is None:
            raise CaseError.of(404, "no_such_case")
        return case

    @staticmethod
    def _require_holder(case: dict[str, Any], staff: Staff) -> None:
        if case["status"] == "closed":
            raise CaseError.of(409, "closed")
        if case["assignee"] != staff.login:
            raise CaseError.of(409, "not_yours")

    # -- officer actions ---------------------------------------------------------------------------------------
    async def claim(self, case_id: int, staff: Staff) -> dict[str, Any]:
        case = await self.get(case_id)
        limit = routing.limit_per_officer()
        won = await self._db(self.cases.claim, case_id, staff.login, limit)
        case = await self.get(case_id)
        if not won and case["status"] == "waiting":
            raise CaseError.of(409, "too_many_cases", limit=limit)
        if not won:
            if case["status"] == "assigned":
                names = await self._db(self.accounts.display_names)
                holder = names.get(case["assignee"], case["assignee"])
                raise CaseError.of(409, "already_claimed", name=holder)
            raise CaseError.of(409, "closed" if case["status"] == "closed" else "not_waiting")
        await self.audit.arecord(staff.login, "claim", case_id)
        self._publish(case, "case_updated")
        await self._tell_waiting(case, "case_claimed")
        return case

    def check_reply_text(self, case: dict[str, Any], text: Any) -> str:
        if not isinstance(text, str) or not text.strip():
            raise CaseError.of(400, "empty")
        text = text.strip()
        limits = config()["replies"]
        if len(text) > int(limits["max_chars"]):
            raise CaseError.of(400, "too_long", limit=limits["max_chars"])
        if case["channel"] == "wechat":
            max_bytes = min(int(limits["wechat_max_bytes"]), self._wechat_max_bytes())
            if len(text.encode("utf-8")) > max_bytes:
                raise CaseError(
                    400, "too_long", error_text("too_long_wechat", limit=max_bytes, chars=max_bytes // 3)
                )
        return text

    def _wechat_max_bytes(self) -> int:
        try:
            return int(self.router.senders.get("wechat").max_bytes)
        except (LookupError, AttributeError):
            return int(config()["replies"]["wechat_max_bytes"])

    async def reply(self, case_id: int, staff: Staff, text: Any) -> tuple[list[Delivery], str | None]:
        """Send the officer's words through the person's channel. WeChat past its quota: kept as ``held``
        (it goes out with the person's next message) and the explanation says so."""
        case = await self.get(case_id)
        self._require_holder(case, staff)
        text = self.check_reply_text(case, text)
        deliveries = await self.router.send(case["conversation_id"], [Reply(text)], author=staff.author)
        if await self._db(routing.mark_first_response, self.cases.engine, case_id):
            self._publish(case, "case_updated")  # its first-response target is met now
        held = [d for d in deliveries if d.status == "held"]
        explanation = held_explanation(held[0].detail) if held else None
        await self.audit.arecord(
            staff.login,
            "reply",
            case_id,
            statuses=[d.status for d in deliveries],
            chars=len(text),
        )
        return deliveries, explanation

    async def add_note(self, case_id: int, staff: Staff, text: Any) -> dict[str, Any]:
        case = await self.get(case_id)
        if not isinstance(text, str) or not text.strip():
            raise CaseError.of(400, "empty")
        if len(text.strip()) > int(config()["replies"]["max_chars"]):
            raise CaseError.of(400, "too_long", limit=config()["replies"]["max_chars"])
        note = await self._db(self.cases.add_note, case_id, staff.author, text.strip())
        await self.audit.arecord(staff.login, "note", case_id, chars=len(text.strip()))
        self.router.bus.publish(
            case["conversation_id"], {"type": "note", "case_id": case_id, "note_id": note["id"]}
        )
        return note

    async def transfer(
        self, case_id: int, staff: Staff, to_login: Any, to_district: Any = None, reason: Any = None
    ) -> dict[str, Any]:
        """To an officer (within their limit), or back to a district's queue (``to_district``: a name or
        "shared") with a stated reason."""
        case = await self.get(case_id)
        if case["status"] == "closed":
            raise CaseError.of(409, "closed")
        if not staff.is_admin:
            self._require_holder(case, staff)
        if to_district is not None:
            return await self._to_queue(case, staff, to_district, reason)
        target = await self._db(self.accounts.get, str(to_login or "").strip().lower())
        if target is None:
            raise CaseError.of(404, "no_such_officer")
        if target.login == case["assignee"]:
            raise CaseError.of(409, "same_officer")
        limit = routing.limit_per_officer()
        moved = await self._db(
            self.cases.transfer,
            case_id,
            target.login,
            from_login=None if staff.is_admin else staff.login,
            limit=limit,
        )
        if not moved:  # the officer is full, or someone else changed the case a moment ago
            if await self._db(routing.in_hand, self.cases.engine, target.login) >= limit:
                raise CaseError.of(409, "officer_full", name=target.display_name, limit=limit)
            raise CaseError.of(409, "not_yours")
        stated = {"reason": str(reason).strip()[:200]} if isinstance(reason, str) and reason.strip() else {}
        await self.audit.arecord(
            staff.login, "transfer", case_id, to=target.login, previous=case["assignee"], **stated
        )
        case = await self.get(case_id)
        self._publish(case, "case_updated")
        await self._tell_waiting(case, "case_transferred")
        return case

    async def _to_queue(
        self, case: dict[str, Any], staff: Staff, to_district: Any, reason: Any
    ) -> dict[str, Any]:
        if to_district != "shared" and to_district not in routing.districts():
            raise CaseError.of(400, "bad_district")
        if not isinstance(reason, str) or len(reason.strip()) < 2:
            raise CaseError.of(400, "transfer_reason")
        district = None if to_district == "shared" else to_district
        moved = await self._db(
            routing.to_district_queue,
            self.cases.engine,
            case["id"],
            district,
            from_login=None if staff.is_admin else staff.login,
        )
        if not moved:
            raise CaseError.of(409, "not_yours")
        await self.audit.arecord(
            staff.login,
            "transfer",
            case["id"],
            to_district=to_district,
            previous=case["assignee"],
            reason=reason.strip()[:200],
        )
        case = await self.get(case["id"])
        self._publish(case, "case_updated")
        await self._tell_waiting(case, "case_requeued", district=case["district"] or "")
        return case

    async def close_case(self, case_id: int, staff: Staff, outcome: Any) -> dict[str, Any]:
        chosen = {o["tag"] for o in config()["outcomes"] if not o.get("not_chosen")}
        if outcome not in chosen:
            raise CaseError.of(400, "bad_outcome")
        case = await self.get(case_id)
        if case["status"] not in OPEN_STATUSES:
            raise CaseError.of(409, "closed")
        if not staff.is_admin:
            self._require_holder(case, staff)
        async with self.router.locks.hold(case["conversation_id"]):
            closed = await self._db(
                self.cases.close,
                case_id,
                closed_by=staff.author,
                outcome=outcome,
                assignee=None if staff.is_admin else staff.login,
            )
        if not closed:
            raise CaseError.of(409, "not_yours")
        await self.audit.arecord(staff.login, "close", case_id, outcome=outcome)
        case = await self.get(case_id)
        self._publish(case, "case_updated")
        await self._after_close(case, case["conversation_id"], case["language"], outcome)
        return case

    async def correct_fact(self, case_id: int, staff: Staff, field: Any, value: Any) -> dict[str, Any]:
        """The officer corrects one fact of the assistant's profile: the engine re-runs on it, both are kept
        in the case (handed to the assistant at hand-back), and the audit log says who changed what."""
        case = await self.get(case_id)
        if not staff.is_admin:
            self._require_holder(case, staff)
        elif case["status"] == "closed":
            raise CaseError.of(409, "closed")
        try:
            payload, old, new = card.corrected_case(case, field, value)
        except ProfileError as error:
            raise CaseError.of(400, "bad_fact", detail=str(error)) from None
        await self._db(card.save_payload, self.cases.engine, case_id, payload)
        shown = {"old": profile_value(old) if old is not None else None, "new": profile_value(new)}
        label = profile_labels().get(field, field)
        await self.audit.arecord(staff.login, "correct_fact", case_id, field=field, label=label, **shown)
        self._publish(case, "case_updated")
        return await self.get(case_id)

    async def takeover(self, conversation_id: str, staff: Staff, reason: str | None = None) -> dict[str, Any]:
        """Open a case assigned to ``staff`` on any conversation and pause the assistant; closing it (outcome
        ``handed_back``) gives the conversation back. A stated ``reason`` (audited) shows it in clear."""
        conversation = await self._db(self.store.conversation, conversation_id)
        if conversation is None:
            raise CaseError.of(404, "no_such_conversation")
        language = conversation.get("language") or self.router.default_language
        # under the conversation's lock: no assistant turn is half-way through when staff take over
        async with self.router.locks.hold(conversation_id):
            case, opened = await self._db(
                self.cases.open_case,
                conversation_id,
                reason=TAKEOVER,
                summary=config()["reason_labels"].get(TAKEOVER),
                payload=None,
                language=language,
                opened_by=staff.author,
                assignee=staff.login,
            )
            if not opened:
                raise CaseError(409, "case_open", error_text("case_open"), {"case_id": case["id"]})
            try:
                await self.router.rasa.pause(conversation_id)
            except RasaUnavailable as error:  # the gateway suppresses the assistant's replies anyway
                log.warning(
                    "could not pause %s in Rasa: %s", split_conversation_id(conversation_id)[0], error
                )
        stated = {"reason": reason} if reason else {}
        await self.audit.arecord(
            staff.login, "takeover", case["id"], person=person_label(conversation_id), **stated
        )
        self._publish(case, "case_opened")
        await self.router.send(
            conversation_id, [Reply(person_text("staff_joined", language), author="gateway")]
        )
        return case
