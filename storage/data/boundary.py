"""The office boundary: where an office's data is kept inside its office, by construction.

Every session the bot opens for a person carries that person's :class:`~storage.domain.policy.
Scope` (``enter``): their own office, every office for the kabupaten roles, or none for
someone not (or no longer) an active user. From then on:

- every ORM statement through the session (``select``, ``session.get``, joins, ``update`` and
  ``delete``) that touches an office-owned table gets a WHERE criterion keeping the rows of
  offices outside the scope out (the ``do_orm_execute`` hook below). An id from a button of
  another office then names nothing: ``session.get(Pelaporan, id)`` is None, exactly as for
  an id that never existed, and the handler says so as it does for a stale button;
- the statements that bypass the ORM (plain Core rows on ``session.connection()``, used where
  speed matters: a whole office-year, the reporting status) take an office id, and ``require``
  refuses an office outside the scope before any row is read (:class:`OutOfScope`).

Sessions opened without a scope (the jobs that send each office its own reminders and
digest, the ``monev`` command line, start-up) read everything: they are the system, not a
person. Tables that name the directory rather than an office's data — the offices and their
bidang, which /daftar shows to anyone choosing where to ask for access — and per-person or
per-chat bookkeeping (conversation state, inbox, reminders sent, settings) carry no office.

Office-owned, and how a row names its office:

- directly (``opd_id``): node, sasaran, report, finding, jadwal, grup_kantor;
- through its bidang: pelaporan, draft;
- through its node: realisasi, node_plan, rencana_penarikan, bukti;
- through its sasaran: indikator_sasaran, narasi; capaian_sasaran through its indikator;
- through its pelaporan: verif_message;
- people (``app_user``): a person of an office is seen inside that office only; the
  kabupaten roles (no office) by everyone. Someone outside every office (a stranger
  registering) reads people unfiltered: their own row and the admins their request goes to.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import event, exists, false, or_
from sqlalchemy.orm import ORMExecuteState, with_loader_criteria
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.util import find_tables
from sqlmodel import Session, SQLModel, col

from storage.data.models import (
    AppUser,
    Bidang,
    Bukti,
    CapaianSasaran,
    Draft,
    Finding,
    GrupKantor,
    ImportedReport,
    IndikatorSasaran,
    Jadwal,
    Narasi,
    Node,
    NodePlan,
    Pelaporan,
    Realisasi,
    RencanaPenarikan,
    Sasaran,
    VerifMessage,
    table_of,
)
from storage.domain.errors import MonevError
from storage.domain.policy import Scope

SCOPE_KEY = "office_scope"  # session.info: the Scope of the person the session works for


class OutOfScope(MonevError, PermissionError):
    """A read of an office outside the session's scope was refused before any row was read."""

    default_message = (
        "Data itu milik perangkat daerah lain; Anda hanya dapat melihat data perangkat "
        "daerah Anda sendiri."
    )

    def __init__(self, opd_id: int | None) -> None:
        super().__init__(detail=f"office {opd_id} is outside this session's scope")
        self.opd_id = opd_id


def enter(session: Session, scope: Scope) -> None:
    """From now on the session reads only the offices inside ``scope``."""
    session.info[SCOPE_KEY] = scope


def scope_of_session(session: Session) -> Scope | None:
    """The scope the session reads within (None: a system session, every office)."""
    return session.info.get(SCOPE_KEY)


def require(session: Session, opd_id: int | None) -> None:
    """Refuse (``OutOfScope``) a read of office ``opd_id`` the session's scope leaves out:
    the guard of every office-keyed read that bypasses the ORM (and so its criteria)."""
    scope = session.info.get(SCOPE_KEY)
    if scope is not None and not scope.allows(opd_id):
        raise OutOfScope(opd_id)


def require_every_office(session: Session) -> None:
    """Refuse (``OutOfScope``) a read across every office unless the session may read them
    all (the kabupaten roles, or the system)."""
    scope = session.info.get(SCOPE_KEY)
    if scope is not None and not scope.kabupaten:
        raise OutOfScope(None)


def allows(session: Session, opd_id: int | None) -> bool:
    """Is office ``opd_id`` inside the session's scope (always, for a system session)?"""
    scope = session.info.get(SCOPE_KEY)
    return scope is None or scope.allows(opd_id)


# --- the criteria --------------------------------------------------------------------------------

# entity -> criteria for office ``opd`` (a lambda of the entity, as with_loader_criteria wants).
# Correlated EXISTS, not IN (subquery): a primary-key probe per row, whatever the office's size.
_Criteria = Callable[[int], Callable[[Any], Any]]


def _direct(opd: int) -> Callable[[Any], Any]:
    return lambda cls: cls.opd_id == opd


def _via_bidang(opd: int) -> Callable[[Any], Any]:
    return lambda cls: (
        exists()
        .where(col(Bidang.id) == cls.bidang_id, col(Bidang.opd_id) == opd)
        .correlate_except(Bidang)
    )


