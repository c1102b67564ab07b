"""Several processes of one bot on one PostgreSQL, none of them a single point of loss.

With ``DATABASE_URL`` on PostgreSQL, ``monev run`` may be started more than once (behind a
reverse proxy in webhook mode, or as standbys in polling mode). What the processes share is
PostgreSQL alone (:mod:`storage.data.coordination`):

- **Updates (webhook).** Every update is written to the inbox, with its *order key* (the
  sender, else the chat), before Telegram is answered. Whichever process receives it, the
  process that takes the key's advisory lock handles that key's waiting updates oldest first,
  one at a time, and each is marked done (with its effect, for a typed answer) before the
  next. So a typed "33 jt" and the next "40" are never applied to each other's steps,
  whichever process each reached. A process that dies mid-update loses its connection and
  with it the lock; every webhook process sweeps the inbox each second for keys with waiting
  updates, so another one takes the update up within about a second (the lease is the dead
  process's connection).
- **Polling.** One process holds the poller lock and polls; the others wait for it and one
  takes over within :data:`STANDBY_RETRY_S` when the poller dies. Only the poller receives
  updates, so it handles them as a single process does (:mod:`bot.inbox`: in memory, in
  order per sender, no lock or inbox read per update), and the standbys leave the inbox
  alone. Fetched updates are in the inbox before the next getUpdates confirms them, so a
  handover loses none: the new poller first handles what the old one received and did not
  finish (:func:`bot.inbox.replay`), then polls. The poller's lease is its lock connection,
  checked every :data:`STANDBY_RETRY_S`: a poller that lost it stops at once.
- **Jobs.** Each run of a job (reminders, the digest, inbox cleanup) takes the job's lock;
  a process that cannot skips that run. A run cut short by a dying process is resumed by the
  next run elsewhere; every reminder is claimed in ``sent_reminder`` before it is sent.
- **Budget.** Every message reserves a slot of the bot's budget (and of its group's) in
  ``send_budget``, so all processes together keep to Telegram's limits.

SQLite stays single-process: :func:`single_sqlite_process` refuses a second ``monev run``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy.engine import Connection, Engine
from telegram import Update
from telegram.ext import Application, ExtBot

from bot.ratelimit import Request, Result, RetryingRateLimiter
from storage.data.coordination import LockLost, Locks, take_slot, try_lock, unlock
from storage.data.db import read_scope, session_scope, statement_scope
from storage.services import inbox

log = logging.getLogger(__name__)

CLUSTER = "cluster"  # bot_data key: this process's Cluster (PostgreSQL deployments only)

SWEEP_S = 1.0  # how often a process looks for updates nobody is handling
STANDBY_RETRY_S = 1.0  # how often a standby asks for the poller lock
HANDLE_CONCURRENCY = 64  # updates of different senders handled at once, per process
BATCH = 50  # waiting updates of one key read at a time

# Telegram's limits: ~30 messages/s per bot, 20/min per group. Kept under, with no burst:
# Telegram (and the offline fake) count a sliding window, and on a busy machine senders that
# wake late from their slot's sleep bunch up; 25/s leaves room for five of them a second
# (28/s met 429s at load 10).
BOT_INTERVAL = timedelta(seconds=1 / 25)
GROUP_INTERVAL = timedelta(seconds=60 / 20)


def order_key(update: Update) -> int:
    """Whose updates are handled in order: the sender's, else the chat's (as in-process,
    bot.concurrency.PerUserUpdateProcessor)."""
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return 0


def bot_id(token: str) -> str:
    """The bot's id (the token's part before ':'), never the secret part."""
    return token.split(":", 1)[0] or "bot"


def _receive(
    engine: Engine, bot: int, rows: list[tuple[int, str]], keys: dict[int, int]
) -> list[int]:
    from bot.inbox import _inbox_writes

    with _inbox_writes, session_scope(engine) as s:
        return inbox.receive(s, bot=bot, updates=rows, keys=keys)


def _pending_keys(engine: Engine, bot: int) -> list[int]:
    with read_scope(engine) as s:
        return inbox.pending_keys(s.connection(), bot=bot)


def _adopt(engine: Engine, bot: int) -> None:
    with session_scope(engine) as s:
        if inbox.adopt(s, bot=bot):
            log.info("inbox: rows from before the inbox knew its bot now belong to bot %d", bot)


class Cluster:
    """This process's part in a deployment of several (see the module docstring)."""

    def __init__(self, app: Application, engine: Engine, bot: str, *, polling: bool) -> None:
        self.app = app
        # Webhook: any process may receive any update, so updates are handled from the shared
        # inbox under their sender's lock. Polling: only the poller receives them (see the
        # module docstring), and it handles them in-process.
        self.shares_updates = not polling
        self.engine = engine
        self.bot = bot
        self.key = inbox.bot_of(bot)  # the inbox's bot_id (``bot`` is the token's head)
        self.locks = Locks(engine)
        self._draining: set[int] = set()
        self._again: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._held: set[str] = set()  # job locks held by this process (locks are re-entrant)
        self._sweeper: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._sem = asyncio.Semaphore(HANDLE_CONCURRENCY)
        self.handled = 0

    def name(self, what: str) -> str:
        return f"{self.bot}:{what}"

    # --- updates ---------------------------------------------------------------------------

    async def receive(self, payloads: list[dict[str, Any]], updates: list[Update]) -> list[int]:
        """Write updates to the inbox with their order keys (those not there yet), then have
        their keys handled; returns the ids not done before."""
        rows = [(u.update_id, json.dumps(p)) for p, u in zip(payloads, updates, strict=True)]
        keys = {u.update_id: order_key(u) for u in updates}
        todo = await asyncio.to_thread(_receive, self.engine, self.key, rows, keys)
        for uid in todo:
            self.kick(keys[uid])
        return todo

    def kick(self, key: int) -> None:
        """Have ``key``'s waiting updates handled, here if this process gets its lock."""
        if key in self._draining:
            self._again.add(key)  # the running drain looks once more before it lets go
            return
        self._draining.add(key)
        task = asyncio.create_task(self._drain(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self, key: int) -> None:
        lock = self.name(f"urutan:{key}")
        bot, seen = self.key, set[int]()

        def claim(conn: Connection) -> list[tuple[int, str]] | None:
            # The lock and what it guards in one trip: None when another process holds it
            # (that one looks again before letting go).
            if not try_lock(conn, lock):
                return None
            return inbox.pending_of(conn, bot=bot, key=key, limit=BATCH)

        def next_or_release(conn: Connection) -> tuple[bool, list[tuple[int, str]]]:
            rows = [r for r in inbox.pending_of(conn, bot=bot, key=key, limit=BATCH)]
            rows = [r for r in rows if r[0] not in seen]  # one whose mark failed: next sweep
            if rows:
                return True, rows
            unlock(conn, lock)
            # An update written while the lock was held whose writer could not take it is
            # visible now: the writer committed it before it tried.
            return False, inbox.pending_of(conn, bot=bot, key=key, limit=1)

        held = False
        try:
            while True:
                self._again.discard(key)
                claimed = await asyncio.to_thread(self.locks.run, claim)
                if claimed is None:
                    return
                rows, held = claimed, True
                while held:
                    await self._handle(rows, seen)
                    held, rows = await asyncio.to_thread(self.locks.run, next_or_release)
                if not [r for r in rows if r[0] not in seen] and key not in self._again:
                    return
        except LockLost:
            _lock_lost()
        except Exception:
            # The updates stay in the inbox; the next sweep (here or elsewhere) tries again.
            log.exception("handling the waiting updates of one sender failed")
            if held:
                with contextlib.suppress(LockLost):
                    await asyncio.to_thread(self.locks.unlock, lock)
        finally:
            self._draining.discard(key)

    async def _handle(self, rows: list[tuple[int, str]], seen: set[int]) -> None:
        from bot.inbox import MonevApplication

        app = self.app
        assert isinstance(app, MonevApplication)
        for uid, payload in rows:
            if uid in seen:
                continue
            seen.add(uid)
            data = json.loads(payload)
            try:
                update = Update.de_json(data, app.bot)
            except Exception as exc:  # stored by an older version, or not an update
                log.error("inbox: update %s cannot be read (%s)", uid, type(exc).__name__)
                await app.mark_inbox_done(uid, data)
                continue
            if isinstance(app.bot, ExtBot):
                app.bot.insert_callback_data(update)
            async with self._sem:
                await app.handle_inbox_update(update, data)
            self.handled += 1

    async def _sweep(self) -> None:
        while True:
            try:
                for key in await asyncio.to_thread(_pending_keys, self.engine, self.key):
                    self.kick(key)
            except Exception as exc:
                log.warning("inbox sweep failed (%s); trying again", type(exc).__name__)
            await asyncio.sleep(SWEEP_S)

    async def start(self) -> None:
        """Webhook: sweep the inbox for updates nobody is handling. Polling: nothing (the
        process that becomes the poller replays the inbox, :meth:`lead`)."""
        if self.shares_updates and self._sweeper is None:
            await asyncio.to_thread(_adopt, self.engine, self.key)
            self._sweeper = asyncio.create_task(self._sweep())

    async def lead(self) -> int:
        """This process took the poller lock: handle what earlier pollers received and did
        not finish, and watch the lease; returns how many updates were replayed."""
        from bot.inbox import replay

        if self._watchdog is None:
            self._watchdog = asyncio.create_task(self._watch())
        return await replay(self.app)

    async def _watch(self) -> None:
        # The poller lock lives as long as its connection. If that broke, a standby may be
        # polling already: stop before handling anything more (_lock_lost).
        while True:
            await asyncio.sleep(STANDBY_RETRY_S)
            try:
                await asyncio.to_thread(self.locks.ping)
            except LockLost:
                _lock_lost()
                return

    async def stop(self, grace: float = 10.0) -> None:
        """Stop sweeping, let running updates finish (briefly), and let every lock go."""
        for task in (self._sweeper, self._watchdog):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._sweeper = self._watchdog = None
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=grace)
        await asyncio.to_thread(self.locks.close)

    # --- one process at a time ------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def alone(self, what: str) -> AsyncIterator[bool]:
        """Hold ``what``'s lock for the block if no process holds it; yields whether held."""
        lock = self.name(what)
        got = lock not in self._held and await asyncio.to_thread(self.locks.try_lock, lock)
        if got:
            self._held.add(lock)
        try:
            yield got
        finally:
            if got:
                self._held.discard(lock)
                with contextlib.suppress(LockLost):
                    await asyncio.to_thread(self.locks.unlock, lock)


