"""What the Mini App shows: its pages, the form's data, the dashboard, and every message.

Pages are small shells (the data comes from the API after Telegram's initData is checked);
the form's figures go out as JSON the page puts in with ``textContent``; the dashboard is
light server-side HTML in which every name and text is escaped here. Bars and the trend are
SVG drawn from attributes, so the strict Content-Security-Policy needs no inline style.
"""

from __future__ import annotations

import json
import re
from html import escape, unescape

from bot.views import lapor as lapor_views
from bot.views import texts
from bot.views.answers import empty_text, note_text, short
from bot.views.early_warning import signed_points
from bot.webapp.auth import Refusal
from storage.domain.early_warning import national_label
from storage.domain.numbers import format_number, format_percent, format_rupiah
from storage.domain.periods import roman
from storage.domain.policy import Denied
from storage.services import lapor_flow as flow
from storage.services import plan_step
from storage.services.dashboard import KabupatenDashboard, OfficeDashboard
from storage.services.early_warning import EarlyWarning
from storage.services.kabupaten import OfficeFigure
from storage.services.lapor_form import Changed, Checked, Form, Incomplete, Saved
from storage.services.queries import Figure, StatusRow
from storage.services.submission import NARASI_FIELDS, NARASI_LABEL

# --- labels -----------------------------------------------------------------------------------

MENU_BUTTON = "Formulir & Dasbor"  # the bot's menu button (Telegram: short)
FORM_BUTTON = "📝 Isi lewat formulir"  # beside the /lapor start screen's choices
DASHBOARD_BUTTON = "📊 Buka dasbor"  # under /start of the kepala and the kabupaten roles

TITLE_FORM = "Laporan triwulan"
TITLE_DASHBOARD = "Dasbor monev"
TITLE_INDEX = "Monev"

REFUSED = {
    Refusal.MISSING: (
        "Halaman ini dibuka di luar Telegram. Buka lewat tombol menu bot atau tombol "
        "“Isi lewat formulir” di /lapor."
    ),
    Refusal.MALFORMED: "Data masuk dari Telegram tidak terbaca. Tutup halaman lalu buka lagi.",
    Refusal.FORGED: (
        "Data masuk tidak ditandatangani Telegram untuk bot ini; permintaan ditolak. Buka "
        "halaman lewat tombol di chat bot."
    ),
    Refusal.STALE: (
        "Sesi halaman ini sudah kedaluwarsa. Tutup halaman lalu buka lagi dari chat bot; "
        "isian yang belum disimpan tetap ada di perangkat ini."
    ),
}
TOO_LARGE = "Permintaan terlalu besar. Simpan sebagian isian dulu, lalu sisanya."
BAD_REQUEST = "Permintaan tidak terbaca. Muat ulang halaman."
NOT_FOUND = "Halaman tidak ditemukan."
NO_DRAFT = (
    "Tidak ada draf laporan yang aktif: sudah dikirim atau dibatalkan lewat chat. Muat ulang "
    "halaman untuk memulai laporan berikutnya."
)
ONLY_OPERATOR = texts.LAPOR_ONLY_OPERATOR
DASHBOARD_ONLY = (
    "Dasbor untuk kepala dinas, verifikator, admin, dan pemantau kabupaten. Angka dapat "
    "ditanyakan langsung di chat, misalnya “serapan anggaran tw3”."
)
INDEX_NONE = (
    "Tidak ada halaman untuk peran Anda. Operator bidang mengisi laporan, kepala dan "
    "pemantau melihat dasbor."
)
EMPTY_FIGURE = (
    "Angka ini wajib diisi (di chat tidak bisa dilewati). Ketik 0 bila memang belum ada realisasi."
)
UNKNOWN_FIELD = (
    "Isian ini tidak ada dalam laporan bidang Anda (halaman lama, atau milik bidang lain); "
    "tidak disimpan."
)
CHANGED = (
    "Draf ini diubah lewat chat (atau halaman lain) sejak halaman dibuka. Tidak ada yang "
    "disimpan dari halaman ini. Isian terbaru ditampilkan; yang berbeda dari isian Anda "
    "ditandai. Periksa, lalu tekan Simpan lagi."
)
INCOMPLETE = "Laporan belum dikirim: masih ada sub kegiatan tanpa realisasi anggaran: {names}."
SAVED = "Tersimpan di draf ({n} isian)."
NOTHING_NEW = "Tidak ada isian baru; draf tidak berubah."
PLAN_IN_CHAT = (
    "Rencana penarikan TW I–IV ditanyakan di chat (/lapor, Lanjutkan). Bila tidak diisi, "
    "pola nasional {pola} yang dipakai."
)

