"""好差评 after the assistant's personalised answer (issue 13, item 4), on each channel through the
stand-ins over real HTTP: the Rasa stand-in answers "personal <topic> <district>" like
action_answer_policy does (the answer, then the action's mark as a custom item of its own). The offer
follows a personalised answer, never a rule answer, and only once per topic per conversation; 不满意 opens
the same 差评回访 follow-up as a staff case's rating; an ordinary message after the offer goes to the
assistant.
"""

from __future__ import annotations

import test_console_api
from gateway_harness import wait_for
from test_console_api import person_says
from test_waiting_ratings import press, rows_of

from bot.console.settings import config
from bot.store import cases, ratings, review_items
from bot.testing.telegram_standin import callback_update, text_update
from bot.texts import text as say

console, sign_in = test_console_api.console, test_console_api.sign_in
LEVELS = config()["ratings"]["levels"]
DAYS = config()["ratings"]["follow_up_working_days"]
ANSWER = "按您的情况，{}的{}：预计可以申请。"  # the Rasa stand-in's personalised answer


async def test_web_chat_offer_once_per_topic_and_a_dissatisfied_rating_opens_a_follow_up(
    console, sign_in
) -> None:
    first = await person_says(console, "personal rent_subsidy songjiang")
    session = first["session"]
    # one message (the answer's own buttons stay pressable on the page); the mark is never shown
    [offer] = first["messages"]
    assert (
        offer["text"]
        == f"{ANSWER.format('songjiang', 'rent_subsidy')}\n\n{say('rating_prompt_answer', 'zh')}"
    )
    assert [b["title"] for b in offer["buttons"]] == [level["zh"] for level in LEVELS]
    # 不满意 (the fourth level), then a comment
    assert await press(console, session, offer["id"], 3) == [say("rating_thanks_follow_up", "zh", days=DAYS)]
    comment = await person_says(console, "意见：没说清楚要交什么材料", session)
    assert [m["text"] for m in comment["messages"]] == [say("rating_comment_thanks", "zh")]
    [rating] = await rows_of(console, ratings)
    assert {k: rating[k] for k in ("case_id", "conversation_id", "channel", "language", "district", "topic")} == {
        "case_id": None, "conversation_id": f"web:{session}", "channel": "web", "language": "zh",
        "district": "songjiang", "topic": "rent_subsidy",
    }  # fmt: skip
    assert (rating["officer"], rating["score"], rating["comment"]) == (None, 2, "没说清楚要交什么材料")
    [follow_up] = [c for c in await rows_of(console, cases) if c["status"] == "followup"]
    assert (follow_up["reason"], follow_up["district"], follow_up["topic"]) == (
        "差评回访",
        "songjiang",
        "rent_subsidy",
    )
    assert follow_up["rating_id"] == rating["id"] and follow_up["open_key"] is None
    wang = await sign_in("wang")
    [listed] = (await wang.get("/followups")).json()["follow_ups"]
    assert (listed["rated_case"], listed["officer"], listed["level"]) == (None, None, "不满意")
    # the question whose answer was rated badly is in the review queue
    [item] = await rows_of(console, review_items)
    assert (item["text"], item["reasons"]) == ("personal rent_subsidy songjiang", "bad_rating")
    # the same topic again: answered, no second offer; a rule answer: no offer; another topic: offered
    again = await person_says(console, "personal rent_subsidy songjiang", session)
    assert [m["text"] for m in again["messages"]] == [ANSWER.format("songjiang", "rent_subsidy")]
    rule = await person_says(console, "青浦租房补贴有哪些条件", session)
    assert [m["text"] for m in rule["messages"]] == ["收到：青浦租房补贴有哪些条件"]
    other = await person_says(console, "personal hukou songjiang", session)
    assert other["messages"][-1]["text"].endswith(say("rating_prompt_answer", "zh"))
    # rating is never required: the next ordinary message goes to the assistant, "2" included
    assert [m["text"] for m in (await person_says(console, "2", session))["messages"]] == ["收到：2"]
    assert len(await rows_of(console, ratings)) == 1
    # a good rating of another conversation opens nothing
    fresh = await person_says(console, "personal hukou jiading")
    assert await press(console, fresh["session"], fresh["messages"][-1]["id"], 0) == [
        say("rating_thanks", "zh")
    ]
    assert [r["score"] for r in await rows_of(console, ratings)] == [2, 5]
    assert len([c for c in await rows_of(console, cases) if c["status"] == "followup"]) == 1


