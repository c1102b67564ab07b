"""Screens of the /lapor conversation: one question at a time, and the review before sending."""

from __future__ import annotations

from html import escape

from bot.settings import wib
from bot.views import plan_step as plan_views
from bot.views import texts
from bot.views.answers import Keyboard, Reply, short
from bot.views.budget import fits
from storage.domain.lapor_steps import StepId
from storage.domain.numbers import format_percent, format_rupiah, format_waktu
from storage.domain.periods import roman
from storage.services import plan_step
from storage.services.lapor_flow import (
    AllDone,
    ConfirmDrop,
    Conflicts,
    Discarded,
    Overtook,
    Progress,
    Propose,
    Question,
    Refused,
    Resume,
    Screen,
    Sent,
    Shown,
    Started,
)
from storage.services.submission import (
    NARASI_FIELDS,
    NARASI_LABEL,
    Blank,
    Changes,
    Closed,
    DraftChange,
    DraftPlan,
    Drop,
    IndicatorChange,
    Invalid,
    LevelDrop,
    Measure,
    NarasiChange,
    NodeHistory,
    NoPlanYear,
    NotPermitted,
    OutOfRange,
    OverPagu,
    PercentDrop,
    QuarterApproved,
    QuarterClosed,
    Review,
    RupiahDrop,
    SubChange,
    SubmissionError,
    Unparsed,
)


def cb(draft_id: int, step: str, action: str) -> str:
    """Callback data of a draft button; carries the step so a stale tap is recognised."""
    return f"lp:{draft_id}:{step.replace(':', '.')}:{action.replace(':', '.')}"


def _head(plan: DraftPlan, counter: str) -> str:
    period = f"TW {roman(plan.triwulan)} {plan.tahun}"
    return f"<b>Laporan {period} — {escape(plan.bidang.nama)}</b> {counter}"


