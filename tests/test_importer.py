"""The importer on the real 2022 reports, through every trap of docs/domain.md, and on bad files."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import event, func
from sqlalchemy.engine import Engine
from sqlmodel import select

from storage.data.db import read_scope, session_scope
from storage.data.models import (
    AuditLog,
    CapaianSasaran,
    ImportedReport,
    Level,
    Narasi,
    Node,
    NodePlan,
    Pelaporan,
    Realisasi,
    Role,
    Sasaran,
    StatusLaporan,
)
from storage.files.demo import SEED_FILE
from storage.files.importer import import_file
from storage.files.report_parser import BadFileError, parse_lines, read_lines
from storage.services.users import set_user
from storage.services.verification import reopen

# SHA-256 of the office's own export (seeds/laporan-kinerja-2022-tw1-tw3.txt of the design
# notes). Pinned here so the check needs nothing outside the checkout: every expected figure
# below comes from that exact file.
SEED_SHA256 = "90660a944ba16a42d0a202363da780a36ed5431cb6d6bc2f6093c5e9c9af8675"


def test_bundled_seed_is_the_original_export_unchanged() -> None:
    assert hashlib.sha256(SEED_FILE.read_bytes()).hexdigest() == SEED_SHA256


@pytest.fixture(scope="module")
def reports():  # type: ignore[no-untyped-def]
    return {r.triwulan: r for r in parse_lines(read_lines(SEED_FILE))}


def _node(report, name_start: str):  # type: ignore[no-untyped-def]
    hits = [n for n in report.nodes() if n.nama.startswith(name_start)]
    assert hits, name_start
    return hits[0]


def test_finds_three_reports_in_file_order(reports) -> None:  # type: ignore[no-untyped-def]
    parsed = parse_lines(read_lines(SEED_FILE))
    assert [(r.triwulan, r.tahun) for r in parsed] == [(1, 2022), (3, 2022), (2, 2022)]
    assert all(len(r.sasaran) == 5 for r in parsed)
    assert reports[3].nip_kepala == "198004141998102001"
    assert reports[3].tempat_tanggal == "Koto Baru, Oktober 2022"
    assert reports[1].opd_nama.startswith("DINAS KOPERASI, USAHA KECIL MENENGAH")


@pytest.mark.parametrize(
    ("tw", "name", "pagu", "realisasi", "fisik"),
    [
        (1, "PROGRAM PENUNJANG URUSAN", 4_737_119_557, 740_780_487, 15.64),
        (2, "PROGRAM PENUNJANG URUSAN", 4_737_119_557, 1_907_554_921, 40.27),
        (3, "PROGRAM PENUNJANG URUSAN", 4_737_119_557, 3_064_862_971, 64.70),
        (1, "Sub Kegiatan Penyediaan Gaji", 3_805_447_601, 658_429_483, 17.30),
        # "Rp 636,000" and "Rp. 228.520.610" style cells
        (1, "PROGRAM PENGAWASAN DAN PEMERIKSAAN", 22_499_800, 636_000, 2.83),
        (2, "PROGRAM PENGAWASAN DAN PEMERIKSAAN", 22_499_800, 635_000, 2.82),
        (1, "PROGRAM PEMBERDAYAAN USAHA MENENGAH", 228_520_610, 2_992_500, 1.31),
        # "Rp | -" split over two cells means nothing spent
        (1, "PROGAM PENINGKATAN SARANA", 1_883_197_079, 0, 0.0),
        # rows shifted by stray tabs: columns found by content
        (2, "PROGRAM PENILAIAN KESEHATAN", 146_440_700, 63_198_350, 43.16),
        (3, "PROGRAM PENILAIAN KESEHATAN", 146_440_700, 101_560_250, 69.35),
        (2, "Kegiatan Pembangunan dan Pengelolaan Sarana", 1_883_197_079, 38_878_500, 2.06),
        (3, "Sub Kegiatan Penyediaan sarana distribusi", 1_883_197_079, 172_431_836, 9.16),
        (2, "PROGRAM STANDARISASI DAN PERLINDUNGAN", 209_059_508, 28_654_900, 13.71),
        (2, "PROGRAM PENGENDALIAN IZIN USAHA", 38_997_760, 11_753_500, 30.14),
        (3, "PROGRAM PENGENDALIAN IZIN USAHA", 38_997_760, 27_601_550, 70.78),
        # a "-" realisation is zero, not missing
        (1, "Sub Kegiatan Penyedia Jasa Surat", 900_000, 0, 0.0),
        (3, "PROGRAM PERENCANAAN DAN PEMBANGUNAN INDUSTRI", 1_965_123_950, 643_401_595, 32.74),
    ],
)
def test_node_figures_in_every_report(reports, tw, name, pagu, realisasi, fisik) -> None:  # type: ignore[no-untyped-def]
    n = _node(reports[tw], name)
    assert (n.pagu, n.realisasi) == (pagu, realisasi)
    assert n.fisik == pytest.approx(fisik)


def test_bold_kegiatan_and_levels(reports) -> None:  # type: ignore[no-untyped-def]
    keu = _node(reports[1], "Kegiatan Administrasi Keuangan")
    assert keu.level is Level.KEGIATAN and keu.bold
    assert [c.pagu for c in keu.children] == [3_805_447_601, 8_294_200, 52_153_300]


def test_levels_inferred_from_budget_sums_where_prefix_is_missing(reports) -> None:  # type: ignore[no-untyped-def]
    for tw in (1, 2, 3):
        prog = _node(reports[tw], "PROGRAM PERENCANAAN DAN PEMBANGUNAN INDUSTRI")
        [keg] = prog.children
        assert keg.nama.startswith("Penyusunan Dan Evaluasi Rencana")
        assert keg.level is Level.KEGIATAN and keg.level_inferred
        assert [c.level for c in keg.children] == [Level.SUB_KEGIATAN] * 3
        assert sum(c.pagu for c in keg.children) == keg.pagu
    harga = _node(reports[1], "PROGRAM STABILITASI HARGA")
    assert [k.level for k in harga.children] == [Level.KEGIATAN, Level.KEGIATAN]
    assert harga.children[1].nama.startswith("Pengendalian Harga dan Stok")


def test_cells_continued_across_pages(reports) -> None:  # type: ignore[no-untyped-def]
    s5 = next(s for s in reports[1].sasaran if s.nomor == 5)
    assert s5.teks.endswith("2.Meningkatnya nilai produksi kecil menengah")
    assert "(unit usaha) 2.%Peningkatan Nilai Produksi" in s5.indikator
    s5_tw3 = next(s for s in reports[3].sasaran if s.nomor == 5)
    assert s5_tw3.indikator.endswith("dan Menengah (Rp)")


def test_missing_rows_are_missing_not_zero(reports) -> None:  # type: ignore[no-untyped-def]
    names = [n.nama for n in reports[2].nodes()]
    assert not any(n.startswith("Kegiatan Administrasi Keuangan") for n in names)
    harga = _node(reports[3], "PROGRAM STABILITASI HARGA")
    assert harga.children == [] and harga.realisasi == 28_203_300


def test_sasaran_indicator_rows_and_narrative(reports) -> None:  # type: ignore[no-untyped-def]
    s1 = reports[3].sasaran[0]
    assert s1.indicators[0].values == {1: (25.0, 15.46), 2: (25.0, 40.27), 3: (25.0, 64.70)}
    assert s1.indicators[0].capaian == pytest.approx(120.43)
    s2 = reports[3].sasaran[1]
    assert [i.program.nama for i in s2.indicators] == [
        "PROGRAM PENGAWASAN DAN PEMERIKSAAN KOPERASI",
        "PROGRAM PENILAIAN KESEHATAN KSP/USP KOPERASI",
        "PROGRAM PEMBERDAYAAN DAN PELINDUNGAN KOPERASI",
    ]
    # the shifted row still gives its capaian and narrative in the right places
    assert s2.indicators[1].capaian == pytest.approx(115.25)
    shifted = next(n for n in s2.narasi if n.program and "PENILAIAN" in n.program.nama)
    assert shifted.hambatan == "Kurangnya SDM bidang Koperasi"
    assert shifted.aksi.startswith("1. Pelaksanaan kertas kerja")


def test_import_seed_into_database(engine: Engine) -> None:
    summary = import_file(engine, SEED_FILE)
    assert [(r.triwulan, r.status) for r in summary.reports] == [
        (1, "baru"),
        (3, "baru"),
        (2, "baru"),
    ]
    assert any(
        "'Sub Kegiatan Penyediaan Barang Cetakan dan Penggandaan' = " in m for m in summary.matches
    )
    assert any("Koodinasi" in m for m in summary.matches)
    assert any("Pembedayaan" in m for m in summary.matches)
    assert any("(IUI)" in m for m in summary.matches)
    text = "\n".join(summary.lines())
    assert "3 laporan" in text and "Temuan validasi" in text
    with read_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(ImportedReport)).one() == 3
        assert s.exec(select(func.count()).select_from(Sasaran)).one() == 5
        # typos between reports did not create duplicates: 59 nodes in TW I, 6 new later
        assert s.exec(select(func.count()).select_from(Node)).one() == 65
        assert s.exec(select(func.count()).select_from(Realisasi)).one() == 59 + 52 + 52
        assert s.exec(select(func.count()).select_from(CapaianSasaran)).one() > 0
        assert s.exec(select(func.count()).select_from(Narasi)).one() > 0
        assert s.exec(select(func.count()).select_from(AuditLog)).one() > 100


def _snapshot(engine: Engine) -> tuple:
    with read_scope(engine) as s:
        real = sorted(
            (r.node_id, r.triwulan, r.anggaran, r.fisik, r.version)
            for r in s.exec(select(Realisasi)).all()
        )
        plans = sorted(
            (p.node_id, p.triwulan, p.pagu, p.aktif) for p in s.exec(select(NodePlan)).all()
        )
        nodes = s.exec(select(func.count()).select_from(Node)).one()
        audit = s.exec(select(func.count()).select_from(AuditLog)).one()
    return real, plans, nodes, audit


def test_reimport_changes_nothing(seeded: Engine) -> None:
    before = _snapshot(seeded)
    summary = import_file(seeded, SEED_FILE)
    assert {r.status for r in summary.reports} == {"tidak berubah"}
    assert _snapshot(seeded) == before


def _statements(engine: Engine, run: Callable[[], object]) -> int:
    """How many SQL statements ``run`` sends (an executemany counts once, as it is one)."""
    sent: list[str] = []

    def count(_conn, _cursor, statement, *_rest) -> None:  # type: ignore[no-untyped-def]
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(sent)


def test_import_sends_at_most_one_statement_per_report_row(engine: Engine, tmp_path: Path) -> None:
    rows = sum(len(r.nodes()) for r in parse_lines(read_lines(SEED_FILE), name=SEED_FILE.name))
    assert rows == 163
    # the seed into an empty database: 3 reports, every node, plan and figure new
    assert _statements(engine, lambda: import_file(engine, SEED_FILE)) <= rows
    # the same file again changes nothing and costs less
    assert _statements(engine, lambda: import_file(engine, SEED_FILE)) <= rows
    # a changed copy of TW III replacing the stored one (figures updated, a row dropped)
    _reopen_all(engine, 2022, 3)

    def edit(text: str) -> str:
        lines = text.replace("3,064,862,971.00", "3,064,862,000.00").split("\n")
        subs = [i for i, line in enumerate(lines) if "Sub Kegiatan" in line]
        del lines[subs[len(subs) // 2]]
        return "\n".join(lines)

    changed = _write_only_report(SEED_FILE, "TRIWULAN III ", tmp_path / "tw3.txt", edit=edit)
    tw3_rows = len(parse_lines(read_lines(changed), name=changed.name)[0].nodes())
    n = _statements(engine, lambda: import_file(engine, changed, replace=True))
    # Replacing also reads the quarter before and after to compare them: a fixed cost of
    # about twenty statements, whatever the report's size; here that is on top of 51 rows.
    assert n <= tw3_rows + 20


def test_new_nodes_take_ids_in_report_order(engine: Engine) -> None:
    """Nodes are inserted in bulk, yet numbered as if one by one: a parent before its
    children, and TW I's nodes in the order the report lists them."""
    import_file(engine, SEED_FILE)
    tw1 = parse_lines(read_lines(SEED_FILE), name=SEED_FILE.name)[0]
    assert tw1.triwulan == 1
    with read_scope(engine) as s:
        nodes = s.exec(select(Node).order_by(Node.id)).all()  # type: ignore[arg-type]
    assert all(n.parent_id is None or n.parent_id < n.id for n in nodes)  # type: ignore[operator]
    assert [n.nama for n in nodes[: len(tw1.nodes())]] == [n.nama for n in tw1.nodes()]