# What the page's script says by itself (it reads them from the page, never from code).
SCRIPT_TEXTS = {
    "memuat": "Memuat…",
    "jaringan": "Tidak tersambung. Isian tetap tersimpan di perangkat ini; coba lagi.",
    "gagal": "Server tidak menjawab dengan benar. Isian tetap tersimpan di perangkat ini.",
    "simpan": "Simpan",
    "kirim": "Kirim",
    "menyimpan": "Menyimpan…",
    "mengirim": "Mengirim…",
    "belum_disimpan": "{n} isian belum disimpan (tetap ada di perangkat ini).",
    "semua_tersimpan": "Semua isian tersimpan di draf.",
    "sama_tw_lalu": "= TW lalu",
    "salin_tw_lalu": "Salin isian TW lalu",
    "ya_benar": "Ya, benar (dicatat sebagai temuan)",
    "di_chat": "Di draf sekarang: {v}",
    "pakai_draf": "Pakai isian draf",
    "kembali_chat": "Kembali ke chat",
    "buang": "Buang draf saya",
    "timpa": "Kirim punya saya menggantikannya",
    "anggaran": "Realisasi anggaran kumulatif (Rp)",
    "fisik": "Realisasi fisik kumulatif (%)",
    "ket": "Keterangan (opsional)",
    "ind": "Realisasi (R) indikator (%)",
    "contoh_anggaran": "mis. 21.000.000 atau 21 jt",
    "contoh_fisik": "0–100, mis. 45,5",
    "lihat_dasbor": "Buka dasbor",
}


# --- pages ------------------------------------------------------------------------------------

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors https://web.telegram.org https://*.telegram.org"
)


def page(*, base: str, title: str, script: str, version: str) -> str:
    """A page shell: the stylesheet, the texts its script uses, its script; nothing else."""
    data = json.dumps(SCRIPT_TEXTS, ensure_ascii=False).replace("<", "\\u003c")
    b = escape(base, quote=True)
    return (
        '<!doctype html><html lang="id"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<title>{escape(title)}</title><link rel="icon" href="data:,">'
        f'<link rel="stylesheet" href="{b}/static/app.css?v={version}"></head>'
        f'<body data-base="{b}"><main id="app" aria-live="polite">'
        f'<p class="muted">{escape(SCRIPT_TEXTS["memuat"])}</p></main>'
        f'<script type="application/json" id="teks">{data}</script>'
        f'<script src="{b}/static/common.js?v={version}"></script>'
        f'<script src="{b}/static/{script}.js?v={version}"></script></body></html>'
    )


def plain(text: str) -> str:
    """A bot text (Telegram HTML) as the plain text the page shows with ``textContent``."""
    return unescape(re.sub(r"<[^>]*>", "", text))


# --- the form ---------------------------------------------------------------------------------


def money_input(value: int | None) -> str:
    """A rupiah amount as the form's input shows it (and the chat's parser reads back)."""
    return "" if value is None else format_number(value)


def percent_input(value: float | None) -> str:
    if value is None:
        return ""
    text = format_percent(value)[:-1]
    return text[:-3] if text.endswith(",00") else text


def _period(tahun: int, tw: int) -> str:
    return f"TW {roman(tw)} {tahun}"