def prompt(plan: DraftPlan, data: dict, step: str, draft_id: int) -> Reply:
    """The question for ``step``, with its quick-answer buttons."""
    parsed = StepId.parse(step)
    kind, idx = parsed.kind, parsed.arg
    items = data.get("items", {})
    if kind == plan_step.KIND:
        return plan_views.prompt(
            plan,
            data,
            step,
            head=lambda counter: _head(plan, counter),
            button=lambda at, action: cb(draft_id, at, action),
        )
    if kind in {"anggaran", "fisik", "ket"}:
        i = int(idx)
        s = plan.subs[i]
        cur = items.get(str(s.node_id), {})
        lines = [
            _head(plan, f"({i + 1}/{len(plan.subs)})"),
            f"Program: {escape(short(s.program, 90))}",
        ]
        if s.kegiatan and s.kegiatan != s.nama:
            lines.append(f"Kegiatan: {escape(short(s.kegiatan, 90))}")
        lines.append(f"Sub kegiatan: <b>{escape(short(s.nama, 120))}</b>")
        lines.append(f"Pagu: {format_rupiah(s.pagu)} · Target: {escape(s.target or '-')}")
        prev = (
            f"TW lalu: realisasi {format_rupiah(s.prev_anggaran)}, "
            f"fisik {format_percent(s.prev_fisik)}"
            if s.prev_anggaran is not None or s.prev_fisik is not None
            else "TW lalu: belum ada angka"
        )
        if s.prev_anggaran is None and s.above is not None:
            # Last quarter was reported higher up: the drop check compares with that figure.
            prev += (
                f" untuk sub kegiatan ini; {s.above.level} "
                f"{escape(short(s.above.nama, 60))}: realisasi {format_rupiah(s.above.prev)}"
            )
        lines += [prev, ""]
        kb: Keyboard = []
        if kind == "anggaran":
            lines.append(
                "Ketik <b>realisasi anggaran kumulatif</b> sampai akhir "
                f"TW {roman(plan.triwulan)}, "
                "misalnya <code>21.000.000</code> atau <code>21 jt</code>."
            )
            if cur.get("anggaran") is not None:
                kb.append(
                    [(f"Tetap: {format_rupiah(cur['anggaran'])}", cb(draft_id, step, "keep"))]
                )
            if s.prev_anggaran is not None:
                kb.append(
                    [
                        (
                            f"Sama dengan TW lalu ({format_rupiah(s.prev_anggaran)})",
                            cb(draft_id, step, "same"),
                        )
                    ]
                )
        elif kind == "fisik":
            lines.append(
                f"Realisasi anggaran: {format_rupiah(cur.get('anggaran'))}.\n"
                "Ketik <b>realisasi fisik kumulatif</b> dalam persen (0–100), "
                "misalnya <code>45</code> "
                "atau <code>45,5</code>."
            )
            if cur.get("fisik") is not None:
                kb.append([(f"Tetap: {format_percent(cur['fisik'])}", cb(draft_id, step, "keep"))])
            if s.prev_fisik is not None:
                kb.append(
                    [
                        (
                            f"Sama dengan TW lalu ({format_percent(s.prev_fisik)})",
                            cb(draft_id, step, "same"),
                        )
                    ]
                )
        else:
            lines.append(
                "Ketik <b>keterangan</b> (opsional), kirim <b>foto/berkas bukti</b> (boleh lebih "
                "dari satu; JPG, PNG, PDF), atau tekan Lewati."
            )
            if cur.get("ket"):
                kb.append([(f"Tetap: {short(cur['ket'], 30)}", cb(draft_id, step, "keep"))])
            kb.append([("Lewati", cb(draft_id, step, "skip"))])
        return Reply("\n".join(lines), _to_review(kb, data, draft_id, step))
    if kind == "ind":
        j = int(idx)
        ind = plan.indikator[j]
        cur = data.get("ind", {}).get(str(ind.indikator_id))
        lines = [
            _head(plan, f"— indikator {j + 1}/{len(plan.indikator)}"),
            f"Sasaran {ind.sasaran_nomor}: {escape(short(ind.nama, 110))}",
            f"Target (T): {format_percent(ind.target)} · R TW lalu: {format_percent(ind.prev_r)}",
            "",
            f"Ketik <b>realisasi (R) indikator</b> TW {roman(plan.triwulan)} dalam persen, "
            "misalnya <code>12,5</code>.",
        ]
        kb = []
        if cur is not None:
            # The operator's own value first, so a quick tap never brings back last quarter's.
            kb.append([(f"Tetap: {format_percent(cur)}", cb(draft_id, step, "keep"))])
            if ind.prev_r is not None and ind.prev_r != cur:
                kb.append(
                    [
                        (
                            f"Ganti dengan TW lalu ({format_percent(ind.prev_r)})",
                            cb(draft_id, step, "same"),
                        )
                    ]
                )
        elif ind.prev_r is not None:
            kb.append(
                [
                    (
                        f"Tetap seperti TW lalu ({format_percent(ind.prev_r)})",
                        cb(draft_id, step, "same"),
                    )
                ]
            )
        return Reply("\n".join(lines), _to_review(kb, data, draft_id, step))
    if kind in NARASI_FIELDS:
        k = int(idx)
        sas = plan.sasaran[k]
        cur = data.get("narasi", {}).get(str(sas.sasaran_id), {}).get(kind)
        prev = sas.prev.get(kind, "")
        lines = [
            _head(plan, f"— sasaran {sas.nomor}"),
            f"Sasaran {sas.nomor}: {escape(short(sas.teks, 110))}",
            "",
            f"Ketik <b>{NARASI_LABEL[kind]}</b> triwulan ini (singkat, paling banyak 500 huruf).",
        ]
        kb = []
        if cur:
            lines.append(f"Isian sekarang: <i>{escape(short(cur, 200))}</i>")
            kb.append([(f"Tetap: {short(cur, 30)}", cb(draft_id, step, "keep"))])
            if prev and prev != cur:
                lines.append(f"Triwulan lalu: <i>{escape(short(prev, 200))}</i>")
                kb.append([("Ganti dengan isian triwulan lalu", cb(draft_id, step, "same"))])
        elif prev:
            lines.append(f"Triwulan lalu: <i>{escape(short(prev, 200))}</i>")
            kb.append([("Tetap seperti triwulan lalu", cb(draft_id, step, "same"))])
        kb.append([("Kosongkan", cb(draft_id, step, "skip"))])
        return Reply("\n".join(lines), _to_review(kb, data, draft_id, step))
    raise ValueError(step)


