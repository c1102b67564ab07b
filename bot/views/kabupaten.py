"""How the kabupaten answers read: offices ranked, offices not yet reported, the recap.

Every answer names its period; an office whose figures are not all approved is marked
"*" with the note below; no message exceeds Telegram's 4096 characters (long lists end
with how many offices were left out and where to see all of them).
"""

from __future__ import annotations

from html import escape

from bot.views.answers import Reply, short
from bot.views.budget import fit
from storage.domain.kabupaten_questions import KabKind, KabQuestion
from storage.domain.numbers import (
    format_percent,
    format_rupiah_short,
    ratio_percent,
)
from storage.domain.periods import roman
from storage.services.kabupaten import OfficeFigure, OfficeRisk, ranked

RANK_SHOWN = 10  # a ranking question shows the first ten; the recap shows all
UNAPPROVED = " *"
NOTE_UNAPPROVED = "<i>* sebagian angka OPD ini belum disetujui verifikator/kepala.</i>"
RECAP_HINT = "Daftar lengkap dalam berkas: <code>/laporan rekap {tw} {tahun}</code>"


def _period(tahun: int, tw: int) -> str:
    return f"TW {roman(tw)} {tahun}"


def _line(i: int | None, f: OfficeFigure) -> str:
    name = escape(short(f.office.singkatan or f.office.nama, 48))
    mark = UNAPPROVED if f.unapproved else ""
    if not f.has_plan:
        figure = "belum ada rencana"
    elif f.serapan is None:
        figure = "belum lengkap" if f.reported else "belum lapor"
    else:
        # rounded: the exact figures are in the recap file (/laporan rekap)
        figure = (
            f"<b>{format_percent(f.serapan)}</b> "
            f"({format_rupiah_short(f.realisasi)} / {format_rupiah_short(f.pagu)})"
        )
    num = f"{i}. " if i is not None else "• "
    return f"{num}{name}{mark}: {figure}"


def _with_note(text: str, unapproved: bool) -> Reply:
    """The reply, closed (on every page of it) by the note explaining the * marks."""
    if not unapproved:
        return Reply(text)
    foot = "\n\n" + NOTE_UNAPPROVED
    return Reply(text + foot, foot=foot)


def _fit(lines: list[str], tail: list[str]) -> str:
    """Lines joined, cut (with a count of what was cut) to stay under the limit."""
    return fit("\n".join(lines), tail="".join(f"\n{t}" for t in tail), more=_more_offices)


def _more_offices(n: int) -> str:
    return f"… dan {n} OPD lainnya."


def kabupaten_reply(q: KabQuestion, tahun: int, tw: int, figures: list[OfficeFigure]) -> Reply:
    period = _period(tahun, tw)
    hint = RECAP_HINT.format(tw=tw, tahun=tahun)
    any_unapproved = any(f.unapproved for f in figures)
    if q.kind is KabKind.NOT_REPORTED:
        missing = [f for f in figures if f.has_plan and not f.complete]
        no_plan = [f for f in figures if not f.has_plan]
        head = (
            f"<b>OPD yang belum lapor lengkap</b> · {period}\n"
            f"{len(missing)} dari {len(figures)} OPD belum lapor lengkap"
            + (f"; {len(no_plan)} OPD belum punya rencana tahun {tahun}" if no_plan else "")
            + "."
        )
        lines = [head, ""]
        for f in sorted(missing, key=lambda f: (-f.not_reported, f.office.nama)):
            lines.append(
                f"• {escape(short(f.office.label, 60))}: {f.not_reported} dari {f.bidang} "
                "bidang belum lapor"
            )
        for f in no_plan:
            lines.append(f"• {escape(short(f.office.label, 60))}: belum ada rencana")
        return Reply(_fit(lines, ["", hint]))

    order = ranked(figures, lowest_first=q.lowest_first)
    if q.kind is KabKind.RANK:
        which = "terendah" if q.lowest_first else "tertinggi"
        head = f"<b>Serapan anggaran per OPD</b> · {period} · dari yang {which}"
        shown = order[:RANK_SHOWN]
    else:
        head = f"<b>Rekap serapan anggaran kabupaten</b> · {period}"
        shown = order
    lines = [head, ""]
    rank = 0
    for f in shown:
        if f.serapan is not None:
            rank += 1
            lines.append(_line(rank, f))
        else:
            lines.append(_line(None, f))
    tail: list[str] = []
    if len(shown) < len(order):
        tail.append(f"… {len(order) - len(shown)} OPD lainnya tidak ditampilkan.")
    if q.kind is KabKind.RECAP:
        complete = [f for f in figures if f.serapan is not None]
        pagu = sum(f.pagu or 0 for f in complete)
        real = sum(f.realisasi or 0 for f in complete)
        tail += [
            "",
            f"<b>Total {len(complete)} OPD berangka lengkap:</b> "
            f"{format_percent(ratio_percent(real, pagu))} "
            f"({format_rupiah_short(real)} / {format_rupiah_short(pagu)})",
        ]
    tail += ["", hint]
    return _with_note(_fit(lines, tail), any_unapproved)


RISK_HEAD = (
    "<b>OPD berisiko tidak terserap</b> · {period}\n"
    "<i>Berisiko = rencana penarikan sampai TW IV yang diproyeksikan tidak terserap "
    "(terbesar dulu).</i>"
)
RISK_HINT = "Rincian satu OPD: <code>program mana yang berisiko tidak terserap {office}</code>"


def _risk_line(i: int | None, r: OfficeRisk) -> str:
    name = escape(short(r.office.singkatan or r.office.nama, 48))
    mark = UNAPPROVED if r.unverified else ""
    num = f"{i}. " if i is not None else "• "
    if not r.has_plan:
        return f"{num}{name}: belum ada rencana"
    if r.berisiko is None or r.proyeksi is None:
        return f"{num}{name}{mark}: realisasi belum lengkap (tidak diproyeksikan)"
    share = format_percent(ratio_percent(r.proyeksi, r.pagu, 1), 1)
    if r.berisiko == 0:
        return f"{num}{name}{mark}: ✅ tidak ada yang berisiko · proyeksi {share} dari pagu"
    return (
        f"{num}{name}{mark}: berisiko <b>{format_rupiah_short(r.berisiko)}</b> · proyeksi "
        f"{share} dari pagu · {r.at_risk} dari {r.programs} program"
    )


def kabupaten_risk_reply(tahun: int, tw: int, risks: list[OfficeRisk]) -> Reply:
    """Offices by rupiah at risk of not being absorbed, rounded (each office's own early
    warning has the exact figures)."""
    lines = [RISK_HEAD.format(period=_period(tahun, tw)), ""]
    rank = 0
    for r in risks[:RANK_SHOWN]:
        if r.berisiko is not None:
            rank += 1
            lines.append(_risk_line(rank, r))
        else:
            lines.append(_risk_line(None, r))
    tail: list[str] = []
    if len(risks) > RANK_SHOWN:
        tail.append(f"… {len(risks) - RANK_SHOWN} OPD lainnya tidak ditampilkan.")
    unapproved = any(r.unverified for r in risks)
    example = next((r.office for r in risks if r.berisiko), risks[0].office if risks else None)
    if example is not None:
        name = (example.singkatan or example.nama).lower()
        tail += ["", RISK_HINT.format(office=escape(name))]
    return _with_note(_fit(lines, tail), unapproved)
