"""The console's small parts on their own: password hashing, masking, result shapes, and the
atomic claim on PostgreSQL (a throw-away cluster, skipped without PostgreSQL's server binaries)."""

from __future__ import annotations

import datetime as dt

import pytest
from test_console_api import assert_one_claim_wins
from test_gateway_postgres import INITDB, postgres_url  # noqa: F401  (the module-scoped cluster fixture)

from bot.console.auth import hash_password, verify_password
from bot.console.render import case_result, person_label, preview, quota
from bot.logsafe import mask_personal_numbers
from bot.store import Store

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def test_passwords_are_salted_scrypt_and_verified_in_constant_time() -> None:
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first != second and first.startswith("scrypt$16384$8$1$")
    assert verify_password("correct horse battery", first)
    assert not verify_password("correct horse batterY", first)
    assert not verify_password("anything", "md5$abc") and not verify_password("anything", "garbage")


def test_id_card_and_mobile_numbers_are_masked_but_other_numbers_are_not() -> None:
    assert mask_personal_numbers("身份证310101199001011234，电话13812345678") == (
        "身份证310***********1234，电话138****5678"
    )
    assert mask_personal_numbers("31010119900101123X") == "310***********123X"
    assert mask_personal_numbers("+86 13812345678 / +8613812345678") == "+86 138****5678 / +86138****5678"
    for untouched in ("年薪50万，35岁", "MsgId 24123456789012345678", "1732345678123", "021-12345678"):
        assert mask_personal_numbers(untouched) == untouched
    assert preview(f"我的电话是 13812345678 {'很长' * 40}").startswith("我的电话是 138****5678")
    assert len(preview("字" * 200)) == 60


def test_person_label_does_not_show_the_channel_id() -> None:
    assert person_label("wechat:oAbCdEfGhIjK1234") == "微信用户 …1234"
    assert person_label("telegram:424242") == "Telegram用户 …4242"


def test_an_engine_result_from_an_older_payload_is_shown_in_the_console_shape() -> None:
    engine_result = {
        "policy_id": "qingpu.housing.rent_subsidy",
        "topic": "rent_subsidy",
        "title": "青浦高层次人才租房补贴",
        "status": "eligible",
        "tier": "D",
        "benefit": "最高每月4000元",
        "payout": "按月发放",
        "duration": "累计最长不超过5年",
        "reasons": ["用人单位注册在青浦"],
        "how_to_apply": "由用人单位申请",
        "source": {"title": "若干意见", "doc_number": "青委〔2020〕88号", "article": "附件4第一条"},
    }
    shaped = case_result(engine_result)
    assert shaped["topic"] == "rent_subsidy" and len(shaped["results"]) == 1 and not shaped["personalised"]
    assert shaped["results"][0]["citation"] == {
        "document": "若干意见",
        "number": "青委〔2020〕88号",
        "article": "附件4第一条",
    }
    assert case_result(None) is None and case_result({"unexpected": 1}) is None


def test_quota_shape_for_an_open_and_a_closed_window() -> None:
    import time

    open_window = quota({"remaining": 3, "expires_at": time.time() + 3600})
    assert (open_window["remaining"], open_window["limit"], open_window["window_open"]) == (3, 5, True)
    assert open_window["expires_at"].endswith("Z")
    assert quota({"remaining": 0, "expires_at": None}) == {
        "remaining": 0,
        "limit": 5,
        "expires_at": None,
        "window_open": False,
    }


@pytest.mark.skipif(INITDB is None, reason="PostgreSQL server binaries (initdb) not installed")
def test_claim_is_atomic_on_postgres(postgres_url: str) -> None:  # noqa: F811
    store = Store(postgres_url)
    store.migrate()
    assert store.version() >= 2
    assert_one_claim_wins(store)
    store.dispose()


def test_every_case_reason_and_message_status_the_gateway_writes_has_a_label() -> None:
    """The router's own handoff reasons (bot/router.py) are named in console.yml, and every message status
    the store can hold is labelled on the page (common.js MESSAGE_TAGS), so no raw code reaches an officer."""
    import re
    from pathlib import Path

    from bot.console.settings import config

    root = Path(__file__).resolve().parents[2]
    router = (root / "bot" / "router.py").read_text(encoding="utf-8")
    reasons = set(re.findall(r'hand_to_staff\(message, "(\w+)"', router))
    assert reasons == {"assistant_failed", "assistant_unavailable"}
    assert reasons <= set(config()["reason_labels"])
    script = (root / "bot" / "console" / "web" / "common.js").read_text(encoding="utf-8")
    tags = script[script.index("const MESSAGE_TAGS") : script.index("};", script.index("const MESSAGE_TAGS"))]
    for status in ("answered", "handed_off", "before_replay", "received", "rasa_unavailable"):
        assert re.search(rf"\b{status}: \[", tags), status
