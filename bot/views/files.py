"""Captions of the report files /laporan sends."""

from __future__ import annotations

from html import escape

from bot.views import texts
from bot.views.budget import CAPTION, fit
from storage.domain.periods import roman
from storage.services.queries import ReportPeriod


def laporan_caption(report: ReportPeriod, fmt: str) -> str:
    """'siap cetak' only for a quarter every bidang reported and that was approved; otherwise
    what is missing, so a partial file is never taken for the office's report."""
    p = report.progress
    tw, missing = roman(p.triwulan), escape(_names(p.missing))
    if fmt == "csv":  # figures for a spreadsheet: never a print promise
        text = texts.LAPORAN_CAPTION_CSV.format(tw=tw, tahun=p.tahun, n=p.triwulan)
        if not p.complete:
            note = texts.LAPORAN_PARTIAL_NOTE.format(
                n=len(p.reported), total=p.total, missing=missing
            )
            text += " " + note
    elif p.complete and p.approved:
        text = texts.LAPORAN_CAPTION.format(tw=tw, tahun=p.tahun)
    else:
        head = texts.LAPORAN_FILE.format(tw=tw, tahun=p.tahun, fmt=fmt.upper())
        if p.complete:
            text = head + texts.LAPORAN_NOT_APPROVED
        else:
            text = head + texts.LAPORAN_PARTIAL.format(
                n=len(p.reported), total=p.total, missing=missing
            )
    c = report.coming
    if c is not None:
        text += "\n" + texts.LAPORAN_COMING.format(
            tw=roman(c.triwulan),
            tahun=c.tahun,
            n=len(c.reported),
            total=c.total,
            tw_num=c.triwulan,
        )
    return fit(text, CAPTION)


def _names(names: tuple[str, ...], limit: int = 8) -> str:
    """A caption holds 1024 characters: the first few names and how many more."""
    more = f" dan {len(names) - limit} lainnya" if len(names) > limit else ""
    return ", ".join(n[:60] for n in names[:limit]) + more
