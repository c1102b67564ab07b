"""Turning answer data into one phone screen of HTML, plus the buttons that go with it.

Knows the Telegram message format (HTML, 4096 characters) but not the Telegram API: the
handlers and the console both send what these functions return.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from bot.views import texts
from storage.domain.numbers import format_percent, format_rupiah
from storage.domain.periods import roman
from storage.domain.question_parser import Metric
from storage.services.ask import Answer, Kind, Query
from storage.services.queries import Figure

MAX_MESSAGE = 4000  # Telegram allows 4096; keep a margin for entities
MAX_NAME = 70

Keyboard = list[list[tuple[str, str]]]  # rows of (label, callback_data)

STATUS_LABEL = {
    "disetujui": "✅ disetujui",
    "diajukan": "📨 diajukan, menunggu verifikasi",
    "dikembalikan": "↩️ dikembalikan untuk perbaikan",
    "draft": "📝 masih draf",
}
LEVEL_LABEL = {
    "opd": "Dinas",
    "bidang": "Bidang",
    "program": "Program",
    "kegiatan": "Kegiatan",
    "sub_kegiatan": "Sub kegiatan",
}


@dataclass
class Reply:
    text: str
    keyboard: Keyboard = field(default_factory=list)


def short(name: str, limit: int = MAX_NAME) -> str:
    name = " ".join(name.split())
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "…"


def period(q: Query) -> str:
    return f"TW {roman(q.triwulan)} {q.tahun}"


def _understood(q: Query) -> str:
    notes = []
    if q.tw_defaulted:
        notes.append("triwulan terakhir yang ada datanya")
    if q.year_defaulted and not q.tw_defaulted:
        notes.append("tahun terakhir yang ada datanya")
    extra = f" <i>({'; '.join(notes)})</i>" if notes else ""
    return f"{period(q)}{extra}"


def _scope_title(q: Query) -> str:
    if q.scope_kind == "opd":
        return "Seluruh dinas"
    if q.scope_kind == "bidang":
        return f"Bidang {escape(q.scope_name)}"
    return f"{LEVEL_LABEL.get(q.scope_kind, '')}: {escape(short(q.scope_name, 120))}"


def _figure_line(f: Figure) -> str:
    if not f.complete:
        return f"realisasi belum lengkap (pagu {format_rupiah(f.pagu)})"
    return f"{format_percent(f.serapan)} ({format_rupiah(f.realisasi)} / {format_rupiah(f.pagu)})"


def render(answer: Answer) -> Reply:
    """One screen for an answer; never empty."""
    kind = answer.kind
    if kind == Kind.UNKNOWN:
        examples = "\n".join(f"• <code>{escape(e)}</code>" for e in texts.EXAMPLES[:5])
        return Reply(texts.UNKNOWN_QUESTION.format(examples=examples))
    if kind == Kind.CLARIFY:
        p = answer.parsed
        understood = []
        if p and p.metric:
            understood.append(f"yang ditanyakan: {p.metric.value}")
        if p and p.triwulan:
            understood.append(f"TW {roman(p.triwulan)}")
        if p and p.tahun:
            understood.append(str(p.tahun))
        head = f"Saya menangkap {', '.join(understood)}. " if understood else ""
        kb: Keyboard = []
        for c in answer.candidates[:5]:
            data = ":".join(
                [
                    "ask",
                    c.kind,
                    str(c.id),
                    (p.metric.value if p and p.metric else Metric.SERAPAN.value),
                    str(p.triwulan or 0) if p else "0",
                    str(p.tahun or 0) if p else "0",
                ]
            )
            kb.append([(f"{LEVEL_LABEL.get(c.kind, '')}: {short(c.name, 48)}", data)])
        return Reply(head + texts.CLARIFY, kb)
    if kind == Kind.NODATA:
        q = answer.query
        head = f"<b>{_scope_title(q)}</b> — {period(q)}\n" if q else ""
        return Reply(head + escape(answer.message or "Belum ada data."))
    q = answer.query
    assert q is not None
    body = {
        Kind.SCOPE: _scope,
        Kind.RANKING: _ranking,
        Kind.STATUS: _status,
        Kind.CAPAIAN: _capaian,
        Kind.HAMBATAN: _hambatan,
        Kind.DAFTAR: _daftar,
    }[kind](answer, q)
    note = _unverified(answer, q)
    return Reply(_fit(body, MAX_MESSAGE - len(note)) + note)


def _unverified(a: Answer, q: Query) -> str:
    """Figures entered but not approved never look final."""
    if not a.unverified:
        return ""
    names = ", ".join(
        f"{escape(r.bidang.nama)} ({STATUS_LABEL.get(r.status or '', r.status)})"
        for r in a.unverified
    )
    return "\n\n" + texts.UNVERIFIED_NOTE.format(names=names, period=period(q))


def _fit(text: str, limit: int = MAX_MESSAGE) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 60].rsplit("\n", 1)[0]
    return cut + "\n… <i>(dipersingkat; tanyakan lebih rinci per bidang atau program)</i>"


def _scope(a: Answer, q: Query) -> str:
    res = a.scope
    assert res is not None
    f = res.item.figure
    title = {
        Metric.FISIK: "Realisasi fisik",
        Metric.DEVIASI: "Deviasi serapan dari target",
    }.get(q.metric, "Serapan anggaran")
    lines = [f"<b>{title}</b>", f"{_scope_title(q)} · {_understood(q)}", ""]
    if f.complete:
        serapan = f"<b>{format_percent(f.serapan)}</b>"
        lines.append(
            f"Realisasi anggaran: {format_rupiah(f.realisasi)} dari pagu {format_rupiah(f.pagu)}"
        )
        lines.append(f"Serapan: {serapan}")
        dev = res.deviasi
        assert dev is not None
        sign = "+" if dev >= 0 else "−"
        mark = "✅ sesuai/di atas" if dev >= 0 else "⚠️ di bawah"
        lines.append(
            f"{mark} target nasional {format_percent(res.benchmark, 0)} "
            f"({sign}{format_percent(abs(dev)).rstrip('%')} poin)"
        )
    else:
        lines.append(f"Pagu: {format_rupiah(f.pagu)}")
        lines.append(
            "Realisasi anggaran: <b>belum lengkap</b> — belum ada angka untuk "
            f"{len(f.missing)} rincian"
            + (f" (antara lain {escape(short(f.missing[0], 60))})" if f.missing else "")
            + "."
        )
    lines.append(
        f"Realisasi fisik: {format_percent(f.fisik) if f.fisik is not None else 'belum ada'}"
    )
    if res.breakdown:
        below = {
            "opd": "Per bidang",
            "bidang": "Per program",
            "program": "Per kegiatan",
            "kegiatan": "Per sub kegiatan",
        }.get(q.scope_kind, "Rincian")
        lines += ["", f"<b>{below}:</b>"]
        for it in res.breakdown:
            fig = it.figure
            if q.metric == Metric.FISIK:
                val = format_percent(fig.fisik) if fig.fisik is not None else "belum ada"
                lines.append(f"• {escape(short(it.nama))}: {val}")
            else:
                flag = (
                    " ⚠️"
                    if fig.serapan is not None
                    and fig.serapan < res.benchmark
                    and q.scope_kind == "opd"
                    else ""
                )
                lines.append(f"• {escape(short(it.nama))}: {_figure_line(fig)}{flag}")
    return "\n".join(lines)


def _ranking(a: Answer, q: Query) -> str:
    by_fisik = q.ranking_metric == Metric.FISIK
    what = "realisasi fisik" if by_fisik else "serapan anggaran"
    order = "terendah ke tertinggi" if q.order == "asc" else "tertinggi ke terendah"
    lines = [f"<b>Peringkat bidang menurut {what}</b>", f"{period(q)} · {order}", ""]
    for i, it in enumerate(a.ranking, 1):
        v = it.figure.fisik if by_fisik else it.figure.serapan
        val = format_percent(v) if v is not None else "belum lengkap"
        lines.append(f"{i}. {escape(it.nama)}: <b>{val}</b>")
    complete = [
        it for it in a.ranking if (it.figure.fisik if by_fisik else it.figure.serapan) is not None
    ]
    if complete:
        low = complete[0] if q.order == "asc" else complete[-1]
        lines += ["", f"Terendah: <b>{escape(low.nama)}</b>."]
    return "\n".join(lines)


def _status(a: Answer, q: Query) -> str:
    late = [r.bidang.nama for r in a.status if not r.reported]
    lines = [f"<b>Status pelaporan {period(q)}</b>", ""]
    for r in a.status:
        label = STATUS_LABEL.get(str(r.status), "❌ belum lapor") if r.status else "❌ belum lapor"
        lines.append(f"• {escape(r.bidang.nama)}: {label}")
    lines.append("")
    if late:
        lines.append(f"Belum melapor: <b>{escape(', '.join(late))}</b>.")
    else:
        lines.append("Semua bidang sudah melapor.")
    return "\n".join(lines)


def _capaian(a: Answer, q: Query) -> str:
    lines = ["<b>Capaian kinerja</b>", f"{_scope_title(q)} · {_understood(q)}", ""]
    for r in a.capaian:
        label = short(r.program or r.indikator, 60)
        t = format_percent(r.target) if r.target is not None else "-"
        real = format_percent(r.realisasi) if r.realisasi is not None else "-"
        cap = format_percent(r.capaian) if r.capaian is not None else "-"
        lines.append(
            f"• Sasaran {r.sasaran_nomor} — {escape(label)}: T {t}, R {real}, capaian <b>{cap}</b>"
        )
    lines += ["", "<i>Capaian = realisasi ÷ target triwulan yang sama.</i>"]
    return "\n".join(lines)


def _hambatan(a: Answer, q: Query) -> str:
    lines = ["<b>Hambatan dan tindak lanjut</b>", f"{_scope_title(q)} · {_understood(q)}"]
    for r in a.narasi:
        head = short(r.program, 60) if r.program else f"Sasaran {r.sasaran_nomor}"
        lines += ["", f"<b>{escape(head)}</b>"]
        if r.hambatan:
            lines.append(f"Hambatan: {escape(short(r.hambatan, 300))}")
        if r.tindak_lanjut:
            lines.append(f"Tindak lanjut: {escape(short(r.tindak_lanjut, 300))}")
    return "\n".join(lines)


def _daftar(a: Answer, q: Query) -> str:
    lines = ["<b>Daftar program</b>", f"{_scope_title(q)} · {_understood(q)}", ""]
    if not a.daftar:
        lines.append("Tidak ada program dalam rencana triwulan ini.")
    for r in a.daftar:
        indent = "    " * r.depth
        bullet = "•" if r.depth == 0 else "–"
        lines.append(f"{indent}{bullet} {escape(short(r.nama, 90))} (pagu {format_rupiah(r.pagu)})")
    return "\n".join(lines)
