"""Telegram adapter (python-telegram-bot 22): webhook behind our own server, or long polling for a
developer without a public URL.

Handlers are small module-level functions wired up in ``build_application``; the ``TelegramChannel`` object
they reach through ``context.bot_data`` holds what they share. Different chats run concurrently, one
chat's updates strictly in order (``PerChatOrder``); a rate limiter keeps under Telegram's flood limits.
A webhook update is stored before Telegram gets its 200 (a crash after that leaves it for the replay);
an inline button pressed after the person moved on gets "this option has expired" and the current
question.
"""

from __future__ import annotations

import hmac
import logging
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from .config import Settings
from .http_input import BadInput, guarded, parse_json, read_body
from .models import Button, Delivery, InboundMessage, Reply
from .router import Router
from .store import Store
from .telegram_limits import FloodLimiter, PerChatOrder
from .texts import normalise_language
from .texts import text as say
from .textutil import split_text

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 4096
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
CALLBACK_DATA = re.compile(r"^b:(\d{1,15}):(\d{1,3})$")  # b:<stored message id>:<option index>


# -- outbound ---------------------------------------------------------------------------------------
class TelegramSender:
    """Sends each reply as its own message (split at 4096 characters), buttons as an inline keyboard whose
    callback data names the stored message and the option's index, never the payload itself."""

    channel = "telegram"

    def __init__(self, store: Store, application: Application) -> None:
        self.store = store
        self.application = application

    async def send(
        self, user_id: str, replies: list[Reply], *, reply_to: int | None = None, author: str = "bot"
    ) -> list[Delivery]:
        deliveries = []
        for reply in replies:
            pieces = split_text(reply.text or reply.image or "", MAX_MESSAGE_CHARS) or (
                [""] if reply.buttons else []
            )
            for index, piece in enumerate(pieces):
                last = index == len(pieces) - 1
                buttons = reply.buttons if last else []
                data = {"buttons": [b.as_dict() for b in buttons]} if buttons else None
                message_id = await self.store.call(
                    self.store.record_outbound,
                    f"telegram:{user_id}",
                    piece,
                    status="sending",
                    author=reply.author or author,
                    data=data,
                    reply_to=reply_to,
                )
                markup = None
                if buttons:
                    markup = InlineKeyboardMarkup(
                        [
                            [InlineKeyboardButton(b.title[:64], callback_data=f"b:{message_id}:{i}")]
                            for i, b in enumerate(buttons)
                        ]
                    )
                status = await self._send(user_id, piece or "…", markup)
                await self.store.call(self.store.set_status, message_id, status)
                deliveries.append(Delivery(status, message_id))
        return deliveries

    async def _send(self, chat_id: str, text: str, markup: InlineKeyboardMarkup | None) -> str:
        try:
            await self.application.bot.send_message(chat_id=int(chat_id), text=text, reply_markup=markup)
            return "sent"
        except Forbidden:
            log.info("telegram: a person blocked the bot; reply kept in the transcript")
            return "failed"
        except TelegramError as error:
            log.error("telegram: send failed (%s)", type(error).__name__)
            return "failed"


# -- handlers ---------------------------------------------------------------------------------------
def _channel(context: ContextTypes.DEFAULT_TYPE) -> TelegramChannel:
    return context.application.bot_data["channel"]


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: welcome and privacy note, in the person's language."""
    await _channel(context).local_reply(update, ["welcome", "privacy"])


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: how to ask, and how to switch language."""
    await _channel(context).local_reply(update, ["help"])


async def on_lang(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/lang zh|en: answer in that language from now on."""
    await _channel(context).set_language(update, context.args or [])


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Free text (including unknown /commands, which are neutralised): through the router to Rasa."""
    await _channel(context).text(update)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An inline-keyboard press: mapped back to the payload the gateway offered."""
    await _channel(context).button(update)


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Photos, voice, stickers ...: recorded and answered politely."""
    await _channel(context).unsupported(update)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log handler errors without the update's content (it may hold personal data)."""
    log.error("telegram handler error: %s", type(context.error).__name__, exc_info=context.error)


def build_application(settings: Settings, *, polling: bool) -> Application:
    builder = (
        Application.builder()
        .token(settings.telegram_token)
        .base_url(settings.telegram_api_base_url)
        .concurrent_updates(PerChatOrder())
        .rate_limiter(FloodLimiter())
    )
    if not polling:
        builder = builder.updater(None)
    application = builder.build()
    application.add_handler(CommandHandler("start", on_start))
    application.add_handler(CommandHandler("help", on_help))
    application.add_handler(CommandHandler("lang", on_lang))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.UpdateType.EDITED, on_text))
    application.add_handler(
        MessageHandler(~filters.TEXT & ~filters.UpdateType.EDITED & ~filters.StatusUpdate.ALL, on_other)
    )
    application.add_error_handler(on_error)
    return application