def _lock_lost() -> None:
    """The lock connection broke: this process no longer knows what it holds. It stops (the
    supervisor starts it again); whatever it was handling is still in the inbox."""
    log.critical(
        "koneksi kunci PostgreSQL terputus; proses ini berhenti agar proses lain mengambil alih"
    )
    os.kill(os.getpid(), signal.SIGTERM)


def get(app: Application) -> Cluster | None:
    return app.bot_data.get(CLUSTER)


@contextlib.asynccontextmanager
async def run_alone(app: Application, what: str) -> AsyncIterator[bool]:
    """For a job: whether this process runs it now (always, without a cluster)."""
    cluster = get(app)
    if cluster is None:
        yield True
        return
    try:
        async with cluster.alone(f"tugas:{what}") as mine:
            yield mine
    except LockLost:
        _lock_lost()
        raise


def attach(app: Application, engine: Engine, token: str, *, polling: bool) -> Cluster:
    cluster = Cluster(app, engine, bot_id(token), polling=polling)
    app.bot_data[CLUSTER] = cluster
    return cluster


# --- the shared outgoing budget ---------------------------------------------------------------


def _take(engine: Engine, names: list[tuple[str, timedelta]]) -> float:
    with statement_scope(engine) as conn:
        return max(take_slot(conn, name=n, interval=i) for n, i in names)


