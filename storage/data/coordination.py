"""What several processes of one bot share through PostgreSQL, and nothing else: advisory
locks (who handles a sender's updates, who polls, who runs a job) and the outgoing message
budget. No broker: a lock held by a process that dies is released by the server when its
connection goes, which is the lease.

Lock names are hashed with the schema (``current_schema()``) so that two deployments, or two
test schemas, in one database never take each other's locks.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from storage.domain.errors import MonevError

log = logging.getLogger(__name__)

T = TypeVar("T")

_KEY = "hashtextextended(current_schema() || '/' || :name, 0)"
_TRY = text(f"SELECT pg_try_advisory_lock({_KEY})")
_UNLOCK = text(f"SELECT pg_advisory_unlock({_KEY})")


def try_lock(conn: Connection, name: str) -> bool:
    """On ``conn`` (a :class:`Locks` connection): take ``name`` if no process holds it."""
    return bool(conn.execute(_TRY, {"name": name}).scalar())


def unlock(conn: Connection, name: str) -> None:
    conn.execute(_UNLOCK, {"name": name})


class LockLost(MonevError, RuntimeError):
    """The connection holding this process's locks broke: none of them is held any more."""


class Locks:
    """Session-level advisory locks on one connection of their own, held for as long as the
    process wants them. Each call is one short statement; calls from several threads take
    turns. If the connection breaks, every lock is gone: :class:`LockLost` says so, once,
    and the process must stop acting on what it held (another process takes over)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None
        self._mutex = threading.Lock()
        self.lost = False

    def _connection(self) -> Connection:
        if self.lost:
            raise LockLost(detail="advisory lock connection lost")
        if self._conn is None:
            # AUTOCOMMIT: the locks are the session's, not a transaction's, and no transaction
            # is left open on this connection between calls.
            self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._conn

    def run(self, work: Callable[[Connection], T]) -> T:
        """``work`` on the lock connection, alone: a few statements around a lock (take it and
        read what it guards) in one trip to a worker thread instead of one trip each."""
        with self._mutex:
            try:
                return work(self._connection())
            except LockLost:
                raise
            except Exception as exc:
                self.lost = True
                log.error("advisory locks: connection lost (%s)", type(exc).__name__)
                raise LockLost(detail="advisory lock connection lost") from exc

    def try_lock(self, name: str) -> bool:
        """Take ``name`` if no process holds it; True when this process holds it now."""
        return self.run(lambda conn: try_lock(conn, name))

    def unlock(self, name: str) -> None:
        self.run(lambda conn: unlock(conn, name))

    def ping(self) -> None:
        """Raise :class:`LockLost` if the connection (and with it every lock) is gone."""
        self.run(lambda conn: conn.execute(_PING))

    def close(self) -> None:
        with self._mutex:
            if self._conn is not None:
                # The server releases every lock of the session; a broken one has none left.
                with contextlib.suppress(Exception):
                    self._conn.close()
                self._conn = None


_PING = text("SELECT 1")


# --- the outgoing budget (GCRA) -------------------------------------------------------------

_TAKE = text(
    """
    INSERT INTO send_budget (name, tat)
    VALUES (:name, clock_timestamp() + make_interval(secs => :interval))
    ON CONFLICT (name) DO UPDATE
       SET tat = GREATEST(send_budget.tat, clock_timestamp()) + make_interval(secs => :interval)
    RETURNING EXTRACT(EPOCH FROM (send_budget.tat - clock_timestamp())) - :interval
    """
)


def take_slot(conn: Connection, *, name: str, interval: timedelta) -> float:
    """Reserve the next slot of the limit ``name`` (one message per ``interval``, no burst)
    and return how many seconds to wait for it (0 or less: send now). Every process reserves
    through the same row, so together they never go faster than the limit."""
    wait = conn.execute(
        _TAKE, {"name": name[:64], "interval": interval.total_seconds()}
    ).scalar_one()
    return float(wait)
