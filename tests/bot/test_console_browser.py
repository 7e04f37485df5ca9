"""The staff console (bot/console/web/console.html) in real headless Chromium (Debian's chromium driven by
Playwright with executable_path) against a real gateway, its database and local stand-ins speaking the real
protocols: Telegram's Bot API, WeChat's servers and customer-service API, and Rasa's REST channel.

Staff accounts are made with the gateway's own CLI (``python -m bot staff add``). Every test fails on a
page error or a console error. ``UPDATE_SCREENSHOTS=1`` saves the README's screenshots (1280×800) to
docs/screenshots/console-*.png.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from gateway_harness import (
    TELEGRAM_TOKEN,
    WECHAT_APP_ID,
    WECHAT_SECRET,
    WECHAT_TOKEN,
    Running,
    make_settings,
    running_gateway,
    wait_for,
)

from bot.console.settings import config as console_config
from bot.console.settings import error_text, held_explanation, person_text
from bot.testing.rasa_standin import RasaStandIn
from bot.testing.server import serve
from bot.testing.telegram_standin import text_update
from bot.testing.wechat_standin import WeChatServer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (make system-deps installs it)"),
]

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
PASSWORD = "console-test-password-1"
CHAT, CHAT_EN, CHAT_COMPLAINT = 515151, 626262, 737373
OPENID = "oConsole1234567890abcdefghij"
# Chromium reports every 4xx answer on the console; these are the refusals the scenarios provoke on purpose
# (bad password 401, locked 423, expired session 401, claimed by someone else 409, WeChat text too long 400).
EXPECTED_REFUSAL = re.compile(
    r"^Failed to load resource: the server responded with a status of (400|401|409|423) "
)


# -- stand-ins ----------------------------------------------------------------------------------------
class HandoffRasa(RasaStandIn):
    """The Rasa stand-in, handing off the way action_handoff does: the conversation's language, a summary in
    its template, the collected profile and (here) a real result of the policy engine."""

    def answer(self, sender: str, text: str) -> list[dict[str, Any]]:
        answers = super().answer(sender, text)
        language = (self.received[-1].get("metadata") or {}).get("language") or "zh"
        reason = "complain" if "投诉" in text else "request_human" if "human" in text.lower() else None
        if reason and not any("custom" in a for a in answers):
            self.paused.add(sender)
            answers = [{"recipient_id": sender, "custom": {"handoff": {}}}]
        for answer in answers:
            if "handoff" in (answer.get("custom") or {}):
                answer["custom"]["handoff"] = handoff_payload(reason or "request_human", text, language)
        return answers


def engine_result() -> dict[str, Any]:
    """What the policy engine answers for the profile below (a real result, with its citation)."""
    import policies

    results = policies.evaluate(PROFILE, topic="talent_award")["results"]
    return next(r for r in results if r["policy_id"] == "songjiang.g60.shortage_salary_subsidy")


PROFILE = {
    "district": "松江",
    "education": "硕士",
    "age": 29,
    "shortage_talent": True,
    "employer_registered_in_district": True,
}


def handoff_payload(reason: str, last_message: str, language: str) -> dict[str, Any]:
    labels = {"request_human": "用户要求人工", "complain": "投诉"}
    return {
        "reason": reason,
        "summary": f"原因：{labels[reason]}；主题：人才奖励；区：松江；最后一条消息：{last_message}",
        "profile": PROFILE if reason == "request_human" and language == "zh" else {},
        "result": engine_result() if reason == "request_human" and language == "zh" else None,
        "language": language,
    }


@pytest.fixture
async def rasa() -> AsyncIterator[HandoffRasa]:
    from gateway_harness import RASA_TOKEN

    standin = HandoffRasa(token=RASA_TOKEN)
    async with serve(standin.app) as url:
        standin.url = url
        yield standin


@pytest.fixture
async def telegram_gateway(rasa, telegram_api, tmp_path) -> AsyncIterator[Running]:
    settings = make_settings(
        tmp_path,
        (rasa.url,),
        telegram_token=TELEGRAM_TOKEN,
        telegram_api_base_url=f"{telegram_api.url}/bot",
    )
    async with running_gateway(settings) as running:
        yield running


# -- helpers ----------------------------------------------------------------------------------------------
async def add_staff(running: Running, login: str, name: str, role: str = "officer") -> None:
    """Through the gateway's own CLI, as an administrator would."""
    env = {
        **os.environ,
        "BOT_DATABASE_URL": running.gateway.settings.database_url,
        "STAFF_PASSWORD": PASSWORD,
        "RASA_TELEMETRY_ENABLED": "false",
    }
    command = [sys.executable, "-m", "bot", "staff", "add", login, "--role", role, "--name", name]
    done = await asyncio.to_thread(
        subprocess.run, command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


async def telegram_person_says(
    running: Running, chat: int, text: str, language_code: str = "zh-hans"
) -> None:
    response = await running.http.post(
        "/telegram/webhook",
        json=text_update(chat, text, language_code=language_code),
        headers={"X-Telegram-Bot-Api-Secret-Token": running.gateway.settings.telegram_secret},
    )
    assert response.status_code == 200


def texts_sent(telegram_api, chat: int) -> list[str]:
    return [p["text"] for p in telegram_api.sent(chat)]


class Officer:
    """One browser context (own cookies) on the console, collecting page and console errors."""

    def __init__(self, page, allowed: re.Pattern[str] | None = None) -> None:
        self.page = page
        self.errors: list[str] = []
        self.allowed = allowed
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on("console", self._console)

    def _console(self, message) -> None:
        if message.type != "error" or EXPECTED_REFUSAL.match(message.text):
            return
        if self.allowed and self.allowed.search(message.text):
            return
        self.errors.append(f"console: {message.text} ({message.location.get('url')})")

    async def log_in(self, login: str, password: str = PASSWORD) -> None:
        await self.page.fill("#login-name", login)
        await self.page.fill("#login-password", password)
        await self.page.click("#login-submit")

    async def screenshot(self, name: str) -> None:
        if os.environ.get("UPDATE_SCREENSHOTS") == "1":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            await self.page.screenshot(path=str(SCREENSHOTS / f"console-{name}.png"))


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            await browser.close()


async def open_console(browser, url: str, allowed: re.Pattern[str] | None = None) -> Officer:
    context = await browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    officer = Officer(await context.new_page(), allowed)
    await officer.page.goto(url + "/console")
    return officer


def expect(locator):
    from playwright.async_api import expect as playwright_expect

    return playwright_expect(locator)


# -- (a) the whole round trip ----------------------------------------------------------------------------------
async def test_officer_claims_replies_and_closes_a_telegram_case(
    telegram_gateway, telegram_api, rasa
) -> None:
    gateway = telegram_gateway
    await add_staff(gateway, "wang", "王芳")
    # Three people ask for a human: the one we serve wrote about their situation first.
    await telegram_person_says(gateway, CHAT, "我是硕士，29岁，在松江的企业做研发，属于紧缺急需人才")
    await wait_for(lambda: texts_sent(telegram_api, CHAT))
    await telegram_person_says(gateway, CHAT, "转人工")
    await telegram_person_says(gateway, CHAT_EN, "Can I talk to a human please?", language_code="en")
    await telegram_person_says(gateway, CHAT_COMPLAINT, "我要投诉，材料交了两个月没有消息")
    # Each is told a human will answer: the assistant's own notice, or the gateway's when it said nothing.
    for chat in (CHAT, CHAT_EN, CHAT_COMPLAINT):
        await wait_for(
            lambda chat=chat: any("转接" in t or "staff" in t for t in texts_sent(telegram_api, chat)),
            timeout=10,
        )

    async with chromium() as browser:
        officer = await open_console(browser, gateway.url)
        page = officer.page
        await expect(page.locator("#login-screen")).to_be_visible()
        await page.fill("#login-name", "wang")
        await officer.screenshot("login")
        posts_without_csrf: list[str] = []
        page.on(
            "request",
            lambda r: (
                posts_without_csrf.append(r.url)
                if r.method != "GET"
                and "/console/api/" in r.url
                and "login" not in r.url
                and not r.headers.get("x-csrf-token")
                else None
            ),
        )
        await officer.log_in("wang")
        await expect(page.locator("#me")).to_have_text("王芳（工作人员）")

        # The queue: three waiting cases, with reason, channel, language, masked person and age.
        items = page.locator("#list .item")
        await expect(items).to_have_count(3)
        mine = items.filter(has_text="…5151")
        await expect(mine).to_contain_text("用户要求人工")
        await expect(mine).to_contain_text("Telegram")
        await expect(mine).to_contain_text("中文")
        await expect(mine).to_contain_text("刚刚")
        await expect(items.filter(has_text="…6262")).to_contain_text("English")
        await expect(items.filter(has_text="…7373")).to_contain_text("投诉")
        await expect(page.locator("#count-queue")).to_have_text("3")
        await officer.screenshot("queue")

        # The case: context beside the transcript; claim it.
        await mine.click()
        await expect(page.locator("#case-status")).to_have_text("等待认领")
        await expect(page.locator("#composer-locked")).to_contain_text("认领后即可回复")
        await page.click("#btn-claim")
        await expect(page.locator("#case-status")).to_have_text("处理中 · 王芳")
        await expect(items).to_have_count(2)  # it left the queue
        await expect(page.locator("#count-queue")).to_have_text("2")
        await expect(page.locator("#count-mine")).to_have_text("1")
        card = page.locator("#case-card")
        # the summary written from the conversation: their words, why handed off
        summary = card.locator("#case-summary")
        await expect(summary.locator(".asked li")).to_have_text(
            ["我是硕士，29岁，在松江的企业做研发，属于紧缺急需人才"]
        )
        await expect(summary).to_contain_text("用户要求人工（用户最后说：“转人工”）")
        await expect(card.locator("dt", has_text="所在区")).to_be_visible()
        await expect(card).to_contain_text("松江G60紧缺急需人才薪酬补贴")
        await expect(card).to_contain_text("沪松人〔2022〕27号")
        await expect(card.locator(".result .policy")).to_contain_text("需咨询主管部门")  # status "referral"
        transcript = page.locator("#transcript")
        await expect(transcript.locator(".msg.person", has_text="紧缺急需人才")).to_be_visible()
        await expect(transcript.locator(".msg.bot", has_text="收到：我是硕士")).to_be_visible()
        await expect(transcript.locator(".msg.bot", has_text="已为您转接工作人员")).to_be_visible()

        # Reply (Ctrl+Enter): it arrives at the person's Telegram chat.
        reply = (
            "您好，我是松江区人社局的王芳。紧缺急需人才薪酬补贴由单位统一申报，请先确认单位是否已列入名单。"
        )
        await page.fill("#reply-text", reply)
        await page.press("#reply-text", "Control+Enter")
        await wait_for(lambda: reply in texts_sent(telegram_api, CHAT), timeout=10)
        await expect(transcript.locator(".msg.staff", has_text=reply)).to_contain_text("王芳")
        await expect(page.locator("#reply-text")).to_have_value("")
        await expect(card.locator(".target").first).to_contain_text("已达成")  # first-response target met

        # The person answers: it appears without reloading; the assistant stays silent meanwhile.
        await telegram_person_says(gateway, CHAT, "好的，我明天问一下单位人事")
        await expect(transcript.locator(".msg.person", has_text="我明天问一下单位人事")).to_be_visible()
        assert rasa.messages_of(f"telegram:{CHAT}")[-1] == "好的，我明天问一下单位人事"
        await page.fill("#note-text", "已告知申报途径，待单位确认名单。")
        await page.click("#note-add")
        await expect(card.locator(".notes li", has_text="待单位确认名单")).to_be_visible()
        await expect(items).to_have_count(2)
        await page.locator("#case-card").evaluate("card => { card.scrollTop = 0; }")
        await officer.screenshot("case")

        # A person's words are text, never markup.
        markup = '<img src="x" onerror="document.title=\'pwned\'">我的材料'
        await telegram_person_says(gateway, CHAT, markup)
        await expect(transcript.locator(".msg.person", has_text="我的材料")).to_contain_text(markup)
        await expect(transcript.locator("img")).to_have_count(0)
        # Close with an outcome: the assistant resumes and the person is told.
        await page.click("#btn-close")
        await page.select_option("#close-outcome", "answered")
        await page.click("#close-ok")
        await expect(page.locator("#case-status")).to_have_text("已结案")
        await expect(page.locator("#case-status")).to_be_visible()
        await expect(page.locator("#composer-locked")).to_contain_text("案件已结案")
        closed_notice = person_text("case_closed", "zh")
        await wait_for(lambda: closed_notice in texts_sent(telegram_api, CHAT), timeout=10)
        assert (f"telegram:{CHAT}", {"event": "resume"}) in rasa.events
        await expect(page.locator("#count-queue")).to_have_text("2")
        assert officer.errors == []
        assert posts_without_csrf == []
        assert await page.title() != "pwned"
    # The staff reply went to that chat only, once.
    assert [t for p in telegram_api.sent() for t in [p["text"]] if t == reply] == [reply]


# -- (b) lockout ----------------------------------------------------------------------------------------------
async def test_repeated_wrong_passwords_lock_the_account(telegram_gateway) -> None:
    await add_staff(telegram_gateway, "zhao", "赵磊")
    failures = int(console_config()["lockout"]["per_login_and_address"])
    minutes = int(console_config()["lockout"]["minutes"])
    async with chromium() as browser:
        officer = await open_console(browser, telegram_gateway.url)
        page = officer.page
        error = page.locator("#login-error")
        for attempt in range(1, failures):
            await officer.log_in("zhao", f"wrong-password-{attempt}")
            await expect(error).to_have_text(error_text("bad_credentials"))
            await page.fill("#login-password", "")
        await officer.log_in("zhao", "wrong-password-last")
        locked = error_text("locked", minutes=minutes)
        await expect(error).to_have_text(locked)
        # Even the right password is refused while locked, and the page says for how long.
        await officer.log_in("zhao")
        await expect(error).to_have_text(locked)
        await expect(page.locator("#app")).to_be_hidden()
        assert officer.errors == []


# -- (c) expired session -----------------------------------------------------------------------------------------
async def test_expired_session_returns_to_log_in_with_a_message(rasa, tmp_path) -> None:
    settings = make_settings(tmp_path, (rasa.url,), console_session_minutes=0.1)  # 6 idle seconds
    async with running_gateway(settings) as gateway, chromium() as browser:
        await add_staff(gateway, "qian", "钱芸")
        session, _ = await web_person_says(gateway, None, "转人工")
        officer = await open_console(browser, gateway.url)
        page = officer.page
        await officer.log_in("qian")
        await page.locator("#list .item", has_text="网页").click()
        await expect(page.locator("#case-status")).to_have_text("等待认领")
        await page.click("#btn-claim")
        draft = "您好，您的情况需要补充社保缴纳记录，请准备近六个月的缴费证明。"
        await page.fill("#reply-text", draft)
        await asyncio.sleep(7)  # the officer steps away; the session expires
        # Sending finds the session gone (or the live stream noticed first): back to the log-in, in words.
        if await page.locator("#app").is_visible():
            await page.press("#reply-text", "Control+Enter")
        await expect(page.locator("#login-screen")).to_be_visible()
        await expect(page.locator("#login-notice")).to_contain_text(error_text("session_expired"))
        await expect(page.locator("#login-notice")).to_contain_text("未发送的回复已保留")
        # Logged in again: the same case, the unsent reply still in the box; now it goes out.
        await officer.log_in("qian")
        await expect(page.locator("#case-status")).to_have_text("处理中 · 钱芸")
        await expect(page.locator("#reply-text")).to_have_value(draft)
        await page.press("#reply-text", "Control+Enter")
        await expect(page.locator("#reply-status")).to_have_text("已发送")
        assert draft in await web_person_sees(gateway, session)
        assert officer.errors == []


# -- (d) another officer's case ------------------------------------------------------------------------------------
async def test_a_second_officer_cannot_reply_to_the_first_officers_case(
    telegram_gateway, telegram_api
) -> None:
    gateway = telegram_gateway
    await add_staff(gateway, "wang", "王芳")
    await add_staff(gateway, "li", "李明")
    await telegram_person_says(gateway, CHAT, "转人工")
    await wait_for(lambda: texts_sent(telegram_api, CHAT), timeout=10)
    async with chromium() as browser:
        wang = await open_console(browser, gateway.url)
        # Li's page gets no live updates, so it still shows the case as waiting when Wang claims it.
        li = await open_console(browser, gateway.url, allowed=re.compile(r"net::ERR_FAILED"))
        await li.page.route("**/console/api/events", lambda route: route.abort())
        await li.log_in("li")
        await wang.log_in("wang")
        case = li.page.locator("#list .item", has_text="…5151")
        await case.click()
        await expect(li.page.locator("#btn-claim")).to_be_visible()
        await wang.page.locator("#list .item", has_text="…5151").click()
        await wang.page.click("#btn-claim")
        await expect(wang.page.locator("#case-status")).to_have_text("处理中 · 王芳")

        # Li tries to claim the case Wang took a moment ago: refused, in words, and the page catches up.
        await li.page.click("#btn-claim")
        await expect(li.page.locator("#case-message")).to_have_text(
            error_text("already_claimed", name="王芳")
        )
        await expect(li.page.locator("#case-status")).to_have_text("处理中 · 王芳")
        locked = li.page.locator("#composer-locked")
        await expect(locked).to_contain_text("此案件由 王芳 负责，您不能回复")
        await expect(li.page.locator("#reply-text")).to_be_hidden()
        await expect(li.page.locator("#btn-close")).to_be_hidden()

        # Wang transfers it to Li: now Li may reply and Wang may not.
        await wang.page.click("#btn-transfer")
        await wang.page.select_option("#transfer-to", "li")
        await wang.page.click("#transfer-ok")
        await expect(wang.page.locator("#case-status")).to_have_text("处理中 · 李明")
        await expect(wang.page.locator("#composer-locked")).to_contain_text("此案件由 李明 负责")
        await li.page.reload()
        await expect(li.page.locator("#case-status")).to_have_text("处理中 · 李明")
        await li.page.fill("#reply-text", "您好，我是李明，接下来由我为您服务。")
        await li.page.click("#reply-send")
        await wait_for(
            lambda: "您好，我是李明，接下来由我为您服务。" in texts_sent(telegram_api, CHAT), timeout=10
        )
        assert wang.errors == [] and li.errors == []


# -- (e) WeChat quota --------------------------------------------------------------------------------------------
async def test_wechat_case_shows_the_quota_and_a_refused_send_explains_itself(
    rasa, wechat_api, aes_key, tmp_path
) -> None:
    server = WeChatServer(WECHAT_TOKEN, WECHAT_APP_ID, aes_key)
    settings = make_settings(
        tmp_path,
        (rasa.url,),
        wechat_token=WECHAT_TOKEN,
        wechat_app_id=WECHAT_APP_ID,
        wechat_app_secret=WECHAT_SECRET,
        wechat_aes_key=aes_key,
        wechat_api_base_url=f"{wechat_api.url}/cgi-bin/",
        wechat_passive_deadline=2.0,
    )

    async def person_says(text: str) -> str | None:
        request = server.request(server.text_xml(OPENID, text))
        response = await gateway.http.post("/wechat", params=request.params, content=request.body)
        assert response.status_code == 200
        return server.read_reply(response.text, request.params)

    async with running_gateway(settings) as gateway, chromium() as browser:
        await add_staff(gateway, "sun", "孙婷")
        await person_says("转人工")  # a person's message opens 5 customer-service messages for 48 hours
        officer = await open_console(browser, gateway.url)
        page = officer.page
        await officer.log_in("sun")
        await page.locator("#list .item", has_text="微信").click()
        await expect(page.locator("#case-status")).to_have_text("等待认领")
        await page.click("#btn-claim")
        await expect(page.locator("#list .item")).to_have_count(0)  # no longer waiting
        await expect(page.locator("#count-queue")).to_have_text("")
        quota = page.locator("#quota")
        await expect(quota).to_have_text(
            re.compile(r"^剩余 5 条 · 4[78] 小时内有效$")
        )  # 48 h less a moment, clocks to the second

        # Too long for one WeChat message: warned while typing, and the backend's refusal is shown.
        await page.fill("#reply-text", "请" * 700)
        await expect(page.locator("#quota-warning")).to_contain_text("超过微信单条消息上限")
        await page.click("#reply-send")
        await expect(page.locator("#case-message")).to_contain_text("请精简为一条完整的消息")
        await expect(page.locator("#reply-text")).to_have_value("请" * 700)

        for i in range(1, 5):
            await page.fill("#reply-text", f"第{i}条答复")
            await page.press("#reply-text", "Control+Enter")
            await wait_for(lambda i=i: f"第{i}条答复" in wechat_api.texts_to(OPENID), timeout=10)
            await expect(page.locator("#reply-status")).to_have_text("已发送")
        await expect(quota).to_have_text(re.compile(r"^剩余 1 条 · 4\d 小时内有效$"))
        await expect(page.locator("#quota-warning")).to_contain_text("只剩最后 1 条")
        await page.fill("#reply-text", "第5条答复")
        await page.press("#reply-text", "Control+Enter")
        await expect(page.locator("#reply-status")).to_have_text("已发送")
        await expect(quota).to_have_text("本轮客服消息额度已用完")

        # Past the quota: kept, and the officer is told why and what happens next.
        await page.fill("#reply-text", "第6条答复：材料清单见附件说明")
        await page.press("#reply-text", "Control+Enter")
        message = page.locator("#case-message")
        await expect(message).to_contain_text(held_explanation("no customer-service quota left"))
        await expect(page.locator(".msg.staff", has_text="第6条答复")).to_contain_text("暂存")
        assert "第6条答复：材料清单见附件说明" not in wechat_api.texts_to(OPENID)
        await officer.screenshot("wechat-quota")

        # The person writes again: the kept reply goes out with the passive reply, and the quota is back.
        passive = await person_says("好的")
        assert passive and "第6条答复：材料清单见附件说明" in passive
        await expect(quota).to_have_text(
            re.compile(r"^剩余 5 条 · 4[78] 小时内有效$")
        )  # 48 h less a moment, clocks to the second
        assert officer.errors == []


# -- (f) proactive takeover and hand back, on the web chat ---------------------------------------------------------
async def web_person_says(running: Running, session: str | None, text: str) -> tuple[str, list[str]]:
    body = {"text": text, **({"session": session} if session else {})}
    response = await running.http.post("/api/chat", json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    return data["session"], [m["text"] for m in data["messages"]]


async def web_person_sees(running: Running, session: str) -> list[str]:
    """What the web chat page would show of messages sent outside the person's turns."""
    response = await running.http.get("/api/chat/poll", params={"session": session, "after": 0, "wait": 0})
    return [m["text"] for m in response.json()["messages"]]


async def test_officer_takes_over_a_web_chat_and_hands_it_back(rasa, tmp_path) -> None:
    async with running_gateway(make_settings(tmp_path, (rasa.url,))) as gateway, chromium() as browser:
        await add_staff(gateway, "zhou", "周静")
        session, answer = await web_person_says(gateway, None, "青浦的人才公寓怎么申请")
        assert answer == ["收到：青浦的人才公寓怎么申请"]
        officer = await open_console(browser, gateway.url)
        page = officer.page
        await officer.log_in("zhou")
        await page.click('#nav button[data-view="conversations"]')
        await page.fill("#search-q", "人才公寓")
        conversation = page.locator("#list .item", has_text="人才公寓")
        await expect(conversation).to_have_count(1)
        await expect(conversation).to_contain_text("网页")
        await conversation.click()
        await page.click("#takeover")

        # Taken over: a case of mine, the person told, the assistant paused.
        await expect(page.locator("#case-status")).to_have_text("处理中 · 周静")
        await expect(page.locator("#case-title")).to_contain_text("工作人员主动接管")
        joined = person_text("staff_joined", "zh")
        assert (f"web:{session}", {"event": "pause"}) in rasa.events
        await page.fill("#reply-text", "您好，我是周静。人才公寓需要单位先申报，您在哪家单位工作？")
        await page.press("#reply-text", "Control+Enter")
        await expect(page.locator("#reply-status")).to_have_text("已发送")
        seen = await web_person_sees(gateway, session)
        assert joined in seen and "您好，我是周静。人才公寓需要单位先申报，您在哪家单位工作？" in seen

        # While staff have it, the person's words reach the officer live and the assistant stays quiet.
        _, answer = await web_person_says(gateway, session, "我在青浦一家制造企业")
        assert answer == []
        await expect(page.locator(".msg.person", has_text="我在青浦一家制造企业")).to_be_visible()
        # Had Rasa not paused (say the pause call failed), its answers are kept but never sent: the
        # officer sees them dimmed and marked, and can hide them.
        rasa.paused.discard(f"web:{session}")
        _, answer = await web_person_says(gateway, session, "单位在青浦工业园区")
        assert answer == []
        suppressed = page.locator(".msg.bot.suppressed", has_text="收到：单位在青浦工业园区")
        # (the live stream leaves suppressed replies out, bot/console/sse.py; the case page lists them)
        await expect(page.locator(".msg.person", has_text="单位在青浦工业园区")).to_be_visible()
        await page.reload()
        await expect(suppressed).to_contain_text("未发出")
        await page.uncheck("#show-suppressed")
        await expect(suppressed).to_be_hidden()
        await page.check("#show-suppressed")
        assert "收到：单位在青浦工业园区" not in await web_person_sees(gateway, session)

        # Hand back: the case closes as handed_back, the person is told, the assistant answers again.
        await page.click("#btn-handback")
        await page.click("#handback-ok")
        await expect(page.locator("#case-status")).to_have_text("已结案")
        await expect(page.locator("#case-card")).to_contain_text("交回智能助手")
        await expect(page.locator("#list .item")).to_have_count(0)  # no longer among "my cases"
        await expect(page.locator("#count-mine")).to_have_text("")
        await page.click('#nav button[data-view="closed"]')
        await expect(page.locator("#list .item", has_text="工作人员主动接管")).to_contain_text(
            "已结案 · 周静"
        )
        assert (f"web:{session}", {"event": "resume"}) in rasa.events
        assert person_text("case_closed", "zh") in await web_person_sees(gateway, session)
        _, answer = await web_person_says(gateway, session, "还有一个问题")
        assert answer == ["收到：还有一个问题"]
        assert officer.errors == []


# -- (g) admin: quick answers, export, audit log -----------------------------------------------------------------------
async def test_admin_manages_quick_answers_exports_and_reads_the_audit_log(
    telegram_gateway, telegram_api
) -> None:
    gateway = telegram_gateway
    await add_staff(gateway, "admin", "管理员周", role="admin")
    await telegram_person_says(gateway, CHAT, "转人工")
    await wait_for(lambda: texts_sent(telegram_api, CHAT), timeout=10)
    canned = "请携带身份证原件和学历学位证书，到区人才服务窗口办理。"
    async with chromium() as browser:
        officer = await open_console(browser, gateway.url)
        page = officer.page
        await officer.log_in("admin")
        await page.click('#nav button[data-view="canned"]')
        await page.fill("#canned-title", "办理材料")
        await page.fill("#canned-text", canned)
        await page.click("#canned-save")
        await expect(page.locator("#admin-view tbody tr", has_text="办理材料")).to_contain_text(canned)

        # The quick answer goes into the reply box, the officer sends it.
        await page.click('#nav button[data-view="queue"]')
        await page.locator("#list .item", has_text="…5151").click()
        await expect(page.locator("#case-status")).to_have_text("等待认领")
        await page.click("#btn-claim")
        await expect(page.locator("#case-status")).to_have_text("处理中 · 管理员周")
        await page.fill("#reply-text", "您好。")
        await page.select_option("#canned-select", label="办理材料")
        await expect(page.locator("#reply-text")).to_have_value("您好。" + canned)
        await page.press("#reply-text", "Control+Enter")
        await wait_for(lambda: "您好。" + canned in texts_sent(telegram_api, CHAT), timeout=10)

        # Export: a text file with the transcript.
        async with page.expect_download() as download_info:
            await page.click("#btn-export")
        download = await download_info.value
        exported = Path(await download.path()).read_text(encoding="utf-8")
        assert "转人工" in exported and canned in exported

        # The audit log: who did what, in words.
        await page.click('#nav button[data-view="audit"]')
        rows = page.locator("#audit tbody tr")
        await expect(rows.filter(has_text="新增快捷回复")).to_contain_text("管理员周")
        await expect(rows.filter(has_text="认领")).to_contain_text("#1")
        await expect(rows.filter(has_text="导出记录")).to_have_count(1)
        await expect(rows.filter(has_text="开启案件")).to_contain_text("智能助手")
        await expect(page.locator("#count-queue")).to_have_text("")
        assert officer.errors == []


# -- (h) the live stream drops and comes back -------------------------------------------------------------------------
async def test_live_updates_reconnect_and_catch_up(telegram_gateway, telegram_api) -> None:
    gateway = telegram_gateway
    await add_staff(gateway, "wang", "王芳")
    async with chromium() as browser:
        officer = await open_console(browser, gateway.url, allowed=re.compile(r"net::ERR_FAILED"))
        page = officer.page
        # The stream cannot be reached (a proxy hiccup): the page says so and keeps trying.
        await page.route("**/console/api/events", lambda route: route.abort())
        await officer.log_in("wang")
        await expect(page.locator("#list-empty")).to_have_text("暂无等待中的案件。")
        await expect(page.locator("#live")).to_contain_text("连接中断")
        # A case opens while this officer is cut off.
        await telegram_person_says(gateway, CHAT, "转人工")
        await wait_for(lambda: texts_sent(telegram_api, CHAT), timeout=10)
        await asyncio.sleep(0.5)
        await expect(page.locator("#list .item")).to_have_count(0)
        await page.unroute("**/console/api/events")
        await expect(page.locator("#live")).to_have_text("● 实时", timeout=15000)
        await expect(page.locator("#list .item", has_text="…5151")).to_be_visible()
        await expect(page.locator("#count-queue")).to_have_text("1")
        # And live updates flow again: a second case appears without reloading.
        await telegram_person_says(gateway, CHAT_EN, "Can I talk to a human please?", language_code="en")
        await expect(page.locator("#list .item")).to_have_count(2)
        assert officer.errors == []


# -- 好差评: a 不满意 rating's follow-up is listed apart until the callback is recorded -----------------------------
async def test_an_officer_records_the_callback_of_a_bad_rating(telegram_gateway, telegram_api) -> None:
    from bot.testing.telegram_standin import callback_update

    gateway = telegram_gateway
    await add_staff(gateway, "wang", "王芳")
    await telegram_person_says(gateway, CHAT, "转人工")
    await wait_for(lambda: texts_sent(telegram_api, CHAT), timeout=10)
    desk, conversation = gateway.gateway.cases, f"telegram:{CHAT}"
    case = await gateway.gateway.store.call(desk.cases.open_case_for, conversation)
    assert await gateway.gateway.store.call(desk.cases.claim, case["id"], "wang")
    assert await desk.close(conversation, "staff:wang", outcome="answered")
    await wait_for(lambda: telegram_api.sent(CHAT)[-1].get("reply_markup"), timeout=10)
    keyboard = telegram_api.sent(CHAT)[-1]["reply_markup"]["inline_keyboard"]
    secret = {"X-Telegram-Bot-Api-Secret-Token": gateway.gateway.settings.telegram_secret}
    pressed = await gateway.http.post(
        "/telegram/webhook", json=callback_update(CHAT, keyboard[3][0]["callback_data"]), headers=secret
    )
    assert pressed.status_code == 200
    async with chromium() as browser:
        officer = await open_console(browser, gateway.url)
        page = officer.page
        await officer.log_in("wang")
        await page.click('#nav button[data-view="followups"]')
        row = page.locator("#followups tbody tr")
        await expect(row).to_have_count(1)
        await expect(row).to_contain_text("不满意")
        await expect(row).to_contain_text(f"#{case['id']}")
        await row.locator("textarea").fill("已电话回访，说明了办理时限")
        await row.locator("button").click()
        await expect(page.locator("#followups tbody tr")).to_contain_text("没有待回访的差评")
        assert officer.errors == []
