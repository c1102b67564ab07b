"""Exporting a quarter as the office's 22-column report (XLSX) and as raw CSV, and reading
the XLSX back with the importer to the same figures."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.engine import Engine

from storage.data.db import read_scope
from storage.data.models import Level
from storage.files.export import (
    CSV_COLUMNS,
    FIRST_DATA_ROW,
    build_report,
    export_bytes,
    signing_month,
    write_csv,
    write_xlsx,
)
from storage.files.importer import import_file
from storage.services.queries import YearData, capaian_kinerja, get_opd, narasi, summary
from tests.csv_id import number, read_rows
from tests.xlsx_golden import GOLDEN, UNVERIFIED, describe, differences

OPD = "DINAS KOPERASI, USAHA KECIL MENENGAH, PERINDUSTRIAN DAN PERDAGANGAN KABUPATEN SOLOK"
SEKRETARIAT = "PROGRAM PENUNJANG URUSAN PEMERINTAH DAERAH"


def _xlsx(engine: Engine, tmp_path: Path, tw: int = 3, tahun: int = 2022) -> Path:
    with read_scope(engine) as s:
        table = build_report(s, 1, tahun, tw)
    path = tmp_path / f"tw{tw}.xlsx"
    write_xlsx(table, path)
    return path


def _sheet(path: Path) -> Worksheet:
    ws = load_workbook(path).active
    assert ws is not None
    return ws


def _row_of(ws: Worksheet, name: str) -> int:
    return next(r for r in range(FIRST_DATA_ROW, ws.max_row + 1) if ws.cell(r, 16).value == name)


def test_title_header_and_page_setup(seeded_ro: Engine, tmp_path: Path) -> None:
    ws = _sheet(_xlsx(seeded_ro, tmp_path))
    assert ws["A1"].value == OPD
    assert ws["A2"].value == "LAPORAN KINERJA TRIWULAN III TAHUN 2022"
    # The importer recognises title lines by a single filled cell in column A.
    assert all(ws.cell(r, c).value is None for r in (1, 2) for c in range(2, 23))

    merged = {str(m) for m in ws.merged_cells.ranges}
    assert {"D4:E4", "F4:G4", "H4:I4", "J4:K4"} <= merged
    assert {f"{c}4:{c}5" for c in "ABCLMNOPQRSTUV"} <= merged
    header = {ws.cell(4, c).value for c in range(1, 23)} - {None}
    assert {
        "NO",
        "SASARAN STRATEGI",
        "INDIKATOR KINERJA",
        "TRIWULAN I",
        "TRIWULAN II",
        "TRIWULAN III",
        "TRIWULAN IV",
        "% CAPAIAN",
        "TINDAK LANJUT YANG TELAH/ HARUS DILAKUKAN",
        "PROGRAM/ KEGIATAN/ SUB KEGIATAN",
        "INDIKATOR PROGRAM/ KEGIATAN/ SUB KEGIATAN",
        "TARGET",
        "REALISASI",
        "ANGGARAN (Rp)",
        "REALISASI ANGGARAN (Rp)",
        "KET",
    } <= header
    assert ws["D4"].value == "TRIWULAN I" and ws["H4"].value == "TRIWULAN III"
    assert [ws.cell(5, c).value for c in range(4, 12)] == ["T", "R"] * 4
    assert [ws.cell(6, c).value for c in range(1, 23)] == list(range(1, 23))

    assert ws.freeze_panes == f"A{FIRST_DATA_ROW}"
    assert ws.print_title_rows == "$4:$6"
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 9
    # One page wide (1 is the format's default, which XlsxWriter leaves implicit), any tall.
    assert int(ws.page_setup.fitToWidth or 1) == 1 and int(ws.page_setup.fitToHeight) == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_margins.left <= 0.5 and ws.page_margins.right <= 0.5
    assert all(ws.column_dimensions[c].width > 0 for c in "ABPQT")


def test_program_row_values_formats_and_bold(seeded_ro: Engine, tmp_path: Path) -> None:
    ws = _sheet(_xlsx(seeded_ro, tmp_path))
    r = _row_of(ws, SEKRETARIAT)
    pagu, real, fisik = ws.cell(r, 20), ws.cell(r, 21), ws.cell(r, 19)
    assert (pagu.value, real.value) == (4_737_119_557, 3_064_862_971)
    assert type(pagu.value) is int and type(real.value) is int
    assert pagu.number_format == real.number_format == "#,##0"
    assert fisik.value == pytest.approx(0.647) and fisik.number_format == "0.00%"
    assert ws.cell(r, 18).value == "100%"
    assert ws.cell(r, 16).font.b and ws.cell(r, 20).font.b

    keg = _row_of(ws, "Kegiatan Administrasi Umum Perangkat Daerah")
    sub = _row_of(ws, "Sub Kegiatan Penyediaan Bahan Logistik Kantor")
    assert ws.cell(keg, 16).font.b
    assert not ws.cell(sub, 16).font.b
    assert (ws.cell(sub, 20).value, ws.cell(sub, 21).value) == (32_183_800, 23_052_650)
    # Kegiatan Administrasi Keuangan is in the plan but not in the TW III report: its
    # budget is shown and its realisation is empty (incomplete), never 0.
    keu = _row_of(ws, "Kegiatan Administrasi Keuangan Perangkat Daerah")
    assert ws.cell(keu, 20).value == 3_865_895_101 and ws.cell(keu, 21).value is None
    # Sasaran 5's kegiatan has no level prefix in its name; it is still a kegiatan.
    peny = _row_of(ws, "Penyusunan Dan Evaluasi Rencana Pembangunan Industri Kabupaten /Kota")
    assert ws.cell(peny, 16).font.b and ws.cell(peny, 20).value == 1_965_123_950


def test_capaian_is_r_over_t_of_the_quarter(seeded_ro: Engine, tmp_path: Path) -> None:
    with read_scope(seeded_ro) as s:
        table = build_report(s, 1, 2022, 3)
    first = table.sasaran[0].rows[0]
    assert first.sasaran_nomor == 1 and first.indicator is not None
    # 64,70 ÷ 25 — not the 120,43% the seed prints (the sum of cumulative R values).
    assert first.indicator.capaian == 258.8
    # Each quarter as its own report gave it: TW I said 15,64%, later reports 15,46%.
    assert first.indicator.values == {1: (25.0, 15.64), 2: (25.0, 40.27), 3: (25.0, 64.70)}

    ws = _sheet(_xlsx(seeded_ro, tmp_path))
    r = FIRST_DATA_ROW
    assert ws.cell(r, 1).value == 1 and ws.cell(r, 16).value == SEKRETARIAT
    assert ws.cell(r, 12).value == pytest.approx(2.588)
    assert ws.cell(r, 12).number_format == "0.00%"
    assert [ws.cell(r, c).value for c in range(4, 12)] == pytest.approx(
        [0.25, 0.1564, 0.25, 0.4027, 0.25, 0.647, None, None]  # type: ignore[list-item]
    )
    # Aksi/hambatan/tindak lanjut stand on their program's line.
    kop = _row_of(ws, "PROGRAM PENGAWASAN DAN PEMERIKSAAN KOPERASI")
    assert ws.cell(kop, 14).value == "Kurangnya SDM bidang Koperasi"
    assert ws.cell(kop, 1).value == 2


def test_signature_block(seeded_ro: Engine, tmp_path: Path) -> None:
    ws = _sheet(_xlsx(seeded_ro, tmp_path))
    lines = {
        ws.cell(r, 1).value: r
        for r in range(FIRST_DATA_ROW, ws.max_row + 1)
        if ws.cell(r, 1).value and all(ws.cell(r, c).value is None for c in range(2, 23))
    }
    assert list(lines) == [
        "Koto Baru, Oktober 2022",
        "KEPALA,",
        "AHPI GUSTA TUSRI, S.STP., M.Si.",
        "NIP. 19800414 199810 2 001",
    ]
    assert ws.cell(lines["AHPI GUSTA TUSRI, S.STP., M.Si."], 1).font.b
    assert lines["AHPI GUSTA TUSRI, S.STP., M.Si."] - lines["KEPALA,"] >= 3  # room to sign
    assert signing_month(2022, 2) == "Juli 2022"
    assert signing_month(2022, 4) == "Januari 2023"


def test_csv(seeded_ro: Engine) -> None:
    """Read back as an Indonesian-locale spreadsheet reads it: ";" between fields, decimal
    comma, headers in words, UTF-8 with a byte order mark."""
    with read_scope(seeded_ro) as s:
        table = build_report(s, 1, 2022, 3)
        name, content = export_bytes(s, 1, 2022, 3, fmt="csv")
    assert name == "laporan-kinerja-2022-tw3.csv"
    assert content.decode("utf-8-sig").splitlines()[0] == ";".join(CSV_COLUMNS)
    rows = read_rows(content)
    assert len(rows) == len(list(table.node_rows())) == 62
    sek = next(r for r in rows if r["Program/Kegiatan/Sub Kegiatan"] == SEKRETARIAT)
    assert sek == {
        "Tahun": "2022",
        "Triwulan": "3",
        "Sasaran": "1",
        "Tingkat": "Program",
        "Program/Kegiatan/Sub Kegiatan": SEKRETARIAT,
        "Indikator": sek["Indikator"],
        "Target": "100%",
        "Pagu (Rp)": "4737119557",
        "Realisasi Anggaran (Rp)": "3064862971",
        "Realisasi Fisik (%)": "64,7",
        "Serapan (%)": "64,7",
        "Keterangan": "",
        "Status Verifikasi": "final",  # imported
    }
    assert number(sek["Pagu (Rp)"]) == 4737119557
    assert number(sek["Realisasi Fisik (%)"]) == Decimal("64.7")
    # Every number cell reads as a number there (no '.' the locale takes for thousands).
    for r in rows:
        for col in ("Pagu (Rp)", "Realisasi Anggaran (Rp)", "Realisasi Fisik (%)", "Serapan (%)"):
            number(r[col])
    keu = next(
        r
        for r in rows
        if r["Program/Kegiatan/Sub Kegiatan"] == "Kegiatan Administrasi Keuangan Perangkat Daerah"
    )
    assert keu["Tingkat"] == "Kegiatan"
    assert keu["Realisasi Anggaran (Rp)"] == keu["Serapan (%)"] == ""
    # The same rows go to a text buffer.
    buf = io.StringIO()
    write_csv(table, buf)
    assert buf.getvalue() == content.decode("utf-8")


def _node_figures(engine: Engine, tw: int) -> dict[tuple[str, str], list[tuple]]:
    with read_scope(engine) as s:
        data = YearData(s, 1, 2022)
        out: dict[tuple[str, str], list[tuple]] = {}
        for n in data.nodes.values():
            assert n.id is not None
            if data.in_plan(n.id, tw):
                f = data.node_figure(n.id, tw)
                out.setdefault((str(n.level), n.nama), []).append((f.pagu, f.realisasi, f.fisik))
        return {k: sorted(v, key=str) for k, v in out.items()}


def _summary_rows(engine: Engine, tw: int) -> list[tuple]:
    with read_scope(engine) as s:
        sm = summary(s, 1, 2022, tw)
    rows = [(r.nama, r.figure.pagu, r.figure.realisasi, r.figure.serapan) for r in sm.rows]
    return [*rows, ("total", sm.total.pagu, sm.total.realisasi, sm.total.serapan)]


@pytest.mark.parametrize("tw", [3, 1])
def test_round_trip_through_the_importer(
    seeded_ro: Engine, engine: Engine, tmp_path: Path, tw: int
) -> None:
    """Export from the demo database, import into an empty one: the same figures.

    TW I includes realisations of 0, which a workbook gives back as a bare "0".
    """
    path = _xlsx(seeded_ro, tmp_path, tw)
    result = import_file(engine, path, actor="test")
    assert [(r.tahun, r.triwulan) for r in result.reports] == [(2022, tw)]
    assert not result.problems

    assert _summary_rows(engine, tw) == _summary_rows(seeded_ro, tw)
    src, dst = _node_figures(seeded_ro, tw), _node_figures(engine, tw)
    assert len(src) > 50
    assert dst == src
    with read_scope(seeded_ro) as s, read_scope(engine) as d:
        # A program outside this quarter's plan is not in its report, nor is its indicator
        # (later reports restate TW I values of programs that began in TW II).
        programs = {p.nama for p in YearData(s, 1, 2022).programs(tw)}
        for q in range(1, tw + 1):
            before = [
                (c.sasaran_nomor, c.program, c.target, c.realisasi)
                for c in capaian_kinerja(s, 1, 2022, q)
                if c.program in programs
            ]
            after = [
                (c.sasaran_nomor, c.program, c.target, c.realisasi)
                for c in capaian_kinerja(d, 1, 2022, q)
            ]
            # Indicators added by later reports share ``urutan`` in the source: order aside.
            assert sorted(after, key=str) == sorted(before, key=str)
        assert [vars(n) for n in narasi(d, 1, 2022, tw)] == [
            vars(n) for n in narasi(s, 1, 2022, tw)
        ]
        a, b = get_opd(s, 1), get_opd(d, 1)
        assert a is not None and b is not None
        assert (b.nama, b.tempat, b.nama_kepala, b.nip_kepala) == (
            a.nama,
            a.tempat,
            a.nama_kepala,
            a.nip_kepala,
        )


def test_quarter_without_data_exports_the_plan(seeded_ro: Engine, tmp_path: Path) -> None:
    with read_scope(seeded_ro) as s:
        table = build_report(s, 1, 2022, 4)
        name, content = export_bytes(s, 1, 2022, 4)
    assert name == "laporan-kinerja-2022-tw4.xlsx" and content.startswith(b"PK")
    assert table.title == "LAPORAN KINERJA TRIWULAN IV TAHUN 2022"
    assert table.signature.tempat_tanggal == "Koto Baru, Januari 2023"
    nodes = [n for _, n in table.node_rows()]
    assert len(nodes) == 62
    assert all(n.realisasi is None and n.fisik is None for n in nodes)
    prog = next(n for n in nodes if n.nama == SEKRETARIAT)
    assert prog.level is Level.PROGRAM and prog.pagu == 4_737_119_557 and prog.target == "100%"

    ws = _sheet(_xlsx(seeded_ro, tmp_path, 4))
    assert ws["A2"].value == "LAPORAN KINERJA TRIWULAN IV TAHUN 2022"
    r = _row_of(ws, SEKRETARIAT)
    assert ws.cell(r, 20).value == 4_737_119_557 and ws.cell(r, 21).value is None
    # TW I-III as reported, TW IV and % capaian empty; no narasi for a quarter not reported.
    assert [ws.cell(r, c).value for c in range(4, 13)] == pytest.approx(
        [0.25, 0.1564, 0.25, 0.4027, 0.25, 0.647, None, None, None]  # type: ignore[list-item]
    )
    assert all(
        ws.cell(row, col).value is None
        for row in range(FIRST_DATA_ROW, ws.max_row + 1)
        for col in (13, 14, 15)
    )


def test_year_without_data_and_bad_arguments(seeded_ro: Engine) -> None:
    with read_scope(seeded_ro) as s:
        with pytest.raises(ValueError, match=r"Tidak ada data Laporan Kinerja tahun 2021") as e:
            build_report(s, 1, 2021, 3)
        assert "2022" in str(e.value)  # says which years do have data
        with pytest.raises(ValueError, match="Tidak ada data"):
            export_bytes(s, 1, 2021, 1, fmt="csv")
        with pytest.raises(ValueError, match="Triwulan harus 1 sampai 4"):
            build_report(s, 1, 2022, 5)
        with pytest.raises(ValueError, match="Format 'pdf' tidak tersedia"):
            export_bytes(s, 1, 2022, 3, fmt="pdf")
        with pytest.raises(ValueError, match="tidak ditemukan"):
            build_report(s, 99, 2022, 3)


def test_export_bytes_is_a_workbook(seeded_ro: Engine) -> None:
    with read_scope(seeded_ro) as s:
        name, content = export_bytes(s, 1, 2022, 3)
    assert name == "laporan-kinerja-2022-tw3.xlsx"
    ws = load_workbook(io.BytesIO(content)).active
    assert ws is not None and ws["A2"].value == "LAPORAN KINERJA TRIWULAN III TAHUN 2022"


def test_implausible_capaian_keeps_its_value_and_is_marked(
    seeded_ro: Engine, tmp_path: Path
) -> None:
    with read_scope(seeded_ro) as s:
        table = build_report(s, 1, 2022, 3)
    ws = _sheet(_xlsx(seeded_ro, tmp_path))
    marked = 0
    for r in range(FIRST_DATA_ROW, ws.max_row + 1):
        cell = ws.cell(r, 12)
        if cell.value is None:
            continue
        if cell.value > 2.0:  # above 200%: R 14,20% over T 1,25% (UMKM TW III) and the like
            assert cell.comment is not None and "target tampaknya keliru" in cell.comment.text
            marked += 1
        else:
            assert cell.comment is None
    capaian = [row.indicator.capaian for b in table.sasaran for row in b.rows if row.indicator]
    assert marked == sum(1 for c in capaian if c is not None and c > 200) >= 1
    umkm = _row_of(ws, "PROGRAM PEMBERDAYAAN USAHA MENENGAH, KECIL DAN MIKRO UMKM)")
    assert ws.cell(umkm, 12).value == pytest.approx(11.36)


def test_every_data_cell_keeps_its_print_style(seeded_ro: Engine, tmp_path: Path) -> None:
    """The table's cells share a few named styles (for speed); each still prints as laid
    out: thin borders all round, 9 pt, bold program/kegiatan columns, indented sub kegiatan,
    percent and rupiah formats, the warning fill only on an implausible capaian."""
    with read_scope(seeded_ro) as s:
        table = build_report(s, 1, 2022, 3)
    ws = _sheet(_xlsx(seeded_ro, tmp_path))
    rows = list(table.rows())
    assert ws.cell(FIRST_DATA_ROW + len(rows) - 1, 1).border.left.style == "thin"
    for i, row in enumerate(rows):
        node_bold = row.node is not None and row.node.level != Level.SUB_KEGIATAN
        warn = row.indicator is not None and (row.indicator.capaian or 0) > 200
        for column in range(1, 23):
            c = ws.cell(FIRST_DATA_ROW + i, column)
            b = c.border
            assert {b.left.style, b.right.style, b.top.style, b.bottom.style} == {"thin"}
            assert c.font.sz == 9 and bool(c.font.b) == (node_bold and column >= 16)
            assert c.alignment.vertical == "top"
            if column == 1 or 4 <= column <= 12 or column == 19:
                assert c.alignment.horizontal == "center" and not c.alignment.wrap_text
            elif column in (20, 21):
                assert c.alignment.horizontal == "right" and c.number_format == "#,##0"
            else:
                assert c.alignment.horizontal is None and c.alignment.wrap_text
            if 4 <= column <= 12 or column == 19:
                assert c.number_format == "0.00%"
            indent = {Level.PROGRAM: 0, Level.KEGIATAN: 1, Level.SUB_KEGIATAN: 2}
            expected_indent = indent[row.node.level] if column == 16 and row.node else 0
            assert c.alignment.indent == expected_indent
            filled = c.fill.fill_type == "solid"
            assert filled == (column == 12 and warn), (i, column)


def test_workbook_reads_back_as_the_original_report(seeded_ro: Engine, tmp_path: Path) -> None:
    """Cell by cell (values, formats, fonts, alignment, borders, fills, comments), merges,
    widths, heights and page setup as the report was when openpyxl wrote it: the move to
    XlsxWriter changed nothing a reader sees (tests/xlsx_golden.py says what counts)."""
    with read_scope(seeded_ro) as s:
        table = build_report(s, 1, 2022, 3)
    table.unverified = list(UNVERIFIED)
    path = tmp_path / "tw3.xlsx"
    write_xlsx(table, path)
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert differences(golden, describe(path)) == []
    # The page header carries the note of figures not approved yet.
    header = golden["TW III 2022"]["header_footer"][0][1][0]
    assert header == "Belum disetujui: " + "; ".join(UNVERIFIED)


def test_text_is_never_a_formula_and_the_header_note_fits(
    seeded_ro: Engine, tmp_path: Path
) -> None:
    """XlsxWriter's ``write()`` would store "=..." as a formula: text goes through
    ``write_string``, in every cell the writer fills (title, names, signature, plan sheet)."""
    evil = '=HYPERLINK("http://x","klik")'
    with read_scope(seeded_ro) as s:
        table = build_report(s, 1, 2022, 3)
    table.title_rows[0] = evil
    first = next(row.node for row in table.rows() if row.node is not None)
    first.nama, first.ket = evil, "+1+1"
    table.signature.nama = "@SUM(A1)"
    assert table.plan is not None
    table.plan.rows[0].row.nama = evil
    # Many bidang waiting: the header note is cut to Excel's 255 characters, saying how many
    # were left out, and '&' (a code in page headers) is doubled.
    table.unverified = [f"Bidang & Seksi {i} (menunggu verifikasi)" for i in range(12)]
    path = tmp_path / "evil.xlsx"
    write_xlsx(table, path)
    wb = load_workbook(path)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = [c.value for c in cells if isinstance(c.value, str)]
    # the title, the node's name, and a bidang line of the plan sheet (its name twice)
    assert texts.count(evil) == 4 and "+1+1" in texts and "@SUM(A1)" in texts
    ws = wb.worksheets[0]
    assert ws["A1"].value == evil and ws["A1"].data_type == "s"
    note = ws.oddHeader.center.text
    assert note is not None and note.startswith("Belum disetujui: Bidang && Seksi 0 (")
    assert note.endswith("lainnya") and len("&C" + note) <= 255
    left_out = int(note.rsplit("; dan ", 1)[1].split()[0])
    assert note.count("(menunggu verifikasi)") + left_out == 12


def test_collector_pause_is_shared_and_always_ends() -> None:
    """The export pauses the cyclic collector while it builds the file; nested or concurrent
    builds share the pause, an error ends it too, and a collector that was off stays off."""
    import gc

    from storage.files.bulk import collector_paused

    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer build is still under way
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_export_bytes_leaves_the_collector_on(seeded_ro: Engine) -> None:
    import gc

    with read_scope(seeded_ro) as s:
        export_bytes(s, 1, 2022, 3)
        with pytest.raises(ValueError):
            export_bytes(s, 1, 2021, 3)
    assert gc.isenabled()


def test_header_note_counts_as_excel_does() -> None:
    from storage.files.export import header_text

    def units(text: str) -> int:
        return len(text.encode("utf-16-le")) // 2

    assert header_text("Belum disetujui: A & B (menunggu verifikasi)") == (
        "&CBelum disetujui: A && B (menunggu verifikasi)"
    )
    # One long name: cut, marked, within the limit; an emoji counts twice, as in Excel.
    for text in ("x" * 300, "🙂" * 200, "&" * 300):
        note = header_text(text)
        assert units(note) <= 255 and note.endswith("…")
        assert not note.removesuffix("…").removeprefix("&C").replace("&&", "").count("&")
