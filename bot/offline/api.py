"""An offline Telegram Bot API: a ``telegram.request.BaseRequest`` that answers every call locally.

A real ``Application`` built with ``ApplicationBuilder().request(OfflineBotAPI())`` runs its
handlers, its ``Bot`` shortcuts (``reply_text``, ``edit_message_text``, ``get_file`` …) and even
``updater.start_polling`` without a network: the request object plays the part of Telegram. Every
call is recorded so tests can assert on what a user would have seen; failures (flood control,
gateway errors, a blocked bot) can be injected to exercise the bot's error paths.

The engine (:meth:`OfflineBotAPI.handle`) takes a method name and decoded parameters, so the HTTP
fake in ``bot/offline/http.py`` reuses it behind a socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import mimetypes
import re
import time
import zlib
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import IO, Any
from urllib.parse import unquote, urlsplit

from telegram import Update
from telegram.constants import MessageLimit
from telegram.request import BaseRequest, RequestData

from bot.offline.entities import parse_html

__all__ = [
    "BOT_ID",
    "BOT_USERNAME",
    "SENDING_METHODS",
    "TEST_TOKEN",
    "Call",
    "OfflineBotAPI",
]

BOT_ID = 123456
BOT_USERNAME = "monev_test_bot"
TEST_TOKEN = f"{BOT_ID}:TEST"

# Calls that put something in front of a user; `sent()` and `on_send` are about these.
SENDING_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendMediaGroup",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
    }
)

JSONDict = dict[str, Any]
SendHook = Callable[["Call"], Awaitable[None]]

# Descriptions as the real Bot API words them, so error-message matching in the bot is tested.
_DEFAULT_DESCRIPTIONS: dict[int, str] = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

# A pre-canned thumbnail size and a "full" size: real photo messages carry several sizes and
# handlers usually pick ``photo[-1]``.
_PHOTO_SIZES = ((90, 90), (800, 600))


@dataclass(slots=True, eq=False)
class Call:
    """One Bot API call as the offline server saw it.

    ``at`` is ``time.monotonic()`` on arrival (good for measuring retry spacing). ``status`` is the
    HTTP status answered (not 200 when a failure was injected) and ``result`` the ``result`` part of
    the answer (e.g. the Message dict, whose ``message_id`` a test may need).
    """

    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]]
    at: float
    status: int = 200
    result: Any = None

    @property
    def ok(self) -> bool:
        return self.status == HTTPStatus.OK

    @property
    def chat_id(self) -> int | str | None:
        return _norm_chat_id(self.params.get("chat_id"))

    @property
    def text(self) -> str | None:
        """The text or caption this call shows, if any."""
        value = self.params.get("text", self.params.get("caption"))
        return None if value is None else str(value)


@dataclass(slots=True)
class _Failure:
    status: int
    description: str
    retry_after: int | None
    remaining: int


@dataclass(slots=True)
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_name: str
    mime_type: str
    content: bytes
    file_path: str = field(default="")

    def as_file(self) -> JSONDict:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
            "file_path": self.file_path,
        }

    def as_document(self) -> JSONDict:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_size": len(self.content),
        }


def _norm_chat_id(value: Any) -> int | str | None:
    """Chat ids arrive as int (offline) or str (form-encoded HTTP); ``@username`` stays a str."""
    if value is None or isinstance(value, int):
        return value
    text = str(value)
    if text.lstrip("-").isdecimal():
        return int(text)
    return text


def _as_markup(value: Any) -> JSONDict | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


def _read_content(content: bytes | IO[bytes] | str) -> bytes:
    # PTB hands over bytes unless `read_file_handle=False` was used, then an open file object.
    if isinstance(content, bytes):
        return content
    if isinstance(content, str):
        return content.encode()
    data = content.read()
    return data if isinstance(data, bytes) else str(data).encode()


class OfflineBotAPI(BaseRequest):
    """Answers Bot API requests in-process and records them.

    Use one instance for both ``.request()`` and ``.get_updates_request()`` so that updates pushed
    with :meth:`push_update` reach ``updater.start_polling``.
    """

    def __init__(
        self,
        *,
        bot_id: int = BOT_ID,
        bot_username: str = BOT_USERNAME,
        bot_first_name: str = "Monev Test",
        delay: float = 0.0,
        on_send: SendHook | None = None,
        max_long_poll: float | None = None,
    ) -> None:
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        #: Simulated latency in seconds added to every call.
        self.delay = delay
        #: Awaited after each successful call in SENDING_METHODS (console mode prints with it).
        self.on_send: SendHook | None = on_send
        #: Caps how long getUpdates waits for an update, whatever ``timeout`` the client asks for.
        self.max_long_poll = max_long_poll
        #: ``chat_id -> "private" | "group" | "supergroup" | "channel"``; otherwise by sign.
        self.chat_types: dict[int, str] = {}
        #: ``(chat_id, user_id) -> ChatMember dict`` overriding the default plain member.
        self.chat_members: dict[tuple[int, int], JSONDict] = {}
        self.webhook_url = ""
        self.calls: list[Call] = []
        self._message_ids: dict[int | str, int] = {}
        self._messages: dict[tuple[int | str, int], JSONDict] = {}
        self._failures: dict[str, deque[_Failure]] = {}
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._file_seq = itertools.count(1)
        self._commands: dict[str, list[JSONDict]] = {}
        self._updates: list[JSONDict] = []
        self._last_update_id = 0
        self._waiters: list[asyncio.Future[None]] = []

    # ------------------------------------------------------------------ BaseRequest interface

    @property
    def read_timeout(self) -> float | None:
        # Bot.get_updates adds the long-poll timeout to this value.
        return 5.0

    async def initialize(self) -> None:
        """Nothing to open: there is no connection pool."""

    async def shutdown(self) -> None:
        # Wake pending long polls so nothing hangs on an instance that is going away.
        self._wake_waiters()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """See ``BaseRequest.do_request``: decode the call, answer it, encode the answer."""
        path = unquote(urlsplit(url).path)
        if method == "GET":
            # Bot API calls are always POSTed by PTB; a GET is a file download (File.download_*).
            return self.download(path)
        api_method = path.rsplit("/", 1)[-1]
        params: dict[str, Any] = dict(request_data.parameters) if request_data else {}
        files: dict[str, tuple[str, bytes]] = {}
        if request_data is not None and request_data.contains_files:
            for name, (filename, content, *_mime) in request_data.multipart_data.items():
                files[name] = (filename, _read_content(content))
        status, body = await self.handle(api_method, params, files)
        return status, json.dumps(body).encode()

    # ------------------------------------------------------------------------- the engine

    async def handle(
        self,
        method: str,
        params: dict[str, Any],
        files: Mapping[str, tuple[str, bytes]] | None = None,
    ) -> tuple[int, JSONDict]:
        """Answer one Bot API call; returns ``(http_status, response_json)``."""
        # Failure decision, recording and ordering happen synchronously on arrival so concurrent
        # tasks cannot interleave between a read and a write of the shared state.
        call = Call(method, params, dict(files or {}), time.monotonic())
        failure = self._take_failure(method)
        self.calls.append(call)
        if failure is not None:
            call.status = failure.status
            return failure.status, self._error_body(failure)

        if self.delay > 0:
            await asyncio.sleep(self.delay)

        if method == "getUpdates":
            result: Any = await self._get_updates(params)
        else:
            handler = getattr(self, f"_m_{method}", None)
            try:
                result = handler(call) if handler is not None else True
            except _ApiError as exc:
                call.status = exc.status
                return exc.status, {
                    "ok": False,
                    "error_code": exc.status,
                    "description": exc.description,
                }
        call.result = result
        if self.on_send is not None and method in SENDING_METHODS:
            await self.on_send(call)
        return HTTPStatus.OK, {"ok": True, "result": result}

    # ----------------------------------------------------------------- failure injection

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = None,
        times: int = 1,
        description: str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (``"*"``: any method) fail with ``status``.

        429 carries ``parameters.retry_after`` (default 1) so PTB raises ``RetryAfter``; note that
        PTB ignores a ``retry_after`` of 0 and raises ``NetworkError`` instead.
        """
        if status == HTTPStatus.TOO_MANY_REQUESTS and retry_after is None:
            retry_after = 1
        text = description or _DEFAULT_DESCRIPTIONS.get(status) or HTTPStatus(status).phrase
        text = text.format(retry_after=retry_after)
        self._failures.setdefault(method, deque()).append(
            _Failure(status, text, retry_after, max(1, times))
        )

    def _take_failure(self, method: str) -> _Failure | None:
        for key in (method, "*"):
            queue = self._failures.get(key)
            if queue:
                failure = queue[0]
                failure.remaining -= 1
                if failure.remaining <= 0:
                    queue.popleft()
                return failure
        return None

    @staticmethod
    def _error_body(failure: _Failure) -> JSONDict:
        body: JSONDict = {
            "ok": False,
            "error_code": failure.status,
            "description": failure.description,
        }
        if failure.retry_after is not None:
            body["parameters"] = {"retry_after": failure.retry_after}
        return body

    # ------------------------------------------------------------------ recorded calls

    def sent(self, chat_id: int | str | None = None) -> list[Call]:
        """Successful calls that showed something to a user, optionally in one chat."""
        wanted = _norm_chat_id(chat_id)
        return [
            c
            for c in self.calls
            if c.method in SENDING_METHODS and c.ok and (wanted is None or c.chat_id == wanted)
        ]

    def texts(self, chat_id: int | str | None = None) -> list[str]:
        """Texts and captions shown, in order (calls without either, like a bare keyboard edit,
        are skipped)."""
        return [c.text for c in self.sent(chat_id) if c.text is not None]

    def last(self, chat_id: int | str | None = None) -> Call:
        sent = self.sent(chat_id)
        if not sent:
            raise LookupError(f"nothing was sent (chat_id={chat_id!r})")
        return sent[-1]

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    @staticmethod
    def buttons(call: Call) -> list[list[tuple[str, str | None]]]:
        """The inline keyboard of a call as rows of ``(text, callback_data)``; url buttons give
        ``None`` as data. A call without an inline keyboard gives ``[]``."""
        markup = _as_markup(call.params.get("reply_markup")) or {}
        rows = markup.get("inline_keyboard") or []
        return [[(b.get("text", ""), b.get("callback_data")) for b in row] for row in rows]

    def clear(self) -> None:
        """Forget recorded calls and pending failures; chats, messages and files stay."""
        self.calls.clear()
        self._failures.clear()

    def message(self, chat_id: int | str, message_id: int) -> JSONDict | None:
        """The current state of a message the bot sent (after edits), as Bot API JSON."""
        return self._messages.get((_norm_chat_id(chat_id) or 0, message_id))

    # ------------------------------------------------------------------- chats & updates

    def allocate_message_id(self, chat_id: int | str) -> int:
        """Next message id in a chat; user messages built by tests share the bot's sequence,
        as they do in a real private chat."""
        key = _norm_chat_id(chat_id) or 0
        message_id = self._message_ids.get(key, 0) + 1
        self._message_ids[key] = message_id
        return message_id

    def push_update(self, update: Update | JSONDict) -> int:
        """Queue an update for getUpdates; returns its update_id (assigned when missing).

        Callable from the event loop or another thread (e.g. a stdin reader)."""
        data = update.to_dict() if isinstance(update, Update) else dict(update)
        update_id = data.get("update_id")
        if not isinstance(update_id, int) or update_id <= self._last_update_id:
            # getUpdates confirms by "offset = last id + 1", so ids must keep increasing.
            update_id = self._last_update_id + 1
            data["update_id"] = update_id
        self._last_update_id = update_id
        self._updates.append(data)
        self._wake_waiters()
        return update_id

    @property
    def pending_updates(self) -> int:
        return len(self._updates)

    def _wake_waiters(self) -> None:
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            with contextlib.suppress(RuntimeError):  # its loop is already closed
                fut.get_loop().call_soon_threadsafe(_resolve, fut)

    async def _get_updates(self, params: Mapping[str, Any]) -> list[JSONDict]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if self.max_long_poll is not None:
            timeout = min(timeout, self.max_long_poll)
        if offset:
            # As Telegram does: an offset confirms (forgets) every update below it.
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and timeout > 0:
            # Long polling: wait once for a push (or shutdown). Returning early with nothing is
            # allowed by the Bot API, so a wake-up never needs a second wait.
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
            try:
                await asyncio.wait_for(fut, timeout)
            except TimeoutError:
                return []
            finally:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(fut)
        return self._updates[:limit]

    # ----------------------------------------------------------------------- files

    def add_file(
        self,
        content: bytes,
        *,
        file_name: str = "file.bin",
        mime_type: str | None = None,
        kind: str = "documents",
    ) -> JSONDict:
        """Store bytes as a Telegram file (so getFile + download return them); gives the
        Document JSON with its ``file_id``."""
        return self._store_file(content, file_name, mime_type, kind).as_document()

    def add_photo(self, content: bytes, *, file_size: int | None = None) -> list[JSONDict]:
        """Store bytes as a photo a user sends; gives the PhotoSize list of the message (a
        thumbnail and the full size, which getFile + download return)."""
        stored = self._store_file(content, "photo.jpg", "image/jpeg", "photos")
        size = len(content) if file_size is None else file_size
        thumb = self._store_file(content[:64], "thumb.jpg", "image/jpeg", "photos")
        return [
            {
                "file_id": thumb.file_id,
                "file_unique_id": thumb.file_unique_id,
                "width": 90,
                "height": 68,
                "file_size": len(thumb.content),
            },
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "width": 1280,
                "height": 960,
                "file_size": size,
            },
        ]

    def file_content(self, file_id: str) -> bytes:
        return self._files[file_id].content

    def _store_file(
        self, content: bytes, file_name: str, mime_type: str | None, kind: str
    ) -> _StoredFile:
        seq = next(self._file_seq)
        ext = file_name.rsplit(".", 1)[-1] if "." in file_name else "bin"
        stored = _StoredFile(
            file_id=f"OFFLINE-{kind[:3].upper()}-{seq:06d}",
            file_unique_id=f"u{seq:06d}",
            file_name=file_name,
            mime_type=mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream",
            content=content,
            file_path=f"{kind}/file_{seq}.{ext}",
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def file_by_path(self, file_path: str) -> bytes | None:
        stored = self._files_by_path.get(file_path)
        return None if stored is None else stored.content

    def download(self, path: str) -> tuple[int, bytes]:
        """Answer a file download GET for ``path`` (``…/file/bot<token>/<file_path>``)."""
        # path is ".../file/bot<token>/<file_path>"; the file_path itself contains one slash.
        marker = path.find("/file/bot")
        rest = path[marker + len("/file/bot") :] if marker >= 0 else path
        file_path = rest.split("/", 1)[1] if "/" in rest else rest
        content = self.file_by_path(file_path)
        if content is None:
            body = {"ok": False, "error_code": 404, "description": "Not Found: file not found"}
            return HTTPStatus.NOT_FOUND, json.dumps(body).encode()
        return HTTPStatus.OK, content

    def _upload(self, call: Call, field_name: str, default_name: str, kind: str) -> _StoredFile:
        """The file a sendPhoto/sendDocument refers to: an upload, a known file_id, or a URL."""
        if field_name in call.files:
            filename, content = call.files[field_name]
            return self._store_file(content, filename or default_name, None, kind)
        ref = call.params.get(field_name)
        if isinstance(ref, str) and ref.startswith("attach://"):
            filename, content = call.files.get(ref.removeprefix("attach://"), (default_name, b""))
            return self._store_file(content, filename or default_name, None, kind)
        if isinstance(ref, str) and ref in self._files:
            return self._files[ref]
        # A URL or a file_id from another session: remember the reference as its content.
        return self._store_file(str(ref or "").encode(), default_name, None, kind)

    # ------------------------------------------------------------------ result builders

    def bot_user(self) -> JSONDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def chat(self, chat_id: int | str | None) -> JSONDict:
        cid = _norm_chat_id(chat_id)
        if cid is None:
            raise _ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(cid, str):
            # "@channelusername": give it a stable negative id like Telegram's -100… channels.
            return {
                "id": -1000000000000 - zlib.crc32(cid.encode()),
                "type": "channel",
                "title": cid,
                "username": cid.lstrip("@"),
            }
        chat_type = self.chat_types.get(cid) or ("private" if cid > 0 else "group")
        data: JSONDict = {"id": cid, "type": chat_type}
        if chat_type == "private":
            data["first_name"] = f"User {cid}"
        else:
            data["title"] = f"Chat {cid}"
        return data

    def _new_message(self, call: Call, **content: Any) -> JSONDict:
        chat = self.chat(call.params.get("chat_id"))
        message: JSONDict = {
            "message_id": self.allocate_message_id(chat["id"]),
            "date": int(time.time()),
            "chat": chat,
            "from": self.bot_user(),
            **content,
        }
        self._apply_markup(message, call.params.get("reply_markup"))
        self._messages[(chat["id"], message["message_id"])] = message
        return message

    @staticmethod
    def _apply_markup(message: JSONDict, raw_markup: Any) -> None:
        # Only inline keyboards are part of a Message; reply keyboards / ForceReply are not
        # echoed (Message.reply_markup would fail to de-json them).
        markup = _as_markup(raw_markup)
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)

    def _edit_target(self, call: Call) -> JSONDict | None:
        """The stored message an edit applies to (a skeleton for unknown ids); ``None`` for
        inline messages, whose edits answer ``True``."""
        if call.params.get("inline_message_id"):
            return None
        chat = self.chat(call.params.get("chat_id"))
        message_id = int(call.params.get("message_id") or 0)
        if message_id <= 0:
            raise _ApiError(400, "Bad Request: message identifier is not specified")
        old = self._messages.get((chat["id"], message_id))
        message = (
            dict(old)
            if old is not None
            else {"message_id": message_id, "date": int(time.time()), "chat": chat}
        )
        message.setdefault("from", self.bot_user())
        message["edit_date"] = int(time.time())
        return message

    def _store_edit(self, message: JSONDict, call: Call) -> JSONDict:
        # Like Telegram, an edit without reply_markup drops the message's inline keyboard.
        self._apply_markup(message, call.params.get("reply_markup"))
        self._messages[(message["chat"]["id"], message["message_id"])] = message
        return message

    @staticmethod
    def _copy_entities(target: JSONDict, params: Mapping[str, Any], key: str) -> None:
        entities = params.get(key)
        if isinstance(entities, str):
            with contextlib.suppress(ValueError):
                entities = json.loads(entities)
        if isinstance(entities, list) and entities:
            target[key] = entities

    # --------------------------------------------------------------------- API methods
    # One ``_m_<method>`` per Bot API method with a non-trivial result; anything else is True.

    def _m_getMe(self, call: Call) -> JSONDict:
        return {
            **self.bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_sendMessage(self, call: Call) -> JSONDict:
        text = call.params.get("text")
        if text is None or str(text) == "":
            raise _ApiError(400, "Bad Request: message text is empty")
        _check_length(call, "text", TEXT_LIMIT, "message is too long")
        message = self._new_message(call, text=str(text))
        self._copy_entities(message, call.params, "entities")
        _as_telegram(message, call.params, "text", "entities")
        return message

    def _m_sendPhoto(self, call: Call) -> JSONDict:
        stored = self._upload(call, "photo", "photo.jpg", "photos")
        sizes = [
            {
                # The largest size is the uploaded file itself; smaller ones are derived ids.
                "file_id": stored.file_id
                if (w, h) == _PHOTO_SIZES[-1]
                else f"{stored.file_id}-{w}",
                "file_unique_id": f"{stored.file_unique_id}-{w}",
                "width": w,
                "height": h,
                "file_size": len(stored.content),
            }
            for w, h in _PHOTO_SIZES
        ]
        message = self._new_message(call, photo=sizes)
        self._add_caption(message, call)
        return message

    def _m_sendMediaGroup(self, call: Call) -> list[JSONDict]:
        """An album: 2–10 photos (or 2–10 documents; Telegram does not mix the two), each item
        a message of its own sharing one ``media_group_id``; captions are per item."""
        media = call.params.get("media")
        if isinstance(media, str):
            try:
                media = json.loads(media)
            except ValueError:
                media = None
        if not isinstance(media, list) or not 2 <= len(media) <= MAX_ALBUM:
            raise _ApiError(400, "Bad Request: wrong number of media in the album")
        kinds = {str(m.get("type")) for m in media if isinstance(m, dict)}
        if "document" in kinds and kinds != {"document"}:
            raise _ApiError(400, "Bad Request: documents can't be mixed with other media types")
        group = str(next(self._file_seq) + 10_000_000)
        out = []
        for m in media:
            caption = m.get("caption")
            if caption is not None:
                visible = str(caption)
                if str(m.get("parse_mode", "")).upper() == "HTML":
                    visible = html.unescape(re.sub(r"<[^>]*>", "", visible))
                if len(visible.encode("utf-16-le")) // 2 > CAPTION_LIMIT:
                    raise _ApiError(400, "Bad Request: message caption is too long")
            kind = str(m.get("type"))
            item = Call(call.method, {**call.params, kind: m.get("media")}, call.files, call.at)
            send = self._m_sendPhoto if kind == "photo" else self._m_sendDocument
            message = send(item)
            message["media_group_id"] = group
            if caption is not None:
                message["caption"] = str(caption)
            out.append(message)
        return out

    def _m_sendDocument(self, call: Call) -> JSONDict:
        stored = self._upload(call, "document", "document.bin", "documents")
        message = self._new_message(call, document=stored.as_document())
        self._add_caption(message, call)
        return message

    def _add_caption(self, message: JSONDict, call: Call) -> None:
        _check_length(call, "caption", CAPTION_LIMIT, "message caption is too long")
        caption = call.params.get("caption")
        if caption is not None:
            message["caption"] = str(caption)
            self._copy_entities(message, call.params, "caption_entities")
            _as_telegram(message, call.params, "caption", "caption_entities")

    def _m_editMessageText(self, call: Call) -> JSONDict | bool:
        message = self._edit_target(call)
        if message is None:
            return True
        _check_length(call, "text", TEXT_LIMIT, "message is too long")
        message["text"] = str(call.params.get("text", ""))
        message.pop("entities", None)
        self._copy_entities(message, call.params, "entities")
        _as_telegram(message, call.params, "text", "entities")
        return self._store_edit(message, call)

    def _m_editMessageCaption(self, call: Call) -> JSONDict | bool:
        message = self._edit_target(call)
        if message is None:
            return True
        message.pop("caption_entities", None)
        if call.params.get("caption") is None:
            message.pop("caption", None)
        else:
            message["caption"] = str(call.params["caption"])
            self._copy_entities(message, call.params, "caption_entities")
            _as_telegram(message, call.params, "caption", "caption_entities")
        return self._store_edit(message, call)

    def _m_editMessageReplyMarkup(self, call: Call) -> JSONDict | bool:
        message = self._edit_target(call)
        if message is None:
            return True
        return self._store_edit(message, call)

    def _m_deleteMessage(self, call: Call) -> bool:
        chat_id = _norm_chat_id(call.params.get("chat_id")) or 0
        self._messages.pop((chat_id, int(call.params.get("message_id") or 0)), None)
        return True

    def _m_getFile(self, call: Call) -> JSONDict:
        stored = self._files.get(str(call.params.get("file_id")))
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        return stored.as_file()

    @staticmethod
    def _commands_key(params: Mapping[str, Any]) -> str:
        scope = _as_markup(params.get("scope")) or {"type": "default"}
        return json.dumps([scope, params.get("language_code") or ""], sort_keys=True)

    def _m_setMyCommands(self, call: Call) -> bool:
        commands = call.params.get("commands") or []
        if isinstance(commands, str):
            commands = json.loads(commands)
        self._commands[self._commands_key(call.params)] = list(commands)
        return True

    def _m_getMyCommands(self, call: Call) -> list[JSONDict]:
        return list(self._commands.get(self._commands_key(call.params), []))

    def _m_deleteMyCommands(self, call: Call) -> bool:
        self._commands.pop(self._commands_key(call.params), None)
        return True

    def _m_setWebhook(self, call: Call) -> bool:
        self.webhook_url = str(call.params.get("url") or "")
        return True

    def _m_deleteWebhook(self, call: Call) -> bool:
        self.webhook_url = ""
        if call.params.get("drop_pending_updates") in (True, "true", "True"):
            self._updates.clear()
        return True

    def _m_getWebhookInfo(self, call: Call) -> JSONDict:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def _m_getChat(self, call: Call) -> JSONDict:
        # ChatFullInfo has more required fields than Chat.
        return {
            **self.chat(call.params.get("chat_id")),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _m_getChatMember(self, call: Call) -> JSONDict:
        chat_id = _norm_chat_id(call.params.get("chat_id"))
        user_id = int(call.params.get("user_id") or 0)
        override = self.chat_members.get((chat_id, user_id)) if isinstance(chat_id, int) else None
        if override is not None:
            return override
        if user_id == self.bot_id:
            return {"status": "member", "user": self.bot_user()}
        return {
            "status": "member",
            "user": {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"},
        }


class _ApiError(Exception):
    """Raised by a method builder for a request Telegram would reject."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


# Telegram's limits on what a person sees (4096 characters of text, 1024 of caption), counted in
# UTF-16 units after the HTML is parsed. Refusing longer ones here, as Telegram does, makes every
# test that sends a message check the limit.
TEXT_LIMIT, CAPTION_LIMIT = int(MessageLimit.MAX_TEXT_LENGTH), int(MessageLimit.CAPTION_LENGTH)
MAX_ALBUM = 10  # items in one sendMediaGroup


def _as_telegram(message: JSONDict, params: Mapping[str, Any], key: str, entities: str) -> None:
    """Store an HTML-formatted text as Telegram returns it: the visible text and entities."""
    if str(params.get("parse_mode", "")).upper() != "HTML" or key not in message:
        return
    visible, found = parse_html(str(message[key]))
    message[key] = visible
    if found:
        message[entities] = found


def _check_length(call: Call, key: str, limit: int, error: str) -> None:
    value = call.params.get(key)
    if value is None:
        return
    visible = str(value)
    if str(call.params.get("parse_mode", "")).upper() == "HTML":
        visible = html.unescape(re.sub(r"<[^>]*>", "", visible))
    if len(visible.encode("utf-16-le")) // 2 > limit:
        raise _ApiError(400, f"Bad Request: {error}")