def _to_review(kb: Keyboard, data: dict, draft_id: int, step: str) -> Keyboard:
    """A returned report, once something was changed: jump to the review, the rest stays."""
    if data.get("returned") and data.get("changed") and not data.get("editing"):
        return [*kb, [("Ke ringkasan", cb(draft_id, step, "review"))]]
    return kb


def review_text(rv: Review, *, for_verifier: bool = False) -> str:
    """Every figure, the serapan they yield per program and for the bidang, and the notes."""
    plan, data = rv.plan, rv.data
    items = data.get("items", {})
    lines = []
    if not for_verifier:
        lines += [_head(plan, "— periksa sebelum mengirim"), ""]
    elif rv.changes is not None:
        lines += [f"<b>Perubahan dari versi {rv.changes.version}:</b>"]
        lines += [f"• {escape(c, quote=False)}" for c in change_lines(rv.changes)] or [
            "Tidak ada angka atau catatan yang berubah."
        ]
        lines.append("")
    lines.append("<b>Realisasi per sub kegiatan</b>")
    for i, s in enumerate(plan.subs, 1):
        it = items.get(str(s.node_id), {})
        ang = (
            format_rupiah(it.get("anggaran"))
            if it.get("anggaran") is not None
            else "<b>belum diisi</b>"
        )
        fis = format_percent(it.get("fisik")) if it.get("fisik") is not None else "-"
        n_bukti = f"; bukti {rv.bukti[s.node_id]}" if rv.bukti.get(s.node_id) else ""
        ket = f"; keterangan: <i>{escape(short(it['ket'], 100))}</i>" if it.get("ket") else ""
        lines.append(f"{i}. {escape(short(s.nama, 60))}: {ang}; fisik {fis}{n_bukti}{ket}")
    lines += ["", "<b>Serapan yang dihasilkan</b>"]
    for nama, f in rv.programs:
        val = format_percent(f.serapan) if f.complete else "belum lengkap"
        lines.append(
            f"• {escape(short(nama, 60))}: {val} "
            f"({format_rupiah(f.realisasi)} / {format_rupiah(f.pagu)})"
        )
    b = rv.bidang
    lines.append(
        f"Bidang {escape(plan.bidang.nama)}: "
        f"<b>{format_percent(b.serapan) if b.complete else 'belum lengkap'}</b>"
        f" ({format_rupiah(b.realisasi)} / {format_rupiah(b.pagu)})"
    )
    if plan.indikator:
        lines += ["", "<b>Indikator sasaran (R)</b>"]
        for ind in plan.indikator:
            v = data.get("ind", {}).get(str(ind.indikator_id))
            lines.append(
                f"• Sasaran {ind.sasaran_nomor} — {escape(short(ind.nama, 50))}: "
                f"{format_percent(v)}"
            )
    for sas in plan.sasaran:
        nar = data.get("narasi", {}).get(str(sas.sasaran_id), {})
        if any(nar.get(f) for f in NARASI_FIELDS):
            lines += ["", f"<b>Catatan sasaran {sas.nomor}</b>"]
            for field in NARASI_FIELDS:
                if nar.get(field):
                    lines.append(
                        f"{NARASI_LABEL[field].capitalize()}: {escape(short(nar[field], 150))}"
                    )
    plan_line = plan_views.review_line(plan, data, sent=for_verifier)
    if plan_line:
        lines += ["", plan_line]
    lines += ["", *bukti_lines(rv)]
    if rv.notes:
        lines += ["", "<b>Temuan</b>"] + [f"⚠️ {escape(drop_note(n))}" for n in rv.notes]
    if rv.missing and not for_verifier:
        lines += ["", f"Belum diisi: {len(rv.missing)} sub kegiatan. Lengkapi lewat tombol Ubah."]
    return "\n".join(lines)