def form_json(form: Form, *, chat_link: str) -> dict:
    """The draft as the form page fills its fields: every value as input text, last
    quarter's beside it, and the review's figures under it."""
    plan, data, rv = form.plan, form.data, form.review
    items = data.get("items", {})
    turun = {str(k) for k in data.get("turun", [])}
    subs = []
    for i, s in enumerate(plan.subs, 1):
        it = items.get(str(s.node_id), {})
        subs.append(
            {
                "id": s.node_id,
                "no": i,
                "nama": s.nama,
                "program": s.program,
                "kegiatan": s.kegiatan if s.kegiatan and s.kegiatan != s.nama else "",
                "pagu": format_rupiah(s.pagu),
                "target": s.target or "-",
                "lalu": (
                    f"TW lalu: {format_rupiah(s.prev_anggaran)} · fisik "
                    f"{format_percent(s.prev_fisik)}"
                    if s.prev_anggaran is not None or s.prev_fisik is not None
                    else "TW lalu: belum ada angka"
                ),
                "lalu_anggaran": money_input(s.prev_anggaran),
                "lalu_fisik": percent_input(s.prev_fisik),
                "anggaran": money_input(it.get("anggaran")),
                "fisik": percent_input(it.get("fisik")),
                "ket": it.get("ket") or "",
                "turun": str(s.node_id) in turun,
                "turun_fisik": f"fisik:{s.node_id}" in turun,
                "bukti": rv.bukti.get(s.node_id, 0),
            }
        )
    ind_values = data.get("ind", {})
    indikator = [
        {
            "id": ind.indikator_id,
            "sasaran": ind.sasaran_nomor,
            "nama": ind.nama,
            "target": format_percent(ind.target),
            "lalu": percent_input(ind.prev_r),
            "lalu_teks": f"Target (T): {format_percent(ind.target)} · R TW lalu: "
            f"{format_percent(ind.prev_r)}",
            "nilai": percent_input(ind_values.get(str(ind.indikator_id))),
            "turun": f"ind:{ind.indikator_id}" in turun,
        }
        for ind in plan.indikator
    ]
    narasi = data.get("narasi", {})
    sasaran = [
        {
            "id": sas.sasaran_id,
            "nomor": sas.nomor,
            "teks": sas.teks,
            "isian": [
                {
                    "kind": f,
                    "label": NARASI_LABEL[f].capitalize(),
                    "lalu": sas.prev.get(f, ""),
                    "nilai": narasi.get(str(sas.sasaran_id), {}).get(f, ""),
                }
                for f in NARASI_FIELDS
            ],
        }
        for sas in plan.sasaran
    ]
    b = rv.bidang
    summary = [
        f"Serapan bidang {plan.bidang.nama}: "
        f"{format_percent(b.serapan) if b.complete else 'belum lengkap'} "
        f"({format_rupiah(b.realisasi)} / {format_rupiah(b.pagu)})"
    ]
    summary += [
        f"• {short(nama, 60)}: {format_percent(f.serapan) if f.complete else 'belum lengkap'}"
        for nama, f in rv.programs
    ]
    notes = [f"⚠️ {lapor_views.drop_note(n)}" for n in rv.notes]
    plan_block = plan_step.block(data)
    if plan_block is not None and not plan_block.get("pilih"):
        notes.append(PLAN_IN_CHAT.format(pola=national_label(plan_block.get("pola"))))
    if rv.missing:
        notes.append(f"Belum diisi: {len(rv.missing)} sub kegiatan.")
    bukti = plain("\n".join(lapor_views.bukti_lines(rv)))
    return {
        "draf": form.draft_id,
        "revisi": form.revision,
        "judul": f"Laporan {_period(plan.tahun, plan.triwulan)} — {plan.bidang.nama}",
        "dikembalikan": (
            f"Dikembalikan verifikator dengan alasan: {form.returned}" if form.returned else ""
        ),
        "bukti_catatan": (
            "Bukti dukung (foto, PDF) tetap dikirim lewat chat: di /lapor, setelah angka "
            "sub kegiatannya, atau dengan Tambah bukti di ringkasan."
        ),
        "bukti": bukti,
        "chat": chat_link,
        "subs": subs,
        "indikator": indikator,
        "sasaran": sasaran,
        "ringkasan": summary,
        "catatan": notes,
        "kurang": len(rv.missing),
    }


def checked_json(key: str, checked: Checked) -> dict:
    """One field checked as typed: the error, the drop question, or the value understood."""
    if checked.unknown:
        return {"status": "ok", "isian": key, "galat": UNKNOWN_FIELD}
    kind = key.partition(":")[0]
    value = checked.value
    shown = ""
    if checked.error is None and value is not None and value != "":
        if kind == "anggaran" and isinstance(value, int):
            shown = format_rupiah(value)
        elif kind in ("fisik", "ind") and isinstance(value, float | int):
            shown = format_percent(float(value))
    return {
        "status": "ok",
        "isian": key,
        "galat": lapor_views.invalid(checked.error) if checked.error is not None else "",
        "konfirmasi": (
            lapor_views.drop_question(checked.confirm) if checked.confirm is not None else ""
        ),
        "nilai": shown,
    }


def saved_json(result: Saved, *, chat_link: str) -> dict:
    errors = {
        k: (lapor_views.invalid(v) if v is not None else EMPTY_FIGURE)
        for k, v in result.errors.items()
    }
    errors.update({k: UNKNOWN_FIELD for k in result.unknown})
    return {
        "status": "tersimpan",
        "pesan": SAVED.format(n=len(result.stored)) if result.stored else NOTHING_NEW,
        "disimpan": result.stored,
        "galat": errors,
        "konfirmasi": {k: lapor_views.drop_question(d) for k, d in result.confirms.items()},
        "form": form_json(result.form, chat_link=chat_link),
    }


