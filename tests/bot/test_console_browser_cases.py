"""An officer working cases in Chromium: the Telegram round trip, WeChat's quota, a web-chat takeover, live updates.

``UPDATE_SCREENSHOTS=1`` saves the README's screenshots (1280×800) to docs/screenshots/console-*.png.
"""

from __future__ import annotations

import asyncio
import re

import test_console_browser as browser_tests
from gateway_harness import (
    WECHAT_APP_ID,
    WECHAT_SECRET,
    WECHAT_TOKEN,
    make_settings,
    running_gateway,
    wait_for,
)
from test_console_browser import (
    CHAT,
    CHAT_COMPLAINT,
    CHAT_EN,
    OPENID,
    add_staff,
    chromium,
    expect,
    open_console,
    telegram_person_says,
    texts_sent,
    web_person_says,
    web_person_sees,
)

from bot.console.settings import held_explanation, person_text
from bot.testing.wechat_standin import WeChatServer

pytestmark = browser_tests.pytestmark
# the fixtures of test_console_browser: the handing-off Rasa stand-in and a Telegram gateway in front of it
rasa, telegram_gateway = browser_tests.rasa, browser_tests.telegram_gateway


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