def bukti_lines(rv: Review) -> list[str]:
    """Evidence under the figures: how many files, and where realisasi rose without any."""
    lines = [f"<b>Bukti dukung</b>: {sum(rv.bukti.values())} berkas"]
    lines += [f"⚠️ Realisasi naik tanpa bukti: {escape(short(n, 60))}" for n in rv.tanpa_bukti[:10]]
    if len(rv.tanpa_bukti) > 10:
        lines.append(f"⚠️ … dan {len(rv.tanpa_bukti) - 10} sub kegiatan lain tanpa bukti.")
    return lines


def review(rv: Review, draft_id: int) -> Reply:
    kb: Keyboard = []
    row: list[tuple[str, str]] = []
    for i in range(len(rv.plan.subs)):
        row.append((f"Ubah {i + 1}", cb(draft_id, "review", f"edit-anggaran:{i}")))
        if len(row) == 4:
            kb.append(row)
            row = []
    if row:
        kb.append(row)
    extra = []
    if rv.plan.indikator:
        extra.append(("Ubah indikator", cb(draft_id, "review", "edit-ind:0")))
    if rv.plan.sasaran:
        extra.append(("Ubah catatan", cb(draft_id, "review", f"edit-{NARASI_FIELDS[0]}:0")))
    if plan_step.block(rv.data) is not None:
        extra.append(("Ubah rencana", cb(draft_id, "review", f"edit-{plan_step.ASK}")))
    if extra:
        kb.append(extra)
    kb.append(
        [
            ("Tambah bukti", cb(draft_id, "review", "bukti")),
            ("Hapus bukti", cb(draft_id, "review", "bukti")),
        ]
        if rv.bukti
        else [("Tambah bukti", cb(draft_id, "review", "bukti"))]
    )
    kb.append([("📨 Kirim", cb(draft_id, "review", "send"))])
    return Reply(review_text(rv), kb)


# --- the results of a /lapor step (storage.services.lapor_flow) ---------------------------------


def screen(s: Screen) -> Reply:
    """The question of a step, or the review."""
    if isinstance(s, Question):
        return prompt(s.plan, s.data, s.step, s.draft_id)
    return review(s.review, s.draft_id)


def resume_offer(o: Resume) -> Reply:
    """/lapor with a draft in progress: continue it or start over."""
    return Reply(
        texts.LAPOR_RESUME.format(
            tw=roman(o.triwulan),
            tahun=o.tahun,
            bidang=escape(o.bidang),
            done=o.done,
            total=o.total,
            when=format_waktu(wib(o.updated_at)),
        ),
        [
            [
                ("Lanjutkan", f"lp:{o.draft_id}:resume:go"),
                ("Mulai ulang", f"lp:{o.draft_id}:resume:restart"),
            ]
        ],
    )


def proposal(o: Propose) -> Reply:
    """/lapor without a draft: the quarter to report (with the reason it was returned)."""
    returned = texts.LAPOR_RETURNED.format(alasan=escape(o.alasan)) if o.alasan else ""
    tw = roman(o.triwulan)
    return Reply(
        texts.LAPOR_PROPOSE.format(
            bidang=escape(o.bidang), tw=tw, tahun=o.tahun, returned=returned
        ),
        [
            [(f"Isi TW {tw} {o.tahun}", f"lp:new:{o.tahun}.{o.triwulan}:go")],
            [("Pilih triwulan lain", "lp:new:pick:go")],
        ],
    )


def all_done(o: AllDone) -> Reply:
    """Nothing left to report: say so, and still let the operator pick a quarter."""
    return Reply(
        texts.LAPOR_ALL_DONE.format(bidang=escape(o.bidang)),
        [[("Pilih triwulan lain", "lp:new:pick:go")]],
    )


