"""Telegram through python-telegram-bot 22 pointed (base_url) at a local Bot API stand-in."""

from __future__ import annotations

import asyncio
import logging

import pytest
from gateway_harness import TELEGRAM_TOKEN, Running, wait_for

from bot.testing.telegram_standin import callback_update, photo_update, text_update

CHAT = 424242


@pytest.fixture
async def tg(rasa, telegram_api, gateway_factory):
    async with gateway_factory(
        (rasa.url,),
        telegram_token=TELEGRAM_TOKEN,
        telegram_api_base_url=f"{telegram_api.url}/bot",
        public_base_url="https://gateway.example.org",
    ) as running:
        yield running


async def post(running: Running, update: dict, secret: str | None = None):
    secret = running.gateway.settings.telegram_secret if secret is None else secret
    return await running.http.post(
        "/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}
    )


async def test_webhook_registered_with_secret(tg, telegram_api) -> None:
    [params] = [p for m, p in telegram_api.calls if m == "setWebhook"]
    assert params["url"] == "https://gateway.example.org/telegram/webhook"
    assert params["secret_token"] == tg.gateway.settings.telegram_secret


async def test_wrong_or_missing_secret_refused(tg, rasa) -> None:
    assert (await post(tg, text_update(CHAT, "hi"), secret="wrong")).status_code == 403
    response = await tg.http.post("/telegram/webhook", json=text_update(CHAT, "hi"))
    assert response.status_code == 403
    assert (await post(tg, {"update_id": "x", "message": 5})).status_code == 400
    bad_json = await tg.http.post(
        "/telegram/webhook",
        content=b"{not json",
        headers={"X-Telegram-Bot-Api-Secret-Token": tg.gateway.settings.telegram_secret},
    )
    assert bad_json.status_code == 400
    await asyncio.sleep(0.1)
    assert rasa.received == []


async def test_text_is_answered_in_the_chat(tg, telegram_api, rasa) -> None:
    assert (await post(tg, text_update(CHAT, "Hello there", language_code="en-GB"))).status_code == 200
    await wait_for(lambda: telegram_api.sent(CHAT))
    assert telegram_api.sent(CHAT)[0]["text"] == "收到：Hello there"
    assert rasa.received[0]["sender"] == f"telegram:{CHAT}"
    assert rasa.received[0]["metadata"] == {"channel": "telegram", "language": "en"}


async def test_start_help_and_lang(tg, telegram_api, rasa) -> None:
    await post(tg, text_update(CHAT, "/start", language_code="en"))
    await wait_for(lambda: len(telegram_api.sent(CHAT)) == 2)
    assert "Welcome" in telegram_api.sent(CHAT)[0]["text"] and "Privacy" in telegram_api.sent(CHAT)[1]["text"]
    await post(tg, text_update(CHAT, "/lang zh"))
    await wait_for(lambda: len(telegram_api.sent(CHAT)) == 3)
    assert "中文" in telegram_api.sent(CHAT)[2]["text"]
    await post(tg, text_update(CHAT, "/lang fr"))
    await wait_for(lambda: len(telegram_api.sent(CHAT)) == 4)
    assert "/lang zh" in telegram_api.sent(CHAT)[3]["text"]
    await post(tg, text_update(CHAT, "/help"))
    await post(tg, text_update(CHAT, "租房补贴", language_code="en"))
    await wait_for(lambda: rasa.received)
    assert rasa.received[0]["metadata"]["language"] == "zh"  # /lang wins over language_code
    assert rasa.messages_of(f"telegram:{CHAT}") == ["租房补贴"]


async def test_unknown_commands_are_neutralised(tg, rasa) -> None:
    await post(tg, text_update(CHAT, "/restart"))
    await post(tg, text_update(CHAT, '/inform{"age": 3}'))
    await wait_for(lambda: len(rasa.received) == 2)
    assert rasa.messages_of(f"telegram:{CHAT}") == ["／restart", '／inform{"age": 3}']


async def test_buttons_are_inline_keyboards_mapped_back_server_side(tg, telegram_api, rasa) -> None:
    await post(tg, text_update(CHAT, "buttons"))
    await wait_for(lambda: telegram_api.sent(CHAT))
    keyboard = telegram_api.sent(CHAT)[0]["reply_markup"]["inline_keyboard"]
    titles = [row[0]["text"] for row in keyboard]
    data = [row[0]["callback_data"] for row in keyboard]
    assert titles == ["租房补贴", "购房补贴"]
    assert all(len(d.encode()) <= 64 and "/" not in d for d in data)
    await post(tg, callback_update(CHAT, data[1]))
    await wait_for(lambda: len(rasa.received) == 2)
    assert rasa.received[1]["message"] == "/ask_purchase_subsidy"
    await wait_for(lambda: any(m == "answerCallbackQuery" for m, _ in telegram_api.calls))


