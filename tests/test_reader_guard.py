"""Issue 23, cases 3-5: every workbook reader is bounded by one guard, whatever the file's
shape; a report lands only in the office its title names (or where the user confirms).

Driven through ``monev`` as an operator types it. The bombs here are just past the bounds
(files the readers of the old code accepted as a success); the attack-sized ones (one row of
seven million cells) are timed in ``python -m benchmarks.bench_hostile_files``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.bench_hostile_files import rewrite_sheet, row_bomb, shapes
from bot.cli.main import main
from storage.files.demo import SEED_FILE
from storage.files.report_parser import BadFileError, read_lines
from storage.files.workbook import LIMITS, check_workbook


def _summary(capsys: pytest.CaptureFixture[str], *opd: str) -> str:
    assert main(["summary", "--tahun", "2022", "--tw", "3", *opd]) == 0
    return capsys.readouterr().out


def _template(workdir: Path, capsys: pytest.CaptureFixture[str]) -> bytes:
    _summary(capsys)  # fills the demo data
    assert main(["template", "--tahun", "2022", "-o", "rencana.xlsx"]) == 0
    capsys.readouterr()
    return (workdir / "rencana.xlsx").read_bytes()


def _export(workdir: Path, capsys: pytest.CaptureFixture[str], *opd: str) -> bytes:
    assert main(["export", "--tahun", "2022", "--tw", "3", "-o", "tw3.xlsx", *opd]) == 0
    capsys.readouterr()
    return (workdir / "tw3.xlsx").read_bytes()


# --- case 3: monev rencana impor ------------------------------------------------------------


def test_plan_import_of_a_row_bomb_is_refused_not_reported_a_success(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The filled template with one more row of 60,000 empty cells: read whole and reported
    as "0 sub kegiatan diubah" before; refused at the row's 2,001st cell now."""
    bomb = row_bomb(
        workdir / "rencana-bom.xlsx",
        60_000,
        title="Rencana Penarikan",
        base=_template(workdir, capsys),
    )
    assert main(["rencana", "impor", str(bomb)]) == 1
    out = capsys.readouterr()
    assert "baris 60000 lembar Rencana Penarikan berisi lebih dari 2.000 sel" in out.err
    assert "Tidak ada rencana yang berubah." in out.err
    assert "diubah" not in out.out and "Traceback" not in out.err


# --- case 4: monev import -------------------------------------------------------------------


