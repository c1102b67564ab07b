"""Large databases for the size axis of the benchmarks, built from the demo office-year.

- :func:`scale_year` makes the demo office-year ``k`` times as large (``k`` × 33 sub kegiatan):
  every program with its kegiatan, sub kegiatan, plan rows, realisation and indicators is
  copied ``k - 1`` times under the same sasaran ("… #2", "… #3", …).
- :func:`many_offices` adds offices until there are ``offices``, each with ``years`` years
  shaped like the demo one (2013…2022), so the cache and the per-office queries are measured
  among 400 office-years.

Rows are written with Core bulk inserts (no audit entries: the data is a fixture, and the
benchmarks start from an empty cache anyway). ``databases`` yields a fresh demo database on
SQLite or on PostgreSQL (a database of its own, dropped afterwards).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlmodel import col

from storage.data import db
from storage.data.models import (
    Bidang,
    CapaianSasaran,
    IndikatorSasaran,
    Node,
    NodePlan,
    PerangkatDaerah,
    Realisasi,
    Sasaran,
)
from storage.data.statistics import analyze_all
from storage.files.demo import SEED_FILE
from storage.files.importer import import_file

DEMO_OPD, DEMO_YEAR = 1, 2022


@contextlib.contextmanager
def demo_database(folder: Path, pg_url: str | None = None) -> Iterator[Engine]:
    """A migrated database holding the three demo reports (SQLite under ``folder``, or a
    fresh PostgreSQL database next to ``pg_url``'s)."""
    with empty_database(folder, pg_url) as engine:
        import_file(engine, SEED_FILE, actor="bench")
        yield engine


@contextlib.contextmanager
def empty_database(folder: Path, pg_url: str | None = None) -> Iterator[Engine]:
    """A migrated database without data (SQLite under ``folder``, or a fresh PostgreSQL
    database next to ``pg_url``'s, dropped afterwards)."""
    if pg_url is None:
        engine = db.make_engine(f"sqlite:///{folder / 'bench.db'}")
        drop = None
    else:
        name = f"bench_{uuid.uuid4().hex[:10]}"
        url = make_url(db.normalise_url(pg_url))
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine = db.make_engine(url.set(database=name).render_as_string(hide_password=False))
        drop = (admin, name)
    try:
        db.upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        if drop is not None:
            admin, name = drop
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def _rows(conn: Connection, model: type, *where: Any) -> list[dict[str, Any]]:
    table = model.__table__  # type: ignore[attr-defined]
    return [dict(r._mapping) for r in conn.execute(select(table).where(*where))]


class _Ids:
    """Fresh primary keys per table (bulk inserts give ids explicitly, on either database)."""

    def __init__(self, conn: Connection) -> None:
        self.conn, self.next = conn, {}

    def take(self, model: type) -> int:
        table = model.__table__  # type: ignore[attr-defined]
        if table.name not in self.next:
            top = self.conn.execute(select(func.max(table.c.id))).scalar() or 0
            self.next[table.name] = top + 1
        self.next[table.name] += 1
        return self.next[table.name] - 1


@dataclass
class _Source:
    """The demo office-year's rows, read once before any copy is written."""

    nodes: list[dict[str, Any]]
    plans: list[dict[str, Any]]
    reals: list[dict[str, Any]]
    indicators: list[dict[str, Any]]
    values: list[dict[str, Any]]
    depth: dict[int, int]

    @classmethod
    def read(cls, conn: Connection) -> _Source:
        nodes = _rows(conn, Node, Node.opd_id == DEMO_OPD, Node.tahun == DEMO_YEAR)
        in_year = select(Node.id).where(Node.opd_id == DEMO_OPD, Node.tahun == DEMO_YEAR)
        sasaran = select(Sasaran.id).where(Sasaran.opd_id == DEMO_OPD, Sasaran.tahun == DEMO_YEAR)
        inds = _rows(conn, IndikatorSasaran, col(IndikatorSasaran.sasaran_id).in_(sasaran))
        ind_ids = select(IndikatorSasaran.id).where(col(IndikatorSasaran.sasaran_id).in_(sasaran))
        by_id = {n["id"]: n for n in nodes}
        depth = {}
        for n in nodes:
            d, p = 0, n["parent_id"]
            while p is not None:
                d, p = d + 1, by_id[p]["parent_id"]
            depth[n["id"]] = d
        return cls(
            # parents first: a node's parent must exist when it is inserted (PostgreSQL checks)
            nodes=sorted(nodes, key=lambda n: (depth[n["id"]], n["id"])),
            plans=_rows(conn, NodePlan, col(NodePlan.node_id).in_(in_year)),
            reals=_rows(conn, Realisasi, col(Realisasi.node_id).in_(in_year)),
            indicators=inds,
            values=_rows(conn, CapaianSasaran, col(CapaianSasaran.indikator_id).in_(ind_ids)),
            depth=depth,
        )


def _copy_year(
    conn: Connection,
    ids: _Ids,
    src: _Source,
    *,
    opd_id: int,
    tahun: int,
    suffix: str,
    sasaran_map: dict[int, int] | None,
) -> None:
    """Copy the demo office-year's plan tree (and its figures and indicators) into
    (``opd_id``, ``tahun``); ``sasaran_map`` maps demo sasaran to the target's (None: the
    same sasaran)."""
    node_map = {n["id"]: ids.take(Node) for n in src.nodes}
    smap = sasaran_map or {}
    nodes = [
        {
            **n,
            "id": node_map[n["id"]],
            "opd_id": opd_id,
            "tahun": tahun,
            "sasaran_id": smap.get(n["sasaran_id"], n["sasaran_id"]),
            "parent_id": node_map.get(n["parent_id"]) if n["parent_id"] else None,
            "nama": f"{n['nama']}{suffix}",
        }
        for n in src.nodes
    ]
    conn.execute(insert(Node), nodes)
    conn.execute(
        insert(NodePlan),
        [{**p, "id": ids.take(NodePlan), "node_id": node_map[p["node_id"]]} for p in src.plans],
    )
    if src.reals:
        conn.execute(
            insert(Realisasi),
            [
                {**r, "id": ids.take(Realisasi), "node_id": node_map[r["node_id"]]}
                for r in src.reals
            ],
        )
    ind_map = {i["id"]: ids.take(IndikatorSasaran) for i in src.indicators}
    if ind_map:
        conn.execute(
            insert(IndikatorSasaran),
            [
                {
                    **i,
                    "id": ind_map[i["id"]],
                    "sasaran_id": smap.get(i["sasaran_id"], i["sasaran_id"]),
                    "program_id": node_map.get(i["program_id"]) if i["program_id"] else None,
                    "nama": f"{i['nama']}{suffix}",
                }
                for i in src.indicators
            ],
        )
    if src.values:
        conn.execute(
            insert(CapaianSasaran),
            [
                {**v, "id": ids.take(CapaianSasaran), "indikator_id": ind_map[v["indikator_id"]]}
                for v in src.values
            ],
        )


_TABLES = (
    PerangkatDaerah,
    Bidang,
    Sasaran,
    Node,
    NodePlan,
    Realisasi,
    IndikatorSasaran,
    CapaianSasaran,
)


def _sync_sequences(conn: Connection) -> None:
    """PostgreSQL: move each id sequence past the ids given explicitly, so later ORM inserts
    (pagu revisions, copies of a year) get fresh ones."""
    if conn.dialect.name != "postgresql":
        return
    for model in _TABLES:
        name = model.__table__.name  # type: ignore[attr-defined]
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"
            )
        )