def _write_only_report(src: Path, tw_title: str, dest: Path, edit=None) -> Path:  # type: ignore[no-untyped-def]
    """Cut one report out of the seed (optionally editing its text)."""
    lines = src.read_text(encoding="utf-8").splitlines()
    starts = [i for i, line in enumerate(lines) if "LAPORAN KINERJA TRIWULAN" in line]
    idx = next(i for i, s in enumerate(starts) if tw_title in lines[s])
    start = starts[idx] - 1
    end = starts[idx + 1] - 1 if idx + 1 < len(starts) else len(lines)
    chunk = "\n".join(lines[start:end])
    if edit:
        chunk = edit(chunk)
    dest.write_text(chunk, encoding="utf-8")
    return dest


def _reopen_all(engine: Engine, tahun: int, tw: int) -> None:
    """What an admin's /bukakembali does, for every bidang of the quarter."""
    with session_scope(engine) as s:
        admin = set_user(s, telegram_id=9001, role=Role.ADMIN, nama="Admin", actor="test")
        approved = s.exec(
            select(Pelaporan).where(
                Pelaporan.tahun == tahun,
                Pelaporan.triwulan == tw,
                Pelaporan.status == StatusLaporan.DISETUJUI,
            )
        ).all()
        for p in approved:
            reopen(s, bidang_id=p.bidang_id, tahun=tahun, tw=tw, user=admin)


