"""Screens of the optional spending-plan step of /lapor (``storage.services.plan_step``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from bot.views import texts
from bot.views.answers import Keyboard, Reply, short
from storage.domain.early_warning import national_label
from storage.domain.lapor_steps import StepId
from storage.domain.numbers import format_rupiah
from storage.domain.periods import roman
from storage.domain.plan_input import EXAMPLE
from storage.services import plan_step
from storage.services.submission import DraftPlan

# A plan not written on Kirim because someone (an import) changed it after the step was answered.
CHANGED = "sudah diubah orang lain sejak Anda mengisinya"
# Text typed while the plan step waits for its two buttons (``plan_step.StepAnswer.buttons_first``).
BUTTONS_FIRST = (
    "Pilih dulu tombol Isi rencana atau Lewati pada pertanyaan rencana penarikan di atas."
)

Button = Callable[[str, str], str]  # (step, action) -> callback data of the draft


def pola_label(pola: Sequence[float]) -> str:
    """The national path the step was offered with, e.g. "15/40/60/90%"."""
    return national_label(pola)


def amounts(values: Sequence[int | None]) -> str:
    """Four cumulative amounts as "TW I Rp 50.000.000 · TW II …" (no plan: "-")."""
    return " · ".join(f"TW {roman(q)} {format_rupiah(v)}" for q, v in enumerate(values, start=1))


def prompt(
    plan: DraftPlan, data: dict, step: str, *, head: Callable[[str], str], button: Button
) -> Reply:
    """The offer ("Isi rencana" / "Lewati"), or the plan question of one sub kegiatan."""
    b = plan_step.block(data) or {}
    pola = b.get("pola", [])
    if step == plan_step.ASK:
        lama = b.get("lama", {})
        text = texts.RENCANA_ASK.format(
            lacking=sum(1 for s in plan.subs if lama.get(str(s.node_id)) is None),
            total=len(plan.subs),
            tahun=plan.tahun,
            pola=pola_label(pola),
            tw=roman(plan.triwulan),
        )
        return Reply(
            f"{head('— rencana penarikan')}\n\n{text}",
            [[("Isi rencana", button(step, "isi")), ("Lewati", button(step, "lewati"))]],
        )
    i = StepId.parse(step).index
    assert i is not None  # a plan step other than the offer names its sub kegiatan
    s = plan.subs[i]
    lines = [
        head(f"— rencana {i + 1}/{len(plan.subs)}"),
        f"Program: {escape(short(s.program, 90))}",
    ]
    if s.kegiatan and s.kegiatan != s.nama:
        lines.append(f"Kegiatan: {escape(short(s.kegiatan, 90))}")
    lines += [
        f"Sub kegiatan: <b>{escape(short(s.nama, 120))}</b>",
        f"Pagu: {format_rupiah(s.pagu)}",
    ]
    kb: Keyboard = []
    now = plan_step.current(b, s.node_id)
    if now is not None:
        given = b.get("isi", {}).get(str(s.node_id)) is not None
        shown = texts.RENCANA_NOW_DRAFT if given else texts.RENCANA_NOW_OFFICE
        lines.append(shown.format(values=amounts(now)))
        kb.append([("Tetap", button(step, "tetap"))])
    path = plan_step.national(s.pagu, pola)
    if path is not None:
        lines.append(texts.RENCANA_NATIONAL.format(pola=pola_label(pola), values=amounts(path)))
        kb.append([("Pakai pola nasional", button(step, "nasional"))])
    lines += ["", texts.RENCANA_SUB.format(example=EXAMPLE)]
    return Reply("\n".join(lines), kb)


def echo(e: plan_step.Echo, pola: Sequence[float]) -> str:
    """The line above the next screen after an answer of the step ("" for none)."""
    nama = escape(short(e.nama, 80))
    if e.kind == "lewati":
        return texts.RENCANA_SKIPPED.format(pola=pola_label(pola))
    if e.kind == "ketik":
        return texts.RENCANA_GIVEN.format(nama=nama, values=amounts(e.values))
    if e.kind == "nasional":
        return texts.RENCANA_GIVEN_NATIONAL.format(nama=nama, values=amounts(e.values))
    if e.kind == "tetap":
        return texts.RENCANA_GIVEN_KEPT.format(nama=nama, values=amounts(e.values))
    return ""


def review_line(plan: DraftPlan, data: dict, *, sent: bool = False) -> str | None:
    """How the review (and the verifier's card) names the plan of the draft; None: no step."""
    b = plan_step.block(data)
    if b is None:
        return None
    if b.get("pilih") != "isi":
        return texts.RENCANA_REVIEW_SKIPPED.format(pola=pola_label(b.get("pola", [])))
    n = plan_step.planned(b)
    if n == 0:
        return texts.RENCANA_REVIEW_SAME
    shown = texts.RENCANA_REVIEW_FILLED_SENT if sent else texts.RENCANA_REVIEW_FILLED
    return shown.format(n=n, tw=roman(plan.triwulan))


def saved_lines(saved: plan_step.Saved | None) -> list[str]:
    """What Kirim did with the plan, under the 'terkirim' message."""
    if saved is None:
        return []
    lines = []
    if saved.saved:
        lines.append(
            texts.RENCANA_SAVED.format(
                tahun=saved.tahun, n=len(saved.saved), tw=roman(saved.dari_tw)
            )
        )
    lines += [
        texts.RENCANA_NOT_SAVED.format(nama=escape(short(nama, 80)), why=escape(why or CHANGED))
        for nama, why in saved.skipped[:10]
    ]
    return lines
