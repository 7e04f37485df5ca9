"""The web chat page in real headless Chromium (Debian's chromium + Playwright): type, see buttons as
buttons, press one, see the answer to its payload."""

from __future__ import annotations

import asyncio
import shutil

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (make system-deps installs it)")
async def test_web_chat_in_a_browser(rasa, gateway_factory) -> None:
    from playwright.async_api import async_playwright

    async with gateway_factory((rasa.url,)) as web, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page(locale="zh-CN")
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(web.url + "/")
            await page.fill("#text", "buttons")
            await page.keyboard.press("Enter")
            buttons = page.locator(".buttons button")
            await buttons.first.wait_for()
            assert await buttons.all_inner_texts() == ["租房补贴", "购房补贴"]
            await buttons.nth(1).click()
            await page.locator(".msg.out", has_text="payload /ask_purchase_subsidy").wait_for()
            assert await buttons.nth(0).is_disabled()
            assert errors == []
        finally:
            await browser.close()
    assert [r["message"] for r in rasa.received] == ["buttons", "/ask_purchase_subsidy"]


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (make system-deps installs it)")
async def test_rate_limited_message_goes_back_into_the_input_box(rasa, gateway_factory) -> None:
    from playwright.async_api import async_playwright

    async with (
        gateway_factory((rasa.url,), webchat_session_burst=1, webchat_session_per_minute=1.0) as web,
        async_playwright() as playwright,
    ):
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page(locale="zh-CN")
            await page.goto(web.url + "/")
            await page.fill("#text", "第一条")
            await page.keyboard.press("Enter")
            await page.locator(".msg.out", has_text="收到：第一条").wait_for()
            await page.fill("#text", "第二条")
            await page.keyboard.press("Enter")
            await page.locator(".msg.out", has_text="您发送得太快了").wait_for()
            assert await page.input_value("#text") == "第二条"  # handed back, not lost
            assert await page.locator(".msg.in", has_text="第二条").count() == 0
        finally:
            await browser.close()
    assert [r["message"] for r in rasa.received] == ["第一条"]


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (make system-deps installs it)")
async def test_reload_restores_both_sides_and_old_buttons_stay_off(rasa, gateway_factory) -> None:
    """Issue 10, finding 17: a reload dropped the person's own messages and re-armed old buttons."""
    from playwright.async_api import async_playwright

    async with gateway_factory((rasa.url,)) as web, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page(locale="zh-CN")
            await page.goto(web.url + "/")
            await page.fill("#text", "buttons")
            await page.keyboard.press("Enter")
            await page.locator(".buttons button").first.wait_for()
            await page.fill("#text", "你好")
            await page.keyboard.press("Enter")
            await page.locator(".msg.out", has_text="收到：你好").wait_for()
            await page.reload()
            await page.locator(".msg.out", has_text="收到：你好").wait_for()
            assert await page.locator(".msg.in").all_inner_texts() == ["buttons", "你好"]
            buttons = page.locator(".buttons button")
            assert all([await b.is_disabled() for b in await buttons.all()])
        finally:
            await browser.close()


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (make system-deps installs it)")
async def test_two_refusals_in_a_row_keep_both_messages(rasa, gateway_factory) -> None:
    """Issue 10, finding 17: two rate-limit refusals in a row lost a message the page said was kept."""
    from playwright.async_api import async_playwright

    async with (
        gateway_factory((rasa.url,), webchat_session_burst=1, webchat_session_per_minute=1.0) as web,
        async_playwright() as playwright,
    ):
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page(locale="zh-CN")
            await page.goto(web.url + "/")
            await page.fill("#text", "第一条")
            await page.keyboard.press("Enter")
            await page.locator(".msg.out", has_text="收到：第一条").wait_for()

            async def slow_network(route):  # both refusals are on their way before either comes back
                await asyncio.sleep(0.5)
                await route.continue_()

            await page.route("**/api/chat", slow_network)
            await page.fill("#text", "第二条")
            await page.keyboard.press("Enter")
            await page.fill("#text", "第三条")
            await page.keyboard.press("Enter")
            await page.locator(".msg.out", has_text="您发送得太快了").nth(1).wait_for()
            kept = await page.input_value("#text")
            assert "第二条" in kept and "第三条" in kept
        finally:
            await browser.close()
    assert [r["message"] for r in rasa.received] == ["第一条"]