def period_picker(years: list[int]) -> Reply:
    """'Pilih triwulan lain': the quarters of the last three years with data."""
    kb: Keyboard = [
        [(f"TW {roman(tw)} {y}", f"lp:new:{y}.{tw}:go") for tw in range(1, 5)] for y in years[-3:]
    ]
    return Reply(texts.LAPOR_PICK, kb)


def started_intro(st: Started) -> str:
    """The line above the first question of a draft begun or continued."""
    if st.continued:
        return texts.LAPOR_CONTINUED.format(tw=roman(st.triwulan), tahun=st.tahun)
    return texts.LAPOR_STARTED.format(
        tw=roman(st.triwulan), tahun=st.tahun, bidang=escape(st.bidang), subs=st.subs
    )


def confirm_drop(r: ConfirmDrop) -> Reply:
    """A cumulative figure went down: keep it or type again."""
    return Reply(
        escape(drop_question(r.drop), quote=False),
        [
            [
                ("Ya, benar", cb(r.draft_id, r.step, "yes")),
                ("Ketik ulang", cb(r.draft_id, r.step, "no")),
            ]
        ],
    )


RETYPE = "Silakan ketik ulang."


def conflict_text(r: Conflicts) -> str:
    rows = "\n".join(
        f"• {escape(c.nama)}: sekarang {format_rupiah(c.theirs)}, draf Anda {format_rupiah(c.mine)}"
        for c in r.conflicts
    )
    return texts.LAPOR_CONFLICT.format(rows=rows)


def sent_text(r: Sent) -> str:
    sent = texts.LAPOR_SENT.format(tw=roman(r.triwulan), tahun=r.tahun, bidang=escape(r.bidang))
    return "\n\n".join([sent, *plan_views.saved_lines(r.rencana)])


def plan_note(r: Shown) -> str:
    """The line above the next screen after an answer of the spending-plan step."""
    if r.plan_echo is None:
        return ""
    data = r.screen.data if isinstance(r.screen, Question) else r.screen.review.data
    return plan_views.echo(r.plan_echo, (plan_step.block(data) or {}).get("pola", []))


def overtook(r: Overtook) -> Reply:
    """Another submission came after the draft began: discard the draft or send it over."""
    o = r.overtaken
    when = format_waktu(wib(o.at)) if o.at is not None else "-"
    rows = "\n".join(
        f"• {escape(c.nama)}: sekarang {format_rupiah(c.theirs)}, draf Anda {format_rupiah(c.mine)}"
        for c in o.figures
    )
    text = texts.LAPOR_OVERTAKEN.format(
        oleh=escape(o.oleh),
        when=when,
        status=texts.STATUS_NAMES.get(o.status, o.status),
        rows=rows or "(angka sub kegiatan sama dengan draf Anda)",
    )
    return Reply(
        text,
        [
            [("Buang draf saya", cb(r.draft_id, "review", "discard"))],
            [("Kirim punya saya menggantikannya", cb(r.draft_id, "review", f"over-{o.version}"))],
        ],
    )


def refusal(r: Refused) -> str:
    """Why an answer or Kirim was not accepted, and what to do (plain text)."""
    if r.denied is not None:
        return texts.denied(r.denied, status=r.status)
    if r.tanpa_bukti:
        return (
            "Bukti dukung wajib untuk sub kegiatan yang realisasinya naik: "
            + "; ".join(r.tanpa_bukti)
            + ". Tekan Tambah bukti, pilih sub kegiatannya, lalu kirim foto atau berkasnya."
        )
    if r.plan_buttons_first:
        return plan_views.BUTTONS_FIRST
    if r.invalid is not None:
        return invalid(r.invalid)
    if r.closed is not None:
        return closed(r.closed)
    return r.error


