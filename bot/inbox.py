"""At-least-once handling of updates, in polling and webhook mode.

Polling: Telegram forgets a batch of updates when the *next* getUpdates confirms it (its
offset is past them), and PTB asks for the next batch as soon as it has queued one. So
:class:`InboxRequest` holds that request back until the batch is handled, for a short
while at most: an update handled by then is already in the inbox (its "done" mark writes
it), and only what is still being handled is written down, as received, before the
request goes out. If the process dies earlier, Telegram still holds the batch and sends it
again. A quick answer thus costs the database one write, not two. Webhook: the endpoint
writes an update before answering Telegram. :class:`MonevApplication` skips an update
already done and marks it done after its handlers ran; :func:`replay` queues, at start,
what was received but never handled and remembers what was already done, so a batch
Telegram sends again is handled once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session
from telegram import Update
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

from storage.data.db import session_scope, statement_scope
from storage.services import inbox

log = logging.getLogger(__name__)

CLUSTER = "cluster"  # bot_data key of bot.cluster's Cluster (the same string; no import cycle)

# bot_data key: updates that came through the inbox and are not yet done, id -> raw update
# (kept so that the "done" mark can write an update whose receipt is not written yet).
TRACKED = "inbox_tracked"
DONE = "inbox_done"  # bot_data key: ids of inbox updates known done, newest last
DONE_MAX = 10_000
PROGRESS = "inbox_progress"  # bot_data key: an Event set whenever an inbox update is done

# How long the confirming getUpdates waits for its batch to be handled before writing down
# what is still in flight. Long enough for a text answer (a few ms), short enough that a
# message arriving meanwhile is hardly delayed; a chart or an export outlasts it and is
# written as received, as every update used to be.
CONFIRM_GRACE_S = 0.05

# The inbox's writes take turns: a receipt reads which updates are known, then inserts the
# others, and a "done" mark written between the two would make that insert collide.
_inbox_writes = threading.Lock()


def bot_key(app: Application) -> int:
    """The bot the inbox's rows belong to (``inbox.bot_of`` its token)."""
    return inbox.bot_of(app.bot.token)


def _tracked(app: Application) -> dict[int, dict[str, Any]]:
    return app.bot_data.setdefault(TRACKED, {})


def _done_ids(app: Application) -> OrderedDict[int, None]:
    return app.bot_data.setdefault(DONE, OrderedDict())


def _progress(app: Application) -> asyncio.Event:
    return app.bot_data.setdefault(PROGRESS, asyncio.Event())


def _remember_done(app: Application, ids: list[int]) -> None:
    done = _done_ids(app)
    for uid in ids:
        done[uid] = None
        done.move_to_end(uid)
    while len(done) > DONE_MAX:
        done.popitem(last=False)
    _progress(app).set()


def track(app: Application, payloads: list[dict[str, Any]]) -> list[int]:
    """Note fetched updates as to be handled through the inbox; returns the ids not done."""
    tracked, done = _tracked(app), _done_ids(app)
    todo = []
    for p in payloads:
        uid = p.get("update_id")
        if isinstance(uid, int) and uid not in done:
            tracked[uid] = p
            todo.append(uid)
    return todo


def _receive(engine: Engine, bot: int, rows: list[tuple[int, str]]) -> list[int]:
    with _inbox_writes, session_scope(engine) as s:
        return inbox.receive(s, bot=bot, updates=rows)


async def record(app: Application, payloads: list[dict[str, Any]]) -> list[int]:
    """Write raw updates to the inbox (those not there yet) and track the ones still to
    handle; returns their ids."""
    rows = [(int(p["update_id"]), json.dumps(p)) for p in payloads if "update_id" in p]
    engine = app.bot_data["engine"]
    todo = set(await asyncio.to_thread(_receive, engine, bot_key(app), rows))
    return track(app, [p for p in payloads if p.get("update_id") in todo])


class InboxRequest(BaseRequest):
    """The getUpdates connection: the last batch is in the inbox before it is confirmed."""

    def __init__(self, inner: BaseRequest) -> None:
        self.inner = inner
        self.app: Application | None = None  # set once the Application exists
        self._unconfirmed: list[dict[str, Any]] = []  # fetched, not yet in the inbox

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
        polling = self.app is not None and url.endswith("/getUpdates")
        if polling and self._unconfirmed:
            # This request's offset tells Telegram to forget the last batch. A failed write
            # raises here, before anything is confirmed, and the batch stays for the retry.
            await self._settle()
        code, body = await self.inner.do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if polling and code == 200:
            assert self.app is not None
            # Only the poller gets updates, even beside standbys (bot.cluster): it handles
            # them as the one process that receives them.
            result = json.loads(body).get("result") or []
            if result:
                track(self.app, result)
                self._unconfirmed.extend(result)
        return code, body

    async def _settle(self) -> None:
        """Wait (briefly) for the unconfirmed batch to be handled; write down the rest."""
        assert self.app is not None
        done, progress = _done_ids(self.app), _progress(self.app)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CONFIRM_GRACE_S
        while True:
            left = [p for p in self._unconfirmed if p.get("update_id") not in done]
            if not left or loop.time() >= deadline:
                break
            progress.clear()  # no await since ``left`` was read: no mark can slip between
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(progress.wait(), deadline - loop.time())
        if left:
            await record(self.app, left)
        self._unconfirmed = []


