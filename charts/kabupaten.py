"""The kabupaten chart: serapan per office (OPD) of one quarter, ranked, with the national
target line; every figure drawn is in the caption too (shortened names; the sender cuts a
long list to Telegram's caption limit, pointing to the recap), offices whose figures are not
all approved marked."""

from __future__ import annotations

from sqlmodel import Session

from charts import spec
from charts.answers import UNAPPROVED, ChartPlan
from storage.domain.numbers import format_percent
from storage.domain.periods import roman
from storage.services.kabupaten import kabupaten_figures, ranked
from storage.services.queries import benchmarks

MAX_OFFICE_BARS = 45  # a kabupaten has some 30-40 offices: all of them are drawn
CALLBACK = "gr:kab"  # "gr:kab:<tw>:<tahun>"


def encode_kabupaten(tahun: int, tw: int) -> str:
    return f"{CALLBACK}:{tw}:{tahun}"


def decode_kabupaten(data: str) -> tuple[int, int] | None:
    """(tahun, tw) of a kabupaten chart button, or None when it is not one."""
    parts = data.split(":")
    if len(parts) != 4 or f"{parts[0]}:{parts[1]}" != CALLBACK:
        return None
    if not (parts[2].isdecimal() and parts[3].isdecimal()) or not 1 <= int(parts[2]) <= 4:
        return None
    return int(parts[3]), int(parts[2])


def plan_kabupaten_chart(session: Session, tahun: int, tw: int) -> ChartPlan:
    """Bars of serapan per office, highest first; offices without figures at the end."""
    figures = ranked(kabupaten_figures(session, tahun, tw))[:MAX_OFFICE_BARS]
    if not any(f.serapan is not None for f in figures):
        raise spec.NoData(f"Belum ada OPD dengan angka serapan lengkap TW {roman(tw)} {tahun}.")
    bars = [
        spec.Bar(
            f.office.singkatan or f.office.nama,
            f.serapan,
            UNAPPROVED if f.unapproved else ("" if f.has_plan else "belum ada rencana"),
        )
        for f in figures
    ]
    period = f"TW {roman(tw)} {tahun}"
    meta = spec.ChartMeta("Serapan anggaran per OPD", f"{period} · {len(figures)} perangkat daerah")
    lines = [f"Serapan anggaran per OPD {period}, dari yang tertinggi:"]
    for i, f in enumerate(figures, 1):
        mark = f" ({UNAPPROVED})" if f.unapproved else ""
        value = format_percent(f.serapan) if f.serapan is not None else "belum lengkap"
        lines.append(f"{i}. {f.office.singkatan or f.office.nama[:40]}: {value}{mark}")
    bench = benchmarks(session).get(tw, 0.0)
    return ChartPlan(
        "serapan_per_opd",
        (bars, bench, meta),
        "\n".join(lines),
        f"serapan-per-opd-{tahun}-tw{tw}.png",
        more=f"… lengkapnya: /laporan rekap {tw} {tahun}",
    )
