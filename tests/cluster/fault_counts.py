"""What the fault test counts, from the transcript database and from what each person received, and how
its counts reach docs/FIGURES.md (test_cluster_faults.py)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from cluster_harness import query

from bot.store import PENDING
from bot.texts import text as say

HANDOFF_TEXT = "转人工"
APOLOGIES = {say("rasa_down", "zh"), say("rasa_down_write_again", "zh")}


@dataclass
class Sent:
    channel: str
    person: str  # conversation id
    text: str
    external_id: str | None = None
    http: list[int] = field(default_factory=list)  # every status seen (0 = no response)
    received: list[str] = field(default_factory=list)  # what the person saw in the response itself
    shown_error: bool = False  # the person was shown a failure
    at: float = field(default_factory=time.monotonic)  # when it was sent


async def settle(rc, people: list[str], seconds: float) -> float:
    """Wait (at most ``seconds``) until none of these people's messages is stored without an answer;
    how long it took."""
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        left = query(
            rc,
            "SELECT count(*) AS n FROM messages WHERE direction = 'in' AND status = ANY(:pending) "
            "AND conversation_id = ANY(:people)",
            pending=list(PENDING),
            people=people,
        )[0]["n"]
        if not left:
            break
        await asyncio.sleep(1.0)
    return time.monotonic() - began


def fault_of(sent: Sent, kills: dict[str, float]) -> str:
    """The kill nearest in time to when the message was sent (within 30 s), or 'none'."""
    near = sorted((abs(at - sent.at), name) for name, at in kills.items() if abs(at - sent.at) <= 30)
    return near[0][1] if near else "none"


def count(
    rc, log: list[Sent], cases_seen: set[int], since_case_id: int, kills: dict[str, float]
) -> dict[str, Any]:
    """Everything the test asserts, counted from the transcript database and from what people received."""
    people = sorted({s.person for s in log})
    inbound = [
        r
        for person in people
        for r in query(
            rc,
            "SELECT id, conversation_id, text, external_id, status, created_at FROM messages "
            "WHERE direction = 'in' AND conversation_id = :p ORDER BY id",
            p=person,
        )
    ]
    outbound = defaultdict(list)
    for person in people:
        for r in query(
            rc,
            "SELECT id, reply_to, text, status, author, kind FROM messages "
            "WHERE direction = 'out' AND conversation_id = :p ORDER BY id",
            p=person,
        ):
            outbound[r["reply_to"]].append(r)
    stored = Counter()
    rows_of: dict[int, dict] = {}
    for sent_index, sent in enumerate(log):
        matches = [
            r
            for r in inbound
            if r["conversation_id"] == sent.person
            and (r["external_id"] == sent.external_id if sent.external_id else r["text"] == sent.text)
        ]
        stored[sent_index] = len(matches)
        if matches:
            rows_of[sent_index] = matches[0]
    telegram_sent = defaultdict(list)
    for call in rc.standins.telegram.sent():
        telegram_sent[f"telegram:{call['chat_id']}"].append(call["text"])
    wechat_custom = defaultdict(list)
    for body in rc.standins.wechat_api.sent:
        wechat_custom[f"wechat:{body['touser']}"].append(body["text"]["content"])

    delivered = {"sent", "sent_passive", "held"}
    cases = query(
        rc,
        "SELECT id, conversation_id, opened_at FROM cases WHERE id > :since ORDER BY id",
        since=since_case_id,
    )

    def staff_case_before(person: str, at: Any) -> bool:
        return any(c["conversation_id"] == person and c["opened_at"] < at for c in cases)

    unanswered, duplicated, apologies, with_staff = [], [], 0, 0
    for index, sent in enumerate(log):
        row = rows_of.get(index)
        if row is None or sent.shown_error:
            continue
        replies = [r for r in outbound.get(row["id"], []) if r["status"] in delivered]
        if staff_case_before(sent.person, row["created_at"]):
            with_staff += 1  # the person was told an officer will answer; the assistant keeps quiet
            continue
        if not replies or row["status"] in PENDING:  # nothing, or only "saved, the answer follows"
            unanswered.append(sent)
        texts = [r["text"] for r in replies]
        if len(texts) != len(set(texts)):
            duplicated.append(sent)
        if APOLOGIES & set(texts):  # told "saved, the answer follows"; the replay answered later
            apologies += 1
        if rc.rasa_mode == "standin" and sent.text != HANDOFF_TEXT:
            echo = f"收到：{sent.text}"
            seen = sent.received + telegram_sent[sent.person] + wechat_custom[sent.person]
            times = sum(t.count(echo) for t in seen)
            if times > 1:
                duplicated.append(sent)
            if times == 0 and row["status"] != "rasa_unavailable":
                unanswered.append(sent)
    fault_cases = [c for c in cases if c["conversation_id"] in set(people)]
    asked_for_staff = [s for s in log if s.text == HANDOFF_TEXT]
    problems = unanswered + duplicated + [s for s in log if s.shown_error]
    by_fault = Counter(f"{s.channel} near {fault_of(s, kills)}" for s in problems)
    return {
        "messages sent": len(log),
        "by channel": dict(Counter(s.channel for s in log)),
        "stored exactly once": sum(1 for n in stored.values() if n == 1),
        "lost (not stored)": [log[i].text for i, n in stored.items() if n == 0 and not log[i].shown_error],
        "stored more than once": [log[i].text for i, n in stored.items() if n > 1],
        "unanswered": [f"{s.channel} {s.text}" for s in unanswered],
        "answered twice": [f"{s.channel} {s.text}" for s in duplicated],
        "failure shown to a person": [f"{s.channel} {s.text} {s.http}" for s in log if s.shown_error],
        "5xx/no response seen by WeChat/Telegram servers (retried)": sum(
            1 for s in log if s.channel != "web" and any(h != 200 for h in s.http)
        ),
        "web chat messages resent by the page (same client id)": sum(
            1 for s in log if s.channel == "web" and any(h == 0 or h >= 500 for h in s.http)
        ),
        "apologies (Rasa unreachable or too slow, message kept and replayed)": apologies,
        "sent while with staff (case open, assistant quiet)": with_staff,
        "problems by channel and nearest kill": dict(by_fault),
        "cases opened": len(fault_cases),
        "asked for a person without a case": [
            f"{s.channel} {s.http}"
            for s in asked_for_staff
            if not s.shown_error and not any(c["conversation_id"] == s.person for c in fault_cases)
        ],
        "cases the console did not see": [c["id"] for c in fault_cases if c["id"] not in cases_seen],
        "WeChat stable_token calls": len(rc.standins.wechat_api.token_calls),
    }


def record_figures(rc, timeline: list[str], counts: dict[str, Any], people: int, seed: int) -> None:
    from scripts.figures import markdown_table, record

    def cell(value: Any) -> str:
        return str(len(value)) if isinstance(value, list) else str(value).replace("|", "/")

    body = (
        f"{people} people per channel (WeChat, Telegram, web chat) through HAProxy, seed {seed}, Rasa: "
        f"{'the trained model' if rc.rasa_mode == 'model' else 'the stand-in'}; faults: "
        + "; ".join(line.strip() for line in timeline)
        + ".\n\n"
        + markdown_table(["count", "value"], [[key, cell(value)] for key, value in counts.items()])
    )
    record(
        "cluster-fault-test",
        "Fault test: one gateway, one Rasa node, one action server killed",
        body,
        "make test-cluster",
    )
