"""The updates Telegram would send: the one set of builders for the console, tests and the
HTTP fake.

Two levels. The ``*_dict`` functions give Bot API JSON (what the HTTP fake queues for
``getUpdates``); the ``make_*`` functions bind that JSON to a ``Bot`` through
``Update.de_json(data, bot)``, the path real updates take, so nested objects get the bot set
(``update.message.reply_text()`` calls the offline API) and PTB itself validates the shapes.

Given an :class:`~bot.offline.api.OfflineBotAPI` (directly, or as the bot's request object), user
messages take their ids from the same per-chat sequence as the bot's messages, documents are
stored so ``get_file()`` and downloads return their bytes, and a button press finds the bot
message carrying its button.
"""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

from telegram import Bot, Chat, Message, MessageEntity, Update, User

from bot.offline.api import Call, OfflineBotAPI

__all__ = [
    "XLSX_MIME",
    "callback_query_dict",
    "group_chat",
    "make_callback_update",
    "make_document_update",
    "make_message",
    "make_message_update",
    "make_photo_update",
    "message_dict",
    "message_from_call",
    "next_update_id",
    "private_chat",
    "user",
]

JSONDict = dict[str, Any]

# Global so updates built anywhere in a process keep increasing, as getUpdates offsets require.
_update_ids = itertools.count(1)
_message_ids = itertools.count(1)
_callback_ids = itertools.count(1)
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@\w{1,32})?")

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def next_update_id() -> int:
    return next(_update_ids)


def user(id: int, first_name: str = "Tester", username: str | None = None) -> User:
    return User(id=id, first_name=first_name, is_bot=False, username=username, language_code="id")


def private_chat(id: int, first_name: str = "Tester") -> Chat:
    return Chat(id=id, type=Chat.PRIVATE, first_name=first_name)


def group_chat(id: int, title: str = "Grup Monev") -> Chat:
    return Chat(id=id, type=Chat.GROUP, title=title)


# --------------------------------------------------------------------------- Bot API JSON


def _user_dict(user_id: int, first_name: str | None) -> JSONDict:
    return {
        "id": user_id,
        "is_bot": False,
        "first_name": first_name or f"User {user_id}",
        "language_code": "id",
    }


def _chat_dict(chat_id: int, chat_type: str, user_id: int, first_name: str | None) -> JSONDict:
    if chat_type == Chat.PRIVATE:
        return {"id": chat_id, "type": chat_type, "first_name": first_name or f"User {user_id}"}
    return {"id": chat_id, "type": chat_type, "title": f"Chat {chat_id}"}


def _resolve_chat(user_id: int, chat_id: int | None, chat_type: str) -> int:
    if chat_id is not None:
        return chat_id
    # A private chat's id is the user's id; group ids are negative.
    return user_id if chat_type == Chat.PRIVATE else -abs(user_id)


def _command_entities(text: str) -> list[JSONDict]:
    # Telegram marks a leading "/command" (optionally "@botname") as bot_command at offset 0;
    # CommandHandler only matches when that entity is there.
    match = _COMMAND.match(text)
    if not match:
        return []
    return [{"type": MessageEntity.BOT_COMMAND, "offset": 0, "length": len(match.group(0))}]


def _envelope(
    api: OfflineBotAPI | None,
    *,
    user_id: int,
    chat_id: int | None,
    message_id: int | None,
    chat_type: str,
    first_name: str | None,
    content: JSONDict,
) -> JSONDict:
    cid = _resolve_chat(user_id, chat_id, chat_type)
    if message_id is None:
        message_id = api.allocate_message_id(cid) if api else next(_message_ids)
    return {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": _chat_dict(cid, chat_type, user_id, first_name),
        "from": _user_dict(user_id, first_name),
        **content,
    }


def message_dict(
    text: str,
    *,
    user_id: int,
    api: OfflineBotAPI | None = None,
    chat_id: int | None = None,
    message_id: int | None = None,
    chat_type: str = Chat.PRIVATE,
    first_name: str | None = None,
) -> JSONDict:
    """A user's text message as Bot API JSON (commands carry their bot_command entity)."""
    content: JSONDict = {"text": text}
    if entities := _command_entities(text):
        content["entities"] = entities
    return _envelope(
        api,
        user_id=user_id,
        chat_id=chat_id,
        message_id=message_id,
        chat_type=chat_type,
        first_name=first_name,
        content=content,
    )