def _analyze(engine: Engine) -> None:
    """Planner statistics for what was just loaded, as after any bulk load (the bot's own
    imports analyse what they wrote). Without them PostgreSQL guessed, and read an office-year
    by scanning a province's tables (storage/data/statistics.py)."""
    analyze_all(engine)


def _bulk(conn: Connection) -> None:
    """PostgreSQL, for this transaction: look rows up through the indexes. The demo import
    before it analysed the tables while they were tiny, and the foreign-key checks, planned
    once per transaction, then scanned ``node`` for every row it grew by: quadratic (60
    offices took 2.9 s instead of 0.9 s; 800 offices × 3 years, tens of minutes)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL enable_seqscan = off"))


def scale_year(engine: Engine, k: int) -> int:
    """Make the demo office-year ``k`` times as large; returns its sub kegiatan count."""
    with engine.begin() as conn:
        _bulk(conn)
        ids, src = _Ids(conn), _Source.read(conn)
        subs = conn.execute(
            select(func.count())
            .select_from(Node)
            .where(Node.opd_id == DEMO_OPD, Node.tahun == DEMO_YEAR, Node.level == "sub_kegiatan")
        ).scalar_one()
        for i in range(2, k + 1):
            _copy_year(
                conn, ids, src, opd_id=DEMO_OPD, tahun=DEMO_YEAR, suffix=f" #{i}", sasaran_map=None
            )
        _sync_sequences(conn)
    _analyze(engine)
    return int(subs) * k


def many_offices(engine: Engine, offices: int = 40, years: int = 10) -> int:
    """Offices 2…``offices`` beside the demo one, each with ``years`` demo-shaped years, and
    the demo office's earlier years too. Returns the number of office-years."""
    with engine.begin() as conn:
        _bulk(conn)
        ids, src = _Ids(conn), _Source.read(conn)
        demo_bidang = _rows(conn, Bidang, Bidang.opd_id == DEMO_OPD)
        demo_sasaran = _rows(conn, Sasaran, Sasaran.opd_id == DEMO_OPD, Sasaran.tahun == DEMO_YEAR)
        first = DEMO_YEAR - years + 1
        for o in range(1, offices + 1):
            if o == DEMO_OPD:
                opd_id, bidang_map = DEMO_OPD, {b["id"]: b["id"] for b in demo_bidang}
            else:
                opd_id = ids.take(PerangkatDaerah)
                conn.execute(
                    insert(PerangkatDaerah),
                    [
                        {
                            "id": opd_id,
                            "nama": f"Dinas Uji {o}",
                            "nama_kepala": "",
                            "nip_kepala": "",
                            "tempat": "",
                        }
                    ],
                )
                bidang_map = {b["id"]: ids.take(Bidang) for b in demo_bidang}
                conn.execute(
                    insert(Bidang),
                    [{**b, "id": bidang_map[b["id"]], "opd_id": opd_id} for b in demo_bidang],
                )
            for tahun in range(first, DEMO_YEAR + 1):
                if opd_id == DEMO_OPD and tahun == DEMO_YEAR:
                    continue
                smap = {s["id"]: ids.take(Sasaran) for s in demo_sasaran}
                conn.execute(
                    insert(Sasaran),
                    [
                        {
                            **s,
                            "id": smap[s["id"]],
                            "opd_id": opd_id,
                            "tahun": tahun,
                            "bidang_id": bidang_map.get(s["bidang_id"]) if s["bidang_id"] else None,
                        }
                        for s in demo_sasaran
                    ],
                )
                _copy_year(conn, ids, src, opd_id=opd_id, tahun=tahun, suffix="", sasaran_map=smap)
        _sync_sequences(conn)
    _analyze(engine)
    return offices * years
