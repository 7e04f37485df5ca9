"""The console's admin pages (quick answers, export, audit log) and a bad rating's callback, in Chromium."""

from __future__ import annotations

from pathlib import Path

import test_console_browser as browser_tests
from gateway_harness import (
    wait_for,
)
from test_console_browser import (
    CHAT,
    add_staff,
    chromium,
    expect,
    open_console,
    telegram_person_says,
    texts_sent,
)

pytestmark = browser_tests.pytestmark
# the fixtures of test_console_browser: the handing-off Rasa stand-in and a Telegram gateway in front of it
rasa, telegram_gateway = browser_tests.rasa, browser_tests.telegram_gateway


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
