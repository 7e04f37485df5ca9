"""The web chat page greets before the person types (what the assistant can do, one button per topic) and
turns itself into English when English is chosen: title, hint, placeholder, send button, greeting
(issue 15, item 6). Real headless Chromium at a phone's width (390 px) and a desktop's; the screenshots
go to var/screenshots/ for a person to look at."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ROOT = Path(__file__).resolve().parents[2]
NAMES = yaml.safe_load((ROOT / "policies/topics.yml").read_text(encoding="utf-8"))
TOPICS = {
    lang: {topic: names[lang] for topic, names in {**NAMES["overview"], **NAMES["topics"]}.items()}
    for lang in ("zh", "en")
}
SHOTS = ROOT / "var/screenshots"
# the buttons: every topic name, "what can I get" first
BUTTONS = {
    lang: [titles["eligibility"]] + [t for topic, t in titles.items() if topic != "eligibility"]
    for lang, titles in TOPICS.items()
}
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (make system-deps installs it)")
@pytest.mark.parametrize("size", SIZES)
async def test_greeting_and_english_page(rasa, gateway_factory, size: str) -> None:
    from playwright.async_api import async_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    async with gateway_factory((rasa.url,)) as web, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page(locale="zh-CN", viewport=SIZES[size])
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(web.url + "/")
            greeting = page.locator("#greeting")
            await greeting.wait_for()
            assert "人才直达车助手" in await greeting.inner_text()
            assert await greeting.locator("button").all_inner_texts() == BUTTONS["zh"]
            # nothing was sent to the assistant to greet: the greeting is the page's own
            assert rasa.received == []
            # it fits the screen's width: no sideways scrolling on a phone
            assert await page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]
            await page.screenshot(path=str(SHOTS / f"webchat-greeting-zh-{size}.png"))

            await page.select_option("#lang", "en")
            assert await page.title() == "Talent Express"
            assert await page.inner_text("#title") == "Talent Express"
            assert (await page.inner_text("#hint")).startswith("Type your question")
            assert await page.get_attribute("#text", "placeholder") == "Type a message, Enter to send"
            assert await page.inner_text("#send") == "Send"
            assert await page.evaluate("document.documentElement.lang") == "en"
            assert (await greeting.inner_text()).startswith("Hello!")
            assert await greeting.locator("button").all_inner_texts() == BUTTONS["en"]
            assert await page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]
            await page.screenshot(path=str(SHOTS / f"webchat-greeting-en-{size}.png"))

            # a topic button sends its name as the person's message, in the language chosen
            await greeting.locator("button", has_text=TOPICS["en"]["rent_subsidy"]).click()
            await page.locator(".msg.in", has_text=TOPICS["en"]["rent_subsidy"]).wait_for()
            await page.locator(".msg.out", has_text="收到").wait_for()

            # the choice is remembered: after a reload the page is still English
            await page.reload()
            await greeting.wait_for()
            assert await page.inner_text("#send") == "Send"
            assert errors == []
        finally:
            await browser.close()
    assert [r["message"] for r in rasa.received] == [TOPICS["en"]["rent_subsidy"]]