class TelegramChannel:
    def __init__(self, settings: Settings, router: Router, application: Application) -> None:
        self.settings = settings
        self.router = router
        self.store = router.store
        self.application = application
        self.polling = settings.telegram_mode == "polling"
        self.secret = settings.telegram_secret
        self.stored_early: dict[int, int] = {}  # update_id -> inbound id stored by the webhook
        application.bot_data["channel"] = self

    def routes(self) -> list[Route]:
        return [Route("/telegram/webhook", self.webhook, methods=["POST"])]

    async def start(self) -> None:
        await self.application.initialize()
        await self.application.start()
        if self.polling:
            await self.application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
        elif self.settings.public_base_url:
            await self.application.bot.set_webhook(
                url=f"{self.settings.public_base_url}/telegram/webhook",
                secret_token=self.secret,
                allowed_updates=ALLOWED_UPDATES,
            )

    async def stop(self) -> None:
        if self.polling and self.application.updater and self.application.updater.running:
            await self.application.updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    @guarded("telegram", log, json_errors=False)
    async def webhook(self, request: Request) -> Response:
        """Telegram's POST: the secret header is checked on every request, the update stored, then
        queued; Telegram gets its 200 only once the update is in the database."""
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            log.warning("telegram webhook: wrong secret token")
            return PlainTextResponse("forbidden", status_code=403)
        data = parse_json(await read_body(request, self.settings.max_body_bytes))
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise BadInput(400, "malformed update")
        try:
            update = Update.de_json(data, self.application.bot)
        except Exception:
            raise BadInput(400, "malformed update") from None
        await self._store_early(update)
        await self.application.update_queue.put(update)
        return Response(status_code=200)

    async def _store_early(self, update: Update) -> None:
        """Record what the update carries (a handler refines it); a re-delivery is left to the router."""
        if update.effective_chat is None:
            return
        message, query = update.message, update.callback_query
        if query is not None:
            inbound = self._inbound(update, kind="button", text=query.data)
        elif message is not None and message.text and not message.text.startswith("/"):
            inbound = self._inbound(update, kind="text", text=message.text)
        elif message is not None and message.text:
            inbound = self._inbound(update, kind="event", text=message.text)  # a command
        elif message is not None:
            inbound = self._inbound(update, kind="unsupported", text="[non-text message]")
        else:
            inbound = self._inbound(update, kind="event", text="[edited message]")
        inbound_id = await self.router.record(inbound)
        if inbound_id is not None:
            self.stored_early[update.update_id] = inbound_id
            self.router.reserve(inbound_id)  # its lease is renewed while it waits behind the chat's others

    async def handle(self, update: Update, inbound: InboundMessage, **kwargs: Any) -> None:
        """Through the router, with the row stored when the webhook received the update."""
        await self.router.handle(inbound, recorded_id=self.stored_early.pop(update.update_id, None), **kwargs)

    # -- what handlers do ------------------------------------------------------------------------------
    def _inbound(self, update: Update, **fields: Any) -> InboundMessage:
        user = update.effective_user
        return InboundMessage(
            channel="telegram",
            user_id=str(update.effective_chat.id),
            language=normalise_language(user.language_code if user else None, self.router.default_language),
            external_id=f"update:{update.update_id}",
            **fields,
        )

    async def local_reply(self, update: Update, keys: list[str]) -> None:
        inbound = self._inbound(update, kind="event", text=update.effective_message.text)
        language = await self.router.language_of(inbound)
        await self.handle(
            update, inbound, local_replies=[Reply(say(k, language), author="gateway") for k in keys]
        )

    async def set_language(self, update: Update, args: list[str]) -> None:
        inbound = self._inbound(update, kind="event", text=update.effective_message.text)
        choice = args[0].lower() if args else ""
        if choice not in ("zh", "en"):
            language = await self.router.language_of(inbound)
            await self.handle(
                update, inbound, local_replies=[Reply(say("lang_usage", language), author="gateway")]
            )
            return
        await self.store.call(self.store.set_language, "telegram", inbound.user_id, choice)
        await self.handle(update, inbound, local_replies=[Reply(say("lang_set", choice), author="gateway")])

    async def text(self, update: Update) -> None:
        await self.handle(
            update, self._inbound(update, kind="text", text=update.effective_message.text or "")
        )

    async def unsupported(self, update: Update) -> None:
        await self.handle(update, self._inbound(update, kind="unsupported", text="[non-text message]"))

    async def button(self, update: Update) -> None:
        """A press maps back to the payload offered in that stored message; data that names no such
        message of this chat is refused politely, and a button of an earlier question gets "this option
        has expired" with the current question."""
        query = update.callback_query
        inbound = self._inbound(update, kind="button")
        language = await self.router.language_of(inbound)
        offered_in, chosen = await self._pressed(inbound.conversation_id, query.data or "")
        try:
            await query.answer()
        except TelegramError:
            pass  # an expired query id; the press still counts
        inbound.kind, inbound.text = "event", (query.data or "")[:64]
        if chosen is None:
            await self.handle(
                update, inbound, local_replies=[Reply(say("stale_button", language), author="gateway")]
            )
        elif await self.store.call(
            self.store.person_spoke_after,
            inbound.conversation_id,
            offered_in,
            self.stored_early.get(update.update_id),
        ):
            replies = await self.router.stale_button_replies(inbound.conversation_id, language)
            await self.handle(update, inbound, local_replies=replies)
        else:
            inbound.kind, inbound.text, inbound.payload = "button", chosen.title, chosen.payload
            await self.handle(update, inbound)

    async def _pressed(self, conversation_id: str, data: str) -> tuple[int, Button | None]:
        match = CALLBACK_DATA.match(data)
        if not match:
            return 0, None
        message_id, index = int(match.group(1)), int(match.group(2))
        row = await self.store.call(self.store.message, message_id)
        if not row or row["conversation_id"] != conversation_id or row["direction"] != "out":
            return 0, None
        offered = Store.offered_buttons(row)
        return message_id, offered[index] if index < len(offered) else None
