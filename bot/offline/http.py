"""The offline Bot API served over local HTTP (stdlib asyncio only).

Unlike :class:`bot.offline.api.OfflineBotAPI` used as PTB's request object, this server sits
behind a real socket, so a bot runs with its normal ``HTTPXRequest`` stack (connection pool,
form encoding, long polling): benchmarks measure what production would pay locally, and tests
run ``monev run`` as a process against it. The Bot API semantics are the OfflineBotAPI's; this
module adds HTTP/1.1 framing, push-to-reply latency tracking and an optional flood limit.

Usage::

    async with FakeBotAPI(rate_limit_per_s=30) as fake:
        app = ApplicationBuilder().token(TOKEN).base_url(fake.base_url)
              .base_file_url(fake.base_file_url).build()
        ...
        update_id = fake.push_text(user_id=7, text="halo")
        latency_s = await fake.wait_reply(update_id, timeout=5)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from bot.offline.api import BOT_ID, BOT_USERNAME, OfflineBotAPI
from bot.offline.updates import message_dict

__all__ = ["FakeBotAPI", "Reply", "serve_in_thread"]

JSONDict = dict[str, Any]

# Methods whose arrival answers a pushed message, for latency.
REPLY_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument"})

# Form fields PTB sends as plain strings even when they look like JSON or numbers; everything
# else that parses as JSON is decoded (PTB JSON-encodes non-string values in forms).
_TEXT_FIELDS = frozenset(
    {"text", "caption", "query", "callback_query_id", "inline_message_id", "url", "action"}
)
_INT_RE = re.compile(r"-?\d+")
_MAX_HEADER = 64 * 1024
_MAX_BODY = 64 * 1024 * 1024


@dataclass(slots=True, frozen=True)
class Reply:
    """A reply seen by the fake: which chat, what, and when (``time.perf_counter()``)."""

    chat_id: int | str | None
    method: str
    text: str | None
    at: float


class _HttpError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def _decode_value(key: str, value: str) -> Any:
    if key in _TEXT_FIELDS:
        return value
    if _INT_RE.fullmatch(value):
        return int(value)
    if value in ("true", "false"):
        return value == "true"
    if value[:1] in "[{":
        with contextlib.suppress(ValueError):
            return json.loads(value)
    return value


def _parse_multipart(
    body: bytes, content_type: str
) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise _HttpError(400, "multipart without boundary")
    delimiter = b"--" + match.group(1).encode("latin-1")
    params: dict[str, Any] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break  # closing delimiter
        head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")
        disposition = head.decode("utf-8", "replace")
        name = re.search(r'\bname="([^"]*)"', disposition)
        if not name:
            continue
        filename = re.search(r'\bfilename="([^"]*)"', disposition)
        if filename:
            files[name.group(1)] = (unquote(filename.group(1)), data)
        else:
            params[name.group(1)] = _decode_value(name.group(1), data.decode("utf-8", "replace"))
    return params, files


def _parse_body(
    body: bytes, content_type: str, query: str
) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    params: dict[str, Any] = {
        k: _decode_value(k, v) for k, v in parse_qsl(query, keep_blank_values=True)
    }
    files: dict[str, tuple[str, bytes]] = {}
    kind = content_type.split(";", 1)[0].strip().lower()
    if not body:
        return params, files
    if kind == "application/json":
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise _HttpError(400, "invalid JSON body") from exc
        if not isinstance(data, dict):
            raise _HttpError(400, "JSON body must be an object")
        params.update(data)
    elif kind == "multipart/form-data":
        form, files = _parse_multipart(body, content_type)
        params.update(form)
    else:  # application/x-www-form-urlencoded, PTB's usual encoding
        text = body.decode("utf-8", "replace")
        params.update({k: _decode_value(k, v) for k, v in parse_qsl(text, keep_blank_values=True)})
    return params, files


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            # Skip optional trailers up to the blank line.
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass
            return b"".join(chunks)
        total += size
        if total > _MAX_BODY:
            raise _HttpError(413, "body too large")
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


class FakeBotAPI:
    """HTTP/1.1 keep-alive server answering ``/bot<token>/<method>`` on 127.0.0.1.

    ``rate_limit_per_s`` enables a flood limit over all ``send*`` calls (sliding one-second
    window); calls above it get ``429`` with ``retry_after: 1`` and are counted in
    :attr:`rate_limited`. ``clock`` reads that window's time (seconds); a test may pass a
    frozen one so the limit does not depend on how fast the machine is.
    """

    def __init__(
        self,
        *,
        rate_limit_per_s: int | None = None,
        api: OfflineBotAPI | None = None,
        host: str = "127.0.0.1",
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            # A fake that hands out updates must never be reachable from the network.
            raise ValueError("FakeBotAPI binds to loopback only")
        self.api = api or OfflineBotAPI(bot_id=BOT_ID, bot_username=BOT_USERNAME)
        self.rate_limit_per_s = rate_limit_per_s
        self.clock = clock
        self.rate_limited = 0
        self.requests = 0
        self.replies: list[Reply] = []
        self.host = host
        self.port = 0
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._send_window: deque[float] = deque()
        self._pushed_at: dict[int, float] = {}
        self._replied_at: dict[int, float] = {}
        self._update_chat: dict[int, int | str] = {}
        self._last_update_of_chat: dict[int | str, int] = {}
        self._awaiting: dict[int | str, deque[int]] = {}
        self._reply_waiters: dict[int, list[asyncio.Future[float]]] = {}

    # --------------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url()`` (PTB appends the token)."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._on_connection, self.host, 0, limit=_MAX_HEADER
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        # Python 3.11's wait_closed() neither waits for nor closes open connections. Wake the
        # pending long polls (they answer []) and close every socket, so handlers end on their
        # own; cancel only what is still running after a grace period.
        await self.api.shutdown()
        for writer in list(self._writers):
            writer.close()
        if self._connections:
            _done, pending = await asyncio.wait(set(self._connections), timeout=2.0)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> FakeBotAPI:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ benchmark API

    def push_update(self, update: JSONDict, chat_id: int | str | None = None) -> int:
        """Queue any update (dict); with ``chat_id`` its push time is tracked for latency."""
        update_id = self.api.push_update(update)
        if chat_id is not None:
            self._pushed_at[update_id] = time.perf_counter()
            self._update_chat[update_id] = chat_id
            self._last_update_of_chat[chat_id] = update_id
            self._awaiting.setdefault(chat_id, deque()).append(update_id)
        return update_id

    def push_text(self, user_id: int, text: str) -> int:
        """A private text message from ``user_id``; returns its update_id."""
        message = message_dict(text, user_id=user_id, api=self.api)
        return self.push_update({"message": message}, chat_id=user_id)

    async def wait_reply(
        self,
        update_id: int | None = None,
        *,
        chat_id: int | str | None = None,
        timeout: float = 10.0,
    ) -> float:
        """Seconds from pushing ``update_id`` (or the chat's latest push) to the first
        sendMessage/sendPhoto/sendDocument in that chat. Raises ``TimeoutError``."""
        if update_id is None:
            if chat_id is None:
                raise ValueError("give update_id or chat_id")
            update_id = self._last_update_of_chat[chat_id]
        if update_id not in self._pushed_at:
            raise KeyError(f"update {update_id} was not pushed with a chat")
        if update_id in self._replied_at:
            return self._replied_at[update_id] - self._pushed_at[update_id]
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._reply_waiters.setdefault(update_id, []).append(fut)
        try:
            return await asyncio.wait_for(fut, timeout)
        finally:
            waiters = self._reply_waiters.get(update_id, [])
            with contextlib.suppress(ValueError):
                waiters.remove(fut)

    def latency(self, update_id: int) -> float | None:
        replied = self._replied_at.get(update_id)
        return None if replied is None else replied - self._pushed_at[update_id]

    def _record_reply(self, method: str, params: JSONDict, now: float) -> None:
        raw_chat = params.get("chat_id")
        chat_id: int | str | None = raw_chat
        if isinstance(raw_chat, str) and _INT_RE.fullmatch(raw_chat):
            chat_id = int(raw_chat)
        text = params.get("text", params.get("caption"))
        self.replies.append(Reply(chat_id, method, None if text is None else str(text), now))
        queue = self._awaiting.get(chat_id) if chat_id is not None else None
        if not queue:
            return
        # Oldest unanswered push in the chat gets this reply: exact with one message in flight
        # per chat, FIFO-approximate when a chat has several.
        update_id = queue.popleft()
        self._replied_at[update_id] = now
        latency = now - self._pushed_at[update_id]
        for fut in self._reply_waiters.pop(update_id, []):
            if not fut.done():
                fut.set_result(latency)

    # --------------------------------------------------------------------- HTTP layer

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        self._writers.add(writer)
        try:
            while await self._serve_one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # client went away (e.g. PTB cancelled a long poll on shutdown)
        except asyncio.CancelledError:
            # Only stop() cancels these tasks. Ending normally matters on 3.11: asyncio's stream
            # callback calls task.exception() and logs a spurious error for a cancelled task.
            pass
        finally:
            self._connections.discard(task)
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Handle one request on a connection; returns whether to keep the connection."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False  # clean close between requests
        lines = head[:-4].decode("latin-1").split("\r\n")
        try:
            verb, target, version = lines[0].split(" ", 2)
        except ValueError:
            await self._write(writer, 400, {"ok": False, "description": "bad request line"}, False)
            return False
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        keep_alive = version.upper() == "HTTP/1.1" and headers.get("connection", "") != "close"
        try:
            if headers.get("transfer-encoding", "").lower() == "chunked":
                body = await _read_chunked(reader)
            else:
                length = int(headers.get("content-length") or 0)
                if length > _MAX_BODY:
                    raise _HttpError(413, "body too large")
                body = await reader.readexactly(length) if length else b""
            status, payload = await self._route(verb, target, headers, body)
        except _HttpError as exc:
            status, payload = exc.status, {"ok": False, "error_code": exc.status}
            payload["description"] = str(exc)
            keep_alive = False
        await self._write(writer, status, payload, keep_alive)
        return keep_alive

    @staticmethod
    async def _write(
        writer: asyncio.StreamWriter, status: int, payload: JSONDict | bytes, keep_alive: bool
    ) -> None:
        if isinstance(payload, bytes):
            body, content_type = payload, "application/octet-stream"
        else:
            body, content_type = json.dumps(payload).encode(), "application/json"
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        head = (
            f"HTTP/1.1 {status} {reason}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
        )
        writer.write(head.encode("latin-1") + body)
        await writer.drain()

    async def _route(
        self, verb: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, JSONDict | bytes]:
        self.requests += 1
        parts = urlsplit(target)
        path = unquote(parts.path)
        if path.startswith("/file/bot"):
            status, content = self.api.download(path)
            return status, content if status == HTTPStatus.OK else json.loads(content)
        if not path.startswith("/bot") or path.count("/") != 2:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        method = path.rsplit("/", 1)[1]
        if not method:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        if verb not in ("GET", "POST"):
            raise _HttpError(405, "method not allowed")
        params, files = _parse_body(body, headers.get("content-type", ""), parts.query)

        if self.rate_limit_per_s is not None and method.startswith("send"):
            now = self.clock()
            window = self._send_window
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= self.rate_limit_per_s:
                self.rate_limited += 1
                return 429, {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1},
                }
            window.append(now)

        arrived = time.perf_counter()  # the reply "reaches Telegram" when its request arrives
        status, response = await self.api.handle(method, params, files)
        if status == HTTPStatus.OK and method in REPLY_METHODS:
            self._record_reply(method, params, arrived)
        return status, response


@contextlib.contextmanager
def serve_in_thread(**kwargs: Any) -> Iterator[FakeBotAPI]:
    """A started :class:`FakeBotAPI` (``kwargs`` as for it) whose event loop runs in a thread
    of its own, for code that calls the Bot API synchronously (``monev check``). Set up what
    it should answer before the code under test calls it; read ``fake.api.calls`` after."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-bot-api", daemon=True)
    thread.start()
    fake = FakeBotAPI(**kwargs)
    try:
        asyncio.run_coroutine_threadsafe(fake.start(), loop).result(timeout=30)
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()
