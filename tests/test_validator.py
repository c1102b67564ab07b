"""The validator: the four mistakes of the 2022 reports and mistakes in entered data."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import select

from storage.data.db import session_scope
from storage.data.models import Finding, FindingKind, Node, Realisasi, Source
from storage.services.validator import validate_year


def _findings(engine: Engine) -> list[Finding]:
    with session_scope(engine) as s:
        return validate_year(s, 1, 2022)


def _by_kind(findings: list[Finding], kind: FindingKind) -> list[str]:
    return [f.message for f in findings if f.kind == kind]


def test_the_four_mistakes_of_design_md(seeded: Engine) -> None:
    found = _findings(seeded)
    sums = _by_kind(found, FindingKind.CAPAIAN_SUM)
    assert any("120,43%" in m and "15,46% + 40,27% + 64,70%" in m for m in sums)
    assert any("1.349,06%" in m for m in _by_kind(found, FindingKind.CAPAIAN_RANGE))
    down = _by_kind(found, FindingKind.CUMULATIVE_DOWN)
    assert any(
        "PROGRAM PENGAWASAN DAN PEMERIKSAAN KOPERASI" in m
        and "Rp 636.000" in m
        and "Rp 635.000" in m
        for m in down
    )
    mismatch = _by_kind(found, FindingKind.PARENT_MISMATCH)
    assert any(
        "PROGAM PENINGKATAN SARANA DISTRIBUSI PERDAGANGAN" in m
        and "Rp 67.533.400" in m
        and "Rp 38.878.500" in m
        and "TW II" in m
        for m in mismatch
    )
    differ = _by_kind(found, FindingKind.REPORTS_DIFFER)
    assert any("sasaran 1" in m and "15,64%" in m and "15,46%" in m for m in differ)
    # each finding says where: report and row
    assert all("baris" in m for m in down + mismatch)


def test_validation_is_repeatable(seeded: Engine) -> None:
    first = sorted(f.message for f in _findings(seeded))
    second = sorted(f.message for f in _findings(seeded))
    assert first == second


def test_entered_data_above_pagu_and_out_of_range(seeded: Engine) -> None:
    with session_scope(seeded) as s:
        node = next(
            n
            for n in s.exec(select(Node)).all()
            if n.nama == "Sub Kegiatan Penyedia Jasa Surat Menyurat"
        )
        r = s.exec(
            select(Realisasi).where(Realisasi.node_id == node.id, Realisasi.triwulan == 3)
        ).one()
        r.anggaran, r.fisik, r.source, r.report_id, r.row_no = (
            950_000,
            120.0,
            Source.ENTRY,
            None,
            None,
        )
        s.add(r)
    found = _findings(seeded)
    above = _by_kind(found, FindingKind.ABOVE_PAGU)
    assert any("Surat Menyurat" in m and "Rp 950.000" in m and "Rp 900.000" in m for m in above)
    assert any("isian TW III" in m for m in above)
    assert any("120,00%" in m for m in _by_kind(found, FindingKind.CAPAIAN_RANGE))
    # its kegiatan now disagrees with its children as well
    assert any(
        "Kegiatan Penyediaan Jasa Penunjang" in m and "TW III" in m
        for m in _by_kind(found, FindingKind.PARENT_MISMATCH)
    )
