"""Turning answer data into one phone screen of HTML, plus the buttons that go with it.

Knows the Telegram message format (HTML, 4096 characters) but not the Telegram API: the
handlers and the console both send what these functions return.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from html import escape

from bot.views import texts
from bot.views.budget import CAPTION, TEXT, fit, length
from bot.views.early_warning import render_early_warning
from bot.views.process import render_process
from charts.answers import ChartPlan
from storage.domain.numbers import (
    CAPAIAN_PLAUSIBLE_MAX,
    capaian_plausible,
    format_number,
    format_percent,
    format_rupiah,
    ratio_percent,
)
from storage.domain.periods import roman
from storage.domain.question_parser import Metric, normalise
from storage.services.ask import (
    Answer,
    CompareSide,
    Kind,
    LatestShown,
    Note,
    OutOfPlan,
    ParserNote,
    Query,
    StrayWords,
    Why,
    YearWithoutData,
)
from storage.services.queries import Figure

MAX_NAME = 70
SHORTENED = "… <i>(dipersingkat; tanyakan lebih rinci per bidang atau program)</i>"

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
    foot: str = ""  # the end of ``text`` every page repeats (figures not approved yet)


def short(name: str, limit: int = MAX_NAME) -> str:
    name = " ".join(name.split())
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "…"


def period(q: Query) -> str:
    return f"TW {roman(q.triwulan)} {q.tahun}"


def _understood(q: Query) -> str:
    notes = []
    if q.period_words:
        notes.append(escape(q.period_words))
    if q.tw_defaulted:
        notes.append("triwulan terakhir yang ada datanya")
    if q.year_defaulted and not q.tw_defaulted:
        notes.append("tahun terakhir yang ada datanya")
    extra = f" <i>({'; '.join(notes)})</i>" if notes else ""
    return f"{period(q)}{extra}"


def _head(title: str, q: Query) -> str:
    """The first line of every answer: what was answered, for which scope and period."""
    return f"<b>{title}</b> · {_scope_title(q)} · {_understood(q)}"


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


def _latest_button(answer: Answer) -> Keyboard:
    """A button that asks the same question for the latest period with data."""
    if answer.latest is None:
        return []
    tahun, tw = answer.latest
    q, p = answer.query, answer.parsed
    if q is not None:
        kind, sid, metric = q.scope_kind, q.scope_id, q.metric
    elif p is not None and p.scope is not None:
        kind, sid, metric = p.scope.kind, p.scope.id, p.metric or Metric.SERAPAN
    else:  # the office answered about (0: whoever presses it)
        kind, sid, metric = "opd", answer.opd_id, (p.metric if p and p.metric else Metric.SERAPAN)
    label = texts.LATEST_BUTTON.format(period=f"TW {roman(tw)} {tahun}")
    return [[(label, f"ask:{kind}:{sid}:{metric.value}:{tw}:{tahun}")]]


_THANKS = frozenset(
    [
        "kasih",
        "makasih",
        "makasi",
        "mksh",
        "trims",
        "trimakasih",
        "terimakasih",
        "thanks",
        "thank",
        "thx",
        "tq",
        "nuhun",
    ]
)
_GREETING = frozenset(
    ["halo", "hallo", "hai", "hi", "hey", "pagi", "siang", "sore", "malam", "assalamualaikum"]
)


_EMPTY = {
    Why.NOTHING: "Belum ada data sama sekali.",
    Why.NO_BIDANG: "Bidang tidak ditemukan.",
    Why.NO_CAPAIAN: "Belum ada capaian indikator untuk triwulan ini.",
    Why.NO_HAMBATAN: "Tidak ada hambatan yang dilaporkan untuk triwulan ini.",
}


def empty_text(answer: Answer) -> str:
    """Why an answer has no figures (plain text)."""
    e = answer.empty
    if e is None:
        return "Belum ada data."
    if e.why == Why.NO_YEAR:
        said = f" ({e.words})" if e.words else ""
        return (
            f"Belum ada data tahun {e.tahun}{said}. Data tersedia: "
            f"{', '.join(map(str, answer.years))}."
        )
    if e.why == Why.NOT_PLANNED:
        return f"Tidak ada dalam rencana tahun {e.tahun}."
    return _EMPTY[e.why]


def note_text(note: Note) -> str:
    """What an answer could not give, and why (plain text)."""
    if isinstance(note, ParserNote):
        return note.text
    if isinstance(note, StrayWords):
        listed = ", ".join(f"“{w}”" for w in note.words)
        return f"Kata yang tidak saya kenali dan tidak dipakai: {listed}."
    if isinstance(note, LatestShown):
        return f"Yang ditampilkan: TW {roman(note.triwulan)} {note.tahun}, data terakhir yang ada."
    if isinstance(note, YearWithoutData):
        if not note.years:
            return f"Belum ada data tahun {note.tahun}."
        listed = ", ".join(map(str, note.years))
        return f"Belum ada data tahun {note.tahun}; tahun yang ada datanya: {listed}."
    if isinstance(note, OutOfPlan):
        where = ", ".join(f"TW {roman(x)}" for x in note.planned)
        return (
            f"{note.name} tidak ada dalam rencana TW {roman(note.triwulan)} {note.tahun}; "
            f"ada dalam rencana {where} {note.tahun} (ketuk tombol di bawah)."
        )
    text = f"Belum ada data realisasi untuk TW {roman(note.triwulan)} {note.tahun}"
    if note.latest is not None:
        tahun, tw = note.latest
        text += f"; data terakhir: TW {roman(tw)} {tahun} (ketuk tombol di bawah)"
    return text + "."


def _notes(answer: Answer) -> str:
    return "".join(f"\n⚠️ {escape(note_text(n))}" for n in answer.notes)


def _with_notes(body: str, answer: Answer) -> str:
    """The parts that could not be answered go right under the first line, not at the end."""
    if not answer.notes:
        return body
    head, _, rest = body.partition("\n")
    return f"{head}{_notes(answer)}\n{rest}"


def render(answer: Answer, examples: Callable[[], list[str]] | None = None) -> Reply:
    """One screen for an answer; never empty. ``examples``: makes the asker's own (their
    office's bidang and their role, ``texts.examples_for``); the demo office's without one."""
    kind = answer.kind
    if kind == Kind.COURTESY:
        words = set(normalise(answer.parsed.text).split()) if answer.parsed else set()
        template = (
            texts.COURTESY
            if words & _THANKS
            else texts.GREETING
            if words & _GREETING
            else texts.ACKNOWLEDGED
        )
        shown = examples() if examples is not None else texts.EXAMPLES
        return Reply(template.format(example=escape(shown[0])))
    if kind == Kind.UNKNOWN:
        shown = examples() if examples is not None else texts.EXAMPLES
        return Reply(texts.UNKNOWN_QUESTION.format(examples=texts.example_list(list(shown), 5)))
    if kind in (Kind.NOT_FOUND, Kind.OTHER_OFFICE):
        return _not_found(answer)
    if kind == Kind.PROCESS:
        assert answer.process is not None
        return Reply(render_process(answer.process))
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
        q, p = answer.query, answer.parsed
        head = f"<b>{_scope_title(q)}</b> — {period(q)}\n" if q else ""
        if q is None and p is not None:
            # still say what was asked about, though there is nothing to show for it
            scope = (
                "Seluruh dinas"
                if p.scope is None or p.scope.kind == "opd"
                else f"{LEVEL_LABEL.get(p.scope.kind, '')} {escape(short(p.scope.name, 80))}"
            )
            metric = p.metric or Metric.SERAPAN
            head = f"<b>{_TITLE.get(metric, 'Serapan anggaran')}</b> · {scope}\n"
        return Reply(
            head + escape(empty_text(answer)) + _notes(answer),
            _latest_button(answer),
        )
    q = answer.query
    assert q is not None
    body = {
        Kind.SCOPE: _scope,
        Kind.RANKING: _ranking,
        Kind.STATUS: _status,
        Kind.CAPAIAN: _capaian,
        Kind.HAMBATAN: _hambatan,
        Kind.DAFTAR: _daftar,
        Kind.COMPARE: _compare,
        Kind.PERINGATAN: _peringatan,
    }[kind](answer, q)
    note = _unverified(answer, q)
    body = _with_progress(_with_notes(body, answer), answer)
    return Reply(
        fit(body, tail=note, more=SHORTENED),
        _latest_button(answer) + _coming_button(answer),
        note,
    )


def _with_progress(body: str, answer: Answer) -> str:
    """A quarter in progress, said right under the first line: who of a partly reported
    quarter is counted, and the quarter coming in after the complete one answered."""
    lines = []
    p = answer.progress
    if p is not None and p.reported and answer.kind != Kind.STATUS:
        lines.append(
            texts.PARTIAL_QUARTER.format(
                period=f"TW {roman(p.triwulan)} {p.tahun}",
                n=len(p.reported),
                total=p.total,
                reported=escape(", ".join(p.reported)),
                missing=escape(", ".join(p.missing)),
            )
        )
    c = answer.coming
    if c is not None:
        lines.append(
            texts.COMING_QUARTER.format(
                tw=roman(c.triwulan),
                n=len(c.reported),
                total=c.total,
                reported=escape(", ".join(c.reported)),
            )
        )
    if not lines:
        return body
    head, _, rest = body.partition("\n")
    return "\n".join([head, *lines]) + "\n" + rest


def _coming_button(answer: Answer) -> Keyboard:
    """'Lihat TW IV 2022': the same question for the quarter coming in."""
    c, q = answer.coming, answer.query
    if c is None or q is None:
        return []
    label = texts.LATEST_BUTTON.format(period=f"TW {roman(c.triwulan)} {c.tahun}")
    data = f"ask:{q.scope_kind}:{q.scope_id}:{q.metric.value}:{c.triwulan}:{c.tahun}"
    return [[(label, data)]]


def _choices(answer: Answer) -> Keyboard:
    """One button per candidate scope, asking the same question about it."""
    p = answer.parsed
    metric = p.metric.value if p and p.metric else Metric.SERAPAN.value
    tw, tahun = (str(p.triwulan or 0), str(p.tahun or 0)) if p else ("0", "0")
    return [
        [
            (
                f"{LEVEL_LABEL.get(c.kind, '')}: {short(c.name, 48)}",
                ":".join(["ask", c.kind, str(c.id), metric, tw, tahun]),
            )
        ]
        for c in answer.candidates[:5]
    ]


def _not_found(answer: Answer) -> Reply:
    """A scope that is not this office's: named back, with the nearest real ones."""
    name, office = escape(short(answer.missing, 60)), escape(answer.office_name)
    if answer.kind == Kind.OTHER_OFFICE:
        text = texts.OTHER_OFFICE_SCOPE.format(
            name=name, other=escape(answer.office_name), office="perangkat daerah Anda"
        )
        return Reply(text)
    level = texts.NOT_FOUND_LEVEL.get(answer.missing_kind, "")
    if level:
        text = texts.NOT_FOUND.format(level=f"{level} ", name=name, office=office)
    else:
        text = texts.NOT_FOUND_ANY.format(name=name, office=office)
    if answer.candidates:
        text += " " + texts.NOT_FOUND_CHOOSE
    elif answer.missing_kind == "opd":
        text += "\n" + texts.NOT_FOUND_OFFICE.format(
            office=office, example=escape(texts.EXAMPLES[0])
        )
    return Reply(text, _choices(answer))


