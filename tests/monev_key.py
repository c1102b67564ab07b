"""An independent key for the figures answers must give: computed here from the raw tables
(node, node_plan, realisasi, sasaran, bidang) by the README's rules, with plain SQL and
dictionaries — none of storage.services.queries — so a mistake there cannot hide in both.

Rules (README *Aturan angka*): a node's pagu at a quarter is its latest plan row at or
before it (inactive: not in the plan; a child is out when its parent is); its realisasi is
the figure reported for it, else the sum of its children when every child has one, else
unknown; a bidang's and the office's figures are the sums of their programs; serapan is
realisasi ÷ pagu, two decimals, half up.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import text
from sqlalchemy.engine import Engine


def percent(num: int | None, den: int | None) -> float | None:
    if num is None or not den:
        return None
    return float((Decimal(num) * 100 / Decimal(den)).quantize(Decimal("0.01"), ROUND_HALF_UP))


def id_percent(value: float | None) -> str:
    """40.92 -> '40,92%' (written out here, not through babel)."""
    if value is None:
        return "-"
    whole, frac = f"{value:.2f}".split(".")
    return f"{int(whole):,}".replace(",", ".") + "," + frac + "%"


def id_rupiah(value: int) -> str:
    return "Rp " + f"{value:,}".replace(",", ".")


@dataclass(frozen=True)
class Fig:
    pagu: int
    realisasi: int | None
    fisik: float | None = None

    @property
    def serapan(self) -> float | None:
        return percent(self.realisasi, self.pagu)

    @property
    def sisa(self) -> int | None:
        return None if self.realisasi is None else self.pagu - self.realisasi


class Key:
    def __init__(self, engine: Engine, opd_id: int = 1, tahun: int = 2022) -> None:
        with engine.connect() as c:
            self.nodes = {
                r.id: r
                for r in c.execute(
                    text(
                        "SELECT n.id, n.parent_id, n.level, n.nama, n.urutan, s.bidang_id "
                        "FROM node n JOIN sasaran s ON s.id = n.sasaran_id "
                        "WHERE n.opd_id = :o AND n.tahun = :t"
                    ),
                    {"o": opd_id, "t": tahun},
                )
            }
            self.plans: dict[int, list[tuple[int, bool, int | None]]] = {}
            for r in c.execute(
                text("SELECT node_id, triwulan, aktif, pagu FROM node_plan ORDER BY triwulan")
            ):
                if r.node_id in self.nodes:
                    self.plans.setdefault(r.node_id, []).append((r.triwulan, r.aktif, r.pagu))
            self.real = {
                (r.node_id, r.triwulan): (r.anggaran, r.fisik)
                for r in c.execute(text("SELECT node_id, triwulan, anggaran, fisik FROM realisasi"))
                if r.node_id in self.nodes
            }
            self.bidang = {
                r.nama: r.id
                for r in c.execute(
                    text("SELECT id, nama FROM bidang WHERE opd_id = :o ORDER BY urutan, id"),
                    {"o": opd_id},
                )
            }
        self.kids: dict[int | None, list[int]] = {}
        for n in sorted(self.nodes.values(), key=lambda n: (n.urutan, n.id)):
            self.kids.setdefault(n.parent_id, []).append(n.id)

    def pagu(self, node_id: int, tw: int) -> int | None:
        if not self.in_plan(node_id, tw):
            return None
        return [r for r in self.plans[node_id] if r[0] <= tw][-1][2]

    def in_plan(self, node_id: int, tw: int) -> bool:
        rows = [r for r in self.plans.get(node_id, []) if r[0] <= tw]
        if not rows or not rows[-1][1]:
            return False
        parent = self.nodes[node_id].parent_id
        return parent is None or self.in_plan(parent, tw)

    def children(self, node_id: int | None, tw: int) -> list[int]:
        return [k for k in self.kids.get(node_id, []) if self.in_plan(k, tw)]

    def node(self, node_id: int, tw: int) -> Fig:
        kids = self.children(node_id, tw)
        own = self.real.get((node_id, tw))
        pagu = self.pagu(node_id, tw)
        parts = [self.node(k, tw) for k in kids]
        if own is not None and own[0] is not None:
            fisik = own[1] if own[1] is not None or not kids else _weighted(parts)
            return Fig(pagu or 0, own[0], fisik)
        if not kids:
            return Fig(pagu or 0, None, own[1] if own else None)
        total = pagu if pagu is not None else sum(p.pagu for p in parts)
        return Fig(total, _sum([p.realisasi for p in parts]), _weighted(parts))

    def programs(self, tw: int, bidang: str | None = None) -> list[int]:
        bid = self.bidang[bidang] if bidang else None
        return [k for k in self.children(None, tw) if bid is None or self.nodes[k].bidang_id == bid]

    def scope(self, tw: int, bidang: str | None = None) -> Fig:
        parts = [self.node(p, tw) for p in self.programs(tw, bidang)]
        return Fig(sum(p.pagu for p in parts), _sum([p.realisasi for p in parts]), _weighted(parts))

    def projection(self, tw: int, bidang: str | None = None) -> int:
        """Year-end projection of the office or a bidang, without an office plan: each
        program on the national path 15/40/60/90% of its pagu, realisasi + the plan still
        ahead × realisasi ÷ plan so far, within the pagu; the scope's is the programs' sum."""
        total = 0
        for p in self.programs(tw, bidang):
            f = self.node(p, tw)
            assert f.realisasi is not None
            path = [round(f.pagu * share / 100) for share in (15, 40, 60, 90)]
            now = path[tw - 1]
            ratio = f.realisasi / now if now else 1.0
            amount = f.realisasi + round(max(path[3] - now, 0) * ratio)
            total += max(min(amount, f.pagu), f.realisasi)
        return total

    def named(self, name: str) -> int:
        """The node whose name starts with ``name`` (case-insensitive), exactly one."""
        found = [i for i, n in self.nodes.items() if n.nama.lower().startswith(name.lower())]
        assert len(found) == 1, (name, [self.nodes[i].nama for i in found])
        return found[0]

    def level(self, level: str, tw: int, bidang: str | None = None) -> list[tuple[str, Fig]]:
        """Every node of ``level`` in the plan at ``tw`` (under ``bidang``), with its figure."""
        out: list[tuple[str, Fig]] = []

        def walk(i: int) -> None:
            if self.nodes[i].level == level:
                out.append((self.nodes[i].nama, self.node(i, tw)))
                return
            for k in self.children(i, tw):
                walk(k)

        for p in self.programs(tw, bidang):
            walk(p)
        return out


def _sum(values: object) -> int | None:
    vals = list(values)  # type: ignore[call-overload]
    return None if any(v is None for v in vals) else sum(vals)


def _weighted(parts: list[Fig]) -> float | None:
    """Realisasi fisik of a roll-up: the parts' fisik weighted by pagu, two decimals."""
    weight = sum(p.pagu for p in parts)
    if not parts or any(p.fisik is None for p in parts) or not weight:
        return None
    return round(sum((p.fisik or 0) * p.pagu for p in parts) / weight, 2)
