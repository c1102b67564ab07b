"""Early-warning arithmetic: the plan path, deviation from it, and a year-end projection.

Pure functions on whole rupiah; no database. The rules (docs/domain.md, "Peringatan dini"):

* A plan path is four cumulative amounts, TW I..IV. The office's own plan (rencana
  penarikan) is used where it exists; otherwise the national path 15/40/60/90 % of the
  node's pagu stands in (``national_path``), and every answer names which one was used.
* Deviation = realisasi − rencana, in rupiah and in percentage points of pagu. A node is
  *menyimpang* when the points are beyond the tolerance either way (default 5 pp, as the
  Kemenkeu IKPA deviation indicator allows 5 %).
* Projection of the year-end realisation: what is still planned after the quarter, scaled
  by how far the node has kept to its plan so far (realisasi ÷ rencana), added to what has
  been realised, and bounded by the pagu below and what has been realised above.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise

from storage.domain.errors import MonevError
from storage.domain.numbers import format_number, ratio_percent

DEFAULT_TOLERANCE_PP = 5.0
QUARTERS = (1, 2, 3, 4)
# The national path (cumulative percent of pagu by the end of TW I..IV) unless the deployment
# configures its own (``queries.benchmarks``, setting "benchmark_serapan").
DEFAULT_BENCHMARKS: Mapping[int, float] = {1: 15.0, 2: 40.0, 3: 60.0, 4: 90.0}

Path = tuple[int, int, int, int]  # cumulative rupiah at the end of TW I..IV


class PlanSource(StrEnum):
    """Where a node's plan path comes from."""

    KANTOR = "rencana kantor"
    NASIONAL = "pola nasional"  # named with its path by label()
    CAMPURAN = "campuran"  # some parts with the office's plan, the rest on the national path

    def label(self, benchmarks: Mapping[int, float] | None = None) -> str:
        """How an answer names the source ("pola nasional 15/40/60/90%")."""
        if self is PlanSource.CAMPURAN:
            return f"rencana kantor sebagian, sisanya pola nasional {national_label(benchmarks)}"
        if self is PlanSource.NASIONAL:
            return f"pola nasional {national_label(benchmarks)}"
        return self.value


def national_label(benchmarks: Mapping[int, float] | Sequence[float] | None = None) -> str:
    """The national path as people read it, "15/40/60/90%": from the configured benchmarks
    (``queries.benchmarks``, or the four percentages a /lapor step was offered with); the
    default path only when none are given."""
    if isinstance(benchmarks, Mapping):
        values = [benchmarks.get(q, 0) for q in QUARTERS] if benchmarks else []
    else:
        values = list(benchmarks or [])
    return "/".join(f"{v:g}" for v in values or DEFAULT_BENCHMARKS.values()) + "%"


def combine_sources(sources: Sequence[PlanSource]) -> PlanSource:
    """The source of a roll-up: one kind when all parts agree, otherwise mixed."""
    kinds = set(sources)
    if kinds == {PlanSource.KANTOR}:
        return PlanSource.KANTOR
    if not kinds or kinds == {PlanSource.NASIONAL}:
        return PlanSource.NASIONAL
    return PlanSource.CAMPURAN


def national_path(pagu: int, benchmarks: Mapping[int, float]) -> Path:
    """The national cumulative path of a pagu, rounded to whole rupiah per quarter."""
    return tuple(round(pagu * benchmarks.get(q, 0.0) / 100) for q in QUARTERS)  # type: ignore[return-value]


def fill_path(values: Sequence[int | None]) -> Path:
    """An office plan as a full path: a quarter left empty keeps the quarter before it
    (cumulative amounts never go down), TW I empty is 0."""
    out: list[int] = []
    last = 0
    for v in list(values)[:4] + [None] * (4 - len(values)):
        last = last if v is None else v
        out.append(last)
    return tuple(out)  # type: ignore[return-value]


def add_paths(paths: Sequence[Path]) -> Path:
    return tuple(sum(p[i] for p in paths) for i in range(4))  # type: ignore[return-value]


class PlanError(MonevError, ValueError):
    """A plan that cannot be right; ``str()`` is an Indonesian message."""


def check_plan(values: Sequence[int | None], pagu: int | None) -> None:
    """A plan must be cumulative (never going down), not negative, and within the pagu."""
    given = [(q, v) for q, v in zip(QUARTERS, values, strict=False) if v is not None]
    if not given:
        raise PlanError("Rencana kosong: isi paling sedikit satu triwulan.")
    for q, v in given:
        if v < 0:
            raise PlanError(f"Rencana TW {q} tidak boleh negatif.")
    for (q1, v1), (q2, v2) in pairwise(given):
        if v2 < v1:
            raise PlanError(
                f"Rencana bersifat kumulatif: TW {q2} ({format_number(v2)}) tidak boleh lebih "
                f"kecil dari TW {q1} ({format_number(v1)})."
            )
    if pagu is not None and given[-1][1] > pagu:
        q, v = given[-1]
        raise PlanError(
            f"Rencana TW {q} ({format_number(v)}) melebihi pagu ({format_number(pagu)})."
        )


@dataclass(frozen=True)
class Deviation:
    rupiah: int  # realisasi − rencana; negative: behind the plan
    points: float | None  # percentage points of pagu; None without a pagu

    def beyond(self, tolerance: float) -> bool:
        """*Menyimpang*: more than ``tolerance`` points away from the plan, either way."""
        return self.points is not None and abs(self.points) > tolerance + 1e-9


def deviation(realisasi: int, rencana: int, pagu: int | None) -> Deviation:
    diff = realisasi - rencana
    return Deviation(diff, ratio_percent(diff, pagu))


@dataclass(frozen=True)
class Projection:
    """A projected cumulative realisation and how it was reached."""

    amount: int
    ratio: float  # realisasi ÷ rencana so far (1.0 when nothing was planned yet)
    remaining_plan: int  # planned after the quarter up to the projected one
    capped: bool  # bounded by the pagu

    @property
    def ratio_percent(self) -> float:
        return ratio_percent(self.ratio, 1, 1) or 0.0


def projection_ratio(realisasi: int, rencana: int) -> float:
    """How far a node (or a sum of them) kept to its plan so far: realisasi ÷ rencana; 1.0
    when nothing was planned yet (it is assumed to keep to its plan)."""
    return realisasi / rencana if rencana > 0 else 1.0


def project(path: Path, realisasi: int, pagu: int | None, *, at: int, to: int = 4) -> Projection:
    """Cumulative realisation projected from quarter ``at`` to quarter ``to``.

    The plan still ahead (``path[to] − path[at]``) is scaled by realisasi ÷ rencana at
    ``at``; a node that planned nothing yet is assumed to keep to its plan. The result is
    never below what has been realised and never above the pagu.
    """
    if not (1 <= at <= to <= 4):
        raise ValueError(f"quarters out of order: {at} -> {to}")
    planned_now = path[at - 1]
    ratio = projection_ratio(realisasi, planned_now)
    remaining = max(path[to - 1] - planned_now, 0)
    amount = realisasi + round(remaining * ratio)
    capped = False
    if pagu is not None and amount > pagu:
        amount, capped = max(pagu, realisasi), True
    return Projection(max(amount, realisasi), ratio, remaining, capped)


def at_risk(path: Path, projection: Projection) -> int:
    """Rupiah of the year's plan the projection leaves unabsorbed (0 when on plan)."""
    return max(path[3] - projection.amount, 0)