MARKED = "inbox_marked"  # bot_data key: ids marked done inside their handler's transaction


def mark_within(app: Application, update: object) -> Callable[[Session], None] | None:
    """For a handler whose one write transaction is the whole effect of ``update`` (a typed
    /lapor answer, which carries no version of its own): a function that marks the update
    done inside that transaction. The effect and the mark then commit together, so an update
    Telegram sends again after a crash is never applied twice. ``None``: not an inbox update.
    Call :func:`marked` once the transaction has committed."""
    uid = update.update_id if isinstance(update, Update) else None
    raw = _tracked(app).get(uid) if uid is not None else None
    if uid is None or raw is None:
        return None
    payload, bot = json.dumps(raw), bot_key(app)

    def mark(session: Session) -> None:
        inbox.mark_done(session.connection(), bot=bot, update_id=uid, payload=payload)

    return mark


def marked(app: Application, update: object) -> None:
    """The handler's transaction that ran :func:`mark_within`'s function has committed."""
    if isinstance(update, Update):
        app.bot_data.setdefault(MARKED, set()).add(update.update_id)


class MonevApplication(Application):
    """Handles an update of the inbox once, and marks it done after its handlers ran.

    One process (SQLite, a single process, or the poller beside standbys on PostgreSQL):
    only it handles the inbox's updates, so whether one is done is known in memory: from its
    own marks, and from the marks of earlier processes read at start (or at a takeover) by
    :func:`replay`. A replayed update that Telegram also sends again is therefore handled
    once, without a read per update. Several webhook processes on PostgreSQL (bot.cluster):
    every update goes to the inbox first and is handled from there by the process holding its
    sender's lock (:meth:`handle_inbox_update`), which reads what is still to do under that
    lock."""

    async def process_update(self, update: object) -> None:
        uid = update.update_id if isinstance(update, Update) else None
        cluster = self.bot_data.get(CLUSTER)
        if uid is not None and cluster is not None and cluster.shares_updates:
            return  # in the inbox already; handled from there in order (bot.cluster)
        tracked = _tracked(self)
        if uid is not None and uid in _done_ids(self):  # replayed and sent again, or resent
            tracked.pop(uid, None)
            return
        self._reply_slot_ahead(update)
        if uid is None or uid not in tracked:
            await super().process_update(update)
            return
        await self._handle_tracked(update, uid)

    async def handle_inbox_update(self, update: Update, payload: dict[str, Any]) -> None:
        """Handle an update read from the inbox (bot.cluster) and mark it done."""
        _tracked(self)[update.update_id] = payload
        self._reply_slot_ahead(update)
        await self._handle_tracked(update, update.update_id)

    def _reply_slot_ahead(self, update: object) -> None:
        # In a cluster, the reply's slot of the shared budget is taken while the update is
        # handled (bot.cluster.SharedRateLimiter.ahead); no other limiter has one.
        ahead = getattr(self.bot.rate_limiter, "ahead", None)
        if ahead is not None:
            ahead(update)

    async def mark_inbox_done(self, uid: int, payload: dict[str, Any]) -> None:
        await asyncio.to_thread(_done, self.bot_data["engine"], bot_key(self), uid, payload)

    async def _handle_tracked(self, update: object, uid: int) -> None:
        tracked = _tracked(self)
        try:
            await super().process_update(update)
            already: set[int] = self.bot_data.setdefault(MARKED, set())
            if uid in already:  # marked with its effect, in the handler's own transaction
                already.discard(uid)
            else:
                engine, bot = self.bot_data["engine"], bot_key(self)
                await asyncio.to_thread(_done, engine, bot, uid, tracked.get(uid))
            _remember_done(self, [uid])
        finally:
            tracked.pop(uid, None)


def _done(engine: Engine, bot: int, uid: int, payload: dict[str, Any] | None) -> None:
    with _inbox_writes, statement_scope(engine) as conn:
        raw = json.dumps(payload or {"update_id": uid})
        inbox.mark_done(conn, bot=bot, update_id=uid, payload=raw)


def _restore(engine: Engine, bot: int) -> tuple[list[tuple[int, str]], list[int]]:
    with session_scope(engine) as s:
        if inbox.adopt(s, bot=bot):
            log.info("inbox: rows from before the inbox knew its bot now belong to bot %d", bot)
        return inbox.pending(s, bot=bot), inbox.recent_done(s, bot=bot, limit=DONE_MAX)


async def replay(app: Application) -> int:
    """Queue every update received but never handled (the process died first), and
    remember which were handled, so that Telegram sending them again changes nothing."""
    rows, done = await asyncio.to_thread(_restore, app.bot_data["engine"], bot_key(app))
    _remember_done(app, done)
    tracked = _tracked(app)
    for uid, payload in rows:
        data = json.loads(payload)
        update = Update.de_json(data, app.bot)
        tracked[uid] = data
        await app.update_queue.put(update)
    if rows:
        log.info("inbox: %d update(s) received before a restart are handled now", len(rows))
    return len(rows)
