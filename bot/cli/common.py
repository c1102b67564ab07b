"""What every ``monev`` command shares: the engine and which office the command is about.

The sub-command modules (ops, office, schedule) import this module and ``bot.cli.main`` imports
them, so nothing here may import ``bot.cli.main`` — that was the import circle this module ends.
Callers use ``common.engine(settings)`` (an attribute lookup) so that tests can substitute it.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.settings import Settings
from storage.data import db
from storage.data.models import PerangkatDaerah

NO_OFFICE = "Basis data belum berisi perangkat daerah. Impor laporan dulu: monev import FILE"


class OfficeUnknown(Exception):
    """The command cannot tell which office it is about; the message says why, in Indonesian."""


def engine(settings: Settings) -> Engine:
    """The engine of the configured database (the one factory, ``storage.data.db.make_engine``)."""
    return db.make_engine(settings.effective_database_url)


def migrated_engine(settings: Settings) -> Engine:
    """``engine(settings)`` with the schema brought up to the newest revision."""
    eng = engine(settings)
    db.upgrade(eng)
    return eng


def only_office(eng: Engine) -> PerangkatDaerah:
    """The office of a command without ``--opd``: the only one in the database."""
    from storage.services.office import NoOffice, SeveralOffices, the_only_office

    with db.read_scope(eng) as s:
        try:
            return the_only_office(s)
        except NoOffice:
            raise OfficeUnknown(NO_OFFICE) from None
        except SeveralOffices as exc:
            raise OfficeUnknown(str(exc)) from None


def only_office_id(eng: Engine) -> int:
    """``only_office(eng).id``; ends the command with the reason when there is no single office."""
    try:
        opd_id = only_office(eng).id
    except OfficeUnknown as exc:
        raise SystemExit(str(exc)) from None
    assert opd_id is not None
    return opd_id


def resolve_opd(session: Session, text: str | None) -> PerangkatDaerah:
    """The office named by ``--opd`` (id or name); without it, the only office there is."""
    from storage.files.importer import normalise_name
    from storage.services.office import SetupError

    offices = list(session.exec(select(PerangkatDaerah).order_by(PerangkatDaerah.id)).all())
    if not offices:
        raise SetupError(
            "Basis data belum berisi perangkat daerah. Buat dulu dengan: "
            'monev init --opd "NAMA DINAS" --kepala "NAMA" --nip "NIP"'
        )
    if text is None:
        if len(offices) == 1:
            return offices[0]
        names = "; ".join(f"{o.id}: {o.nama}" for o in offices)
        raise SetupError(f"Ada {len(offices)} perangkat daerah ({names}). Pilih dengan --opd ID.")
    text = text.strip()
    if text.isdecimal():
        found = [o for o in offices if o.id == int(text)]
    else:
        key = normalise_name(text)
        found = [o for o in offices if normalise_name(o.nama) == key] or [
            o for o in offices if key and key in normalise_name(o.nama)
        ]
    if len(found) != 1:
        names = "; ".join(f"{o.id}: {o.nama}" for o in offices)
        what = "tidak ditemukan" if not found else "cocok dengan lebih dari satu"
        raise SetupError(f"Perangkat daerah '{text}' {what}. Yang ada: {names}.")
    return found[0]