def submission_error(exc: SubmissionError) -> str:
    """What to tell the person about a refused /lapor step (plain text, not yet escaped)."""
    if isinstance(exc, NotPermitted):
        return texts.denied(exc.reason, status=exc.status)
    if isinstance(exc, QuarterClosed):
        return closed(exc.reason)
    return exc.user_message


# --- the submission rules' reasons (storage.services.submission), for the chat and the Mini App


_MEASURE = {Measure.FISIK: "Realisasi fisik", Measure.INDIKATOR: "Realisasi indikator"}
_DROP_ASK = (
    " Angka kumulatif biasanya tidak turun. Tetap pakai angka ini? (akan dicatat sebagai temuan)"
)


def closed(r: Closed) -> str:
    """Why the quarter cannot be filled in now (plain text)."""
    if isinstance(r, NoPlanYear):
        return (
            f"Tahun {r.tahun} belum memiliki rencana (program dan pagu). Minta admin menyiapkannya."
        )
    if isinstance(r, QuarterApproved):
        return (
            f"Laporan TW {roman(r.triwulan)} {r.tahun} bidang ini sudah disetujui dan dikunci. "
            "Bila perlu diubah, minta admin membukanya kembali."
        )
    return (
        f"Laporan TW {roman(r.triwulan)} {r.tahun} sudah diajukan dan sedang menunggu "
        "verifikasi. Tunggu hasilnya; bila dikembalikan, Anda dapat mengubahnya."
    )


def invalid(r: Invalid) -> str:
    """Why a typed answer was refused and what to type instead (plain text)."""
    if isinstance(r, Unparsed):
        return r.message
    if isinstance(r, OverPagu):
        return (
            f"Realisasi {format_rupiah(r.value)} melebihi pagu {format_rupiah(r.pagu)}. "
            "Ketik realisasi kumulatif sampai akhir triwulan, paling banyak sebesar pagu."
        )
    if isinstance(r, OutOfRange):
        return (
            f"{_MEASURE[r.measure]} {format_percent(r.value)} di luar 0–100%. Ketik angka 0 "
            "sampai 100, misalnya 45 atau 45,5."
        )
    assert isinstance(r, Blank)
    if r.hidden:
        return (
            "Teks itu hanya berisi karakter kendali yang tidak terlihat. Ketik isinya "
            "dengan huruf biasa, atau pilih tombol yang tersedia."
        )
    return "Teks kosong. Ketik isinya, atau pilih tombol yang tersedia."


def _level_drop(d: LevelDrop) -> str:
    where = f"total bidang {d.bidang}" if d.whole_bidang else f"total {d.level} '{d.nama}'"
    return (
        f"Dengan angka ini {where} turun dari {format_rupiah(d.prev)} "
        f"(TW {roman(d.triwulan - 1)}, dilaporkan di tingkat {d.level}) menjadi "
        f"{format_rupiah(d.total)}."
    )


def drop_question(d: Drop) -> str:
    """A cumulative figure went down: the question before it is kept (plain text)."""
    if isinstance(d, RupiahDrop):
        return (
            f"Realisasi kumulatif {format_rupiah(d.value)} lebih kecil daripada triwulan lalu "
            f"({format_rupiah(d.prev)})." + _DROP_ASK
        )
    if isinstance(d, PercentDrop):
        return (
            f"{_MEASURE[d.measure]} kumulatif {format_percent(d.value)} lebih kecil daripada "
            f"triwulan lalu ({format_percent(d.prev)})." + _DROP_ASK
        )
    return _level_drop(d) + _DROP_ASK


def drop_note(d: Drop) -> str:
    """A confirmed drop as the review's finding (plain text)."""
    if isinstance(d, RupiahDrop):
        return (
            f"'{d.nama}': realisasi kumulatif turun dari {format_rupiah(d.prev)} menjadi "
            f"{format_rupiah(d.value)}."
        )
    if isinstance(d, PercentDrop) and d.measure == Measure.INDIKATOR:
        return (
            f"Indikator sasaran {d.sasaran} '{d.nama}': realisasi turun dari "
            f"{format_percent(d.prev)} menjadi {format_percent(d.value)}."
        )
    if isinstance(d, PercentDrop):
        return (
            f"'{d.nama}': realisasi fisik kumulatif turun dari {format_percent(d.prev)} "
            f"menjadi {format_percent(d.value)}."
        )
    return _level_drop(d)


