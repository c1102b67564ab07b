"""Issue 25: any office comes on board from the files it already has.

Fixtures in tests/data/layouts (invented offices, none derived from the seed): kinerja-app
monthly pages (TSV, XLSX with merged headers), LKj tables (TSV, text copied from a PDF), budget
exports with Kode (XLSX a sheet per bidang with a three-row merged header, TSV, a sheet per
month, text copied from a PDF). Each is imported with its counts per level and totals per
quarter asserted, then exported and imported into another office to the same figures; each
layout has a refusal that says what was found and what to do. Then ``monev import`` as an
operator types it: --coba, --bidang (and on a terminal), --kolom remembered, --peta, --angka,
the seed in a new office, and ``monev template`` with realisation figures.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.cli.main import main
from storage.data.db import read_scope, session_scope
from storage.data.models import Finding, FindingKind, Level, Node
from storage.files.demo import SEED_FILE
from storage.files.export import export_bytes
from storage.files.importer import import_file
from storage.files.layout_import import Request, import_any
from storage.files.workbook import BadFileError
from storage.services.office import init_office
from storage.services.queries import NO_BIDANG, YearData, summary

LAYOUTS = Path(__file__).parent / "data" / "layouts"


@dataclass(frozen=True)
class Case:
    file: str
    office: str
    tahun: int
    levels: tuple[int, int, int]  # program, kegiatan, sub kegiatan
    totals: dict[int, tuple[int, int]]  # quarter -> (pagu, realisasi) of the office
    stated: int  # findings: what the file states against its own amounts
    kind: str  # how the preview names the layout


CASES = [
    Case("kinerja-dinkes-2023.tsv", "Dinas Kesehatan Kabupaten Solok", 2023, (0, 3, 7),
         {1: (1_660_750_000, 226_325_000), 2: (1_660_750_000, 597_725_000),
          3: (1_660_750_000, 1_013_950_000)}, 4, "realisasi per bulan"),
    Case("kinerja-dinsos-2024.xlsx", "Dinas Sosial Kabupaten Solok", 2024, (0, 2, 3),
         {1: (850_000_000, 168_000_000), 2: (850_000_000, 397_000_000)}, 0,
         "realisasi per bulan"),
    Case("lkj-distan-2023.tsv", "Dinas Pertanian Kabupaten Solok", 2023, (3, 4, 7),
         {4: (914_200_000, 833_923_000)}, 3, "tabel anggaran dan realisasi (LKj)"),
    Case("lkj-disdik-2024-salin-pdf.txt", "Dinas Pendidikan Kabupaten Solok", 2024, (2, 3, 4),
         {4: (2_619_750_000, 2_459_347_000)}, 1, "teks salinan PDF"),
    Case("sipd-dpupr-2024.xlsx", "Dinas Pekerjaan Umum dan Penataan Ruang Kabupaten Solok", 2024,
         (3, 4, 7), {3: (9_790_000_000, 5_925_560_000)}, 2, "satu lembar per bidang (3 lembar)"),
    Case("sipd-dishub-2024.tsv", "Dinas Perhubungan Kabupaten Solok", 2024, (2, 3, 5),
         {2: (2_187_440_100, 667_320_050)}, 1, "tingkat dari kolom Kode"),
    Case("sipd-dlh-bulanan-2024.xlsx", "Dinas Lingkungan Hidup Kabupaten Solok", 2024, (2, 2, 3),
         {1: (3_700_000_000, 442_500_000), 2: (3_800_000_000, 1_255_000_000)}, 0,
         "satu lembar per bulan (6 lembar)"),
    Case("sipd-diskominfo-2024-salin-pdf.txt", "Dinas Komunikasi dan Informatika Kabupaten Solok",
         2024, (2, 2, 3), {2: (1_850_500_000, 805_315_000)}, 0, "teks salinan PDF"),
]  # fmt: skip


def _office(engine: Engine, nama: str, singkatan: str, bidang: list | None = None) -> int:
    with session_scope(engine) as s:
        opd = init_office(
            s,
            nama=nama,
            singkatan=singkatan,
            kepala="Kepala",
            nip="197001011995031001",
            bidang=bidang,
            actor="test",
        )
        assert opd.id is not None
        return opd.id


def _levels(engine: Engine, opd_id: int, tahun: int) -> tuple[int, int, int]:
    with read_scope(engine) as s:
        rows = dict(
            s.exec(
                select(Node.level, func.count())
                .where(Node.opd_id == opd_id, Node.tahun == tahun)
                .group_by(Node.level)
            ).all()
        )
    return tuple(rows.get(lv, 0) for lv in Level)  # type: ignore[return-value]


def _shown(engine: Engine, opd_id: int, tahun: int, tw: int) -> list[tuple]:
    """Every node in the plan at ``tw`` with its figure, as the quarter shows it."""
    with read_scope(engine) as s:
        data = YearData(s, opd_id, tahun)
        out = []
        for n in data.nodes.values():
            if not data.in_plan(n.id, tw):
                continue
            f = data.node_figure(n.id, tw)
            fisik = None if f.fisik is None else round(f.fisik, 1)
            out.append((str(n.level), n.nama, f.pagu, f.realisasi, fisik))
        return sorted(out, key=lambda r: (r[0], r[1]))


@pytest.mark.parametrize("case", CASES, ids=[c.file for c in CASES])
def test_each_layout_imports_with_its_counts_and_totals(engine: Engine, case: Case) -> None:
    opd_id = _office(engine, case.office, "X")
    result = import_any(engine, LAYOUTS / case.file, Request(opd_id=opd_id))
    assert result.layout is not None and case.kind in result.layout.kind
    assert [r.triwulan for r in result.summary.reports] == sorted(case.totals)
    assert not result.summary.problems
    assert _levels(engine, opd_id, case.tahun) == case.levels
    with read_scope(engine) as s:
        for tw, (pagu, realisasi) in case.totals.items():
            sm = summary(s, opd_id, case.tahun, tw)
            assert (sm.total.pagu, sm.total.realisasi) == (pagu, realisasi), tw
            # The bidang rows (with "Tanpa bidang") add up to the office total.
            assert sum(r.figure.realisasi or 0 for r in sm.rows) == realisasi
            assert sum(r.figure.pagu or 0 for r in sm.rows) == pagu
        stated = s.exec(
            select(func.count()).select_from(Finding).where(Finding.kind == FindingKind.STATED)
        ).one()
    assert stated == case.stated
    # Imported again: nothing changes.
    again = import_any(engine, LAYOUTS / case.file, Request(opd_id=opd_id))
    assert {r.status for r in again.summary.reports} == {"tidak berubah"}


@pytest.mark.parametrize("case", CASES, ids=[c.file for c in CASES])
def test_each_layout_round_trips_through_the_report_export(
    engine: Engine, tmp_path: Path, case: Case
) -> None:
    a = _office(engine, case.office, "A")
    b = _office(engine, "Dinas Uji Kabupaten Solok", "B")
    import_any(engine, LAYOUTS / case.file, Request(opd_id=a))
    for tw in sorted(case.totals):
        with read_scope(engine) as s:
            name, data = export_bytes(s, a, case.tahun, tw, fmt="xlsx")
        path = tmp_path / f"{tw}-{name}"
        path.write_bytes(data)
        import_file(engine, path, opd_id=b, actor="test", other_office=True)
    assert _levels(engine, b, case.tahun) == case.levels
    for tw in case.totals:
        assert _shown(engine, b, case.tahun, tw) == _shown(engine, a, case.tahun, tw), tw


REFUSALS = [
    ("kinerja-angka-ragu.tsv", {}, "Cara menulis angka tidak pasti: C6 '450,000'", "--angka id"),
    ("kinerja-dinsos-2024.xlsx", {"tw": 3}, "tidak memuat realisasi TW III yang lengkap",
     "yang ada: TW I, TW II"),
    ("lkj-tanpa-nama.tsv", {}, "ada tabel dengan kolom Anggaran (Rp) dan Realisasi (Rp) di baris "
     "3, tetapi tidak ada kolom nama kegiatan", "--kolom nama=B"),
    ("salin-pdf-tanpa-tabel.txt", {}, "tidak ada baris judul kolom", "monev template"),
    ("sipd-tanpa-periode.tsv", {}, "periode realisasinya tidak disebut", "--tw 3"),
    ("sipd-dpupr-dua-realisasi.xlsx", {}, "lebih dari satu kolom yang bisa berarti realisasi "
     "keuangan (Rp) (D 'Realisasi s.d. TW Lalu (Rp)', E 'Realisasi Keuangan Rp')",
     "--kolom realisasi=E"),
]  # fmt: skip


@pytest.mark.parametrize(("file", "options", "found", "next_step"), REFUSALS)
def test_each_layout_is_refused_with_what_was_found_and_what_to_do(
    engine: Engine, file: str, options: dict, found: str, next_step: str
) -> None:
    opd_id = _office(engine, "Dinas Uji Kabupaten Solok", "U")
    with pytest.raises(BadFileError) as refused:
        import_any(engine, LAYOUTS / file, Request(opd_id=opd_id, **options))
    assert found in str(refused.value) and next_step in str(refused.value)
    assert _levels(engine, opd_id, 2023) == _levels(engine, opd_id, 2024) == (0, 0, 0)


def test_a_22_column_title_over_another_table_reads_the_table(
    engine: Engine, tmp_path: Path
) -> None:
    """What issue 25 saw: adding the title the old message asked for gave a second refusal."""
    opd_id = _office(engine, "Dinas Pertanian Kabupaten Solok", "P")
    path = tmp_path / "berjudul.tsv"
    table = (LAYOUTS / "lkj-distan-2023.tsv").read_text(encoding="utf-8")
    path.write_text("LAPORAN KINERJA TRIWULAN III TAHUN 2023\n" + table, encoding="utf-8")
    result = import_any(engine, path, Request(opd_id=opd_id))
    assert [r.triwulan for r in result.summary.reports] == [3]  # the title names TW III
    assert _levels(engine, opd_id, 2023) == (3, 4, 7)


# --- monev import, as typed ------------------------------------------------------------------


def _total(out: str) -> list[str]:
    return [x for x in out.splitlines() if x.strip().startswith("Total dinas")]


def _init_dinkes() -> None:
    assert main(["init", "--opd", "Dinas Kesehatan Kabupaten Solok", "--singkatan", "Dinkes",
                 "--kepala", "dr. Andi", "--nip", "198001012005011001",
                 "--bidang", "yankes:Pelayanan Kesehatan", "--bidang", "sdk:Sumber Daya Kesehatan"
                 ]) == 0  # fmt: skip


def test_coba_shows_what_was_understood_and_writes_nothing(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _init_dinkes()
    capsys.readouterr()
    path = LAYOUTS / "kinerja-dinkes-2023.tsv"
    assert main(["import", str(path), "--opd", "dinkes", "--coba"]) == 0
    out = capsys.readouterr().out
    for line in (
        "Uji coba impor (tidak ada yang disimpan) kinerja-dinkes-2023.tsv: 3 laporan.",
        "Perangkat daerah menurut berkas: Dinas Kesehatan Kabupaten Solok",
        "Bentuk berkas: realisasi per bulan (halaman pengukuran kinerja); judul kolom baris 5–6; "
        "angka ditulis seperti 812,440,100 dan 98.47.",
        "  B      Uraian → nama program/kegiatan/sub kegiatan; contoh: Kegiatan : Penyediaan "
        "Layanan Kesehatan… | Sub-Kegiatan : Pengelolaan Pelayanan Ke…",
        "  F      Alokasi Anggaran (Rp) → pagu (Rp); contoh: 1,250,000,000.00 | 450,000,000.00",
        "  G–R    Realisasi Anggaran per Bulan (Rp) 1 → realisasi bulan 1–12 (tidak kumulatif); "
        "contoh: 12,500,000 | 20,000,000",
        "  T      Realisasi (%) → realisasi keuangan (%) tertulis, dibandingkan dengan rupiahnya; "
        "contoh: 71.11 | 58.16",
        "Periode: tahun 2023 (dari judul); realisasi bulanan dijumlahkan menjadi kumulatif TW I, "
        "TW II, TW III.",
        "Baris per tingkat: 0 program, 3 kegiatan, 7 sub kegiatan.",
        "Serapan TW III 2023 per bidang (Dinas Kesehatan Kabupaten Solok):",
        "Temuan validasi tahun 2023 (4):",
        "Basis data tidak berubah (--coba).",
    ):
        assert line in out.splitlines(), line
    assert "Rp 1.660.750.000" in _total(out)[0] and "Rp 1.013.950.000" in _total(out)[0]
    assert any(x.startswith(f"  {NO_BIDANG}") and "Rp 1.660.750.000" in x for x in out.splitlines())
    assert "Program tanpa bidang (3;" in out
    assert "  [2] Kegiatan Penyediaan Layanan Kesehatan untuk UKM" in out
    assert (
        "kolom Jumlah tertulis Rp 34.450.000, sedangkan jumlah bulan-bulannya Rp 33.450.000" in out
    )
    with pytest.raises(SystemExit, match="Belum ada data"):
        main(["summary", "--opd", "dinkes"])


def _rows(out: str) -> dict[str, str]:
    """The rows of ``monev summary`` by bidang name."""
    return {
        re.split(r"\s{2,}", x.strip())[0]: x
        for x in out.splitlines()[3:]
        if x.strip() and not x.startswith("-")
    }


def test_bidang_by_option_and_the_tanpa_bidang_row_adds_up(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _init_dinkes()
    path = LAYOUTS / "kinerja-dinkes-2023.tsv"
    assert main(["import", str(path), "--opd", "dinkes", "--bidang", "2=yankes",
                 "--bidang", "Peningkatan Kapasitas=sdk"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "[2] Kegiatan Penyediaan Layanan Kesehatan untuk UKM" in out and "→ Pelayanan" in out
    assert main(["summary", "--opd", "dinkes", "--tw", "3"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert "Rp 826.000.000" in rows["Pelayanan Kesehatan"]
    assert "Rp 57.450.000" in rows[NO_BIDANG] and "Rp 95.750.000" in rows[NO_BIDANG]
    assert "Rp 1.013.950.000" in rows["Total dinas"]
    # The last group, assigned on a later run of the same file: nothing else changes.
    assert main(["import", str(path), "--opd", "dinkes", "--bidang", "4=yankes"]) == 0
    assert "tidak berubah" in capsys.readouterr().out
    assert main(["summary", "--opd", "dinkes", "--tw", "3"]) == 0
    out = capsys.readouterr().out
    assert NO_BIDANG not in out and "Rp 1.013.950.000" in _total(out)[0]
    # A bidang that does not exist, or a number that is no group: said, nothing written.
    assert main(["import", str(path), "--opd", "dinkes", "--bidang", "9=gizi"]) == 1
    assert "Bidang 'gizi' tidak ada. Bidang yang ada: Sekretariat" in capsys.readouterr().err


def test_on_a_terminal_the_bidang_of_each_program_is_asked(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _init_dinkes()
    import bot.cli.imports as cli_imports

    monkeypatch.setattr(cli_imports, "_interactive", lambda args: not args.coba)
    answers = iter(["2", "x", "3", ""])  # Pelayanan, a slip, Sumber Daya, none
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    capsys.readouterr()
    assert main(["import", str(LAYOUTS / "kinerja-dinkes-2023.tsv"), "--opd", "dinkes"]) == 0
    out = capsys.readouterr().out
    assert "Program berikut belum punya bidang" in out and "Ketik 1 sampai 3" in out
    assert "→ Pelayanan Kesehatan" in out and "→ Sumber Daya Kesehatan" in out
    assert "Program tanpa bidang (1;" in out


def test_kolom_is_remembered_for_the_next_file_of_the_same_shape(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--opd", "Dinas Pekerjaan Umum dan Penataan Ruang Kabupaten Solok",
                 "--singkatan", "PUPR", "--kepala", "Ir. C", "--nip", "1",
                 "--bidang", "bm:Bina Marga", "--bidang", "ck:Cipta Karya"]) == 0  # fmt: skip
    path = LAYOUTS / "sipd-dpupr-dua-realisasi.xlsx"
    capsys.readouterr()
    assert main(["import", str(path), "--opd", "pupr"]) == 1
    assert "--kolom realisasi=E" in capsys.readouterr().err
    assert main(["import", str(path), "--opd", "pupr", "--kolom", "realisasi=E"]) == 0
    out = capsys.readouterr().out
    assert "Realisasi Keuangan Rp → realisasi keuangan (Rp) (dari --kolom/pemetaan)" in out
    # The sheets per bidang put the programs in Bina Marga and Cipta Karya themselves.
    assert "PROGRAM PENYELENGGARAAN JALAN → Bina Marga" in out
    assert "PENUNJANG URUSAN PEMERINTAHAN DAERAH KABUPATEN/KOTA → Sekretariat" in out
    assert "Program tanpa bidang" not in out
    # Next quarter's file of the same shape: the mapping is remembered for this office.
    again = workdir / "tw3-lagi.xlsx"
    again.write_bytes(path.read_bytes())
    assert main(["import", str(again), "--opd", "pupr", "--coba"]) == 0
    out = capsys.readouterr().out
    assert "pemetaan kolom yang tersimpan untuk berkas berbentuk sama dipakai: realisasi=E" in out
    assert "Rp 5.925.560.000" in _total(out)[0]


def test_a_mapping_file_and_the_number_style_option(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _init_dinkes()
    odd = workdir / "rekap-dana.tsv"
    odd.write_text(
        "REKAP DANA SEMESTER I TAHUN 2024\n"
        "Nama Item\tDana\tTerpakai\tCatatan\n"
        "Sub Kegiatan Pengelolaan Pelayanan Kesehatan Ibu Hamil\t450.000.000\t198.750.000\t-\n"
        "Sub Kegiatan Pengelolaan Pelayanan Kesehatan Balita\t380.000.000\t129.750.000\t-\n",
        encoding="utf-8",
    )
    assert main(["import", str(odd), "--opd", "dinkes"]) == 1
    err = capsys.readouterr().err
    assert "Tabel di rekap-dana.tsv tidak dikenali" in err and "--peta" in err
    peta = workdir / "peta.txt"
    peta.write_text("# kolom rekap dana\nnama = A\npagu = B\nrealisasi = C\n", encoding="utf-8")
    assert main(["import", str(odd), "--opd", "dinkes", "--peta", str(peta)]) == 0
    out = capsys.readouterr().out
    assert "Periode: tahun 2024 (dari judul); semester (TW II) dari judul." in out
    assert "Rp 830.000.000" in _total(out)[0] and "Rp 328.500.000" in _total(out)[0]

    path = LAYOUTS / "kinerja-angka-ragu.tsv"
    assert main(["import", str(path), "--opd", "dinkes"]) == 1
    assert "--angka en" in capsys.readouterr().err
    assert main(["import", str(path), "--opd", "dinkes", "--angka", "en", "--coba"]) == 0
    out = capsys.readouterr().out
    assert "Rp 450.000" in out and "Rp 85.250" in _total(out)[0]  # thousands of rupiah as written


def test_the_seed_in_a_new_office_shows_its_bidang_rows_adding_up(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 25: imported into an office made with monev init, sasaran 2-5 belonged to no
    bidang and the bidang table showed Sekretariat alone under a total of Rp 13,2 M."""
    name = "DINAS KOPERASI, USAHA KECIL MENENGAH, PERINDUSTRIAN DAN PERDAGANGAN KABUPATEN SOLOK"
    assert main(["init", "--opd", name, "--singkatan", "Kop", "--kepala", "X", "--nip", "1",
                 "--bidang", "kop:Koperasi"]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["import", str(SEED_FILE), "--opd", "kop", "--coba"]) == 0
    out = capsys.readouterr().out
    assert "Program tanpa bidang (4;" in out and "  [2] PROGRAM" in out
    assert main(["import", str(SEED_FILE), "--opd", "kop"]) == 0
    capsys.readouterr()
    assert main(["summary", "--opd", "kop", "--tahun", "2022", "--tw", "3"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert "Rp 3.064.862.971" in rows["Sekretariat"]
    assert "Rp 4.873.599.077" in rows[NO_BIDANG] and "Rp 1.281.376.067" in rows[NO_BIDANG]
    assert "Rp 9.610.718.634" in rows["Total dinas"] and "Rp 4.346.239.038" in rows["Total dinas"]
    assert main(["import", str(SEED_FILE), "--opd", "kop", "--bidang", "2=koperasi"]) == 0
    capsys.readouterr()
    assert main(["summary", "--opd", "kop", "--tahun", "2022", "--tw", "3"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert "Rp 144.901.250" in rows["Koperasi"] and "Rp 4.346.239.038" in rows["Total dinas"]
    assert "Rp 1.136.474.817" in rows[NO_BIDANG]  # sasaran 3-5 still without a bidang


def test_template_takes_realisation_figures(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--opd", "Dinas Ketahanan Pangan Kabupaten Solok", "--singkatan",
                 "DKP", "--kepala", "X", "--nip", "1", "--bidang", "tph:Tanaman Pangan:2"]
                ) == 0  # fmt: skip
    assert main(["template", "--opd", "dkp", "--tahun", "2025", "--tw", "2", "-o", "t.xlsx"]) == 0
    out = capsys.readouterr().out
    assert "Realisasi TW II yang sudah ada boleh diisi di kolom 19 (fisik) dan 21" in out
    wb = load_workbook(workdir / "t.xlsx")
    ws = wb["Rencana"]
    assert ws["A2"].value == "LAPORAN KINERJA TRIWULAN II TAHUN 2025"
    help_text = " ".join(str(c.value) for c in wb["Petunjuk"]["A"] if c.value)
    assert "isi kolom 21 (U) dengan realisasi anggaran kumulatif" in help_text
    for row in ws.iter_rows(min_row=7):
        if str(row[15].value or "").startswith("Sub Kegiatan"):
            row[20].value = row[19].value // 4  # a quarter of the pagu spent
            row[18].value = 30
    buf = io.BytesIO()
    wb.save(buf)
    (workdir / "t.xlsx").write_bytes(buf.getvalue())
    assert main(["import", "t.xlsx", "--opd", "dkp"]) == 0
    assert "TW II 2025" in capsys.readouterr().out
    assert main(["summary", "--opd", "dkp", "--tahun", "2025", "--tw", "2"]) == 0
    total = _total(capsys.readouterr().out)[0]
    assert "Rp 150.000.000" in total and "Rp 37.500.000" in total and "25,00%" in total


def test_findings_list_what_a_file_states_against_its_amounts(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--opd", "Dinas Pertanian Kabupaten Solok", "--singkatan", "Distan",
                 "--kepala", "X", "--nip", "1"]) == 0  # fmt: skip
    assert main(["import", str(LAYOUTS / "lkj-distan-2023.tsv"), "--opd", "distan"]) == 0
    capsys.readouterr()
    assert main(["findings", "--opd", "distan", "--tahun", "2023"]) == 0
    out = capsys.readouterr().out
    assert "3 temuan tahun 2023" in out
    assert "persentase tertulis 91,94% (rata-rata biasa persentase rinciannya" in out
    assert "persentase tertulis 85,00%, sedangkan Rp 120.240.000 dari pagu Rp 150.300.000" in out


# --- levels and periods the fixtures do not cover --------------------------------------------


def test_levels_from_indentation_and_bold_when_names_carry_no_prefix(tmp_path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment

    from storage.files.layouts import recognise

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["REALISASI ANGGARAN S.D. TRIWULAN I TAHUN 2024"])
    ws.append(["Uraian", "Pagu", "Realisasi"])
    rows = [
        (0, "Penunjang Urusan Pemerintahan Daerah", 300, 90),
        (1, "Administrasi Keuangan", 300, 90),
        (2, "Penyediaan Gaji dan Tunjangan ASN", 200, 60),
        (2, "Pelaksanaan Penatausahaan Keuangan", 100, 30),
    ]
    for indent, name, pagu, real in rows:
        ws.append([name, pagu * 1_000_000, real * 1_000_000])
        ws.cell(row=ws.max_row, column=1).alignment = Alignment(indent=indent)
    buf = io.BytesIO()
    wb.save(buf)
    layout = recognise(buf.getvalue(), "indentasi.xlsx")
    assert [(n.level, n.nama) for n in layout.nodes()] == [
        (Level.PROGRAM, "PROGRAM Penunjang Urusan Pemerintahan Daerah"),
        (Level.KEGIATAN, "Kegiatan Administrasi Keuangan"),
        (Level.SUB_KEGIATAN, "Sub Kegiatan Penyediaan Gaji dan Tunjangan ASN"),
        (Level.SUB_KEGIATAN, "Sub Kegiatan Pelaksanaan Penatausahaan Keuangan"),
    ]
    assert layout.quarters == [1]

    text = (
        b"Realisasi Anggaran Tahun 2024\n"
        b"Uraian\tAnggaran (Rp)\tRealisasi TW I\tRealisasi TW II\n"
        b"<b>Pengelolaan Sampah</b>\t2.250.000.000\t\t\n"
        b"Penyediaan Sarana Persampahan\t1.250.000.000\t225.000.000\t675.000.000\n"
        b"Pengangkutan Sampah\t1.000.000.000\t150.000.000\t400.000.000\n"
    )
    bold = recognise(text, "tebal.tsv")
    assert [n.level for n in bold.nodes()] == [
        Level.PROGRAM,
        Level.SUB_KEGIATAN,
        Level.SUB_KEGIATAN,
    ]
    assert "realisasi kumulatif per triwulan" in bold.kind and bold.quarters == [1, 2]
    top = bold.roots[0]
    from storage.files.layouts import figure

    assert (figure(top, 1), figure(top, 2)) == (375_000_000, 1_075_000_000)