def test_later_report_touches_only_its_quarter(engine: Engine, tmp_path: Path) -> None:
    import_file(engine, _write_only_report(SEED_FILE, "TRIWULAN 1 ", tmp_path / "tw1.txt"))
    import_file(engine, _write_only_report(SEED_FILE, "TRIWULAN II ", tmp_path / "tw2.txt"))
    real_before = {r[:2]: r for r in _snapshot(engine)[0] if r[1] in (1, 2)}
    changed = _write_only_report(
        SEED_FILE,
        "TRIWULAN III ",
        tmp_path / "tw3.txt",
        edit=lambda t: t.replace("3,064,862,971.00", "3,064,862,000.00"),
    )
    import_file(engine, changed)
    after = _snapshot(engine)[0]
    assert {r[:2]: r for r in after if r[1] in (1, 2)} == real_before
    # importing an edited copy of TW III again replaces only TW III's figures (once an
    # admin has reopened the approved quarter)
    _reopen_all(engine, 2022, 3)
    import_file(engine, _write_only_report(SEED_FILE, "TRIWULAN III ", tmp_path / "tw3b.txt"))
    final = _snapshot(engine)[0]
    assert {r[:2]: r for r in final if r[1] in (1, 2)} == real_before
    with read_scope(engine) as s:
        prog = s.exec(
            select(Node).where(Node.nama == "PROGRAM PENUNJANG URUSAN PEMERINTAH DAERAH")
        ).one()
        r3 = s.exec(
            select(Realisasi).where(Realisasi.node_id == prog.id, Realisasi.triwulan == 3)
        ).one()
        assert r3.anggaran == 3_064_862_971 and r3.version == 2
        log = s.exec(
            select(AuditLog).where(AuditLog.entity == "realisasi", AuditLog.new == "3064862971")
        ).all()
        assert any(a.old == "3064862000" for a in log)


