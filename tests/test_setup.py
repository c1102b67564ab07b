"""Setting up a real office: init, the plan template, a new year and pagu revisions."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.cli import main as cli
from bot.cli.office import add_setup_commands, parse_bidang
from bot.settings import Settings
from storage.data import db
from storage.data.models import (
    AuditLog,
    Bidang,
    Level,
    Node,
    NodePlan,
    PerangkatDaerah,
    Realisasi,
    Sasaran,
    Source,
)
from storage.domain.text import normalise_name
from storage.files.importer import import_file
from storage.files.report_parser import BadFileError, parse_lines, read_lines
from storage.files.template import write_template
from storage.services.office import (
    EXAMPLE_MARK,
    SetupError,
    copy_year,
    init_office,
    revise_pagu,
    the_only_office,
)
from storage.services.queries import YearData, reporting_status, scope_result, summary
from tests.conftest import _drop_pg_schema, make_backend_engine

DEMO_OPD = "DINAS KOPERASI, USAHA KECIL MENENGAH, PERINDUSTRIAN DAN PERDAGANGAN KABUPATEN SOLOK"
NEW_OPD = "DINAS PERTANIAN KABUPATEN CONTOH"


# --- helpers -----------------------------------------------------------------------------------


def _opd_id(session: Session, nama: str = DEMO_OPD) -> int:
    opd = session.exec(select(PerangkatDaerah).where(PerangkatDaerah.nama == nama)).one()
    assert opd.id is not None
    return opd.id


def _path(data: YearData, node: Node) -> tuple[str, ...]:
    names = [normalise_name(node.nama)]
    while node.parent_id is not None:
        node = data.nodes[node.parent_id]
        names.append(normalise_name(node.nama))
    return tuple(reversed(names))


def plan_at(session: Session, opd_id: int, tahun: int, tw: int) -> dict[tuple, tuple]:
    """(sasaran, level, path of names) -> (pagu, target, indikator) of the plan at ``tw``."""
    data = YearData(session, opd_id, tahun)
    out: dict[tuple, tuple] = {}
    for node in data.nodes.values():
        plan = data.plan(node.id, tw)  # type: ignore[arg-type]
        if plan is None:
            continue
        key = (data.sasaran[node.sasaran_id].nomor, str(node.level), _path(data, node))
        assert key not in out
        out[key] = (plan.pagu, plan.target, " ".join(node.indikator.split()))
    return out


def realisasi_count(session: Session, opd_id: int, tahun: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(Realisasi)
        .join(Node, Node.id == Realisasi.node_id)  # type: ignore[arg-type]
        .where(Node.opd_id == opd_id, Node.tahun == tahun)
    ).one()


@pytest.fixture
def other_engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    """A second empty database on the same backend, to import a template into."""
    folder = tmp_path / "other"
    folder.mkdir()
    eng, schema = make_backend_engine(backend, folder)
    db.upgrade(eng)
    yield eng
    eng.dispose()
    if schema:
        _drop_pg_schema(schema)


# --- init --------------------------------------------------------------------------------------


def test_init_office_on_an_empty_database(engine: Engine) -> None:
    with db.session_scope(engine) as s:
        opd = init_office(
            s,
            nama=NEW_OPD,
            kepala="Ir. Budi Santoso",
            nip="19700101 199503 1 001",
            tempat="Arosuka",
            bidang=[
                ("tph", "Tanaman Pangan", ["pangan"], [2]),
                ("bun", "Perkebunan", [], [3, 4]),
            ],
            actor="test",
        )
        opd_id = opd.id
    with db.read_scope(engine) as s:
        opd = s.get(PerangkatDaerah, opd_id)
        assert opd is not None
        assert (opd.nama_kepala, opd.nip_kepala, opd.tempat) == (
            "Ir. Budi Santoso",
            "197001011995031001",
            "Arosuka",
        )
        bidang = s.exec(select(Bidang).where(Bidang.opd_id == opd_id).order_by(Bidang.urutan)).all()
        assert [(b.kode, b.nama, b.sasaran_numbers()) for b in bidang] == [
            ("sekretariat", "Sekretariat", [1]),
            ("tph", "Tanaman Pangan", [2]),
            ("bun", "Perkebunan", [3, 4]),
        ]
        assert "pangan" in bidang[1].alias_list() and "tph" in bidang[1].alias_list()
        # What `monev summary` shows: the office and its bidang, with no figures yet.
        sm = summary(s, opd_id, 2025, 1)  # type: ignore[arg-type]
        assert sm.opd.nama == NEW_OPD
        assert [r.nama for r in sm.rows] == ["Sekretariat", "Tanaman Pangan", "Perkebunan"]
        assert sm.total.realisasi is None
        assert s.exec(select(AuditLog).where(AuditLog.entity == "perangkat_daerah")).first()


def test_init_defaults_and_refusals(engine: Engine) -> None:
    with db.session_scope(engine) as s:
        opd = init_office(s, nama="Dinas Contoh", kepala="A", nip="", actor="test")
        bidang = s.exec(select(Bidang).where(Bidang.opd_id == opd.id)).all()
        assert [(b.nama, b.sasaran_numbers()) for b in bidang] == [("Sekretariat", [1])]
    cases: list[tuple[dict, str]] = [
        ({"nama": "DINAS  contoh"}, "sudah ada"),
        ({"nama": ""}, "wajib diisi"),
        ({"nip": "1970-01"}, "NIP"),
        ({"bidang": [("a", "A", [], [2]), ("b", "B", [], [2])]}, "Sasaran 2 dipegang dua bidang"),
        ({"bidang": [("a", "A", [], [2]), ("A", "B", [], [3])]}, "dipakai dua kali"),
    ]
    for override, message in cases:
        kwargs = {"nama": "Dinas Lain", "kepala": "B", "nip": "1", "actor": "test"} | override
        with pytest.raises(SetupError, match=message), db.session_scope(engine) as s:
            init_office(s, **kwargs)
    with db.read_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(PerangkatDaerah)).one() == 1
    # A listed Sekretariat replaces the default one; sasaran 1 may then go elsewhere.
    with db.session_scope(engine) as s:
        opd = init_office(
            s,
            nama="Dinas Ketiga",
            kepala="C",
            nip="",
            bidang=[("kop", "Koperasi", [], [1])],
            actor="test",
        )
        got = s.exec(select(Bidang).where(Bidang.opd_id == opd.id).order_by(Bidang.urutan)).all()
        assert [(b.nama, b.sasaran_numbers()) for b in got] == [
            ("Sekretariat", []),
            ("Koperasi", [1]),
        ]


def test_parse_bidang_option() -> None:
    assert parse_bidang("kop:Koperasi:2") == ("kop", "Koperasi", [], [2])
    assert parse_bidang("dag:Perdagangan:4,5:pasar,dagang") == (
        "dag",
        "Perdagangan",
        ["pasar", "dagang"],
        [4, 5],
    )
    assert parse_bidang("umum:Umum") == ("umum", "Umum", [], [])
    with pytest.raises(SetupError, match="bukan angka"):
        parse_bidang("kop:Koperasi:dua")
    with pytest.raises(SetupError, match="tidak terbaca"):
        parse_bidang("Koperasi")


# --- the template ------------------------------------------------------------------------------


def test_template_of_demo_year_reimports_to_the_same_plan(
    seeded: Engine, other_engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "rencana-2022.xlsx"
    with db.read_scope(seeded) as s:
        opd_id = _opd_id(s)
        assert write_template(s, path, opd_id=opd_id, tahun=2022) == path
        before = plan_at(s, opd_id, 2022, 1)
        sasaran_before = {
            x.nomor: (x.teks, x.indikator)
            for x in s.exec(select(Sasaran).where(Sasaran.tahun == 2022)).all()
        }
    assert len(before) == 59  # 65 nodes, of which 6 join the plan in TW II only

    wb = load_workbook(path)
    assert wb.sheetnames == ["Rencana", "Petunjuk", "Rencana Penarikan"]
    ws = wb["Rencana"]
    assert ws["A2"].value == "LAPORAN KINERJA TRIWULAN I TAHUN 2022"
    assert ws["A1"].value == DEMO_OPD
    assert ws["P8"].value == "PROGRAM PENUNJANG URUSAN PEMERINTAH DAERAH"
    assert ws["T8"].value == 4_737_119_557 and ws["T8"].number_format == "#,##0"
    assert ws["S8"].value is None and ws["U8"].value is None
    # Names the report gave without a level prefix get one, so the importer knows the level.
    names = [c.value for c in ws["P"] if c.value]
    assert "Kegiatan Penyusunan Dan Evaluasi Rencana Pembangunan Industri Kabupaten /Kota" in names
    assert not any(c.value == EXAMPLE_MARK for c in ws["V"])

    summary_ = import_file(other_engine, path, actor="test")
    assert [(r.tahun, r.triwulan, r.figures) for r in summary_.reports] == [(2022, 1, 0)]
    with db.read_scope(other_engine) as s:
        new_id = _opd_id(s)
        assert plan_at(s, new_id, 2022, 1) == before
        assert realisasi_count(s, new_id, 2022) == 0
        assert {
            x.nomor: (x.teks, x.indikator)
            for x in s.exec(select(Sasaran).where(Sasaran.tahun == 2022)).all()
        } == sasaran_before
        # The bidang of the demo profile own the sasaran again.
        res = scope_result(s, new_id, 2022, 1)
        pagu = {it.nama: it.figure.pagu for it in res.breakdown}
        assert pagu["Sekretariat"] == 4_737_119_557
        assert all(it.figure.realisasi is None for it in res.breakdown)
        # A plan is not a report: no bidang counts as having reported TW I.
        assert all(row.status is None for row in reporting_status(s, new_id, 2022, 1))
    # Over a quarter that already has its report, a plan-only file would erase the figures.
    before_real = _realisasi_total(seeded)
    with pytest.raises(BadFileError, match="hanya berisi rencana"):
        import_file(seeded, path, actor="test")
    assert _realisasi_total(seeded) == before_real


def _realisasi_total(engine: Engine) -> int:
    with db.read_scope(engine) as s:
        return s.exec(select(func.count()).select_from(Realisasi)).one()


def test_template_of_an_empty_office_has_examples_and_help(engine: Engine, tmp_path: Path) -> None:
    with db.session_scope(engine) as s:
        opd = init_office(
            s,
            nama=NEW_OPD,
            kepala="Budi",
            nip="197001011995031001",
            bidang=[("tph", "Tanaman Pangan", [], [2])],
            actor="test",
        )
        opd_id = opd.id
    path = tmp_path / "out" / "rencana.xlsx"
    with db.read_scope(engine) as s:
        write_template(s, path, opd_id=opd_id, tahun=2025)
    wb = load_workbook(path)
    # No plan yet: the spending-plan sheet says when it fills.
    assert wb.sheetnames == ["Rencana", "Petunjuk", "Rencana Penarikan"]
    ws = wb["Rencana"]
    assert ws["A2"].value == "LAPORAN KINERJA TRIWULAN I TAHUN 2025"
    header = " ".join(str(c.value) for c in ws[4] if c.value)
    assert all(w in header for w in ("SASARAN", "PROGRAM", "ANGGARAN"))
    assert [c.value for c in ws[6]] == list(range(1, 23))
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=7) if any(c.value for c in row)]
    assert [r[0] for r in rows if r[0] is not None] == [1, 2]  # one row per sasaran
    nodes = [r for r in rows if r[15]]
    assert [r[15].split()[0] for r in nodes] == ["PROGRAM", "Kegiatan", "Sub", "Sub"]
    assert all(r[21] == EXAMPLE_MARK for r in rows)
    assert all("contoh" in r[15].lower() for r in nodes)
    assert all(isinstance(r[19], int) for r in nodes)
    assert nodes[1][19] == nodes[2][19] + nodes[3][19]  # kegiatan = sum of its sub kegiatan
    help_text = "\n".join(str(c.value) for c in wb["Petunjuk"]["A"] if c.value)
    assert "monev import" in help_text and "Tanaman Pangan: sasaran 2" in help_text
    assert "Sub Kegiatan" in help_text and EXAMPLE_MARK in help_text

    # The file reads back as one TW I report of the office (the help sheet is ignored).
    reports = parse_lines(read_lines(path))
    assert len(reports) == 1
    r = reports[0]
    assert (r.opd_nama, r.tahun, r.triwulan, r.problems) == (NEW_OPD, 2025, 1, [])
    assert [n.level for n in r.nodes()] == [
        Level.PROGRAM,
        Level.KEGIATAN,
        Level.SUB_KEGIATAN,
        Level.SUB_KEGIATAN,
    ]
    # Imported as is, the examples land in the office's own bidang, without realisation.
    import_file(engine, path, actor="test")
    with db.read_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(PerangkatDaerah)).one() == 1
        sas = s.exec(select(Sasaran).where(Sasaran.opd_id == opd_id, Sasaran.nomor == 2)).one()
        tph = s.exec(select(Bidang).where(Bidang.kode == "tph")).one()
        assert sas.bidang_id == tph.id
        assert realisasi_count(s, opd_id, 2025) == 0  # type: ignore[arg-type]


def test_template_without_office_is_refused(engine: Engine, tmp_path: Path) -> None:
    # The template (like every service) takes its office; the edge that resolves "the office"
    # for a one-office command refuses an empty database with the way out.
    with pytest.raises(SetupError, match="monev init"), db.read_scope(engine) as s:
        the_only_office(s)
    with pytest.raises(SetupError, match="tidak ada"), db.read_scope(engine) as s:
        write_template(s, tmp_path / "x.xlsx", opd_id=1)


# --- a new year --------------------------------------------------------------------------------


def test_copy_year_copies_structure_and_pagu_without_realisation(seeded: Engine) -> None:
    with db.session_scope(seeded) as s:
        opd_id = _opd_id(s)
        count = copy_year(s, opd_id=opd_id, dari=2022, ke=2023, actor="test")
    assert count == 65
    with db.read_scope(seeded) as s:
        old, new = YearData(s, opd_id, 2022), YearData(s, opd_id, 2023)

        def tree(data: YearData) -> dict[tuple, tuple]:
            return {
                (data.sasaran[n.sasaran_id].nomor, str(n.level), _path(data, n)): (n.urutan,)
                for n in data.nodes.values()
            }

        assert tree(new) == tree(old)
        latest_active = {
            (old.sasaran[n.sasaran_id].nomor, _path(old, n)): [
                p
                for p in old.plans[n.id]
                if p.aktif  # type: ignore[index]
            ][-1]
            for n in old.nodes.values()
        }
        for n in new.nodes.values():
            rows = new.plans[n.id]  # type: ignore[index]
            assert len(rows) == 1
            row = rows[0]
            assert (row.triwulan, row.aktif, row.source) == (1, True, Source.ADMIN)
            src = latest_active[(new.sasaran[n.sasaran_id].nomor, _path(new, n))]
            assert (row.pagu, row.target) == (src.pagu, src.target)
        assert realisasi_count(s, opd_id, 2023) == 0
        assert {x.nomor: x.bidang_id for x in old.sasaran.values()} == {
            x.nomor: x.bidang_id for x in new.sasaran.values()
        }
        # Programs present in TW II-III only are part of the new year's plan from TW I.
        assert (
            new.node_figure(
                next(n.id for n in new.nodes.values() if "PENILAIAN KESEHATAN" in n.nama),  # type: ignore[arg-type]
                1,
            ).pagu
            == 146_440_700
        )
        assert s.exec(select(AuditLog).where(AuditLog.field == "salin rencana 2022 ke 2023")).one()

    with pytest.raises(SetupError, match="sudah berisi 65"), db.session_scope(seeded) as s:
        copy_year(s, opd_id=opd_id, dari=2022, ke=2023, actor="test")
    with pytest.raises(SetupError, match="belum berisi rencana"), db.session_scope(seeded) as s:
        copy_year(s, opd_id=opd_id, dari=2019, ke=2024, actor="test")
    with pytest.raises(SetupError, match="sama"), db.session_scope(seeded) as s:
        copy_year(s, opd_id=opd_id, dari=2022, ke=2022, actor="test")


# --- pagu revisions ----------------------------------------------------------------------------

MISI_DAGANG = "Sub Kegiatan Misi Dagang Bagi Produk Ekspor Unggulan"


def _figures(session: Session, opd_id: int, node_id: int, bidang_id: int) -> dict:
    data = YearData(session, opd_id, 2022)
    out = {}
    for tw in range(1, 5):
        node = data.node_figure(node_id, tw)
        b = scope_result(session, opd_id, 2022, tw, bidang_id=bidang_id, data=data).item.figure
        out[tw] = (node.pagu, node.serapan, b.pagu, b.serapan)
    return out


def test_pagu_revision_from_tw3_leaves_earlier_quarters_alone(seeded: Engine) -> None:
    with db.read_scope(seeded) as s:
        opd_id = _opd_id(s)
        node = s.exec(select(Node).where(Node.nama == MISI_DAGANG)).one()
        bidang = s.exec(select(Bidang).where(Bidang.kode == "perdagangan")).one()
        assert node.id is not None and bidang.id is not None
        before = _figures(s, opd_id, node.id, bidang.id)
        rows_before = {
            (p.node_id, p.triwulan): (p.pagu, p.target, p.aktif)
            for p in s.exec(select(NodePlan).where(NodePlan.triwulan < 3)).all()
        }
    assert before[3][0] == 187_041_690

    with db.session_scope(seeded) as s:
        row = revise_pagu(
            s,
            node_id=node.id,
            dari_tw=3,
            pagu=250_000_000,
            actor="test",
            alasan="APBD Perubahan",
        )
        assert (row.triwulan, row.pagu, row.source) == (3, 250_000_000, Source.ADMIN)
        assert row.target == "8 Event"  # copied from the plan in force
    delta = 250_000_000 - 187_041_690
    with db.read_scope(seeded) as s:
        after = _figures(s, opd_id, node.id, bidang.id)
        rows_after = {
            (p.node_id, p.triwulan): (p.pagu, p.target, p.aktif)
            for p in s.exec(select(NodePlan).where(NodePlan.triwulan < 3)).all()
        }
        log = s.exec(select(AuditLog).where(AuditLog.entity_id == node.id)).all()
    assert after[1] == before[1] and after[2] == before[2]
    assert rows_after == rows_before
    for tw in (3, 4):
        assert after[tw][0] == 250_000_000
        assert after[tw][2] == before[tw][2] + delta  # the bidang total follows
    assert after[3][1] is not None and after[3][1] < before[3][1]
    assert after[3][3] < before[3][3]
    entry = next(e for e in log if e.entity == "node_plan" and "APBD Perubahan" in e.field)
    assert (entry.old, entry.new, entry.field.startswith("pagu TW III 2022")) == (
        "187041690",
        "250000000",
        True,
    )


def test_pagu_revision_reads_the_node_and_its_ancestors_not_the_office_year(
    seeded: Engine,
) -> None:
    """A revision holds the write lock while it reads: it reads the node's chain only, so at
    a province's size it does not hold the lock for the time the office-year takes to load."""
    statements: list[str] = []

    def count(_c, _cur, statement, *_a):  # type: ignore[no-untyped-def]
        statements.append(" ".join(statement.split()))

    with db.session_scope(seeded) as s:
        node = s.exec(select(Node).where(Node.nama == MISI_DAGANG)).one()
        assert node.id is not None
        event.listen(seeded, "before_cursor_execute", count)
        try:
            revise_pagu(s, node_id=node.id, dari_tw=3, pagu=250_000_000, actor="t")
        finally:
            event.remove(seeded, "before_cursor_execute", count)
    reads = [x for x in statements if x.startswith("SELECT") and "FROM node" in x]
    assert reads and all("node.id IN" in x for x in reads if "node.tahun =" in x), reads