def change_line(c: DraftChange) -> str:
    """One difference from the quarter's previous submission (plain text)."""
    if isinstance(c, SubChange):
        parts = []
        if c.anggaran is not None:
            parts.append(
                f"realisasi {format_rupiah(c.anggaran[0])} → {format_rupiah(c.anggaran[1])}"
            )
        if c.fisik is not None:
            parts.append(f"fisik {format_percent(c.fisik[0])} → {format_percent(c.fisik[1])}")
        if c.ket is not None:
            parts.append(
                f'keterangan "{short(c.ket[0] or "-", 60)}" → "{short(c.ket[1] or "-", 60)}"'
            )
        return f"{short(c.nama, 60)}: " + "; ".join(parts)
    if isinstance(c, IndicatorChange):
        return (
            f"Indikator sasaran {c.sasaran} ({short(c.nama, 50)}): "
            f"{format_percent(c.before)} → {format_percent(c.now)}"
        )
    assert isinstance(c, NarasiChange)
    return (
        f"{NARASI_LABEL[c.field].capitalize()} sasaran {c.sasaran}: "
        f'"{short(c.before or "-", 80)}" → "{short(c.now or "-", 80)}"'
    )


def change_lines(changes: Changes) -> list[str]:
    """The differences, and how many more were left out."""
    lines = [change_line(c) for c in changes.lines]
    if changes.more:
        lines.append(f"… dan {changes.more} perubahan lain.")
    return lines


def discarded(r: Discarded) -> str:
    return texts.LAPOR_DISCARDED.format(tw=roman(r.triwulan), tahun=r.tahun)


def stopped(p: Progress) -> str:
    """/batal during /lapor: the draft stays."""
    return texts.LAPOR_STOPPED.format(
        tw=roman(p.triwulan), tahun=p.tahun, done=p.done, total=p.total
    )


_FIELD_LABEL = {
    "ket": "Keterangan",
    "aksi": "Aksi",
    "hambatan": "Hambatan",
    "tindak_lanjut": "Tindak lanjut",
}


def control_removed(kind: str) -> str:
    """The note after typed text lost its control characters (the rest was kept)."""
    return texts.CONTROL_REMOVED.format(field=_FIELD_LABEL.get(kind, kind))


def history_text(h: NodeHistory) -> str:
    """/riwayat: the latest changes of a node's figures that fit one message."""
    if not h.changes:
        return texts.RIWAYAT_EMPTY.format(nama=escape(h.nama))
    head = [f"<b>Riwayat: {escape(h.nama)}</b>", ""]
    lines: list[str] = []
    for c in h.changes[-25:]:
        who = c.who or (
            "impor laporan" if c.actor.startswith("import") or c.actor == "demo" else c.actor
        )
        old = _history_value(c.field, c.old)
        new = _history_value(c.field, c.new)
        lines.append(
            f"• {format_waktu(wib(c.at))} — {escape(who)}: {escape(c.field)} {old} → {new}"
        )

    # A bounded fit, never a cut: the oldest changes give way whole (a slice could end
    # inside a word or an HTML entity), and the reader is told how many are left out.
    def text(dropped: int) -> str:
        older = [texts.RIWAYAT_OLDER.format(n=dropped)] if dropped else []
        return "\n".join([*head, *older, *lines[dropped:]])

    dropped = 0
    while dropped < len(lines) and not fits(text(dropped)):
        dropped += 1
    return text(dropped)


def _history_value(field: str, value: str | None) -> str:
    if value is None:
        return "-"
    try:
        if field.startswith(("anggaran", "pagu")):
            return format_rupiah(int(value))
        if field.startswith("fisik"):
            return format_percent(float(value))
    except ValueError:
        pass
    return escape(value)
