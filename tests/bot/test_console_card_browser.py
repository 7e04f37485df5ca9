"""The case card that explains itself (issue 13, item 1) in real headless Chromium, at 1280×800 and 390×844:
the summary written from the conversation, the assistant's profile of a takeover read from the (stand-in)
Rasa tracker, correcting a fact and the engine's re-run, the policy look-up inserting a policy into the
reply, and hand-back giving the corrected fact to the assistant.

``UPDATE_SCREENSHOTS=1`` saves docs/screenshots/console-card-summary.png and console-card-correction.png
(desktop) and console-phone-card-lookup.png (390 px).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import test_console_browser as browser_tests
from gateway_harness import RASA_TOKEN, make_settings, running_gateway
from test_console_browser import add_staff, chromium, expect, web_person_says
from test_console_phone import PHONE, no_sideways_scroll, open_at

from bot.testing.rasa_standin import RasaStandIn
from bot.testing.server import serve
from tests.bot.misread_case import MISREAD_SLOTS

pytestmark = browser_tests.pytestmark
DESKTOP = {"width": 1280, "height": 800}
QUESTION = "青浦的积分租房补贴我能申请吗？英国硕士2024，中国国籍"
WRONG = "❌ 青浦人才积分租房补贴：根据您提供的情况暂不符合，未满足：配偶未享受本区人才租房补贴（夫妻双方不重复享受）。"
# the slots the assistant had when it misread the spouse question as "yes"
SLOTS = MISREAD_SLOTS


class MisreadRasa(RasaStandIn):
    """Answers the points-subsidy question with the ❌ its misread spouse answer gave."""

    def answer(self, sender: str, text: str) -> list[dict[str, Any]]:
        if "积分租房补贴" in text:
            self.slots[sender] = dict(SLOTS)
            return [{"recipient_id": sender, "text": f"{WRONG}\n政策依据：青委〔2020〕88号 附件4第二条"}]
        if "刚才说了" in text:
            return [{"recipient_id": sender, "text": "抱歉，我没太明白，您能换个说法吗？"}]
        return super().answer(sender, text)


@pytest.fixture
async def rasa() -> AsyncIterator[MisreadRasa]:
    standin = MisreadRasa(token=RASA_TOKEN)
    async with serve(standin.app) as url:
        standin.url = url
        yield standin


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "390px"])
async def test_card_summary_correction_look_up_and_hand_back(rasa, tmp_path, viewport) -> None:
    async with running_gateway(make_settings(tmp_path, (rasa.url,))) as gateway, chromium() as browser:
        await add_staff(gateway, "zhou", "周静")
        session, answer = await web_person_says(gateway, None, QUESTION)
        assert answer == [f"{WRONG}\n政策依据：青委〔2020〕88号 附件4第二条"]
        await web_person_says(gateway, session, "刚才说了我老婆没有拿补贴")
        officer = await open_at(browser, gateway.url, viewport)
        page = officer.page
        await officer.log_in("zhou")
        await page.click('#nav button[data-view="conversations"]')
        await page.locator("#list .item", has_text="刚才说了").click()
        await page.click("#takeover")
        await expect(page.locator("#case-status")).to_have_text("处理中 · 周静")

        # ten seconds: what they asked and said in their words, the ❌, what went wrong, why staff have it
        summary = page.locator("#case-summary")
        await expect(summary.locator(".asked li").first).to_have_text(QUESTION)
        await expect(summary.locator(".facts li")).to_contain_text(["英国硕士2024，中国国籍"])
        await expect(summary.locator(".answered li")).to_have_text([WRONG])
        await expect(summary).to_contain_text("用户说“刚才说了”")
        await expect(summary).to_contain_text("出现 ❌ 结果")
        await expect(summary).to_contain_text("工作人员主动接管")
        # the assistant's profile and result, read from its tracker although nobody handed off
        profile = page.locator("#case-profile")
        await expect(profile.locator("dd", has_text="是").first).to_be_visible()
        await expect(profile).to_contain_text("配偶是否已享受租房补贴")
        await expect(page.locator("#case-result")).to_contain_text("不符合：配偶未享受本区人才租房补贴")

        # correct the misread fact and re-run the engine
        await page.select_option("#fact-field", "spouse_receives_rent_subsidy")
        await page.select_option("#fact-value", label="否")
        await page.click("#fact-rerun")
        rechecked = page.locator("#case-rechecked")
        await expect(rechecked).to_contain_text("可以申请登记，按年度排名评定")
        await expect(rechecked).to_contain_text("每月1000元至2000元")
        await expect(profile.locator("dd.corrected")).to_contain_text("否已更正")
        await expect(page.locator(".history")).to_contain_text(
            "更正资料：资料项 配偶是否已享受租房补贴，原为 是，更正为 否"
        )
        await expect(page.locator("#list .item .asked")).to_have_text([f"问：{QUESTION}"])
        if viewport == DESKTOP:
            await page.evaluate("document.getElementById('case-card').scrollTop = 0")
            await officer.screenshot("card-summary")

        # the policy look-up beside the reply box: insert, edit, send
        await page.click("#lookup summary")
        await page.fill("#lookup-q", "青浦 积分租房")
        await page.click("#lookup-find")
        found = page.locator("#lookup-results li")
        await expect(found).to_have_count(1)
        await expect(found).to_contain_text("青浦人才积分租房补贴")
        await page.fill("#reply-text", "您好，我是周静。您的情况如下：")
        await found.locator("button.insert").click()
        reply = page.locator("#reply-text")
        await expect(reply).to_have_value(
            re.compile(r"^您好，我是周静。您的情况如下：\n【青浦人才积分租房补贴】")
        )
        value = await reply.input_value()
        assert value.startswith("您好，我是周静。您的情况如下：\n【青浦人才积分租房补贴】"), value
        assert (
            "- 符合：配偶未享受本区人才租房补贴（夫妻双方不重复享受）" in value
        )  # judged on the corrected facts
        assert "如何申请：" in value and "政策依据：" in value
        if viewport == PHONE:
            await no_sideways_scroll(page)
            await page.evaluate(
                "document.getElementById('lookup').scrollIntoView()"
            )  # the card re-renders on live events
            await officer.screenshot("phone-card-lookup")
        else:
            await page.evaluate(
                "document.getElementById('case-rechecked').scrollIntoView()"
            )  # the card re-renders on live events
            await officer.screenshot("card-correction")
        await page.press("#reply-text", "Control+Enter")
        await expect(page.locator("#reply-status")).to_have_text("已发送")

        # hand back: the corrected fact reaches the assistant's tracker before it resumes
        await page.click("#btn-handback")
        await page.click("#handback-ok")
        await expect(page.locator("#case-status")).to_have_text("已结案")
        conversation = f"web:{session}"
        slot_event = (conversation, {"event": "slot", "name": "spouse_receives_rent_subsidy", "value": False})
        assert rasa.events.index(slot_event) < rasa.events.index((conversation, {"event": "resume"}))
        assert officer.errors == []