def test_pagu_revision_upserts_and_can_skip_ancestors(seeded: Engine) -> None:
    with db.session_scope(seeded) as s:
        opd_id = _opd_id(s)
        node = s.exec(select(Node).where(Node.nama == MISI_DAGANG)).one()
        assert node.id is not None and node.parent_id is not None
        parent_id = node.parent_id
        revise_pagu(s, node_id=node.id, dari_tw=4, pagu=100, actor="t", ancestors=False)
        revise_pagu(s, node_id=node.id, dari_tw=4, pagu=200, actor="t", ancestors=False)
        rows = s.exec(
            select(NodePlan).where(NodePlan.node_id == node.id, NodePlan.triwulan == 4)
        ).all()
        assert [r.pagu for r in rows] == [200]
        data = YearData(s, opd_id, 2022)
        assert data.node_figure(parent_id, 4).pagu == 187_041_690
        # The same value again changes nothing and logs nothing.
        n_logs = s.exec(select(func.count()).select_from(AuditLog)).one()
        revise_pagu(s, node_id=node.id, dari_tw=4, pagu=200, actor="t")
        assert s.exec(select(func.count()).select_from(AuditLog)).one() == n_logs


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dari_tw": 5}, "Triwulan harus 1 sampai 4"),
        ({"dari_tw": 0}, "Triwulan harus 1 sampai 4"),
        ({"pagu": -1}, "tidak boleh negatif"),
        ({"node_id": 999_999}, "tidak ada"),
    ],
)
def test_pagu_revision_refusals(seeded: Engine, kwargs: dict, message: str) -> None:
    with db.session_scope(seeded) as s:
        node = s.exec(select(Node).where(Node.nama == MISI_DAGANG)).one()
        args = {"node_id": node.id, "dari_tw": 3, "pagu": 1, "actor": "t"} | kwargs
        with pytest.raises(SetupError, match=message):
            revise_pagu(s, **args)