def _unverified(a: Answer, q: Query) -> str:
    """Figures entered but not approved never look final."""
    if not a.unverified:
        return ""
    names = ", ".join(
        f"{escape(r.bidang.nama)} ({STATUS_LABEL.get(r.status or '', r.status)})"
        for r in a.unverified
    )
    return "\n\n" + texts.UNVERIFIED_NOTE.format(names=names, period=period(q))


_TITLE = {
    Metric.FISIK: "Realisasi fisik",
    Metric.DEVIASI: "Deviasi serapan dari target",
    Metric.SISA: "Sisa anggaran",
    Metric.PAGU: "Pagu anggaran",
    Metric.REALISASI: "Realisasi anggaran (yang sudah dibelanjakan)",
    Metric.PERINGATAN: "Peringatan dini",
}


def _missing(f: Figure, q: Query) -> str:
    """Which parts lack a figure: the children, never the asked scope itself."""
    parts = [m for m in f.missing if " ".join(m.split()) != " ".join(q.scope_name.split())]
    if not parts:
        if f.pagu is None:
            return f"tidak termasuk rencana {period(q)}"
        return f"angka realisasinya belum dilaporkan untuk {period(q)}"
    names = ", ".join(escape(short(m, 60)) for m in parts[:3])
    more = f" dan {len(parts) - 3} lainnya" if len(parts) > 3 else ""
    return f"belum ada angka untuk {len(parts)} rincian: {names}{more}"


