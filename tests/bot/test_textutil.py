"""bot/textutil.py: neutralising, splitting and merging texts, parsing Rasa's replies."""

from __future__ import annotations

import pytest

from bot.models import Button, Reply
from bot.textutil import merge_for_single_message, neutralise, parse_rasa_replies, split_text, utf8_len


@pytest.mark.parametrize(
    "given, expected",
    [("/restart", "／restart"), ("  //inform{}", "／inform{}"), ("a/b", "a/b"), ("你好", "你好")],
)
def test_neutralise(given: str, expected: str) -> None:
    assert neutralise(given) == expected


def test_split_text_respects_byte_limits_and_keeps_everything() -> None:
    text = "第一段说明。" * 300 + "\n\n" + "x" * 5000
    pieces = split_text(text, 2000, utf8_len)
    assert all(utf8_len(p) <= 2000 for p in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")
    assert split_text("short", 10) == ["short"]


def test_merge_numbers_buttons_of_all_replies() -> None:
    replies = [Reply("A", [Button("甲", "/a")]), Reply("B", [Button("乙", "/b")])]
    text, buttons = merge_for_single_message(replies, "请回复数字选择：")
    assert text == "A\n\nB\n\n请回复数字选择：\n1. 甲\n2. 乙"
    assert [b.payload for b in buttons] == ["/a", "/b"]


def test_parse_rasa_replies_keeps_custom_and_drops_empty() -> None:
    parsed = parse_rasa_replies(
        [{"text": "hi"}, {"custom": {"handoff": {"reason": "x"}}}, {"recipient_id": "a"}, "junk"]
    )
    assert [(r.text, r.custom) for r in parsed] == [("hi", None), (None, {"handoff": {"reason": "x"}})]
