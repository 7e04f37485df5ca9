"""Issue 14: the web chat page in headless Chromium against a real gateway process killed mid-turn: the
page says what is true ("正在重新发送…"), resends the message with the same client id, and shows one answer,
also when the page is reloaded before the message got through."""

from __future__ import annotations

import asyncio
import shutil
import signal

import pytest
from gateway_harness import RASA_TOKEN, GatewayProcess, wait_for

from bot.store import Store

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FAST_REPLAY = {"BOT_REPLAY_INTERVAL": "0.2", "BOT_REPLAY_LEASE_SECONDS": "3", "RASA_TIMEOUT": "15"}


def stored(tmp_path, conversation_id: str) -> list[tuple[str, str]]:
    store = Store(f"sqlite:///{tmp_path / 'gateway.db'}")
    try:
        return [(r["direction"], r["text"]) for r in store.messages(conversation_id)]
    finally:
        store.dispose()


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (make system-deps installs it)")
async def test_the_page_resends_a_message_whose_gateway_died_and_shows_one_answer(tmp_path, rasa) -> None:
    """Issue 14: the page showed a bare failure and the message was lost. In Chromium: the gateway is
    killed while the message waits for Rasa; the page says "正在重新发送…" (never a failure code), resends
    with the same client id once the gateway is back, and shows the one answer."""
    from playwright.async_api import async_playwright

    gateway = GatewayProcess(tmp_path, {"RASA_URL": rasa.url, "RASA_TOKEN": RASA_TOKEN, **FAST_REPLAY})
    await gateway.start()
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                page = await browser.new_page(locale="zh-CN")
                errors: list[str] = []
                page.on("pageerror", lambda error: errors.append(str(error)))
                await page.goto(gateway.url + "/")
                await page.fill("#text", "slow 2 人才公寓")
                await page.keyboard.press("Enter")
                await wait_for(lambda: rasa.received, timeout=10)  # stored, waiting for Rasa
                gateway.signal(signal.SIGKILL)
                await gateway.wait()
                await page.locator(".msg.in .state", has_text="正在重新发送").wait_for(timeout=10_000)
                await gateway.start()
                await page.locator(".msg.out", has_text="收到：slow 2 人才公寓").wait_for(timeout=30_000)
                await asyncio.sleep(2.0)  # a second answer (a second turn) would show by now
                shown = await page.locator(".msg").all_inner_texts()
                assert sum("收到：slow 2 人才公寓" in text for text in shown) == 1
                assert not any("HTTP" in text or "网络错误" in text for text in shown)
                assert await page.locator(".msg.in .state").count() == 0  # the state line is gone
                assert errors == []
                session = await page.evaluate("localStorage.getItem('rczdc.session')")
            finally:
                await browser.close()
        assert stored(tmp_path, f"web:{session}") == [  # stored once, answered once
            ("in", "slow 2 人才公寓"),
            ("out", "收到：slow 2 人才公寓"),
        ]
    finally:
        gateway.stop()


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (make system-deps installs it)")
async def test_a_message_never_delivered_is_sent_again_after_the_page_is_reloaded(tmp_path, rasa) -> None:
    """The network drops every chat request (the gateway never sees the message) and the person reloads
    the page while it says "正在重新发送…": the message was kept in localStorage, the reloaded page shows
    it and sends it again with the same id; once the network is back, one question, one answer, also
    after another reload."""
    from playwright.async_api import async_playwright

    gateway = GatewayProcess(tmp_path, {"RASA_URL": rasa.url, "RASA_TOKEN": RASA_TOKEN, **FAST_REPLAY})
    await gateway.start()
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                page = await browser.new_page(locale="zh-CN")
                errors: list[str] = []
                page.on("pageerror", lambda error: errors.append(str(error)))
                await page.goto(gateway.url + "/")
                await page.route("**/api/chat", lambda route: route.abort())
                await page.fill("#text", "落户条件")
                await page.keyboard.press("Enter")
                resending = page.locator(".msg.in .state", has_text="正在重新发送")
                await resending.wait_for(timeout=10_000)
                session = await page.evaluate("localStorage.getItem('rczdc.session')")
                await page.reload()  # the network still drops it: the reloaded page keeps trying
                await resending.wait_for(timeout=10_000)
                assert rasa.received == []  # nothing reached the gateway so far
                await page.unroute("**/api/chat")
                await page.locator(".msg.out", has_text="收到：落户条件").wait_for(timeout=30_000)
                await asyncio.sleep(1.0)
                for _ in range(2):  # as shown, and as shown again after one more reload
                    shown = await page.locator(".msg").all_inner_texts()
                    assert sum("收到：落户条件" in text for text in shown) == 1
                    assert sum(text.startswith("落户条件") for text in shown) == 1
                    await page.reload()
                    await page.locator(".msg.out", has_text="收到：落户条件").wait_for(timeout=10_000)
                assert await page.evaluate("localStorage.getItem('rczdc.unsent')") == "[]"
                assert errors == []
            finally:
                await browser.close()
        assert stored(tmp_path, f"web:{session}") == [("in", "落户条件"), ("out", "收到：落户条件")]
    finally:
        gateway.stop()