def _scope(a: Answer, q: Query) -> str:
    res = a.scope
    assert res is not None
    f = res.item.figure
    title = _TITLE.get(q.metric, "Serapan anggaran")
    lines = [_head(title, q), ""]
    if f.complete:
        assert f.realisasi is not None
        if q.metric == Metric.SISA and f.pagu:
            sisa = f.pagu - f.realisasi
            share = format_percent(ratio_percent(sisa, f.pagu))
            lines.append(f"Sisa anggaran (belum terserap): <b>{format_rupiah(sisa)}</b>")
            lines.append(f"= {share} dari pagu {format_rupiah(f.pagu)}")
            lines.append(
                f"Sudah terserap: {format_rupiah(f.realisasi)} ({format_percent(f.serapan)})"
            )
        elif q.metric == Metric.PAGU:
            lines.append(f"Pagu: <b>{format_rupiah(f.pagu)}</b>")
            lines.append(
                f"Realisasi: {format_rupiah(f.realisasi)} (serapan {format_percent(f.serapan)})"
            )
        elif q.metric == Metric.REALISASI:
            lines.append(f"Sudah dibelanjakan: <b>{format_rupiah(f.realisasi)}</b>")
            lines.append(f"dari pagu {format_rupiah(f.pagu)} (serapan {format_percent(f.serapan)})")
        else:
            serapan = f"<b>{format_percent(f.serapan)}</b>"
            lines.append(
                f"Realisasi anggaran: {format_rupiah(f.realisasi)} "
                f"dari pagu {format_rupiah(f.pagu)}"
            )
            lines.append(f"Serapan: {serapan}")
        dev = res.deviasi
        assert dev is not None
        sign = "+" if dev >= 0 else "−"
        mark = "✅ sesuai/di atas" if dev >= 0 else "⚠️ di bawah"
        gap = ""
        if q.metric == Metric.DEVIASI and f.pagu:
            target_rp = round(f.pagu * res.benchmark / 100)
            lines.append(
                f"Target nasional TW {roman(q.triwulan)}: {format_percent(res.benchmark, 0)} "
                f"= {format_rupiah(target_rp)} dari pagu"
            )
            diff = f.realisasi - target_rp
            word = "kurang" if diff < 0 else "lebih"
            gap = f", {word} {format_rupiah(abs(diff))}"
        lines.append(
            f"{mark} target nasional {format_percent(res.benchmark, 0)} "
            f"({sign}{format_percent(abs(dev)).rstrip('%')} poin{gap})"
        )
    else:
        lines.append(f"Pagu: {format_rupiah(f.pagu)}")
        if f.pagu is None:
            lines.append(f"Realisasi anggaran: <b>tidak ada dalam rencana</b> {period(q)}.")
        elif a.progress is not None and not a.progress.reported:
            # Nobody of the scope has reported: not "incomplete", simply not reported yet.
            names = escape(", ".join(a.progress.missing))
            lines.append(texts.NOT_REPORTED.format(period=period(q), names=names))
        else:
            lines.append(f"Realisasi anggaran: <b>belum lengkap</b> — {_missing(f, q)}.")
        if q.metric in (Metric.SISA, Metric.DEVIASI):
            what = "Sisa anggaran" if q.metric == Metric.SISA else "Selisih dari target"
            lines.append(f"{what} belum bisa dihitung sampai realisasinya lengkap.")
    if q.metric == Metric.DEVIASI and a.parsed and a.parsed.ranking_metric == Metric.FISIK:
        lines.append(
            "<i>Target nasional berlaku untuk serapan anggaran; rencana fisik per triwulan "
            "tidak tercatat, jadi fisik tidak dibandingkan dengan target.</i>"
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
        _until_full(lines, _breakdown_rows(a, q))
    return "\n".join(lines)


def _breakdown_rows(a: Answer, q: Query) -> Iterator[str]:
    res = a.scope
    assert res is not None
    for it in res.breakdown:
        fig = it.figure
        if q.metric == Metric.FISIK:
            val = format_percent(fig.fisik) if fig.fisik is not None else "belum ada"
            yield f"• {escape(short(it.nama))}: {val}"
        elif q.metric == Metric.SISA and fig.complete and fig.pagu:
            assert fig.realisasi is not None
            yield (
                f"• {escape(short(it.nama))}: sisa {format_rupiah(fig.pagu - fig.realisasi)}"
                f" dari {format_rupiah(fig.pagu)}"
            )
        else:
            flag = (
                " ⚠️"
                if fig.serapan is not None and fig.serapan < res.benchmark and q.scope_kind == "opd"
                else ""
            )
            if a.progress is not None and (
                not a.progress.reported or it.nama in a.progress.missing
            ):
                yield f"• {escape(short(it.nama))}: {texts.NOT_REPORTED_ROW}"
                continue
            yield f"• {escape(short(it.nama))}: {_figure_line(fig)}{flag}"


def _until_full(lines: list[str], rows: Iterable[str]) -> None:
    """Append ``rows`` (the last part of an answer) to ``lines`` until the text is longer
    than any message: ``_fit`` cuts it there, so the rows after it are never formatted (at
    100x an office-year a bidang has a thousand programs, and formatting their figures
    cost more than the rest of the answer). The text stays longer than the limit, so
    ``_fit`` cuts at the same place and says so, as it did when every row was there."""
    size = sum(length(line) + 1 for line in lines)  # measured as ``fit`` measures
    for row in rows:
        if size > TEXT + 1:
            return
        lines.append(row)
        size += length(row) + 1


def _points(v: float) -> str:
    sign = "+" if v > 0 else "−" if v < 0 else "±"
    return f"{sign}{format_percent(abs(v)).rstrip('%')} poin"


def _compare(a: Answer, q: Query) -> str:
    sides: list[CompareSide] = a.compare
    fisik = q.metric == Metric.FISIK
    what = "realisasi fisik" if fisik else "serapan anggaran"
    if a.compare_kind == "fisik_keuangan":
        lines = [_head("Perbandingan realisasi fisik dan keuangan", q), ""]
    elif a.compare_kind == "scopes":
        lines = [f"<b>Perbandingan {what}</b> · Bidang {escape(q.scope_name)} · {_understood(q)}"]
        lines.append("")
    else:
        span = " → ".join(s.label for s in sides)
        lines = [f"<b>Perbandingan {what}</b> · {_scope_title(q)} · {span}", ""]
    for s in sides:
        if s.figure is None:
            lines.append(f"• {escape(s.label)}: belum ada data")
            continue
        f = s.figure
        if s.value is None:
            lines.append(f"• {escape(s.label)}: belum lengkap")
        elif fisik or a.compare_kind == "fisik_keuangan":
            lines.append(f"• {escape(s.label)}: <b>{format_percent(s.value)}</b>")
        else:
            lines.append(
                f"• {escape(s.label)}: <b>{format_percent(s.value)}</b> "
                f"({format_rupiah(f.realisasi)} dari pagu {format_rupiah(f.pagu)})"
            )
    first, second = (sides + [CompareSide("", None, None)] * 2)[:2]
    if first.value is None or second.value is None:
        missing = [s.label for s in sides if s.value is None]
        lines += ["", f"Perbandingan belum bisa dibuat: {escape(', '.join(missing))} "
                  "belum ada atau belum lengkap datanya."]  # fmt: skip
        return "\n".join(lines)
    diff = round(second.value - first.value, 2)
    lines.append("")
    if a.compare_kind == "fisik_keuangan":
        gap = round(first.value - second.value, 2)
        lines.append(f"Selisih fisik − keuangan: {_points(gap)}")
        if abs(gap) < 0.5:
            meaning = "Fisik dan keuangan berjalan seiring."
        elif gap > 0:
            meaning = "Pekerjaan fisik lebih maju daripada pembayaran (keuangan tertinggal)."
        else:
            meaning = "Pembayaran lebih maju daripada pekerjaan fisik; periksa progres fisiknya."
        lines.append(meaning)
        return "\n".join(lines)
    rupiah = ""
    if not fisik and first.figure and second.figure:
        assert first.figure.realisasi is not None and second.figure.realisasi is not None
        rp = second.figure.realisasi - first.figure.realisasi
        rupiah = f"; realisasi {'+' if rp >= 0 else '−'}{format_rupiah(abs(rp))}"
    if a.compare_kind == "scopes":
        gap = round(first.value - second.value, 2)
        lines.append(f"Selisih: {_points(gap)}")
        a_name, b_name = first.label.removeprefix("Bidang "), second.label.removeprefix("Bidang ")
        if gap == 0:
            lines.append(f"{escape(a_name)} dan {escape(b_name)} sama.")
        else:
            hi, lo = (a_name, b_name) if gap > 0 else (b_name, a_name)
            lines.append(
                f"{escape(hi)} {format_percent(abs(gap)).rstrip('%')} poin lebih tinggi "
                f"daripada {escape(lo)}."
            )
        return "\n".join(lines)
    lines.append(f"Selisih: {_points(diff)}{rupiah}")
    verb = "naik" if diff > 0 else "turun" if diff < 0 else "tetap"
    amount = f" {format_percent(abs(diff)).rstrip('%')} poin" if diff else ""
    lines.append(
        f"{what.capitalize()} {verb}{amount} dari {escape(first.label)} ke {escape(second.label)}."
    )
    return "\n".join(lines)


_RANK_WHAT = {
    "serapan": "serapan anggaran",
    "fisik": "realisasi fisik",
    "deviasi": "deviasi dari rencana",
    "sisa": "sisa anggaran",
}
_RANK_LEVEL = {"sub_kegiatan": "sub kegiatan"}


def _rank_value(by: str, v: float | None) -> str:
    if by == "sisa":
        return format_rupiah(None if v is None else int(v))
    if by == "deviasi":
        return _points(v or 0.0)
    return format_percent(v)


def _ranking(a: Answer, q: Query) -> str:
    level = _RANK_LEVEL.get(a.rank_level, a.rank_level)
    what = _RANK_WHAT.get(a.rank_by, "serapan anggaran")
    order = "terendah ke tertinggi" if q.order == "asc" else "tertinggi ke terendah"
    shown = len(a.ranked)
    if shown < a.rank_total:
        end = "terendah" if q.order == "asc" else "tertinggi"
        order = f"{shown} {end} dari {a.rank_total} {level}; {order}"
    lines = [
        f"<b>Peringkat {level} menurut {what}</b> · {_scope_title(q)} · {_understood(q)}",
        f"<i>{order}; hanya {level} yang datanya lengkap</i>",
        "",
    ]
    with_bidang = a.rank_level != "bidang" and q.scope_kind == "opd"
    for i, r in enumerate(a.ranked, 1):
        owner = f" ({escape(r.bidang)})" if with_bidang and r.bidang else ""
        name = escape(r.nama if a.rank_level == "bidang" else short(r.nama, 60))
        lines.append(f"{i}. {name}{owner}: <b>{_rank_value(a.rank_by, r.value)}</b>")
    missing = set(a.progress.missing) if a.progress is not None else set()
    late = [r for r in a.unranked if (r.nama if a.rank_level == "bidang" else r.bidang) in missing]
    rest = [r for r in a.unranked if r not in late]
    if late:
        names = ", ".join(escape(short(r.nama, 50)) for r in late[:8])
        more = f" dan {len(late) - 8} lainnya" if len(late) > 8 else ""
        lines += [""] * bool(a.ranked) + [f"Belum lapor (tidak diperingkat): {names}{more}."]
    if rest:
        names = ", ".join(escape(short(r.nama, 50)) for r in rest[:8])
        more = f" dan {len(rest) - 8} lainnya" if len(rest) > 8 else ""
        lines += [""] * bool(a.ranked and not late) + [
            f"Belum lengkap (tidak diperingkat): {names}{more}."
        ]
    lines.append("")
    if len(a.ranked) >= 2:
        top, bottom = (a.ranked[-1], a.ranked[0]) if q.order == "asc" else (
            a.ranked[0], a.ranked[-1])  # fmt: skip
        if q.order == "asc":
            lines.append(f"Terendah: <b>{escape(short(bottom.nama))}</b>.")
        elif q.order == "desc":
            lines.append(f"Tertinggi: <b>{escape(short(top.nama))}</b>.")
        else:
            lines.append(
                f"Tertinggi: <b>{escape(short(top.nama))}</b>; "
                f"terendah: <b>{escape(short(bottom.nama))}</b>."
            )
    elif len(a.ranked) == 1 and a.rank_total == 1:
        lines.append(
            f"Baru {escape(short(a.ranked[0].nama))} yang datanya lengkap; peringkat belum bisa "
            "dibuat."
        )
    elif not a.ranked:
        lines.append(f"Belum ada {level} yang datanya lengkap untuk {period(q)}.")
    return "\n".join(lines)


def _status(a: Answer, q: Query) -> str:
    late = [r.bidang.nama for r in a.status if not r.reported]
    lines = [f"<b>Status pelaporan {period(q)}</b> · seluruh bidang", ""]
    for r in a.status:
        label = STATUS_LABEL.get(str(r.status), "❌ belum lapor") if r.status else "❌ belum lapor"
        lines.append(f"• {escape(r.bidang.nama)}: {label}")
    lines.append("")
    if late:
        lines.append(f"Belum melapor: <b>{escape(', '.join(late))}</b>.")
    else:
        lines.append("Semua bidang sudah melapor.")
    return "\n".join(lines)


_EMPTY_NOTES = frozenset({"", "-", "--", "—", "–", "nihil", "tidak ada", "tdk ada", "0"})


def _said(text: str | None) -> str:
    """A reported note, or "" when it only says there is nothing ("-", "nihil")."""
    t = " ".join((text or "").split())
    return "" if t.lower().strip(" .") in _EMPTY_NOTES else t


def _times(capaian: float) -> str:
    """7.296% as "73 kali target": how far off an implausible capaian is, readably."""
    if capaian < 0:
        return "di bawah nol, bukan capaian"
    return f"{format_number(capaian / 100, 0 if capaian >= 1000 else 1)} kali target"


def _capaian(a: Answer, q: Query) -> str:
    lines = [_head("Capaian kinerja", q), ""]
    odd = 0
    for r in a.capaian:
        label = short(r.program or r.indikator, 60)
        t = format_percent(r.target) if r.target is not None else "-"
        real = format_percent(r.realisasi) if r.realisasi is not None else "-"
        cap = format_percent(r.capaian) if r.capaian is not None else "-"
        row = f"• Sasaran {r.sasaran_nomor} — {escape(label)}"
        if capaian_plausible(r.capaian):
            lines.append(f"{row}: capaian <b>{cap}</b> (target {t}, realisasi {real})")
        else:
            odd += 1
            assert r.capaian is not None  # an implausible capaian is a number
            lines.append(
                f"{row}: ⚠️ realisasi {real} = {_times(r.capaian)} {t} — targetnya tampaknya keliru"
            )
    lines += ["", "<i>Capaian = realisasi ÷ target triwulan yang sama.</i>"]
    if odd:
        lines.append(
            f"<i>⚠️ Capaian di atas {format_percent(CAPAIAN_PLAUSIBLE_MAX, 0)} (lebih dari "
            f"{format_number(CAPAIAN_PLAUSIBLE_MAX / 100)} kali target) tidak wajar: mohon "
            "operator bidang memeriksa target indikatornya.</i>"
        )
    return "\n".join(lines)


def _hambatan(a: Answer, q: Query) -> str:
    """Each program once, its hambatan and follow-ups beneath it; empty notes left out."""
    lines = [_head("Hambatan dan tindak lanjut", q)]
    groups: dict[str, list[tuple[str, str]]] = {}
    for r in a.narasi:
        head = short(r.program, 60) if r.program else f"Sasaran {r.sasaran_nomor}"
        item = (_said(r.hambatan), _said(r.tindak_lanjut))
        if item == ("", "") or item in groups.get(head, []):
            continue
        groups.setdefault(head, []).append(item)
    if not groups:
        lines += ["", f"Tidak ada hambatan yang dilaporkan untuk {period(q)}."]
        return "\n".join(lines)
    lines.append("<i>• hambatan, ↳ tindak lanjut</i>")
    for head, items in groups.items():
        lines += ["", f"<b>{escape(head)}</b>"]
        for hambatan, tindak in items:
            if hambatan:
                lines.append(f"• {escape(short(hambatan, 300))}")
            if tindak:
                indent = "   " if hambatan else ""
                lines.append(f"{indent}↳ {escape(short(tindak, 300))}")
    return "\n".join(lines)


def _daftar(a: Answer, q: Query) -> str:
    lines = [_head("Daftar program", q), ""]
    if not a.daftar:
        lines.append("Tidak ada program dalam rencana triwulan ini.")
    rows = (
        f"{'    ' * r.depth}{'•' if r.depth == 0 else '–'} {escape(short(r.nama, 90))} "
        f"(pagu {format_rupiah(r.pagu)})"
        for r in a.daftar
    )
    _until_full(lines, rows)
    return "\n".join(lines)


def _peringatan(a: Answer, q: Query) -> str:
    """Early warning: plan, deviation and projection, items at risk first."""
    assert a.early is not None
    return render_early_warning(a.early, _head("Peringatan dini", q))


def chart_caption(plan: ChartPlan) -> str:
    """A chart's caption as sent: escaped, and cut to Telegram's caption limit keeping the
    plan's closing lines."""
    lines = escape(plan.caption).split("\n")
    keep = min(plan.keep_last, len(lines) - 1)
    body, closing = lines[: len(lines) - keep], lines[len(lines) - keep :]
    return fit(
        "\n".join(body), CAPTION, tail="".join(f"\n{x}" for x in closing), more=escape(plan.more)
    )
