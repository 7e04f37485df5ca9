"""The review page (bot/console/web/review.html + review.js) and the report's satisfaction section
(satisfaction.js) in real headless Chromium, at 1280×800 and 390×844, against a real gateway and the
stand-ins (helpers of test_console_browser.py). ``UPDATE_SCREENSHOTS=1`` saves
docs/screenshots/console-review.png, console-reports-satisfaction.png, console-phone-review.png and
console-phone-reports-satisfaction.png.
"""

from __future__ import annotations

import asyncio

import test_console_browser as browser_tests
import test_review_queue
from gateway_harness import wait_for
from test_console_browser import (
    CHAT,
    add_staff,
    chromium,
    expect,
    telegram_person_says,
    texts_sent,
    web_person_says,
)
from test_console_phone import PHONE, no_sideways_scroll, open_at
from test_waiting_ratings import press, rows_of

from bot.store import ratings, review_items
from bot.testing.telegram_standin import callback_update
from bot.texts import text as say

pytestmark = browser_tests.pytestmark
rasa, telegram_gateway = browser_tests.rasa, browser_tests.telegram_gateway
standin_rasa_config = test_review_queue.standin_rasa_config  # "unsure …" is read as low confidence
DESKTOP = {"width": 1280, "height": 800}


async def seed_conversations(gateway, telegram_api) -> None:
    """A fallback and an unsure intent on the web chat; a personalised answer rated 不满意 on Telegram and
    one rated 满意 on the web chat."""
    session, _ = await web_person_says(gateway, None, "fallback 那个东西咋弄")
    await web_person_says(gateway, session, "unsure 我在松江 租房那个")
    headers = {"X-Telegram-Bot-Api-Secret-Token": gateway.gateway.settings.telegram_secret}
    await telegram_person_says(gateway, CHAT, "personal rent_subsidy 松江")
    await wait_for(
        lambda: any(t.endswith(say("rating_prompt_answer", "zh")) for t in texts_sent(telegram_api, CHAT))
    )
    keyboard = telegram_api.sent(CHAT)[-1]["reply_markup"]["inline_keyboard"]
    update = callback_update(CHAT, keyboard[3][0]["callback_data"])  # 不满意
    assert (await gateway.http.post("/telegram/webhook", json=update, headers=headers)).status_code == 200
    answer = await gateway.http.post("/api/chat", json={"text": "personal hukou 青浦"})
    offer = answer.json()["messages"][-1]
    await press(gateway, answer.json()["session"], offer["id"], 1)  # 满意
    await wait_for(lambda: len(gateway.gateway.router.after_answer.pending) == 0)
    for _ in range(100):
        if len(await rows_of(gateway, ratings)) == 2 and len(await rows_of(gateway, review_items)) == 3:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("ratings or review queue not as seeded")


async def test_reports_show_satisfaction_and_the_reviewer_labels_messages(
    telegram_gateway, telegram_api, standin_rasa_config
) -> None:
    gateway = telegram_gateway
    await add_staff(gateway, "boss", "赵主任", role="admin")
    await seed_conversations(gateway, telegram_api)
    async with chromium() as browser:
        for viewport, prefix in ((DESKTOP, ""), (PHONE, "phone-")):
            officer = await open_at(browser, gateway.url, viewport)
            page = officer.page
            await officer.log_in("boss")
            await expect(page.locator("#me")).to_contain_text("赵主任")
            # the report page: satisfaction of both kinds, by topic, district, channel and officer, and CSVs
            await page.click('#nav button[data-view="reports"]')
            section = page.locator("#report-satisfaction")
            await expect(section).to_contain_text("满意度按主题")
            first = section.locator("table").first.locator("tbody td")
            await expect(first.nth(0)).to_have_text("2")  # two ratings
            await expect(first.nth(2)).to_have_text("50%")  # 满意 counts, 不满意 does not
            await expect(section).to_contain_text("rent_subsidy")
            await expect(section).to_contain_text("助手个性化答复")
            await expect(section).to_contain_text("fallback 那个东西咋弄")  # not understood, from the queue
            chart = page.locator("#report-chart")  # the server's SVG, loaded under the page's policy
            await expect(chart).to_have_js_property("complete", True)
            assert await chart.evaluate("image => image.naturalWidth") > 0
            href = await page.get_attribute("#report-ratings-csv", "href")
            assert href.startswith("/console/api/reports/ratings.csv?from=")
            csv_text = await (await page.request.get(gateway.url + href)).text()
            assert "rent_subsidy" in csv_text and "不满意" in csv_text
            await section.evaluate('node => node.scrollIntoView({ block: "start" })')
            if prefix:
                await no_sideways_scroll(page)
            await officer.screenshot(f"{prefix}reports-satisfaction")
            # the review page
            if prefix:
                await page.goto(gateway.url + "/console/review.html")
            else:
                await page.click("#nav-review")
            items = page.locator("#review-list .review-item")
            await expect(items).to_have_count(3 if not prefix else 1)
            if prefix:
                await no_sideways_scroll(page)
                await officer.screenshot("phone-review")
                assert officer.errors == []
                continue
            await expect(items.nth(0)).to_contain_text("没听懂")
            await expect(items.nth(1)).to_contain_text("意图置信度低")
            await expect(items.nth(1)).to_contain_text("助手理解为 inform（30%）")
            await expect(items.nth(2)).to_contain_text("差评")
            await officer.screenshot("review")
            unsure = items.nth(1)
            await unsure.locator(".review-intent").select_option("ask_rent_subsidy")
            await unsure.locator(".review-add-entity").click()
            await unsure.locator(".review-entity-kind").select_option("district")
            await unsure.locator(".review-entity-text").fill("青浦")  # not in the message: refused, shown
            await unsure.locator(".review-save").click()
            await expect(unsure.locator(".error")).to_have_text("标注的实体文字不在这条消息中")
            await unsure.locator(".review-entity-text").fill("松江")
            await unsure.locator(".review-save").click()
            await expect(items).to_have_count(2)
            await items.nth(0).locator(".review-out").click()  # the fallback: out of scope
            await expect(items).to_have_count(1)
            await expect(page.locator("#review-count")).to_have_text(" 1")
            await page.click('#review-tabs button[data-status="reviewed"]')
            await expect(items).to_have_count(1)
            await expect(items.nth(0)).to_contain_text(
                "结论：ask_rent_subsidy；实体：松江 → district（boss）"
            )
            assert officer.errors == []
    done = {r["status"]: r for r in await rows_of(gateway, review_items)}
    assert done["reviewed"]["reviewed_entities"] == [{"entity": "district", "text": "松江"}]
    assert set(done) == {"reviewed", "out_of_scope", "open"}
