"""What a chart shows, as plain data: the bars, the title, and the "nothing to draw" error.

Kept apart from ``charts.render`` so that the bot process can plan charts (``charts.answers``)
and hand them to the render worker without loading matplotlib itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.domain.errors import MonevError


@dataclass(frozen=True)
class Bar:
    """One labelled value in percent points (64.7 == 64,70%); ``None`` = no data/incomplete."""

    label: str
    value: float | None
    note: str = ""  # e.g. "belum lengkap"


@dataclass(frozen=True)
class MoneyBar:
    """Pagu and realisasi of one program, whole rupiah; ``realisasi=None`` = incomplete."""

    label: str
    pagu: int
    realisasi: int | None


@dataclass(frozen=True)
class PairBar:
    """Serapan (keuangan) and realisasi fisik of one program, both in percent points."""

    label: str
    keuangan: float | None
    fisik: float | None


@dataclass(frozen=True)
class StatusBar:
    """Where a bidang's report stands; ``status=None`` = nothing submitted (belum lapor)."""

    label: str
    status: str | None  # "disetujui", "diajukan", "dikembalikan", "draft" or None


@dataclass(frozen=True)
class ChartMeta:
    title: str  # "Serapan anggaran per bidang"
    subtitle: str  # "TW III 2022 · Dinas Koperasi, UKM, Perindustrian dan Perdagangan Kab. Solok"
    source: str = "Sumber: monev-bot, Laporan Kinerja Triwulan"


class NoData(MonevError, ValueError):
    """Nothing to draw. ``str()`` is an Indonesian sentence for the user."""


@dataclass(frozen=True)
class PlanBar:
    """Plan (rencana, cumulative to the quarter) and realisasi of one program, whole rupiah;
    ``at_risk`` marks a program projected to fall short of its plan by the year's end."""

    label: str
    rencana: int
    realisasi: int | None
    at_risk: bool = False
    points: float | None = None  # deviation in percentage points of pagu