def _xlsx_from_tsv(src: Path, dest: Path, *, typed: bool) -> Path:
    """The seed as a workbook with the same columns (text cells, or numbers and percents)."""
    from storage.domain.numbers import ParseError, looks_like_rupiah, parse_percent, parse_rupiah

    wb = Workbook()
    ws = wb.active
    for line in src.read_text(encoding="utf-8").splitlines():
        row = []
        for cell in line.split("\t"):
            value: object = cell
            if typed and cell.strip():
                try:
                    if looks_like_rupiah(cell) and any(ch.isdigit() for ch in cell):
                        value = parse_rupiah(cell)
                    elif cell.strip().endswith("%") and "<b>" not in cell:
                        value = parse_percent(cell) / 100
                except ParseError:
                    value = cell
            row.append(value)
        ws.append(row)
        if typed:
            for c in ws[ws.max_row]:
                if isinstance(c.value, float) and c.value < 50:
                    c.number_format = "0.00%"
    wb.save(dest)
    return dest


@pytest.mark.parametrize("typed", [False, True])
def test_xlsx_with_the_same_columns_gives_the_same_figures(
    engine: Engine, tmp_path: Path, typed: bool
) -> None:
    from tests.test_importer import _snapshot as snap

    xlsx = _xlsx_from_tsv(SEED_FILE, tmp_path / "seed.xlsx", typed=typed)
    import_file(engine, xlsx)
    got = snap(engine)[0]
    assert len(got) == 163
    with read_scope(engine) as s:
        prog = s.exec(
            select(Node).where(Node.nama == "PROGRAM PENUNJANG URUSAN PEMERINTAH DAERAH")
        ).one()
        r = s.exec(
            select(Realisasi).where(Realisasi.node_id == prog.id, Realisasi.triwulan == 3)
        ).one()
        assert (r.anggaran, r.fisik) == (3_064_862_971, pytest.approx(64.70))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("kosong.txt", b"", "kosong"),
        ("laporan.xlsx", b"%PDF-1.7\n%binary", "PDF"),
        ("tiga.txt", b"a\tb\tc\n1\t2\t3\n4\t5\t6\n", "Tidak ada Laporan Kinerja Triwulan"),
        ("rusak.xlsx", b"PK\x03\x04 this is not a real zip", "bukan XLSX"),
        ("biner.dat", b"\x00\x01\x02" * 100, "bukan berkas teks"),
        (
            "judul.txt",
            b"LAPORAN KINERJA TRIWULAN II TAHUN 2023\nNO\tSASARAN\tPROGRAM\tANGGARAN\n",
            "tidak berisi tabel 22 kolom",
        ),
    ],
)
def test_bad_files_get_clear_errors_and_change_nothing(
    seeded: Engine, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    before = _snapshot(seeded)
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(BadFileError, match=message):
        import_file(seeded, path)
    assert _snapshot(seeded) == before


def test_fifty_megabytes_of_noise_is_refused_quickly(seeded: Engine, tmp_path: Path) -> None:
    path = tmp_path / "noise.txt"
    path.write_bytes(os.urandom(50 * 1024 * 1024))
    with pytest.raises(BadFileError, match="terlalu besar"):
        import_file(seeded, path)


def test_year_must_agree(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(BadFileError, match="bukan 2023"):
        import_file(engine, SEED_FILE, tahun=2023)
    no_year = _write_only_report(
        SEED_FILE,
        "TRIWULAN II ",
        tmp_path / "noyear.txt",
        edit=lambda t: t.replace(" TAHUN 2022", ""),
    )
    with pytest.raises(BadFileError, match="--tahun"):
        import_file(engine, no_year)
    summary = import_file(engine, no_year, tahun=2024)
    assert summary.reports[0].tahun == 2024


def test_a_broken_report_in_the_middle_rolls_everything_back(
    engine: Engine, tmp_path: Path
) -> None:
    text = SEED_FILE.read_text(encoding="utf-8")
    # The third report loses its whole table: the file as a whole must not half-import.
    cut = text.index("**LAPORAN KINERJA TRIWULAN II TAHUN 2022**")
    broken = text[:cut] + "**LAPORAN KINERJA TRIWULAN II TAHUN 2022**\n\nhanya teks\n"
    path = tmp_path / "broken.txt"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(BadFileError):
        import_file(engine, path)
    with read_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(ImportedReport)).one() == 0


def test_a_failure_while_writing_rolls_everything_back(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage.services.validator

    def boom(*_a, **_k):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk penuh")

    monkeypatch.setattr(storage.services.validator, "validate_year", boom)
    with pytest.raises(RuntimeError):
        import_file(engine, SEED_FILE)
    with read_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(ImportedReport)).one() == 0
        assert s.exec(select(func.count()).select_from(Node)).one() == 0