def changed_json(result: Changed, *, chat_link: str) -> dict:
    return {
        "status": "berubah",
        "pesan": CHANGED,
        "form": form_json(result.form, chat_link=chat_link),
    }


def sent_json(result: flow.Step | Incomplete, *, chat_link: str) -> dict:
    """The outcome of Kirim as the page shows it (the words of the chat's messages)."""
    if isinstance(result, Incomplete):
        return {
            "status": "ditolak",
            "pesan": INCOMPLETE.format(names="; ".join(short(n, 60) for n in result.missing[:5])),
            "form": form_json(result.form, chat_link=chat_link),
        }
    if isinstance(result, flow.Sent):
        return {
            "status": "terkirim",
            "pesan": plain(lapor_views.sent_text(result))
            + " Kartu verifikasi dikirim ke verifikator di chat.",
        }
    if isinstance(result, flow.Discarded):
        return {"status": "dibuang", "pesan": plain(lapor_views.discarded(result))}
    if isinstance(result, flow.Conflicts):
        return {"status": "ditolak", "pesan": plain(lapor_views.conflict_text(result))}
    if isinstance(result, flow.Overtook):
        reply = lapor_views.overtook(result)
        return {
            "status": "didahului",
            "pesan": plain(reply.text),
            "versi": result.overtaken.version,
        }
    if isinstance(result, flow.Refused):
        return {"status": "ditolak", "pesan": plain(lapor_views.refusal(result))}
    return {"status": "ditolak", "pesan": NO_DRAFT}


def opened_message(result: flow.NotOperator | flow.NoPlan | flow.AllDone) -> str:
    if isinstance(result, flow.NoPlan):
        return plain(texts.LAPOR_NO_PLAN)
    if isinstance(result, flow.AllDone):
        return plain(texts.LAPOR_ALL_DONE.format(bidang=escape(result.bidang)))
    return plain(ONLY_OPERATOR)


def denied_message(reason: Denied) -> str:
    return plain(texts.denied(reason))


# --- the dashboard ----------------------------------------------------------------------------


def _pct(v: float | None) -> str:
    return format_percent(v) if v is not None else "belum lengkap"


def _bar(value: float | None, mark: float | None = None, *, kind: str = "s") -> str:
    """A 0–100% bar (with the benchmark as a tick), as SVG attributes only."""
    width = 0.0 if value is None else max(0.0, min(100.0, value))
    tick = "" if mark is None else f'<line class="tick" x1="{mark:g}" x2="{mark:g}" y1="0" y2="8"/>'
    return (
        f'<svg class="bar" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true">'
        f'<rect class="bg" width="100" height="8"/><rect class="{kind}" width="{width:g}" '
        f'height="8"/>{tick}</svg>'
    )


def _trend_svg(points: list[tuple[int, Figure]], bench: dict[int, float] | None) -> str:
    """Serapan (and fisik) TW I–IV as two polylines over the benchmark path."""

    def xy(tw: int, v: float) -> str:
        return f"{25 + (tw - 1) * 85:g},{110 - min(max(v, 0.0), 100.0):g}"

    def line(values: list[tuple[int, float | None]], cls: str) -> str:
        pts = [xy(tw, v) for tw, v in values if v is not None]
        dots = "".join(
            f'<circle class="{cls}" cx="{p.split(",")[0]}" cy="{p.split(",")[1]}" r="3"/>'
            for p in pts
        )
        return (f'<polyline class="{cls}" points="{" ".join(pts)}"/>' if pts else "") + dots

    grid = "".join(
        f'<line class="grid" x1="15" x2="295" y1="{110 - y}" y2="{110 - y}"/>'
        f'<text x="0" y="{113 - y}">{y}</text>'
        for y in (0, 50, 100)
    )
    labels = "".join(
        f'<text x="{15 + (tw - 1) * 85}" y="126">TW {roman(tw)}</text>' for tw in range(1, 5)
    )
    bench_line = line([(tw, v) for tw, v in (bench or {}).items()], "b") if bench else ""
    return (
        '<svg class="trend" viewBox="0 0 300 130" role="img" aria-label="Tren serapan dan fisik">'
        + grid
        + labels
        + bench_line
        + line([(tw, f.serapan if f.complete else None) for tw, f in points], "s")
        + line([(tw, f.fisik) for tw, f in points], "f")
        + "</svg>"
    )