def callback_query_dict(
    data: str, *, user_id: int, message: JSONDict, first_name: str | None = None
) -> JSONDict:
    """A button press on ``message`` (the bot message carrying the button) as Bot API JSON."""
    return {
        "id": str(next(_callback_ids)),
        "from": _user_dict(user_id, first_name),
        "chat_instance": str(message["chat"]["id"]),
        "data": data,
        "message": message,
    }


# ------------------------------------------------------------------- bound to a Bot


def _offline_api(bot: Bot) -> OfflineBotAPI | None:
    request = bot.request
    return request if isinstance(request, OfflineBotAPI) else None


def make_message(
    bot: Bot,
    text: str,
    *,
    user_id: int,
    chat_id: int | None = None,
    message_id: int | None = None,
    chat_type: str = Chat.PRIVATE,
    first_name: str | None = None,
) -> Message:
    """A user's text message (commands carry their bot_command entity)."""
    data = message_dict(
        text,
        user_id=user_id,
        api=_offline_api(bot),
        chat_id=chat_id,
        message_id=message_id,
        chat_type=chat_type,
        first_name=first_name,
    )
    return Message.de_json(data, bot)


def make_message_update(
    bot: Bot,
    text: str,
    *,
    user_id: int,
    chat_id: int | None = None,
    message_id: int | None = None,
    update_id: int | None = None,
    chat_type: str = Chat.PRIVATE,
    first_name: str | None = None,
) -> Update:
    """An update with a user's text message; ``/start`` etc. match ``CommandHandler``."""
    message = make_message(
        bot,
        text,
        user_id=user_id,
        chat_id=chat_id,
        message_id=message_id,
        chat_type=chat_type,
        first_name=first_name,
    )
    return Update.de_json(
        {"update_id": update_id or next_update_id(), "message": message.to_dict()}, bot
    )


def message_from_call(bot: Bot, call: Call) -> Message:
    """The bot message an OfflineBotAPI call produced, bound to ``bot``."""
    if not isinstance(call.result, dict) or "message_id" not in call.result:
        raise ValueError(f"{call.method} did not produce a message (result={call.result!r})")
    return Message.de_json(call.result, bot)


def _has_button(message: JSONDict, data: str) -> bool:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return any(button.get("callback_data") == data for row in rows for button in row)


def _find_button_message(api: OfflineBotAPI, chat_id: int, data: str) -> JSONDict | None:
    """The newest bot message in the chat (in its current, edited state) with this button."""
    for call in reversed(api.sent(chat_id)):
        result = call.result
        if not isinstance(result, dict) or "message_id" not in result:
            continue
        current = api.message(chat_id, result["message_id"]) or result
        if _has_button(current, data):
            return current
    return None


def _bot_ready(bot: Bot) -> bool:
    # Bot.id / Bot.username raise before initialize() (they come from getMe).
    try:
        bot.id  # noqa: B018
    except RuntimeError:
        return False
    return True


def make_callback_update(
    bot: Bot,
    data: str,
    *,
    user_id: int,
    message: Message | Call | JSONDict | None = None,
    chat_id: int | None = None,
    update_id: int | None = None,
    chat_type: str = Chat.PRIVATE,
    first_name: str | None = None,
) -> Update:
    """A button press. ``message`` is the bot message that carried the button, as in a real
    update (a Message, the OfflineBotAPI call that sent it, or its JSON); by default it is
    looked up among the OfflineBotAPI's sent messages (the newest one in the chat whose
    keyboard has ``data``), else a plain bot message is made up."""
    cid = _resolve_chat(user_id, chat_id, chat_type)
    api = _offline_api(bot)
    message_data: JSONDict | None
    if isinstance(message, Message):
        message_data = message.to_dict()
    elif isinstance(message, Call):
        message_data = message_from_call(bot, message).to_dict()
    elif isinstance(message, dict):
        message_data = message
    else:
        message_data = _find_button_message(api, cid, data) if api else None
    if message_data is None:
        message_data = {
            "message_id": api.allocate_message_id(cid) if api else next(_message_ids),
            "date": int(time.time()),
            "chat": _chat_dict(cid, chat_type, user_id, first_name),
            "from": {"id": bot.id, "is_bot": True, "first_name": "Bot", "username": bot.username}
            if _bot_ready(bot)
            else {"id": 1, "is_bot": True, "first_name": "Bot"},
            "text": "…",
        }
    query = callback_query_dict(data, user_id=user_id, message=message_data, first_name=first_name)
    return Update.de_json(
        {"update_id": update_id or next_update_id(), "callback_query": query}, bot
    )


