"""The callback context every handler receives: the database engine and the current actor."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session
from telegram.ext import Application, CallbackContext, ExtBot

from storage.data import boundary
from storage.data.db import read_scope, session_scope
from storage.domain.errors import MonevError
from storage.domain.policy import Scope
from storage.services.actor import Actor, actor_scope, load_actor
from storage.services.cache import FigureCache
from storage.services.users import sender_office

T = TypeVar("T")
P = ParamSpec("P")

__all__ = ["FIGURE_CACHE", "Actor", "MonevContext", "NoOfficeChosen", "actor_scope", "load_actor"]

FIGURE_CACHE = "figure_cache"  # bot_data key: the FigureCache of bot_data["engine"]


class NoOfficeChosen(MonevError):
    """A command about "the" office from someone who belongs to no office, in a deployment
    serving several: the kabupaten roles name an office (or ask a kabupaten question)."""


class MonevContext(CallbackContext[ExtBot, dict, dict, dict]):
    """PTB creates one context per update and reuses it across handler groups, so the actor
    loaded in group -1 (for a typed text: by its turn, ``bot.handlers.routing.on_text``) is
    seen by every handler of that update."""

    def __init__(
        self, application: Application, chat_id: int | None = None, user_id: int | None = None
    ):
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self.actor: Actor | None = None

    @property
    def engine(self) -> Engine:
        return self.bot_data["engine"]

    @property
    def opd_id(self) -> int:
        """The office this update is about: the sender's own (the one place every handler
        gets it from, so nobody reads another office by default); for someone without an
        office, the only office of a one-office deployment."""
        own = sender_office(
            opd_id=self.actor.opd_id if self.actor is not None else None,
            only_office=self.bot_data.get("opd_id"),
        )
        if own is None:
            raise NoOfficeChosen
        return own

    @property
    def scope(self) -> Scope:
        """The offices this update may read: every session ``read``/``write`` opens for it
        carries this scope (``storage/data/boundary.py``), so no handler reads another
        office's rows, whatever ids its buttons or text carry."""
        return actor_scope(self.actor, self.bot_data.get("opd_id"))

    def may_see(self, opd_id: int | None) -> bool:
        """May the sender read office ``opd_id`` (``policy.may_see_office``)?"""
        return self.scope.allows(opd_id)

    @property
    def figure_cache(self) -> FigureCache | None:
        return self.bot_data.get(FIGURE_CACHE)

    async def read(
        self, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn(session, ...)`` in a worker thread on a read-only session that carries
        the figure cache and the sender's scope."""
        scoped = _within(self.scope, fn)
        return await asyncio.to_thread(_read, self.engine, self.figure_cache, scoped, args, kwargs)

    async def write(
        self, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn(session, ...)`` in a worker thread in one write transaction (no cache:
        a write session reads what it writes), within the sender's scope."""
        return await asyncio.to_thread(_write, self.engine, _within(self.scope, fn), args, kwargs)

    async def write_cached(
        self, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``write``, reading through the figure cache until the transaction's first write
        (``FigureCache.write``): for a step that reads a plan, then saves."""
        cache = self.figure_cache
        if cache is None:
            return await self.write(fn, *args, **kwargs)
        scoped = _within(self.scope, fn)
        return await asyncio.to_thread(_write_cached, self.engine, cache, scoped, args, kwargs)


def _within(
    scope: Scope, fn: Callable[Concatenate[Session, P], T]
) -> Callable[Concatenate[Session, P], T]:
    """``fn(session, …)`` on a session that first enters ``scope`` (storage/data/boundary.py)."""

    @functools.wraps(fn)
    def scoped(session: Session, *args: P.args, **kwargs: P.kwargs) -> T:
        boundary.enter(session, scope)
        return fn(session, *args, **kwargs)

    return scoped


def _read(
    engine: Engine, cache: FigureCache | None, fn: Callable[..., T], args: tuple, kwargs: dict
) -> T:
    with read_scope(engine) if cache is None else cache.read(engine) as session:
        return fn(session, *args, **kwargs)


def _write(engine: Engine, fn: Callable[..., T], args: tuple, kwargs: dict) -> T:
    with session_scope(engine) as session:
        return fn(session, *args, **kwargs)


def _write_cached(
    engine: Engine, cache: FigureCache, fn: Callable[..., T], args: tuple, kwargs: dict
) -> T:
    with cache.write(engine) as session:
        return fn(session, *args, **kwargs)