# A slot reserved ahead by :meth:`SharedRateLimiter.reserve`, for the next request of the task
# that reserved it: a one-item list holding the loop time the slot came (spent by that
# request, not by a retry after a 429).
_RESERVED: contextvars.ContextVar[list[float | None] | None] = contextvars.ContextVar(
    "budget_reserved", default=None
)


# The chat a request goes to, for _run_request (PTB passes it only whether it is a group).
_CHAT: contextvars.ContextVar[int | None] = contextvars.ContextVar("budget_chat", default=None)
# A slot taken ahead is used only this soon after its time: a send up to 0.05 s after its
# slot puts at most 25 × 1.05 + 1 ≈ 27 sends in any sliding second, inside Telegram's ~30
# with room for the lateness every send has (the request itself). A reply made later takes
# a fresh slot.
AHEAD_USE_WITHIN = 0.05


class SharedRateLimiter(RetryingRateLimiter):
    """PTB's rate limiter and retries, plus a budget every process of the bot shares: a
    message to a chat first reserves a slot of the bot's 25/s and, for a group, of that
    group's 20/min, in PostgreSQL; then waits for it.

    The reply to a person's update takes its slot while the update is handled
    (:meth:`ahead`): the database round trip for the slot overlaps the answer's own work
    instead of following it (issue 29)."""

    def __init__(self, engine: Engine, bot: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.engine = engine
        self.bot = bot
        # private chat id -> the slot being taken for the reply to its update: (seconds to
        # wait, the loop time the slot was taken at)
        self._ahead: dict[int, asyncio.Future[tuple[float, float]]] = {}

    def ahead(self, update: object) -> None:
        """For a person's message or button press in a private chat, start taking the slot
        of the next message to that chat (the reply) while the update is handled. Not used
        within ``AHEAD_USE_WITHIN`` of its time, it goes unused: a slot too many, never one
        too few. (A group's messages have their own limit too: taken when sent.)"""
        if not isinstance(update, Update):
            return
        if update.message is None and update.callback_query is None:
            return
        chat = update.effective_chat
        if chat is None or chat.type != chat.PRIVATE:
            return
        chat_id = chat.id
        loop = asyncio.get_running_loop()
        for other, taken in list(self._ahead.items()):
            if taken.done() and _slot_passed(taken, loop.time()):
                del self._ahead[other]
        if chat_id in self._ahead:
            return

        async def take() -> tuple[float, float]:
            wait = await asyncio.to_thread(_take, self.engine, self._names(False))
            return wait, loop.time()

        taken = self._ahead[chat_id] = asyncio.ensure_future(take())
        # a take that fails and is never used (no reply sent) is not logged as never retrieved
        taken.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def _slot_ahead(self, chat_id: int | None) -> bool:
        """Wait for the slot taken ahead for ``chat_id``, if there is one still to be used
        (within ``AHEAD_USE_WITHIN`` of its time)."""
        taken = self._ahead.pop(chat_id, None) if chat_id is not None else None
        if taken is None:
            return False
        try:
            wait, at = await taken
        except Exception:
            return False  # taken again the usual way (and failing there, raised there)
        now = asyncio.get_running_loop().time()
        if _too_late(at + wait, now):
            return False
        if at + wait > now:
            await asyncio.sleep(at + wait - now)
        return True

    async def process_request(
        self,
        callback: Request,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        chat = data.get("chat_id")
        token = _CHAT.set(chat if isinstance(chat, int) else None)
        try:
            return await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )
        finally:
            _CHAT.reset(token)

    def _names(self, group: int | str | bool) -> list[tuple[str, timedelta]]:
        names = [(f"{self.bot}:kirim", BOT_INTERVAL)]
        if group is not False:
            names.append((f"{self.bot}:grup:{group}", GROUP_INTERVAL))
        return names

    async def reserve(self, chat_id: int) -> None:
        """Take and wait for the slot of the next message this task sends to ``chat_id``,
        before sending it: a broadcast claims each message only once its slot has come, so a
        process dying mid-round leaves in doubt only the messages really in flight."""
        group: int | bool = chat_id if chat_id < 0 else False  # as AIORateLimiter tells groups
        wait = await asyncio.to_thread(_take, self.engine, self._names(group))
        if wait > 0:
            await asyncio.sleep(wait)
        _RESERVED.set([asyncio.get_running_loop().time()])

    @staticmethod
    def unreserve() -> None:
        """The reserved slot goes unused (the message was not to be sent after all)."""
        _RESERVED.set(None)

    async def _run_request(
        self,
        chat: bool,
        group: str | int | bool,
        allow_paid_broadcast: bool,
        callback: Request,
        args: Any,
        kwargs: dict[str, Any],
    ) -> Result:
        # After a 429 every request of this process waits (AIORateLimiter's retry_after).
        # Waited for inside, after their slots were taken, they would all go out at once when
        # it ends and meet the next 429: they wait first, then spend or take their slot.
        await self._retry_after_event.wait()
        if _spend_reserved():
            pass  # this request's slot was taken and waited for (reserve)
        elif chat and group is False and await self._slot_ahead(_CHAT.get()):
            pass  # taken while the update was handled, and waited for
        elif chat:
            wait = await asyncio.to_thread(_take, self.engine, self._names(group))
            if wait > 0:
                await asyncio.sleep(wait)
        return await super()._run_request(
            chat=chat,
            group=group,
            allow_paid_broadcast=allow_paid_broadcast,
            callback=callback,
            args=args,
            kwargs=kwargs,
        )


def _spend_reserved() -> bool:
    """Whether this request spends the slot :meth:`SharedRateLimiter.reserve` waited for: only
    within ``AHEAD_USE_WITHIN`` of its time. A claim that took longer (a busy database) would
    otherwise send late, bunched with the sends of the slots after it; it takes a fresh slot."""
    reserved = _RESERVED.get()
    if not reserved or reserved[0] is None:
        return False
    came, reserved[0] = reserved[0], None
    return not _too_late(came, asyncio.get_running_loop().time())


def _slot_passed(taken: asyncio.Future[tuple[float, float]], now: float) -> bool:
    # exception() also marks a failed take as seen (else asyncio logs it as never retrieved)
    if taken.cancelled() or taken.exception() is not None:
        return True
    wait, at = taken.result()
    return _too_late(at + wait, now)


def _too_late(slot: float, now: float) -> bool:
    """Whether a send at loop time ``now`` is too late for the slot that came at ``slot``: one
    rule for every slot taken before its request (see AHEAD_USE_WITHIN)."""
    return now - slot > AHEAD_USE_WITHIN


# --- SQLite: one process ----------------------------------------------------------------------

SQLITE_BUSY = (
    "Bot lain sudah berjalan dengan basis data SQLite ini ({path}). SQLite hanya untuk satu "
    "proses: hentikan proses itu dulu, atau pakai PostgreSQL (DATABASE_URL) untuk menjalankan "
    "beberapa proses sekaligus."
)


def sqlite_run_lock(url: Any) -> IO[bytes] | None:
    """For ``monev run``: on SQLite, :func:`single_sqlite_process` for its file; else None."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    return single_sqlite_process(Path(parsed.database).resolve())


def single_sqlite_process(db_path: Path) -> IO[bytes]:
    """Hold a lock beside the SQLite file for as long as the process runs; raise
    :class:`SystemExit` with an Indonesian message when another process holds it. The
    operating system releases it when the process ends, however it ends."""
    import fcntl

    lock_path = db_path.with_name(db_path.name + ".run.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(lock_path, "ab")  # noqa: SIM115 - held open for the life of the process
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise SystemExit(SQLITE_BUSY.format(path=db_path)) from None
    return handle


# --- polling with standbys --------------------------------------------------------------------


async def serve_polling(
    app: Application,
    post_init: Callable[[Application], Awaitable[None]],
    post_shutdown: Callable[[Application], Awaitable[None]],
) -> None:
    """``monev run`` in polling mode on PostgreSQL: handle updates from the inbox always, poll
    while holding the poller lock, and stand by for it otherwise; until SIGINT/SIGTERM. The
    lifecycle hooks come from the composition root (bot.app), driven by hand as in webhook
    mode."""
    cluster = get(app)
    assert cluster is not None and app.updater is not None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    await app.initialize()
    try:
        await post_init(app)
        await app.start()
        try:
            waiting_logged = False
            while not stop.is_set():
                try:
                    got = await asyncio.to_thread(cluster.locks.try_lock, cluster.name("poller"))
                except LockLost:
                    _lock_lost()
                    break
                if got:
                    log.info("polling: proses ini yang mengambil update dari Telegram")
                    await cluster.lead()
                    await app.updater.start_polling(
                        allowed_updates=Update.ALL_TYPES, drop_pending_updates=False
                    )
                    break
                if not waiting_logged:
                    log.info("polling: proses lain sedang mengambil update; proses ini siaga")
                    waiting_logged = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), STANDBY_RETRY_S)
            await stop.wait()
        finally:
            if app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
    finally:
        await app.shutdown()
        await post_shutdown(app)
