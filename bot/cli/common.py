"""What every ``monev`` command shares: the engine and which office the command is about.

The sub-command modules (ops, office, schedule) import this module and ``bot.cli.main`` imports
them, so nothing here may import ``bot.cli.main`` — that was the import circle this module ends.
Callers use ``common.engine(settings)`` (an attribute lookup) so that tests can substitute it.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.settings import Settings
from storage.data import db
from storage.domain.errors import MonevError
from storage.domain.offices import OfficeName

NO_OFFICE = "Basis data belum berisi perangkat daerah. Impor laporan dulu: monev import FILE"


class OfficeUnknown(MonevError):
    """The command cannot tell which office it is about; the message says why, in Indonesian."""


def engine(settings: Settings) -> Engine:
    """The engine of the configured database (the one factory, ``storage.data.db.make_engine``)."""
    return db.make_engine(settings.effective_database_url)


def migrated_engine(settings: Settings) -> Engine:
    """``engine(settings)`` with the schema brought up to the newest revision."""
    eng = engine(settings)
    db.upgrade(eng)
    return eng


def only_office(eng: Engine) -> OfficeName:
    """The office of a command without ``--opd``: the only one in the database."""
    from storage.services.office import NoOffice, SeveralOffices, the_only_office_name

    with db.read_scope(eng) as s:
        try:
            return the_only_office_name(s)
        except NoOffice:
            raise OfficeUnknown(NO_OFFICE) from None
        except SeveralOffices as exc:
            raise OfficeUnknown(str(exc)) from None


def only_office_id(eng: Engine) -> int:
    """``only_office(eng).id``; ends the command with the reason when there is no single office."""
    try:
        return only_office(eng).id
    except OfficeUnknown as exc:
        raise SystemExit(str(exc)) from None


def resolve_opd(session: Session, text: str | None) -> OfficeName:
    """The office named by ``--opd`` (id, short name, alias or name, typos forgiven);
    without it, the only office there is (``kabupaten.resolve_office``)."""
    from storage.services.kabupaten import resolve_office

    return resolve_office(session, text)


def opd_id_of(eng: Engine, text: str | None) -> int:
    """``resolve_opd`` for a command that only needs the id; ends the command with the
    reason (listing the offices) when ``--opd`` is missing or unclear."""
    from storage.services.office import SetupError

    with db.read_scope(eng) as s:
        try:
            return resolve_opd(s, text).id
        except SetupError as exc:
            raise SystemExit(str(exc)) from None
