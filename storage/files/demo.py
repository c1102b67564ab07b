"""The bundled demo data: three real reports of 2022, loaded into an empty database."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import select

from storage.data.db import read_scope
from storage.data.models import PerangkatDaerah
from storage.files.importer import ImportSummary, import_file

SEED_FILE = Path(__file__).with_name("seed") / "laporan-kinerja-2022-tw1-tw3.txt"


def is_empty(engine: Engine) -> bool:
    with read_scope(engine) as session:
        return session.exec(select(PerangkatDaerah.id)).first() is None


def ensure_demo_data(engine: Engine) -> ImportSummary | None:
    """Fill an empty database with the demo reports; leave any other database alone."""
    if not is_empty(engine):
        return None
    return import_file(engine, SEED_FILE, actor="demo")