def make_document_update(
    bot: Bot,
    content: bytes = b"",
    *,
    user_id: int,
    file_name: str = "laporan.xlsx",
    mime_type: str | None = XLSX_MIME,
    caption: str | None = None,
    chat_id: int | None = None,
    message_id: int | None = None,
    update_id: int | None = None,
    chat_type: str = Chat.PRIVATE,
    first_name: str | None = None,
    media_group_id: str | None = None,
    file_size: int | None = None,
) -> Update:
    """A user's message with a document. With an OfflineBotAPI the bytes are stored, so
    ``await update.message.document.get_file()`` and ``download_as_bytearray()`` return them.
    ``media_group_id``: one item of an album; ``file_size``: the size Telegram announces
    (to test a limit without building the bytes)."""
    api = _offline_api(bot)
    if api is not None:
        document = api.add_file(content, file_name=file_name, mime_type=mime_type)
        if file_size is not None:
            document["file_size"] = file_size
    else:
        seq = next(_message_ids)
        document = {
            "file_id": f"DOC-{seq}",
            "file_unique_id": f"udoc{seq}",
            "file_name": file_name,
            "file_size": len(content),
        }
        if mime_type:
            document["mime_type"] = mime_type
    if caption is not None and (entities := _command_entities(caption)):
        extra: JSONDict = {"caption_entities": entities}
    else:
        extra = {}
    return _media_update(
        bot,
        api,
        {"document": document, **extra},
        caption=caption,
        media_group_id=media_group_id,
        user_id=user_id,
        chat_id=chat_id,
        message_id=message_id,
        update_id=update_id,
        chat_type=chat_type,
        first_name=first_name,
    )


def make_photo_update(
    bot: Bot,
    content: bytes,
    *,
    user_id: int,
    caption: str | None = None,
    media_group_id: str | None = None,
    file_size: int | None = None,
    chat_id: int | None = None,
    update_id: int | None = None,
    chat_type: str = Chat.PRIVATE,
    first_name: str | None = None,
) -> Update:
    """A user's photo (one item of an album with ``media_group_id``; Telegram delivers every
    item of an album as an update of its own). Needs an OfflineBotAPI: the largest size's
    ``file_id`` downloads ``content``."""
    api = _offline_api(bot)
    if api is None:
        raise ValueError("make_photo_update needs a bot whose request is an OfflineBotAPI")
    return _media_update(
        bot,
        api,
        {"photo": api.add_photo(content, file_size=file_size)},
        caption=caption,
        media_group_id=media_group_id,
        user_id=user_id,
        chat_id=chat_id,
        message_id=None,
        update_id=update_id,
        chat_type=chat_type,
        first_name=first_name,
    )


def _media_update(
    bot: Bot,
    api: OfflineBotAPI | None,
    payload: JSONDict,
    *,
    caption: str | None,
    media_group_id: str | None,
    user_id: int,
    chat_id: int | None,
    message_id: int | None,
    update_id: int | None,
    chat_type: str,
    first_name: str | None,
) -> Update:
    """A message carrying ``payload`` (a document or a photo), as one update."""
    if media_group_id is not None:
        payload["media_group_id"] = media_group_id
    if caption is not None:
        payload["caption"] = caption
    data = _envelope(
        api,
        user_id=user_id,
        chat_id=chat_id,
        message_id=message_id,
        chat_type=chat_type,
        first_name=first_name,
        content=payload,
    )
    return Update.de_json({"update_id": update_id or next_update_id(), "message": data}, bot)
