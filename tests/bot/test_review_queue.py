"""The review queue that improves the assistant (issue 13, item 7): messages the assistant did not
understand, asked to clarify, was unsure of (the tracker's latest intent confidence) or answered with the
same words again land in the queue over real HTTP; an admin gives intent and entities from the domain's
lists or marks out of scope; ``scripts/export_reviewed.py`` writes them as training data that
``rasa data validate`` accepts, every fifth held out.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import test_console_api
import yaml
from gateway_harness import wait_for
from sqlalchemy import insert
from test_console_api import person_says
from test_waiting_ratings import rows_of

from bot.console import after_answer, domain_words, review
from bot.models import Reply
from bot.store import Store, conversations, messages, review_items
from scripts import export_reviewed

ROOT = Path(__file__).resolve().parents[2]
console, sign_in = test_console_api.console, test_console_api.sign_in
# the stand-in reads "unsure …" at confidence 0.3, as a Rasa whose FallbackClassifier threshold is lower
STANDIN_FALLBACK_THRESHOLD = 0.25


@pytest.fixture
def standin_rasa_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(review, "nlu_fallback_threshold", lambda: STANDIN_FALLBACK_THRESHOLD)


def test_reasons_are_read_from_the_domains_responses() -> None:
    clarify = Reply("抱歉，我不太确定您的意思，您是想问：")
    fallback_en = Reply("Sorry, I didn't get that. Could you say it another way?")
    answer = Reply("松江区人才租房补贴：硕士每月 1500 元，最长 3 年。")
    assert review.reasons_of([clarify], []) == ["clarification"]
    assert review.reasons_of([fallback_en], []) == ["fallback"]
    assert review.reasons_of([answer], [answer.text]) == ["repeated_answer"]
    assert review.reasons_of([answer], []) == []
    assert {"ask_rent_subsidy", "inform", "out_of_scope"} <= set(domain_words.domain_lists()["intents"])
    assert "district" in domain_words.domain_lists()["entities"]


async def test_messages_land_in_the_queue_and_an_admin_reviews_them(
    console, sign_in, standin_rasa_config
) -> None:
    session = (await person_says(console, "fallback 嗯嗯那个东西"))["session"]
    await person_says(console, "long 40", session)
    await person_says(console, "long 40", session)  # the same 40-character answer again
    await person_says(console, "unsure 松江 我那个补贴 13812345678", session)
    await person_says(console, "青浦落户条件", session)  # understood: not queued
    await wait_for(lambda: len(console.gateway.router.after_answer.pending) == 0)

    async def queued() -> list[tuple]:
        return [
            (r["text"], r["reasons"], r["intent"], r["confidence"])
            for r in await rows_of(console, review_items)
        ]

    await wait_for_rows(console, 3)
    assert await queued() == [
        ("fallback 嗯嗯那个东西", "fallback", None, None),
        ("long 40", "repeated_answer", None, None),
        ("unsure 松江 我那个补贴 138****5678", "low_confidence", "inform", 0.3),  # masked
    ]
    wang, boss = await sign_in("wang"), await sign_in("boss")
    assert (await wang.get("/review")).json()["code"] == "forbidden"
    listed = (await boss.get("/review")).json()
    assert (
        listed["total"] == 3 and "ask_rent_subsidy" in listed["intents"] and "district" in listed["entities"]
    )
    [fallback, repeated, unsure] = listed["items"]
    assert unsure["reasons"] == [{"code": "low_confidence", "label": "意图置信度低"}]
    refusals = [
        ({"intent": "ask_lottery"}, 400, "unknown_intent"),
        ({"intent": "ask_rent_subsidy", "entities": [{"entity": "planet", "text": "松江"}]}, 400, "unknown_entity"),
        ({"intent": "ask_rent_subsidy", "entities": [{"entity": "district", "text": "青浦"}]}, 400, "entity_not_in_text"),
        ({}, 400, "review_decision_required"),
    ]  # fmt: skip
    for body, status, code in refusals:
        refused = await boss.post(f"/review/{unsure['id']}", body)
        assert (refused.status_code, refused.json()["code"]) == (status, code), body
    done = await boss.post(
        f"/review/{unsure['id']}",
        {"intent": "ask_rent_subsidy", "entities": [{"entity": "district", "text": "松江"}]},
    )
    assert done.status_code == 200 and done.json()["reviewed_entities"] == [
        {"entity": "district", "text": "松江"}
    ]
    assert (await boss.post(f"/review/{fallback['id']}", {"out_of_scope": True})).json()[
        "status"
    ] == "out_of_scope"
    again = await boss.post(f"/review/{unsure['id']}", {"out_of_scope": True})
    assert (again.status_code, again.json()["code"]) == (409, "already_reviewed")
    assert (await boss.post("/review/99999", {"out_of_scope": True})).json()["code"] == "no_such_review_item"
    assert [i["id"] for i in (await boss.get("/review")).json()["items"]] == [repeated["id"]]
    assert (await boss.get("/review", params={"status": "reviewed"})).json()["total"] == 1
    assert (await boss.get("/review", params={"status": "everything"})).status_code == 400


def test_the_fallback_threshold_is_read_from_the_assistants_pipeline(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"

    def threshold(pipeline: str) -> float | None:
        config.write_text(f"language: zh\npipeline:\n{pipeline}", encoding="utf-8")
        return review.nlu_fallback_threshold.__wrapped__(config)

    assert threshold("  - name: DIETClassifier\n  - name: FallbackClassifier\n    threshold: 0.7\n") == 0.7
    assert threshold("  - name: FallbackClassifier\n") == review.RASA_DEFAULT_FALLBACK_THRESHOLD
    assert threshold("  - name: DIETClassifier\n") is None
    assert review.nlu_fallback_threshold.__wrapped__(tmp_path / "absent.yml") is None
    assert isinstance(review.nlu_fallback_threshold(), float)  # the project's own config.yml


async def test_no_tracker_read_when_no_reading_can_be_below_the_bound(console, monkeypatch) -> None:
    """FallbackClassifier turns a reading below its threshold into nlu_fallback at the threshold: with the
    threshold at the queue's bound (config.yml 0.6, review.yml 0.6) a tracker read cannot queue anything."""
    reads: list[str] = []

    async def counted(rasa, sender: str) -> dict:
        reads.append(sender)
        return {}

    monkeypatch.setattr(after_answer, "latest_message", counted)
    bound = float(review.settings()["low_confidence_below"])
    monkeypatch.setattr(review, "nlu_fallback_threshold", lambda: bound)
    session = (await person_says(console, "unsure 松江 我那个补贴"))["session"]
    await wait_for(lambda: len(console.gateway.router.after_answer.pending) == 0)
    assert reads == []
    monkeypatch.setattr(review, "nlu_fallback_threshold", lambda: bound - 0.1)
    await person_says(console, "unsure 青浦 我那个补贴", session)
    await wait_for(lambda: len(console.gateway.router.after_answer.pending) == 0)
    assert len(reads) == 1


