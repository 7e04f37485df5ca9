"""The staff console (bot/console/web/console.html) in real headless Chromium (Debian's chromium driven by
Playwright with executable_path) against a real gateway, its database and local stand-ins speaking the real
protocols: Telegram's Bot API, WeChat's servers and customer-service API, and Rasa's REST channel. Here: what
the page refuses (lockout, an expired session, another officer's case), and the harness every console browser
test shares (the handing-off Rasa stand-in, a Telegram gateway, an officer's page, the person's messages).

Staff accounts are made with the gateway's own CLI (``python -m bot staff add``). Every test fails on a
page error or a console error.
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
    Running,
    make_settings,
    running_gateway,
    wait_for,
)

from bot.console.settings import config as console_config
from bot.console.settings import error_text
from bot.testing.rasa_standin import RasaStandIn
from bot.testing.server import serve
from bot.testing.telegram_standin import text_update

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


# -- helpers: the person on the web chat (the page's two requests) -------------------------------------
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
