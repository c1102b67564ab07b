"""Answers about the reporting process: the deadline, returned reports, who decided what."""

from __future__ import annotations

from html import escape

from storage.domain.numbers import format_tanggal
from storage.domain.periods import roman
from storage.domain.policy import StatusLaporan
from storage.domain.question_parser import Process
from storage.services.process_questions import ProcessInfo, ReportRow

MAX_ROWS = 12

STATUS = {
    StatusLaporan.DISETUJUI: "✅ disetujui",
    StatusLaporan.DIAJUKAN: "📨 diajukan, menunggu verifikasi",
    StatusLaporan.DIKEMBALIKAN: "↩️ dikembalikan",
    StatusLaporan.DRAFT: "📝 masih draf",
}


def _days(info: ProcessInfo) -> str:
    assert info.window is not None and info.today is not None
    left = (info.window.tenggat - info.today).days
    if left > 0:
        return f"{left} hari lagi"
    if left == 0:
        return "hari ini"
    return f"sudah lewat {-left} hari"


def _period(tahun: int | None, tw: int | None) -> str:
    if tw is None:
        return "semua triwulan" if tahun is None else f"tahun {tahun}"
    return f"TW {roman(tw)} {tahun}" if tahun else f"TW {roman(tw)}"


def _row(r: ReportRow) -> str:
    line = f"• <b>{escape(r.bidang)}</b> TW {roman(r.triwulan)} {r.tahun}: "
    if r.status is None:
        return line + "belum mengirim laporan"
    line += STATUS.get(r.status, r.status.value)
    if r.submitted_by:
        sent = f" {format_tanggal(r.submitted_at)}" if r.submitted_at else ""
        line += f"\n  dikirim oleh {escape(r.submitted_by)}{sent}"
    if r.decided_by and r.status in (StatusLaporan.DISETUJUI, StatusLaporan.DIKEMBALIKAN):
        verb = "disetujui" if r.status == StatusLaporan.DISETUJUI else "dikembalikan"
        when = f" {format_tanggal(r.decided_at)}" if r.decided_at else ""
        line += f"\n  {verb} oleh {escape(r.decided_by)}{when}"
    elif r.status == StatusLaporan.DISETUJUI:
        line += " (masuk lewat impor berkas, tanpa verifikasi di bot)"
    if r.alasan and r.status == StatusLaporan.DIKEMBALIKAN:
        line += f"\n  alasan: <i>{escape(r.alasan)}</i>"
    return line


def _rows(rows: list[ReportRow]) -> str:
    shown = "\n".join(_row(r) for r in rows[:MAX_ROWS])
    more = len(rows) - MAX_ROWS
    return shown + (f"\n… dan {more} laporan lain." if more > 0 else "")


def render_process(info: ProcessInfo) -> str:
    """One screen for a process question."""
    scope = f" · Bidang {escape(info.bidang)}" if info.bidang else ""
    if info.kind == Process.BATAS:
        w = info.window
        assert w is not None
        text = (
            f"<b>Batas akhir pelaporan {w.label}</b>{scope}\n"
            f"{format_tanggal(w.tenggat)} ({_days(info)}); pengisian dibuka "
            f"{format_tanggal(w.buka)}."
        )
        if w.kabupaten:
            text += "\nTanggal ini batas akhir kabupaten (OPD belum menetapkan sendiri)."
        if info.not_reported:
            names = ", ".join(escape(n) for n in info.not_reported)
            text += f"\nBelum mengirim laporan {w.label}: {names}."
        else:
            text += f"\nSemua bidang sudah mengirim laporan {w.label}."
        return text
    period = _period(info.tahun, info.triwulan)
    if info.kind == Process.DIKEMBALIKAN:
        head = f"<b>Laporan yang dikembalikan</b>{scope} · {period}\n"
        if not info.rows:
            return head + "Tidak ada laporan yang sedang dikembalikan untuk diperbaiki."
        return head + _rows(info.rows)
    head = f"<b>Pengiriman dan verifikasi laporan</b>{scope} · {period}\n"
    if not info.rows:
        return head + "Belum ada laporan untuk periode ini."
    return head + _rows(info.rows)