async def wait_for_rows(running, count: int) -> None:
    rows: list = []

    async def enough() -> bool:
        rows[:] = await rows_of(running, review_items)
        return len(rows) >= count

    for _ in range(100):
        if await enough():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"review queue has {len(rows)} rows, expected {count}")


REVIEWED = [
    ("我在松江上班 房租那块能补贴多少", "ask_rent_subsidy", [{"entity": "district", "text": "松江"}]),
    ("嘉定那边落个户口要满足啥", "ask_hukou", [{"entity": "district", "text": "嘉定"}]),
    ("本人博士毕业今年刚满三十", "inform", [{"entity": "education", "text": "博士"}]),
    ("孩子在青浦上学有照顾政策不", "ask_children_school", [{"entity": "district", "text": "青浦"}]),
    ("闵行买第一套房有没有补助啊", "ask_purchase_subsidy", [{"entity": "district", "text": "闵行"}]),
]


def seed_reviewed(store: Store) -> None:
    """Five messages in the queue, reviewed (ids 1–5: the fifth is held out)."""
    now = dt.datetime(2026, 12, 1, 2, 0)
    with store.engine.begin() as conn:
        conn.execute(
            insert(conversations).values(id="web:r", channel="web", user_id="r", language="zh",
                                         handoff_open=False, created_at=now, updated_at=now)
        )  # fmt: skip
        for text, _, _ in REVIEWED:
            message_id = conn.execute(
                insert(messages).values(conversation_id="web:r", channel="web", direction="in", kind="text",
                                        author="person", text=text, status="forwarded", created_at=now)
            ).inserted_primary_key[0]  # fmt: skip
            review.add(conn, message_id, ["fallback"])
    for item_id, (_, intent, entities) in enumerate(REVIEWED, start=1):
        review.decide(store, item_id, "boss", intent=intent, entities=entities, out_of_scope=False)