def test_report_import_with_a_row_bomb_sheet_is_refused_and_nothing_changes(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The office's own export plus a sheet "Lampiran" holding one row of 60,000 empty cells:
    imported before (the row was built, then found empty); refused now, nothing written."""
    _summary(capsys)
    bomb = row_bomb(workdir / "bom.xlsx", 60_000, title="Lampiran", base=_export(workdir, capsys))
    before = _summary(capsys)
    assert main(["import", str(bomb)]) == 1
    err = capsys.readouterr().err
    assert "bom.xlsx ditolak: baris 60000 lembar Lampiran berisi lebih dari 2.000 sel" in err
    assert "Basis data tidak berubah." in err
    assert _summary(capsys) == before


@pytest.mark.parametrize("importer", ["import", "rencana"])
def test_every_hostile_shape_is_refused_by_both_importers(
    workdir: Path, capsys: pytest.CaptureFixture[str], importer: str
) -> None:
    """Rows, cells per row, cell text runs, styles, entity declarations: each just past its
    bound, in the sheet each importer reads."""
    base = _template(workdir, capsys)
    title = "Rencana Penarikan" if importer == "rencana" else "Rencana"
    files = shapes(workdir, title=title, base=base, full=False)
    expected = {
        "one row of 2,500 empty cells": "berisi lebih dari 2.000 sel",
        "100,500 rows of one cell": "berisi lebih dari 100.000 baris",
        "one cell of 1,500 text runs": "lebih dari 1.000 bagian teks",
        "60,000 cell styles": "xl/styles.xml berisi lebih dari 50.000 unsur XML",
        "entity expansion (billion laughs, 2 levels)": "memuat deklarasi DOCTYPE",
    }
    assert set(files) == set(expected)
    for label, path in files.items():
        command = ["import", str(path)] if importer == "import" else ["rencana", "impor", str(path)]
        assert main(command) == 1, label
        err = capsys.readouterr().err
        assert expected[label] in err, (label, err)
        assert "Traceback" not in err


def test_a_cell_of_more_text_than_excel_allows_is_refused(tmp_path: Path) -> None:
    text = b"x" * (LIMITS.cell_chars + 1)
    path = rewrite_sheet(
        tmp_path / "panjang.xlsx",
        "Sheet1",
        b'<row r="1"><c t="inlineStr"><is><t>' + text + b"</t></is></c></row>",
    )
    check_workbook(path.read_bytes(), path.name)  # small: the directory and counts pass
    with pytest.raises(BadFileError, match=r"32\.768 karakter \(batas Excel 32\.767\)"):
        read_lines(path)


# --- case 5: the office a file names ----------------------------------------------------------


def _dinkes() -> None:
    assert main(["init", "--opd", "Dinas Kesehatan Kabupaten Solok", "--singkatan", "Dinkes",
                 "--kepala", "dr. Andi", "--nip", "198001012005011001"]) == 0  # fmt: skip


def test_a_report_naming_another_office_is_refused_unless_confirmed(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _summary(capsys)
    _dinkes()
    exported = _export(workdir, capsys, "--opd", "diskoperindag")
    path = workdir / "koperindag-tw3.xlsx"
    path.write_bytes(exported)
    named = "DINAS KOPERASI, USAHA KECIL MENENGAH, PERINDUSTRIAN DAN PERDAGANGAN KABUPATEN SOLOK"

    assert main(["import", str(path), "--opd", "dinkes"]) == 1
    err = capsys.readouterr().err
    assert f"Judul berkas menyebut {named}, bukan Dinas Kesehatan Kabupaten Solok" in err
    assert "--opd-berbeda" in err and "Basis data tidak berubah." in err
    with pytest.raises(SystemExit, match="Belum ada data"):
        main(["summary", "--opd", "dinkes"])

    # --coba names both offices and says the import would be refused
    assert main(["import", str(path), "--opd", "dinkes", "--coba"]) == 1
    out = capsys.readouterr().out
    assert f"Perangkat daerah menurut berkas: {named}" in out
    assert "Diimpor ke: Dinas Kesehatan Kabupaten Solok" in out
    assert "Impor sungguhan akan DITOLAK" in out and "bukan Dinas Kesehatan" in out

    # the office it names, by its short name: no question asked
    assert main(["import", str(path), "--opd", "diskoperindag", "--coba"]) == 0
    assert "Diimpor ke: " + named in capsys.readouterr().out

    # confirmed: imported into Dinkes as asked
    assert main(["import", str(path), "--opd", "dinkes", "--opd-berbeda"]) == 0
    capsys.readouterr()
    total = [x for x in _summary(capsys, "--opd", "dinkes").splitlines() if x.startswith("Total")]
    assert total and "Rp 9.610.718.634" in total[0]


def test_a_report_of_another_kabupaten_is_refused_unless_confirmed(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _summary(capsys)  # the demo office, of Kabupaten Solok
    other = workdir / "tanah-datar.txt"
    other.write_text(
        SEED_FILE.read_text(encoding="utf-8").replace("KABUPATEN SOLOK", "KABUPATEN TANAH DATAR"),
        encoding="utf-8",
    )
    assert main(["import", str(other)]) == 1
    err = capsys.readouterr().err
    assert "(kabupaten tanah datar), padahal perangkat daerah di sini dari kabupaten solok" in err
    assert main(["opd", "list"]) == 0
    assert "TANAH DATAR" not in capsys.readouterr().out
    assert main(["import", str(other), "--opd-berbeda"]) == 0
    capsys.readouterr()
    assert main(["opd", "list"]) == 0
    assert "TANAH DATAR" in capsys.readouterr().out