async def test_the_offer_speaks_the_answers_language_not_the_pages(console) -> None:
    # English typed on a page left on 中文: the assistant answered in English, so the offer is English too
    first = await person_says(console, "personal rent_subsidy songjiang en")
    [offer] = first["messages"]
    assert offer["text"].endswith(say("rating_prompt_answer", "en"))
    assert [b["title"] for b in offer["buttons"]] == [level["en"] for level in LEVELS]


async def test_telegram_offer_has_inline_levels_in_english(console, telegram_api) -> None:
    chat = 515151
    headers = {"X-Telegram-Bot-Api-Secret-Token": console.gateway.settings.telegram_secret}

    async def post(update: dict) -> None:
        assert (await console.http.post("/telegram/webhook", json=update, headers=headers)).status_code == 200

    await console.gateway.store.call(console.gateway.store.set_language, "telegram", str(chat), "en")
    await post(text_update(chat, "personal hukou qingpu", language_code="en"))
    await wait_for(
        lambda: (
            telegram_api.sent(chat)
            and telegram_api.sent(chat)[-1]["text"].endswith(say("rating_prompt_answer", "en"))
        )
    )
    texts = [m["text"] for m in telegram_api.sent(chat)]
    assert texts == [f"{ANSWER.format('qingpu', 'hukou')}\n\n{say('rating_prompt_answer', 'en')}"]
    keyboard = telegram_api.sent(chat)[-1]["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in keyboard] == [level["en"] for level in LEVELS]
    await post(callback_update(chat, keyboard[4][0]["callback_data"]))  # Very dissatisfied
    await wait_for(
        lambda: telegram_api.sent(chat)[-1]["text"] == say("rating_thanks_follow_up", "en", days=DAYS)
    )
    [rating] = await rows_of(console, ratings)
    assert (rating["channel"], rating["language"], rating["score"], rating["topic"]) == (
        "telegram",
        "en",
        1,
        "hukou",
    )
    assert [c["reason"] for c in await rows_of(console, cases)] == ["差评回访"]
    # an ordinary message next goes to the assistant
    await post(text_update(chat, "thanks", language_code="en"))
    await wait_for(lambda: telegram_api.sent(chat)[-1]["text"] == "收到：thanks")


async def test_wechat_offer_is_numbered_and_a_number_rates(wechat_gateway, wechat_server, wechat_api) -> None:
    from test_gateway_wechat import OPENID, send

    _, reply = await send(
        wechat_gateway, wechat_server, wechat_server.text_xml(OPENID, "personal hukou songjiang")
    )
    assert reply.startswith("按您的情况，songjiang的hukou：预计可以申请。")
    assert say("rating_prompt_answer", "zh") in reply
    assert all(f"{n}. {level['zh']}" in reply for n, level in enumerate(LEVELS, start=1))
    _, thanks = await send(wechat_gateway, wechat_server, wechat_server.text_xml(OPENID, "4"))
    assert thanks == say("rating_thanks_follow_up", "zh", days=DAYS)
    [rating] = await rows_of(wechat_gateway, ratings)
    assert (rating["channel"], rating["score"], rating["officer"], rating["case_id"]) == (
        "wechat",
        2,
        None,
        None,
    )
    assert [c["reason"] for c in await rows_of(wechat_gateway, cases)] == ["差评回访"]
    # the same topic: no second offer; an ordinary message goes to the assistant
    _, again = await send(
        wechat_gateway, wechat_server, wechat_server.text_xml(OPENID, "personal hukou songjiang")
    )
    assert again == "按您的情况，songjiang的hukou：预计可以申请。"
    _, ordinary = await send(wechat_gateway, wechat_server, wechat_server.text_xml(OPENID, "落户要什么材料"))
    assert ordinary == "收到：落户要什么材料"


def test_the_offer_joins_the_answers_last_message_after_its_own_buttons() -> None:
    from bot.console.after_answer import with_offer
    from bot.console.ratings import prompt
    from bot.models import Button, Reply

    lead, more = Reply("结论：可以申请"), Reply("以上为预估", buttons=[Button("更多相关政策", "/ask_more")])
    [first, joined] = with_offer([lead, more], [prompt("zh", "rating_prompt_answer")])
    assert first is lead and joined.text == f"以上为预估\n\n{say('rating_prompt_answer', 'zh')}"
    assert [b.payload for b in joined.buttons] == [
        "/ask_more",
        *(f"/rate_{level['score']}" for level in LEVELS),
    ]
    assert with_offer([lead], []) == [lead]