async def test_forged_callback_data_never_reaches_rasa(tg, telegram_api, rasa) -> None:
    await post(tg, text_update(CHAT, "buttons"))
    await wait_for(lambda: telegram_api.sent(CHAT))
    data = telegram_api.sent(CHAT)[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await post(tg, callback_update(CHAT + 1, data))  # another chat replays our button
    await post(tg, callback_update(CHAT, "/restart"))
    await post(tg, callback_update(CHAT, data.rsplit(":", 1)[0] + ":9"))
    await wait_for(lambda: len(telegram_api.sent()) == 4)
    assert len(rasa.received) == 1
    assert all("expired" in m["text"] for m in telegram_api.sent()[1:])


async def test_long_replies_split_at_4096(tg, telegram_api) -> None:
    await post(tg, text_update(CHAT, "long 9000"))
    await wait_for(lambda: len(telegram_api.sent(CHAT)) == 3)
    texts = [m["text"] for m in telegram_api.sent(CHAT)]
    assert all(len(t) <= 4096 for t in texts) and sum(len(t) for t in texts) == 9000


async def test_flood_control_is_waited_out(tg, telegram_api) -> None:
    telegram_api.flood_next = 1
    await post(tg, text_update(CHAT, "flood"))
    # Refused once with retry_after=1, waited out, then sent.
    await wait_for(lambda: len(telegram_api.sent(CHAT)) == 2, timeout=6)
    await asyncio.sleep(0.1)
    row = (await tg.gateway.store.call(tg.gateway.store.messages, f"telegram:{CHAT}", direction="out"))[0]
    assert row["status"] == "sent"


async def test_chats_concurrent_each_in_order(tg, telegram_api, rasa) -> None:
    other = CHAT + 7
    for text in ("slow 0.6 one", "slow 0.1 two", "three"):
        await post(tg, text_update(CHAT, text))
    await post(tg, text_update(other, "fast"))
    await wait_for(lambda: telegram_api.sent(other))
    assert len(telegram_api.sent(CHAT)) == 0  # the other chat did not wait for the slow one
    await wait_for(lambda: len(telegram_api.sent(CHAT)) == 3)
    assert [m["text"] for m in telegram_api.sent(CHAT)] == [
        "收到：slow 0.6 one",
        "收到：slow 0.1 two",
        "收到：three",
    ]


async def test_photo_answered_politely(tg, telegram_api, rasa) -> None:
    await post(tg, photo_update(CHAT))
    await wait_for(lambda: telegram_api.sent(CHAT))
    assert "文字" in telegram_api.sent(CHAT)[0]["text"]
    assert rasa.received == []


async def test_redelivered_update_is_handled_once(tg, telegram_api, rasa) -> None:
    update = text_update(CHAT, "once")
    await post(tg, update)
    await post(tg, update)
    await wait_for(lambda: telegram_api.sent(CHAT))
    await asyncio.sleep(0.2)
    assert len(rasa.received) == 1 and len(telegram_api.sent(CHAT)) == 1


async def test_bot_token_never_logged(rasa, telegram_api, gateway_factory, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    async with gateway_factory(
        (rasa.url,), telegram_token=TELEGRAM_TOKEN, telegram_api_base_url=f"{telegram_api.url}/bot"
    ) as running:
        await post(running, text_update(CHAT, "hello"))
        await wait_for(lambda: telegram_api.sent(CHAT))
    # httpx logged the Bot API URLs (they contain the token): every record has it masked.
    assert any("/bot***/sendMessage" in r.getMessage() for r in caplog.records)
    assert all(TELEGRAM_TOKEN not in r.getMessage() for r in caplog.records)


async def test_long_polling_mode(rasa, telegram_api, gateway_factory) -> None:
    async with gateway_factory(
        (rasa.url,),
        telegram_token=TELEGRAM_TOKEN,
        telegram_api_base_url=f"{telegram_api.url}/bot",
        telegram_mode="polling",
    ):
        await telegram_api.updates.put(text_update(CHAT, "polled"))
        await wait_for(lambda: telegram_api.sent(CHAT), timeout=10)
        assert telegram_api.sent(CHAT)[0]["text"] == "收到：polled"
        assert not any(m == "setWebhook" for m, _ in telegram_api.calls)


async def test_an_update_waiting_behind_a_slow_one_longer_than_its_lease_is_answered_once(
    rasa, telegram_api, gateway_factory
) -> None:
    """Issue 14's fault run: a Telegram answer sent twice. The webhook stores an update (with a lease)
    before its 200, and the chat's updates are answered in order: one waiting behind a slow one outlived
    its lease, the replay answered it, then its handler answered it again. Now the gateway renews the
    lease of what it stored and will answer, and its replay leaves it alone."""
    async with gateway_factory(
        (rasa.url,),
        telegram_token=TELEGRAM_TOKEN,
        telegram_api_base_url=f"{telegram_api.url}/bot",
        replay_interval=0.2,
        replay_lease_seconds=1.5,
    ) as running:
        assert (await post(running, text_update(CHAT, "slow 4 第一"))).status_code == 200
        assert (await post(running, text_update(CHAT, "第二"))).status_code == 200
        await wait_for(lambda: len(telegram_api.sent(CHAT)) >= 2, timeout=15)
        await asyncio.sleep(2.0)  # a second answer would come by now (the replay runs every 0.2 s)
        assert [m["text"] for m in telegram_api.sent(CHAT)] == ["收到：slow 4 第一", "收到：第二"]
        assert rasa.messages_of(f"telegram:{CHAT}") == ["slow 4 第一", "第二"]