def _via_node(opd: int) -> Callable[[Any], Any]:
    return lambda cls: (
        exists().where(col(Node.id) == cls.node_id, col(Node.opd_id) == opd).correlate_except(Node)
    )


def _via_sasaran(opd: int) -> Callable[[Any], Any]:
    return lambda cls: (
        exists()
        .where(col(Sasaran.id) == cls.sasaran_id, col(Sasaran.opd_id) == opd)
        .correlate_except(Sasaran)
    )


def _via_indikator(opd: int) -> Callable[[Any], Any]:
    return lambda cls: (
        exists()
        .where(
            col(IndikatorSasaran.id) == cls.indikator_id,
            col(Sasaran.id) == col(IndikatorSasaran.sasaran_id),
            col(Sasaran.opd_id) == opd,
        )
        .correlate_except(IndikatorSasaran, Sasaran)
    )


def _via_pelaporan(opd: int) -> Callable[[Any], Any]:
    return lambda cls: (
        exists()
        .where(
            col(Pelaporan.id) == cls.pelaporan_id,
            col(Bidang.id) == col(Pelaporan.bidang_id),
            col(Bidang.opd_id) == opd,
        )
        .correlate_except(Pelaporan, Bidang)
    )


def _people(opd: int) -> Callable[[Any], Any]:
    # The kabupaten roles belong to no office: seen (as names) inside every office.
    return lambda cls: or_(cls.opd_id == opd, cls.opd_id.is_(None))


OFFICE_OWNED: dict[type[SQLModel], _Criteria] = {
    Node: _direct,
    Sasaran: _direct,
    ImportedReport: _direct,
    Finding: _direct,
    Jadwal: _direct,
    GrupKantor: _direct,
    Pelaporan: _via_bidang,
    Draft: _via_bidang,
    Realisasi: _via_node,
    NodePlan: _via_node,
    RencanaPenarikan: _via_node,
    Bukti: _via_node,
    IndikatorSasaran: _via_sasaran,
    Narasi: _via_sasaran,
    CapaianSasaran: _via_indikator,
    VerifMessage: _via_pelaporan,
    AppUser: _people,
}
_BY_TABLE: dict[str, type] = {table_of(e).name: e for e in OFFICE_OWNED}

# Built once per office and reused: building the options costs more than applying them.
_options: dict[int | None, dict[type, Any]] = {}
_options_lock = threading.Lock()


def _options_for(scope: Scope) -> dict[type, Any]:
    key = scope.opd_id
    found = _options.get(key)
    if found is not None:
        return found
    built: dict[type, Any] = {}
    for entity, criteria in OFFICE_OWNED.items():
        if scope.opd_id is None:
            if entity is AppUser:
                continue  # outside every office: one's own row and the admins to ask
            built[entity] = with_loader_criteria(entity, false(), include_aliases=True)
        else:
            built[entity] = with_loader_criteria(
                entity,
                criteria(scope.opd_id),
                include_aliases=True,
                track_closure_variables=True,
            )
    with _options_lock:
        return _options.setdefault(key, built)


# The entities a statement touches, kept for statements built once and run many times (the
# conversation state, the figure cache's lookups): walking a statement costs tens of µs.
_touched_by: weakref.WeakKeyDictionary[Any, frozenset[type]] = weakref.WeakKeyDictionary()


def _touched(state: ORMExecuteState) -> frozenset[type]:
    """The office-owned entities a statement reads or writes: its result entities and every
    table it names anywhere (FROM, joins, subqueries, the target of an UPDATE or DELETE) — a
    count or a join reveals rows as surely as a select."""
    statement = state.statement
    try:
        return _touched_by[statement]
    except (KeyError, TypeError):
        pass
    found = {m.class_ for m in state.all_mappers if m.class_ in OFFICE_OWNED}
    clause = cast(ClauseElement, statement)  # an ORM statement is a clause
    for table in find_tables(clause, include_aliases=True, include_joins=True, include_crud=True):
        entity = _BY_TABLE.get(getattr(table, "name", ""))
        if entity is not None:
            found.add(entity)
    touched = frozenset(found)
    with contextlib.suppress(TypeError):
        _touched_by[statement] = touched
    return touched


@event.listens_for(Session, "do_orm_execute")
def _keep_inside(state: ORMExecuteState) -> None:
    scope: Scope | None = state.session.info.get(SCOPE_KEY)
    if scope is None or scope.kabupaten:
        return  # a system session, or the kabupaten roles: every office
    if state.is_column_load or state.is_relationship_load:
        return  # loads of rows the statement that loaded them already filtered
    if not (state.is_select or state.is_update or state.is_delete):
        return
    touched = _touched(state)
    if not touched:
        return
    options = _options_for(scope)
    wanted = [options[e] for e in touched if e in options]
    if wanted:
        state.statement = state.statement.options(*wanted)
