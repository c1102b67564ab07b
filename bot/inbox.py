"""At-least-once handling of updates, in polling and webhook mode.

Polling: :class:`InboxRequest` wraps the getUpdates connection and writes every fetched
update to the inbox before PTB sees it (PTB confirms a batch to Telegram as soon as it asks
for the next one, before handling it). Webhook: the endpoint writes it before answering
Telegram. :class:`MonevApplication` skips an update already done and marks it done after its
handlers ran; :func:`replay` queues, at start, what was received but never handled.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import OrderedDict
from typing import Any

from sqlalchemy.engine import Engine
from telegram import Update
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

from storage.data.db import read_scope, session_scope
from storage.services import inbox

log = logging.getLogger(__name__)

TRACKED = "inbox_tracked"  # bot_data key: ids of updates that came through the inbox


# The inbox's own writes queue here rather than in SQLite: the "done" mark of one update and
# the receipt of the next often meet, and SQLite's busy handler waits in sleeps of 1 ms and
# more where a lock hands over at once.
_inbox_writes = threading.Lock()


def _receive(engine: Engine, rows: list[tuple[int, str]]) -> list[int]:
    with _inbox_writes, session_scope(engine) as s:
        return inbox.receive(s, updates=rows)


async def record(app: Application, payloads: list[dict[str, Any]]) -> list[int]:
    """Write raw updates to the inbox; returns the ids still to handle."""
    rows = [(int(p["update_id"]), json.dumps(p)) for p in payloads if "update_id" in p]
    todo = await asyncio.to_thread(_receive, app.bot_data["engine"], rows)
    app.bot_data.setdefault(TRACKED, set()).update(todo)
    return todo


class InboxRequest(BaseRequest):
    """The getUpdates connection, writing what it fetched to the inbox first."""

    def __init__(self, inner: BaseRequest) -> None:
        self.inner = inner
        self.app: Application | None = None  # set once the Application exists

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

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
        code, body = await self.inner.do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if self.app is not None and url.endswith("/getUpdates") and code == 200:
            result = json.loads(body).get("result") or []
            if result:
                await record(self.app, result)
        return code, body


DONE = "inbox_done"  # bot_data key: ids of inbox updates this process handled, newest last
DONE_MAX = 10_000


class MonevApplication(Application):  # type: ignore[type-arg]
    """Handles an update of the inbox once, and marks it done after its handlers ran.

    Whether a tracked update is still to handle was read when it was written to the inbox
    (``record`` tracks only those not done); since then only this process can have handled
    it (one process polls, or receives the webhook), e.g. when a replay after a restart and
    a re-fetch both queued it. So that is checked in memory, not with another read per
    update."""

    async def process_update(self, update: object) -> None:
        tracked: set[int] = self.bot_data.setdefault(TRACKED, set())
        uid = update.update_id if isinstance(update, Update) else None
        if uid is None or uid not in tracked:
            await super().process_update(update)
            return
        done: OrderedDict[int, None] = self.bot_data.setdefault(DONE, OrderedDict())
        if uid in done:
            tracked.discard(uid)
            return
        await super().process_update(update)
        await asyncio.to_thread(_done, self.bot_data["engine"], uid)
        done[uid] = None
        if len(done) > DONE_MAX:
            done.popitem(last=False)
        tracked.discard(uid)


def _done(engine: Engine, uid: int) -> None:
    with _inbox_writes, session_scope(engine) as s:
        inbox.mark_done(s, update_id=uid)


def _pending(engine: Engine) -> list[tuple[int, str]]:
    with read_scope(engine) as s:
        return inbox.pending(s)


async def replay(app: Application) -> int:
    """Queue every update received but never handled (the process died first)."""
    rows = await asyncio.to_thread(_pending, app.bot_data["engine"])
    tracked: set[int] = app.bot_data.setdefault(TRACKED, set())
    for uid, payload in rows:
        update = Update.de_json(json.loads(payload), app.bot)
        tracked.add(uid)
        await app.update_queue.put(update)
    if rows:
        log.info("inbox: %d update(s) received before a restart are handled now", len(rows))
    return len(rows)