def _legend(bench: bool) -> str:
    items = [("s", "serapan"), ("f", "fisik")] + ([("b", "target nasional")] if bench else [])
    return (
        '<p class="legend">'
        + " ".join(f'<span class="key {c}">■</span> {escape(t)}' for c, t in items)
        + "</p>"
    )


def _status_rows(rows: list[StatusRow]) -> str:
    out = []
    for r in rows:
        label = texts.STATUS_NAMES.get(r.status, r.status) if r.status else "belum lapor"
        cls = "ok" if r.reported else "late"
        out.append(
            f'<tr><td>{escape(r.bidang.nama)}</td><td class="{cls}">{escape(str(label))}</td></tr>'
        )
    return "".join(out)


def _period_links(tahun: int, current: int, opd: int | None) -> str:
    extra = f' data-opd="{opd}"' if opd else ""
    return (
        '<nav class="tw">'
        + "".join(
            f'<button type="button" data-tahun="{tahun}" data-tw="{q}"{extra}'
            + (' class="on" aria-current="true"' if q == current else "")
            + f">TW {roman(q)}</button>"
            for q in range(1, 5)
        )
        + "</nav>"
    )


def office_html(d: OfficeDashboard, *, office: str, back: bool) -> str:
    """One office: serapan and fisik per bidang, trend, early warning, who has reported."""
    a = d.serapan
    if d.period is None or a.scope is None or a.query is None:
        return f'<p class="note">{escape(empty_text(a))}</p>'
    tahun, tw = d.period
    res = a.scope
    total = res.item.figure
    parts = []
    if back:
        parts.append('<p><button type="button" class="link" data-opd="0">← Semua OPD</button></p>')
    parts.append(f"<h1>{escape(office)}</h1>")
    parts.append(_period_links(tahun, tw, d.opd_id if back else None))
    parts.append(
        f'<p class="big">Serapan {_period(tahun, tw)}: <b>{_pct(total.serapan)}</b> '
        f"({format_rupiah(total.realisasi)} / {format_rupiah(total.pagu)}) · fisik "
        f"{_pct(total.fisik)}</p>"
        f'<p class="muted">Target nasional kumulatif TW {roman(tw)}: '
        f"{format_percent(res.benchmark)}</p>"
    )
    for n in a.notes:
        parts.append(f'<p class="note">{escape(note_text(n))}</p>')
    pending = {r.bidang.id for r in a.unverified}
    rows = []
    for it in res.breakdown:
        f = it.figure
        star = " *" if it.id in pending else ""
        rows.append(
            f"<tr><th>{escape(short(it.nama, 40))}{star}</th>"
            f"<td>{_pct(f.serapan)}{_bar(f.serapan, res.benchmark)}</td>"
            f"<td>{_pct(f.fisik)}{_bar(f.fisik, kind='f')}</td></tr>"
        )
    parts.append(
        "<h2>Serapan dan fisik per bidang</h2>"
        '<table class="fig"><thead><tr><th>Bidang</th><th>Serapan</th><th>Fisik</th></tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )
    if pending:
        parts.append(
            '<p class="muted">* angka belum disetujui: '
            + escape(", ".join(r.bidang.nama for r in a.unverified))
            + "</p>"
        )
    bench = dict(d.early.early.benchmarks) if d.early and d.early.early else None
    parts.append(f"<h2>Tren {tahun}</h2>{_trend_svg(d.trend, bench)}{_legend(bench is not None)}")
    ew = d.early.early if d.early is not None else None
    if ew is not None:
        parts.append(_early_html(ew))
    parts.append(
        f"<h2>Status pelaporan {_period(tahun, tw)}</h2>"
        f'<table class="st"><tbody>{_status_rows(d.status)}</tbody></table>'
    )
    if d.reporting is not None:
        y, q = d.reporting
        done = sum(1 for r in d.reporting_status if r.reported)
        parts.append(
            f"<h2>Sedang dilaporkan: {_period(y, q)} ({done} dari "
            f"{len(d.reporting_status)} bidang sudah lapor)</h2>"
            f'<table class="st"><tbody>{_status_rows(d.reporting_status)}</tbody></table>'
        )
    return "".join(parts)


def _early_html(ew: EarlyWarning) -> str:
    t = ew.total
    head = (
        f"<h2>Peringatan dini {_period(ew.tahun, ew.triwulan)}</h2>"
        f'<p class="muted">Pembanding: {escape(ew.source_label)}; toleransi deviasi '
        f"{format_number(ew.tolerance, 0)} poin.</p>"
    )
    if t.realisasi is not None and t.proyeksi is not None:
        head += (
            f"<p>Rencana s.d. TW {roman(ew.triwulan)}: {format_rupiah(t.rencana)} · realisasi "
            f"{format_rupiah(t.realisasi)} · proyeksi akhir tahun "
            f"{format_rupiah(t.proyeksi.amount)}</p>"
        )
    rows = []
    for r in ew.rows[:12]:
        dev = r.deviasi
        flag = "⚠️ " if r.menyimpang else ""
        rows.append(
            f"<tr><th>{flag}{escape(short(r.nama, 48))}"
            f'<br><span class="muted">{escape(r.bidang)}</span></th>'
            f"<td>{signed_points(dev.points) if dev else '-'}</td>"
            f"<td>{format_rupiah(r.berisiko) if r.berisiko else '-'}</td></tr>"
        )
    table = (
        '<table class="ew"><thead><tr><th>Program</th><th>Deviasi</th><th>Berisiko</th></tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
        if rows
        else '<p class="muted">Belum ada program dengan angka lengkap.</p>'
    )
    tail = ""
    if ew.incomplete:
        tail += (
            f'<p class="muted">Belum lengkap: {len(ew.incomplete)} program '
            "(tanpa angka, tidak diperingkat).</p>"
        )
    if ew.unverified:
        tail += f'<p class="muted">Belum disetujui: {escape(", ".join(ew.unverified))}</p>'
    return head + table + tail


def _office_row(f: OfficeFigure) -> str:
    star = " *" if f.unapproved else ""
    name = escape(f.office.short_label(40)) + star
    return (
        f'<tr><th><button type="button" class="link" data-opd="{f.office.id}">{name}'
        "</button></th>"
        f"<td>{_pct(f.serapan) if f.has_plan else 'tanpa rencana'}{_bar(f.serapan)}</td>"
        f"<td>{_pct(f.fisik) if f.has_plan else '-'}{_bar(f.fisik, kind='f')}</td></tr>"
    )


def kabupaten_html(d: KabupatenDashboard) -> str:
    """Every office: serapan and fisik, trend of the kabupaten, early warning, who is late."""
    total = next((f for q, f in d.trend if q == d.triwulan), None)
    parts = ["<h1>Kabupaten — semua OPD</h1>", _period_links(d.tahun, d.triwulan, None)]
    if total is not None:
        parts.append(
            f'<p class="big">Serapan {_period(d.tahun, d.triwulan)}: '
            f"<b>{_pct(total.serapan)}</b> ({format_rupiah(total.realisasi)} / "
            f"{format_rupiah(total.pagu)}) · fisik {_pct(total.fisik)}</p>"
        )
    parts.append(
        "<h2>Serapan dan fisik per OPD</h2>"
        '<table class="fig"><thead><tr><th>OPD</th><th>Serapan</th><th>Fisik</th></tr>'
        f"</thead><tbody>{''.join(_office_row(f) for f in d.offices)}</tbody></table>"
    )
    if any(f.unapproved for f in d.offices):
        parts.append('<p class="muted">* sebagian angka belum disetujui.</p>')
    parts.append(f"<h2>Tren {d.tahun}</h2>{_trend_svg(d.trend, None)}{_legend(False)}")
    rows = []
    for r in d.risks[:15]:
        t = r.total
        rows.append(
            f"<tr><th>{escape(r.office.short_label(40))}</th>"
            f"<td>{format_rupiah(t.berisiko) if t.berisiko else '-'}</td></tr>"
        )
    parts.append(
        f"<h2>Peringatan dini {_period(d.tahun, d.triwulan)}</h2>"
        '<table class="ew"><thead><tr><th>OPD</th><th>Berisiko tidak terserap</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    late = d.not_reported
    parts.append(f"<h2>Belum lapor {_period(d.tahun, d.triwulan)}</h2>")
    if late:
        parts.append(
            '<table class="st"><tbody>'
            + "".join(
                f"<tr><td>{escape(f.office.short_label(40))}</td>"
                f'<td class="late">{f.not_reported} dari {f.bidang} bidang</td></tr>'
                for f in late
            )
            + "</tbody></table>"
        )
    else:
        parts.append('<p class="muted">Semua OPD sudah lapor.</p>')
    return "".join(parts)