def test_pagu_revision_of_a_node_outside_the_plan_is_refused(seeded: Engine) -> None:
    with db.session_scope(seeded) as s:
        prog = s.exec(select(Node).where(Node.nama == "PROGRAM PENGEMBANGAN UMKM")).one()
        with pytest.raises(SetupError, match="tidak termasuk rencana TW II 2022"):
            revise_pagu(s, node_id=prog.id, dari_tw=2, pagu=1_000_000, actor="t")  # type: ignore[arg-type]


# --- the command line --------------------------------------------------------------------------


@pytest.fixture
def monev() -> Callable[[Sequence[str]], int]:
    """``bot.cli.main.main``, the real command line."""
    return cli.main


def _run(argv: list[str]) -> int:
    """The commands on a parser of their own, as the brief describes."""
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command")
    add_setup_commands(sub)
    args = p.parse_args(argv)
    return args.func(args, Settings())


def test_cli_sets_up_an_office_end_to_end(
    workdir: Path, monev: Callable[[Sequence[str]], int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        monev(
            [
                "init",
                "--opd",
                NEW_OPD,
                "--kepala",
                "Ir. Budi Santoso",
                "--nip",
                "197001011995031001",
                "--bidang",
                "tph:Tanaman Pangan:2",
                "--bidang",
                "bun:Perkebunan:3,4",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert f"Perangkat daerah '{NEW_OPD}' dibuat" in out and "Perkebunan (sasaran 3,4)" in out

    assert monev(["template", "--tahun", "2025"]) == 0
    out = capsys.readouterr().out
    assert "rencana-2025.xlsx" in out and "CONTOH" in out
    assert (workdir / "rencana-2025.xlsx").exists()

    assert monev(["import", "rencana-2025.xlsx"]) == 0
    assert "0 angka realisasi" in capsys.readouterr().out

    # The office, not demo data, is what the rest of the command line now sees.
    assert monev(["summary", "--tahun", "2025", "--tw", "1"]) == 0
    out = capsys.readouterr().out
    assert NEW_OPD in out and "Tanaman Pangan" in out and "data contoh" not in out
    assert "Rp 150.000.000" in out

    assert monev(["tahun-baru", "--dari", "2025", "--ke", "2026"]) == 0
    assert "4 program/kegiatan/sub kegiatan" in capsys.readouterr().out
    assert monev(["tahun-baru", "--dari", "2025", "--ke", "2026"]) == 1
    captured = capsys.readouterr()
    assert "sudah berisi 4" in captured.err and "Traceback" not in captured.err

    assert (
        monev(
            [
                "pagu",
                "--node",
                "evaluasi kinerja perangkat",
                "--tahun",
                "2026",
                "--dari-tw",
                "III",
                "--pagu",
                "Rp 75.000.000",
                "--alasan",
                "APBD Perubahan",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Rp 50.000.000 → Rp 75.000.000 (APBD Perubahan)" in out
    assert "TW III 2026" in out and "ikut berubah" in out and "Rp 175.000.000" in out

    assert monev(["template", "--tahun", "2026", "-o", "plan/2026.xlsx"]) == 0
    assert (workdir / "plan" / "2026.xlsx").exists()
    assert "rencana TW I 2026" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["template"], "monev init"),
        (["init", "--opd", "X", "--kepala", "Y", "--nip", "1", "--bidang", "a"], "tidak terbaca"),
        # An empty database has no office to look a node up in: the way out is monev init.
        (["pagu", "--node", "1", "--dari-tw", "5", "--pagu", "1"], "monev init"),
        (["pagu", "--node", "1", "--dari-tw", "lima", "--pagu", "1"], "Triwulan 'lima'"),
        (["pagu", "--node", "1", "--dari-tw", "3", "--pagu", "-5"], "tidak boleh negatif"),
        (["pagu", "--node", "1", "--dari-tw", "3", "--pagu", "satu"], "bukan jumlah rupiah"),
        (["tahun-baru", "--dari", "2022", "--ke", "2023"], "monev init"),
    ],
)
def test_cli_errors_are_messages_not_tracebacks(
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    assert _run(argv) == 1
    captured = capsys.readouterr()
    assert message in captured.err and "Traceback" not in captured.err
    assert captured.out == ""


def test_cli_pagu_on_demo_data(
    workdir: Path, monev: Callable[[Sequence[str]], int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert monev(["summary", "--tahun", "2022", "--tw", "3"]) == 0  # fills the demo data
    capsys.readouterr()
    assert _run(["pagu", "--node", "misi dagang", "--dari-tw", "3", "--pagu", "1,5 jt"]) == 0
    out = capsys.readouterr().out
    assert "Rp 187.041.690 → Rp 1.500.000" in out
    assert _run(["pagu", "--node", "misi dagang", "--dari-tw", "2", "--pagu", "2 jt"]) == 0
    out = capsys.readouterr().out
    assert "TW III punya rencana sendiri" in out
    assert _run(["pagu", "--node", "koperasi", "--dari-tw", "3", "--pagu", "1"]) == 1
    assert "Pilih dengan --node ID" in capsys.readouterr().err
    assert _run(["pagu", "--node", "misi dagang", "--dari-tw", "2", "--pagu", "2 jt"]) == 0
    assert "tidak ada perubahan" in capsys.readouterr().out


def test_the_only_office_refuses_to_guess(tmp_path: Path) -> None:
    from storage.data.models import PerangkatDaerah
    from storage.services.office import NoOffice, SeveralOffices, the_only_office

    engine = db.make_engine(f"sqlite:///{tmp_path / 'o.db'}")
    db.upgrade(engine)
    with db.session_scope(engine) as s:
        with pytest.raises(NoOffice):
            the_only_office(s)
        s.add(PerangkatDaerah(nama="DINAS A"))
        s.flush()
        assert the_only_office(s).nama == "DINAS A"
        s.add(PerangkatDaerah(nama="DINAS B"))
        s.flush()
        with pytest.raises(SeveralOffices, match="Ada 2 perangkat daerah"):
            the_only_office(s)
