"""The console at phone width (issue 13, item 8: weekend duty), the routed queue on a desktop, and the
masked search, read-only look and stated reason before clear text (issue 10, item 10), in real headless
Chromium against a real gateway (the helpers and stand-ins of test_console_browser.py).

``UPDATE_SCREENSHOTS=1`` saves docs/screenshots/console-phone-*.png (390×844) and
console-queue-routing.png and console-reports.png (1280×800).
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys

import test_console_browser as browser_tests
from gateway_harness import wait_for
from test_console_browser import (
    CHAT,
    CHAT_EN,
    ROOT,
    Officer,
    add_staff,
    chromium,
    expect,
    make_settings,
    running_gateway,
    telegram_person_says,
    texts_sent,
    web_person_says,
)

from bot.console import routing

pytestmark = browser_tests.pytestmark
# the fixtures of test_console_browser: the handing-off Rasa stand-in and a Telegram gateway in front of it
rasa, telegram_gateway = browser_tests.rasa, browser_tests.telegram_gateway
PHONE = {"width": 390, "height": 844}


async def set_districts(running, login: str, *districts: str) -> None:
    """Through the gateway's own CLI, as an administrator would."""
    env = {**os.environ, "BOT_DATABASE_URL": running.gateway.settings.database_url}
    command = [sys.executable, "-m", "bot", "staff", "districts", login, *districts]
    done = await asyncio.to_thread(
        subprocess.run, command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


async def open_at(browser, url: str, viewport: dict[str, int]) -> Officer:
    context = await browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
    officer = Officer(await context.new_page())
    await officer.page.goto(url + "/console")
    return officer


async def no_sideways_scroll(page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide at {PHONE['width']}px"


async def test_queue_case_card_and_reply_work_at_390_px(telegram_gateway, telegram_api) -> None:
    gateway = telegram_gateway
    await add_staff(gateway, "wang", "王芳")
    await set_districts(gateway, "wang", "松江")
    await telegram_person_says(gateway, CHAT, "我是硕士，29岁，在松江的企业做研发")
    await telegram_person_says(gateway, CHAT, "转人工")  # profile district 松江
    await telegram_person_says(gateway, CHAT_EN, "Can I talk to a human please?", language_code="en")
    await wait_for(lambda: any("staff" in t for t in texts_sent(telegram_api, CHAT_EN)), timeout=10)

    async with chromium() as browser:
        officer = await open_at(browser, gateway.url, PHONE)
        page = officer.page
        await officer.log_in("wang")
        await expect(page.locator("#me")).to_have_text("王芳（工作人员）")
        items = page.locator("#list .item")
        await expect(items).to_have_count(2)
        # her district's case and the shared queue's; district, channel, language and time left
        songjiang, shared = items.filter(has_text="…5151"), items.filter(has_text="…6262")
        await expect(songjiang).to_contain_text("松江")
        await expect(songjiang).to_contain_text("Telegram")
        await expect(shared).to_contain_text("共享队列")
        await expect(shared).to_contain_text("English")
        await expect(songjiang.locator(".target")).to_contain_text("首次回复")
        await expect(page.locator("#filters")).to_be_visible()
        await no_sideways_scroll(page)
        await officer.screenshot("phone-queue")

        # every tab can be reached at this width
        for view, title in (("conversations", "会话"), ("mine", "我的案件"), ("queue", "待处理")):
            tab = page.locator(f'#nav button[data-view="{view}"]')
            await tab.scroll_into_view_if_needed()
            await tab.click()
            await expect(page.locator("#list-title")).to_have_text(title)

        # the case: the list gives way to the card, the transcript and the reply box
        await songjiang.click()
        await expect(page.locator("#case-view")).to_be_visible()
        await expect(page.locator("#sidebar")).to_be_hidden()
        await expect(page.locator("#back-to-list")).to_be_visible()
        await page.click("#btn-claim")
        await expect(page.locator("#case-status")).to_have_text("处理中 · 王芳")
        await expect(page.locator("#case-card")).to_contain_text("所在区")
        reply = "您好，我是松江区的王芳，请问您的单位名称是？"
        await page.fill("#reply-text", reply)
        await page.locator("#reply-send").scroll_into_view_if_needed()
        await page.click("#reply-send")
        await wait_for(lambda: reply in texts_sent(telegram_api, CHAT), timeout=10)
        await expect(page.locator("#transcript .msg.staff", has_text=reply)).to_be_visible()
        # the first reply meets the first-response target, and the card says so without a reload
        await expect(page.locator("#case-card .target").first).to_contain_text("已达成")
        await no_sideways_scroll(page)
        await officer.screenshot("phone-case")

        await page.click("#back-to-list")
        await expect(page.locator("#sidebar")).to_be_visible()
        await expect(page.locator("#case-view")).to_be_hidden()
        assert officer.errors == []


async def test_the_routed_queue_on_a_desktop(telegram_gateway, telegram_api) -> None:
    gateway = telegram_gateway
    await add_staff(gateway, "wang", "王芳")
    await set_districts(gateway, "wang", "长宁")
    await telegram_person_says(gateway, CHAT, "转人工")  # a 松江 case: another district's
    await telegram_person_says(gateway, CHAT_EN, "Can I talk to a human please?", language_code="en")
    await wait_for(lambda: len(texts_sent(telegram_api, CHAT_EN)) >= 1, timeout=10)
    async with chromium() as browser:
        officer = await open_at(browser, gateway.url, {"width": 1280, "height": 800})
        page = officer.page
        await officer.log_in("wang")
        items = page.locator("#list .item")
        await expect(items).to_have_count(2)
        await expect(items.nth(0)).to_contain_text("共享队列")  # shared first; 松江 is not hers
        await expect(items.nth(1)).to_contain_text("松江")
        await page.select_option("#filter-district", "shared")
        await expect(items).to_have_count(1)
        await expect(items.nth(0)).to_contain_text("English")
        await page.select_option("#filter-district", "松江")
        await expect(items).to_have_count(1)
        await expect(items.nth(0)).to_contain_text("…5151")
        await page.select_option("#filter-district", "")
        await expect(items).to_have_count(2)
        await items.nth(0).click()
        await expect(page.locator("#back-to-list")).to_be_hidden()  # desktop: list and case side by side
        await expect(page.locator("#sidebar")).to_be_visible()
        await officer.screenshot("queue-routing")
        assert officer.errors == []


async def test_search_is_masked_the_look_is_read_only_and_clear_text_needs_a_reason(rasa, tmp_path) -> None:
    async with running_gateway(make_settings(tmp_path, (rasa.url,))) as gateway, chromium() as browser:
        await add_staff(gateway, "zhou", "周静")
        await web_person_says(gateway, None, "我的手机13812345678，想问人才公寓")
        officer = await open_at(browser, gateway.url, {"width": 1280, "height": 800})
        page = officer.page
        await officer.log_in("zhou")
        await page.click('#nav button[data-view="conversations"]')
        items = page.locator("#list .item")
        await page.fill("#search-q", "13812345678")
        await expect(page.locator("#search-note")).to_have_text("按遮蔽后的内容匹配")
        await expect(items).to_have_count(0)  # the number is masked, so it cannot be searched for
        await page.fill("#search-reason", "来电回访，核对号码")
        await expect(page.locator("#search-note")).to_have_text("按完整内容匹配（已记入审计）")
        await expect(items).to_have_count(1)
        await items.first.click()
        # the read-only look: the conversation, masked, before any takeover
        look = page.locator("#conv-transcript")
        await expect(look.locator(".msg.person")).to_have_text(re.compile("138\\*\\*\\*\\*5678"))
        await page.click("#takeover")
        await expect(page.locator("#case-status")).to_have_text("处理中 · 周静")
        person = page.locator("#transcript .msg.person").first
        await expect(person).to_contain_text("138****5678")  # taken over without a reason: still masked
        await page.fill("#reveal-reason", "需回拨确认")
        await page.click("#reveal")
        await expect(person).to_contain_text("13812345678")
        await expect(page.locator("#case-card .history")).to_contain_text("查看完整号码")
        assert officer.errors == []


async def test_an_admin_sets_the_districts_an_officer_serves(telegram_gateway) -> None:
    gateway = telegram_gateway
    await add_staff(gateway, "zhao", "赵主任", role="admin")
    await add_staff(gateway, "wang", "王芳")
    async with chromium() as browser:
        officer = await open_at(browser, gateway.url, {"width": 1280, "height": 800})
        page = officer.page
        await officer.log_in("zhao")
        await page.click('#nav button[data-view="staff"]')
        row = page.locator("#staff tbody tr", has_text="王芳")
        await expect(row).to_contain_text("0 / 5")
        await row.locator('input[value="松江"]').check()
        await row.locator('input[value="长宁"]').check()
        await row.locator("button", has_text="保存").click()
        await expect(page.locator("#admin-view .notice")).to_contain_text("王芳 负责 松江、长宁")
        served = await gateway.gateway.store.call(
            routing.officer_districts, gateway.gateway.store.engine, "wang"
        )
        assert served == {"wang": ["松江", "长宁"]}
        await page.click('#nav button[data-view="audit"]')
        await expect(page.locator("#audit")).to_contain_text("设置负责区")
        await page.select_option("#audit-action", "districts")  # one action only
        await expect(page.locator("#audit tbody tr")).to_have_count(1)
        # the reports: this week's numbers and the CSV (one conversation, one case: wang's 转人工)
        await telegram_person_says(gateway, CHAT, "转人工")
        await page.click('#nav button[data-view="reports"]')
        await page.click("#report-show")
        body = page.locator("#report-body")
        await expect(body.locator("table").first.locator("tbody td").nth(2)).to_have_text("1")
        await expect(body).to_contain_text("首次回复")
        assert "/console/api/reports/cases.csv?from=" in await page.get_attribute("#report-csv", "href")
        await officer.screenshot("reports")
        assert officer.errors == []


async def test_the_going_wrong_list_shows_what_went_wrong(rasa, tmp_path) -> None:
    async with running_gateway(make_settings(tmp_path, (rasa.url,))) as gateway, chromium() as browser:
        await add_staff(gateway, "zhou", "周静")
        session, _ = await web_person_says(gateway, None, "人才公寓怎么申请")
        for text in ("人才公寓怎么申请", "人才公寓怎么申请", "我都说了三遍了，没用"):
            await web_person_says(gateway, session, text)
        await web_person_says(gateway, None, "你好")  # a conversation going fine
        officer = await open_at(browser, gateway.url, {"width": 1280, "height": 800})
        page = officer.page
        await officer.log_in("zhou")
        await page.click('#nav button[data-view="conversations"]')
        await expect(page.locator("#list .item")).to_have_count(2)
        await page.check("#going-wrong")
        items = page.locator("#list .item")
        await expect(items).to_have_count(1)
        await expect(items.first.locator(".signal")).to_have_text(
            ["重复同一回答 ×3", "用户说“刚才说了”", "不满或投诉用语"]
        )
        await items.first.click()
        await expect(page.locator("#conv-transcript .msg.person")).to_have_count(4)
        assert officer.errors == []