def project_copy(tmp_path: Path) -> Path:
    """The project's training data, domain and config in a temporary directory."""
    copy = tmp_path / "project"
    shutil.copytree(ROOT / "data", copy / "data")
    shutil.copytree(ROOT / "tests/nlu_eval", copy / "tests/nlu_eval")
    if (ROOT / "domain").is_dir():
        shutil.copytree(ROOT / "domain", copy / "domain")
    else:
        shutil.copy(ROOT / "domain.yml", copy / "domain.yml")
    shutil.copy(ROOT / "config.yml", copy / "config.yml")
    return copy


def test_export_writes_training_data_rasa_accepts_and_holds_every_fifth_out(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'review.db'}")
    store.migrate()
    seed_reviewed(store)
    copy = project_copy(tmp_path)
    result = export_reviewed.export(store, copy, dt.date(2026, 12, 1))
    assert (result["training"], result["held_out"], result["already_known"]) == (4, 1, 0)
    training = yaml.safe_load((copy / "data/nlu/reviewed_2026-12-01.yml").read_text(encoding="utf-8"))
    held_out = yaml.safe_load((copy / "tests/nlu_eval/reviewed_2026-12-01.yml").read_text(encoding="utf-8"))
    trained = {block["intent"]: block["examples"] for block in training["nlu"]}
    assert training["version"] == "3.1"
    assert trained["ask_rent_subsidy"] == "- 我在[松江](district)上班 房租那块能补贴多少\n"
    assert trained["inform"] == "- 本人[博士](education)毕业今年刚满三十\n"
    assert held_out["nlu"] == [
        {"intent": "ask_purchase_subsidy", "examples": "- [闵行](district)买第一套房有没有补助啊\n"}
    ]
    assert "闵行买第一套房" not in (copy / "data/nlu/reviewed_2026-12-01.yml").read_text(encoding="utf-8")
    # exported once: a second run adds nothing
    again = export_reviewed.export(store, copy, dt.date(2026, 12, 1))
    assert (again["training"], again["held_out"]) == (0, 0)
    assert yaml.safe_load((copy / "data/nlu/reviewed_2026-12-01.yml").read_text(encoding="utf-8")) == training
    assert validate(copy).returncode == 0, validate(copy).stdout[-3000:]
    # the same check refuses an example whose intent the domain does not know (it would not train)
    (copy / "data/nlu/reviewed_2026-12-01.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: ask_lottery\n  examples: |\n    - 火星彩票\n', encoding="utf-8"
    )
    assert validate(copy).returncode == 1
    store.dispose()


def validate(project: Path) -> subprocess.CompletedProcess:
    """``rasa data validate --fail-on-warnings`` (as ``make validate``) on a copy of the project."""
    domain = "domain" if (project / "domain").is_dir() else "domain.yml"
    return subprocess.run(
        [str(Path(sys.executable).with_name("rasa")), "data", "validate", "--fail-on-warnings", "--data", "data",
         "--domain", domain, "--config", "config.yml"],
        cwd=project, capture_output=True, text=True, timeout=600,
        env={"RASA_TELEMETRY_ENABLED": "false", "PATH": "/usr/bin:/bin", "HOME": str(project)},
    )  # fmt: skip
