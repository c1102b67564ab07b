"""/lapor: an operator reports the bidang's quarter, one question at a time; verification.

The conversation's state lives in the draft table, not in memory: every answer is saved
as it is given, so a restart of the bot, a dropped connection or days of silence lose
nothing. Who may do what is checked here, on every update, whatever the buttons say.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from html import escape

from sqlmodel import Session, select
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import filters

from bot.context import MonevContext
from bot.handlers.questions import markup, question
from bot.settings import WIB
from bot.views import texts
from bot.views.answers import Reply
from bot.views.lapor import cb, prompt, review, review_text
from storage.data.models import (
    AppUser,
    Draft,
    DraftStatus,
    Pelaporan,
    Role,
    Setting,
    StatusLaporan,
    UserStatus,
)
from storage.domain.numbers import format_percent, format_rupiah, format_waktu
from storage.domain.periods import parse_quarter, roman
from storage.domain.policy import may_decide, may_decide_as, may_see_history
from storage.services.queries import list_bidang, years_with_data
from storage.services.submission import (
    NARASI_FIELDS,
    Check,
    DraftPlan,
    SubmissionError,
    active_draft,
    bidang_of,
    check_anggaran,
    check_fisik,
    clean_text,
    decide,
    draft_plan,
    history,
    load,
    next_step,
    propose_period,
    reopen,
    save,
    start_draft,
    submit,
    verifiers,
)
from storage.services.submission import review as build_review

log = logging.getLogger(__name__)

ATTACH_HOURS = 24  # after a restart, drafts touched this recently keep taking typed answers
REASON_KEY = "alasan:{tgid}"


# --- who is typing into what ---------------------------------------------------------------------


def attached(context: MonevContext) -> set[int]:
    return context.bot_data.setdefault("drafting", set())


def awaiting_reason(context: MonevContext) -> set[int]:
    return context.bot_data.setdefault("awaiting_reason", set())


class InSet(filters.MessageFilter):
    """Messages from users in one of the application's bot_data sets: a filter can't await
    the database, so the sets mirror it (rebuilt from it at start, see restore_state)."""

    def __init__(self, bot_data: dict, key: str) -> None:
        super().__init__(name=f"in:{key}")
        self.bot_data, self.key = bot_data, key

    def filter(self, message) -> bool:  # type: ignore[no-untyped-def]
        if message.from_user is None:
            return False
        return message.from_user.id in self.bot_data.get(self.key, set())


def restore_state(session: Session) -> dict:
    """At start: who was mid-draft or mid-reason before the restart."""
    since = datetime.now(UTC) - timedelta(hours=ATTACH_HOURS)
    rows = session.exec(
        select(AppUser.telegram_id, Draft.updated_at)
        .join(Draft, Draft.user_id == AppUser.id)  # type: ignore[arg-type]
        .where(Draft.status == DraftStatus.AKTIF)
    ).all()
    keys = session.exec(select(Setting.key).where(Setting.key.startswith("alasan:"))).all()  # type: ignore[attr-defined]
    return {
        "drafting": {
            tg for tg, at in rows if (at if at.tzinfo else at.replace(tzinfo=UTC)) >= since
        },
        "awaiting_reason": {int(k.split(":")[1]) for k in keys},
    }


# --- database steps (run in worker threads) -----------------------------------------------------


def _user(session: Session, telegram_id: int) -> AppUser | None:
    u = session.exec(select(AppUser).where(AppUser.telegram_id == telegram_id)).first()
    return u if u is not None and u.status == UserStatus.ACTIVE else None


def _opening(session: Session, telegram_id: int, opd_id: int, today) -> dict:  # type: ignore[no-untyped-def]
    """What /lapor should show first."""
    user = _user(session, telegram_id)
    if user is None or user.role != Role.OPERATOR or user.bidang_id is None:
        return {"kind": "refuse"}
    bidang = next((b for b in list_bidang(session, opd_id) if b.id == user.bidang_id), None)
    if bidang is None:
        return {"kind": "refuse"}
    draft = active_draft(session, user.id)  # type: ignore[arg-type]
    if draft is not None:
        plan = draft_plan(session, draft.bidang_id, draft.tahun, draft.triwulan)
        done = sum(
            1 for v in load(draft).get("items", {}).values() if v.get("anggaran") is not None
        )
        return {
            "kind": "resume",
            "draft": draft,
            "bidang": bidang.nama,
            "done": done,
            "total": len(plan.subs),
        }
    returned = session.exec(
        select(Pelaporan)
        .where(Pelaporan.bidang_id == bidang.id, Pelaporan.status == StatusLaporan.DIKEMBALIKAN)
        .order_by(Pelaporan.tahun.desc(), Pelaporan.triwulan.desc())  # type: ignore[attr-defined]
    ).first()
    if returned is not None:
        return {
            "kind": "propose",
            "bidang": bidang.nama,
            "period": (returned.tahun, returned.triwulan),
            "alasan": returned.alasan,
        }
    period = propose_period(session, opd_id, today)
    if period is None:
        return {"kind": "noplan"}
    return {"kind": "propose", "bidang": bidang.nama, "period": period, "alasan": ""}


def _start(
    session: Session, telegram_id: int, tahun: int, tw: int, *, fresh: bool = False
) -> tuple[Draft, Reply, str]:
    user = _user(session, telegram_id)
    if user is None:
        raise SubmissionError(texts.LAPOR_ONLY_OPERATOR)
    current = active_draft(session, user.id)  # type: ignore[arg-type]
    if not fresh and current is not None and (current.tahun, current.triwulan) == (tahun, tw):
        # "Lapor sekarang" on a reminder, or a second tap: carry on, never throw work away.
        plan = draft_plan(session, current.bidang_id, tahun, tw)
        intro = texts.LAPOR_CONTINUED.format(tw=roman(tw), tahun=tahun)
        return current, _screen(session, current, plan), intro
    draft = start_draft(session, user=user, tahun=tahun, tw=tw)
    plan = draft_plan(session, draft.bidang_id, tahun, tw)
    intro = texts.LAPOR_STARTED.format(
        tw=roman(tw), tahun=tahun, bidang=escape(plan.bidang.nama), subs=len(plan.subs)
    )
    return draft, prompt(plan, load(draft), draft.step, draft.id), intro  # type: ignore[arg-type]


def _current(session: Session, telegram_id: int) -> tuple[Draft, Reply] | None:
    user = _user(session, telegram_id)
    if user is None:
        return None
    draft = active_draft(session, user.id)  # type: ignore[arg-type]
    if draft is None:
        return None
    return draft, _screen(session, draft)


def _screen(session: Session, draft: Draft, plan: DraftPlan | None = None) -> Reply:
    if draft.step == "review":
        return review(build_review(session, draft), draft.id)  # type: ignore[arg-type]
    plan = plan or draft_plan(session, draft.bidang_id, draft.tahun, draft.triwulan)
    return prompt(plan, load(draft), draft.step, draft.id)  # type: ignore[arg-type]


def _owned(session: Session, telegram_id: int, draft_id: int) -> Draft | None:
    user = _user(session, telegram_id)
    if user is None:
        return None
    draft = session.get(Draft, draft_id)
    if draft is None or draft.user_id != user.id or draft.status != DraftStatus.AKTIF:
        return None
    return draft


@dataclass
class _Slot:
    """Where one question's answer goes, what 'same as last quarter' means, how it's checked."""

    store: dict
    key: str
    previous: object
    check: Callable[[str], Check]
    skippable: bool = False


def _slot(plan: DraftPlan, data: dict, kind: str, i: int) -> _Slot:
    if kind in ("anggaran", "fisik", "ket"):
        s = plan.subs[i]
        item = data.setdefault("items", {}).setdefault(str(s.node_id), {})
        if kind == "anggaran":
            return _Slot(item, kind, s.prev_anggaran, partial(check_anggaran, s))
        if kind == "fisik":
            return _Slot(item, kind, s.prev_fisik, check_fisik)
        return _Slot(item, kind, None, clean_text, skippable=True)
    if kind == "ind":
        ind = plan.indikator[i]
        return _Slot(data.setdefault("ind", {}), str(ind.indikator_id), ind.prev_r, check_fisik)
    sas = plan.sasaran[i]
    nar = data.setdefault("narasi", {}).setdefault(str(sas.sasaran_id), {})
    return _Slot(nar, kind, sas.prev.get(kind, ""), clean_text, skippable=True)


def _answer(
    session: Session,
    user_id: int | None,
    draft_id: int | None,
    step: str | None,
    action: str,
    text: str = "",
) -> dict:
    """Apply one answer (typed text or a quick button) to the user's draft.

    ``user_id`` is the active user identified for this very update (None: nobody active).
    """
    draft = active_draft(session, user_id) if user_id is not None else None
    if draft is None or (draft_id is not None and draft.id != draft_id):
        return {"kind": "notyours"}
    if step is not None and step != draft.step:
        return {"kind": "old", "screen": _screen(session, draft)}
    plan = draft_plan(session, draft.bidang_id, draft.tahun, draft.triwulan)
    data = load(draft)
    kind, _, idx = draft.step.partition(":")
    if kind == "review":
        return {"kind": "use_buttons"}
    i = int(idx)
    if kind == "anggaran" and action in ("yes", "no"):
        # The answer to "a cumulative figure went down: keep it?"
        item = data.setdefault("items", {}).setdefault(str(plan.subs[i].node_id), {})
        pending = data.pop("pending", None)
        if action == "no" or pending is None:
            save(session, draft, data)
            return {
                "kind": "screen",
                "screen": _screen(session, draft, plan),
                "note": "Silakan ketik ulang.",
            }
        item["anggaran"] = pending
        if plan.subs[i].node_id not in data.setdefault("turun", []):
            data["turun"].append(plan.subs[i].node_id)
        error = confirm = ""
    else:
        slot = _slot(plan, data, kind, i)
        error = confirm = ""
        if action == "same" and slot.previous is not None:
            slot.store[slot.key] = slot.previous
        elif action == "keep" and slot.store.get(slot.key) is not None:
            pass
        elif action == "skip" and slot.skippable:
            slot.store[slot.key] = ""
        elif action == "text":
            chk = slot.check(text)
            error, confirm = chk.error, chk.confirm
            if confirm:
                data["pending"] = chk.value
            elif not error:
                slot.store[slot.key] = chk.value
                if kind == "anggaran" and plan.subs[i].node_id in data.get("turun", []):
                    data["turun"].remove(plan.subs[i].node_id)
        else:
            return {"kind": "old", "screen": _screen(session, draft, plan)}
    if error:
        save(session, draft, data)
        return {"kind": "error", "error": error}
    if confirm:
        save(session, draft, data)
        kb = [
            [
                ("Ya, benar", cb(draft.id, draft.step, "yes")),
                ("Ketik ulang", cb(draft.id, draft.step, "no")),
            ]
        ]  # type: ignore[arg-type]
        return {"kind": "confirm", "screen": Reply(confirm, kb)}
    step = next_step(plan, draft.step, data)
    save(session, draft, data, step)
    return {"kind": "screen", "screen": _screen(session, draft, plan)}


def _edit(session: Session, telegram_id: int, draft_id: int, target: str) -> dict:
    """'Ubah' on the review: go to one item, and come back to the review after it."""
    draft = _owned(session, telegram_id, draft_id)
    if draft is None:
        return {"kind": "notyours"}
    if draft.step != "review":
        return {"kind": "old", "screen": _screen(session, draft)}
    plan = draft_plan(session, draft.bidang_id, draft.tahun, draft.triwulan)
    kind, _, idx = target.partition(":")
    data = load(draft)
    if kind == "anggaran" and idx.isdecimal() and int(idx) < len(plan.subs):
        data["editing"] = f"ket:{idx}"
    elif kind == "ind" and plan.indikator:
        idx, data["editing"] = "0", f"ind:{len(plan.indikator) - 1}"
    elif kind == NARASI_FIELDS[0] and plan.sasaran:
        idx, data["editing"] = "0", f"{NARASI_FIELDS[-1]}:{len(plan.sasaran) - 1}"
    else:
        return {"kind": "old", "screen": _screen(session, draft)}
    save(session, draft, data, f"{kind}:{idx}")
    return {"kind": "screen", "screen": _screen(session, draft)}


def _send(session: Session, telegram_id: int, draft_id: int) -> dict:
    draft = _owned(session, telegram_id, draft_id)
    user = _user(session, telegram_id)
    if draft is None or user is None:
        return {"kind": "notyours"}
    if draft.step != "review":
        return {"kind": "old", "screen": _screen(session, draft)}
    rv = build_review(session, draft)
    try:
        conflicts = submit(session, draft, user=user)
    except SubmissionError as exc:
        return {"kind": "error", "error": texts.submission_error(exc)}
    if conflicts:
        rows = "\n".join(
            f"• {escape(c.nama)}: sekarang {format_rupiah(c.theirs)}, "
            f"draf Anda {format_rupiah(c.mine)}"
            for c in conflicts
        )
        return {"kind": "conflict", "text": texts.LAPOR_CONFLICT.format(rows=rows)}
    p = session.exec(
        select(Pelaporan).where(
            Pelaporan.bidang_id == draft.bidang_id,
            Pelaporan.tahun == draft.tahun,
            Pelaporan.triwulan == draft.triwulan,
        )
    ).one()
    summary = texts.VERIF_REQUEST.format(
        bidang=escape(rv.plan.bidang.nama),
        tw=roman(draft.triwulan),
        tahun=draft.tahun,
        oleh=escape(user.nama or str(user.telegram_id)),
        summary=review_text(rv, for_verifier=True),
    )
    return {
        "kind": "sent",
        "text": texts.LAPOR_SENT.format(
            tw=roman(draft.triwulan), tahun=draft.tahun, bidang=escape(rv.plan.bidang.nama)
        ),
        "verifiers": [v.telegram_id for v in verifiers(session, submitted_by=user.id)],
        "summary": summary,
        "pelaporan_id": p.id,
    }


# --- handlers ------------------------------------------------------------------------------------


async def _say(update: Update, context: MonevContext, text: str) -> None:
    """A plain message in the chat the update came from (buttons are answered only once)."""
    assert update.effective_chat is not None
    await context.bot.send_message(update.effective_chat.id, text)


async def _show(update: Update, context: MonevContext, reply: Reply, *, note: str = "") -> None:
    chat = update.effective_chat
    assert chat is not None
    text = f"{note}\n\n{reply.text}" if note else reply.text
    await context.bot.send_message(chat.id, text, reply_markup=markup(reply.keyboard))


async def lapor(update: Update, context: MonevContext) -> None:
    """Start or resume the quarterly report of the operator's bidang."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    actor = context.actor
    if actor is None or not actor.active:
        await message.reply_text(texts.NOT_REGISTERED)
        return
    if not actor.has(Role.OPERATOR):
        await message.reply_text(texts.LAPOR_ONLY_OPERATOR)
        return
    info = await context.read(_opening, actor.telegram_id, context.opd_id, datetime.now(WIB).date())
    if info["kind"] == "refuse":
        await message.reply_text(texts.LAPOR_ONLY_OPERATOR)
    elif info["kind"] == "noplan":
        await message.reply_text(texts.LAPOR_NO_PLAN)
    elif info["kind"] == "resume":
        d: Draft = info["draft"]
        when = format_waktu(d.updated_at.replace(tzinfo=d.updated_at.tzinfo or UTC).astimezone(WIB))
        await message.reply_text(
            texts.LAPOR_RESUME.format(
                tw=roman(d.triwulan),
                tahun=d.tahun,
                bidang=escape(info["bidang"]),
                done=info["done"],
                total=info["total"],
                when=when,
            ),
            reply_markup=markup(
                [
                    [
                        ("Lanjutkan", f"lp:{d.id}:resume:go"),
                        ("Mulai ulang", f"lp:{d.id}:resume:restart"),
                    ]
                ]
            ),
        )
    else:
        tahun, tw = info["period"]
        returned = (
            texts.LAPOR_RETURNED.format(alasan=escape(info["alasan"])) if info["alasan"] else ""
        )
        await message.reply_text(
            texts.LAPOR_PROPOSE.format(
                bidang=escape(info["bidang"]), tw=roman(tw), tahun=tahun, returned=returned
            ),
            reply_markup=markup(
                [
                    [(f"Isi TW {roman(tw)} {tahun}", f"lp:new:{tahun}.{tw}:go")],
                    [("Pilih triwulan lain", "lp:new:pick:go")],
                ]
            ),
        )


def _years(session: Session, opd_id: int) -> list[int]:
    return years_with_data(session, opd_id)


async def on_button(update: Update, context: MonevContext) -> None:
    """Every /lapor button: period choice, resume, quick answers, Ubah and Kirim."""
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    await query.answer()
    actor = context.actor
    if actor is None or not actor.has(Role.OPERATOR):
        await _say(
            update,
            context,
            texts.LAPOR_ONLY_OPERATOR if actor and actor.active else texts.NOT_REGISTERED,
        )
        return
    parts = query.data.split(":")
    if len(parts) != 4 or parts[0] != "lp":
        await query.edit_message_text(texts.STALE_BUTTON)
        return
    _, draft_token, step_token, action = parts
    tgid = actor.telegram_id
    if draft_token == "new":
        if step_token == "pick":
            years = await context.read(_years, context.opd_id)
            kb = [
                [(f"TW {roman(tw)} {y}", f"lp:new:{y}.{tw}:go") for tw in range(1, 5)]
                for y in years[-3:]
            ]
            await query.edit_message_text(texts.LAPOR_PICK, reply_markup=markup(kb))
            return
        m = re.fullmatch(r"(\d{4})\.([1-4])", step_token)
        if not m:
            await query.edit_message_text(texts.STALE_BUTTON)
            return
        try:
            _draft, screen, intro = await context.write(
                _start, tgid, int(m.group(1)), int(m.group(2))
            )
        except SubmissionError as exc:
            await query.edit_message_text(escape(texts.submission_error(exc)))
            return
        attached(context).add(tgid)
        await query.edit_message_text(intro)
        await _show(update, context, screen)
        return
    if not draft_token.isdecimal():
        await query.edit_message_text(texts.STALE_BUTTON)
        return
    draft_id = int(draft_token)
    if step_token == "resume":
        if action == "restart":
            draft = await context.read(_owned, tgid, draft_id)
            if draft is None:
                await _say(update, context, texts.LAPOR_NOT_YOURS)
                return
            try:
                _draft, screen, intro = await context.write(
                    _start, tgid, draft.tahun, draft.triwulan, fresh=True
                )
            except SubmissionError as exc:
                await query.edit_message_text(escape(texts.submission_error(exc)))
                return
            attached(context).add(tgid)
            await query.edit_message_text(f"{texts.LAPOR_CANCELLED_DRAFT}\n\n{intro}")
            await _show(update, context, screen)
            return
        current = await context.read(_current, tgid)
        if current is None or current[0].id != draft_id:
            await _say(update, context, texts.LAPOR_NOT_YOURS)
            return
        attached(context).add(tgid)
        await query.edit_message_reply_markup(None)
        await _show(update, context, current[1])
        return
    step = step_token.replace(".", ":")
    if step == "review":
        if action == "send":
            result = await context.write(_send, tgid, draft_id)
        elif action.startswith("edit-"):
            result = await context.write(
                _edit, tgid, draft_id, action[len("edit-") :].replace(".", ":")
            )
        else:
            result = {"kind": "notyours"}
    else:
        result = await context.write(_answer, actor.user_id, draft_id, step, action)
    await _after(update, context, result, edited=True)


async def _after(
    update: Update, context: MonevContext, result: dict, *, edited: bool = False
) -> None:
    """Show what follows an answer."""
    query = update.callback_query
    kind = result["kind"]
    tgid = update.effective_user.id  # type: ignore[union-attr]
    if kind == "notyours":
        await _say(update, context, texts.LAPOR_NOT_YOURS)
        return
    if edited and query is not None and kind in {"screen", "confirm", "sent", "conflict"}:
        await query.edit_message_reply_markup(None)
    if kind == "old":
        await _show(update, context, result["screen"], note=texts.LAPOR_OLD_STEP)
    elif kind == "error":
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, "❗ " + escape(result["error"]))
    elif kind == "use_buttons":
        assert update.effective_message is not None
        await update.effective_message.reply_text(texts.LAPOR_USE_BUTTONS)
    elif kind in {"screen", "confirm"}:
        await _show(update, context, result["screen"], note=result.get("note", ""))
    elif kind == "conflict":
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, result["text"])
        current = await context.read(_current, tgid)
        if current:
            await _show(update, context, current[1])
    elif kind == "sent":
        attached(context).discard(tgid)
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, result["text"])
        pid = result["pelaporan_id"]
        kb = markup([[("✅ Setujui", f"vf:ok:{pid}"), ("↩️ Kembalikan", f"vf:back:{pid}")]])
        for chat_id in result["verifiers"]:
            try:
                await context.bot.send_message(chat_id, result["summary"][:4000], reply_markup=kb)
            except TelegramError as exc:
                log.warning("could not reach a verifier: %s", type(exc).__name__)


async def on_text(update: Update, context: MonevContext) -> None:
    """A typed answer to the draft's current question."""
    message = update.effective_message
    assert message is not None and message.text is not None and update.effective_user is not None
    result = await context.write(
        _answer, _active_user_id(context), None, None, "text", message.text
    )
    if result["kind"] == "notyours":
        # No active draft any more (sent or cancelled elsewhere): it is a question after all.
        attached(context).discard(update.effective_user.id)
        await question(update, context)
        return
    await _after(update, context, result)


def _active_user_id(context: MonevContext) -> int | None:
    actor = context.actor
    return actor.user_id if actor is not None and actor.active else None


def _progress(session: Session, telegram_id: int) -> dict | None:
    user = _user(session, telegram_id)
    draft = active_draft(session, user.id) if user else None  # type: ignore[arg-type]
    if draft is None:
        return None
    plan = draft_plan(session, draft.bidang_id, draft.tahun, draft.triwulan)
    done = sum(1 for v in load(draft).get("items", {}).values() if v.get("anggaran") is not None)
    return {
        "tw": roman(draft.triwulan),
        "tahun": draft.tahun,
        "done": done,
        "total": len(plan.subs),
    }


async def batal(update: Update, context: MonevContext) -> None:
    """/batal: stop typing into the draft (it stays saved) or stop giving a reason."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    tgid = update.effective_user.id
    if tgid in awaiting_reason(context):
        awaiting_reason(context).discard(tgid)
        await context.write(_clear_reason, tgid)
        await message.reply_text(
            "Pengembalian laporan dibatalkan; laporan tetap menunggu keputusan."
        )
        return
    info = await context.read(_progress, tgid) if context.actor and context.actor.active else None
    if info is None:
        await message.reply_text(texts.NOTHING_TO_CANCEL)
        return
    attached(context).discard(tgid)
    await message.reply_text(texts.LAPOR_STOPPED.format(**info))


# --- verification ---------------------------------------------------------------------------------


def _pelaporan_info(session: Session, pid: int) -> tuple[Pelaporan, str, int | None] | None:
    p = session.get(Pelaporan, pid)
    if p is None:
        return None
    bidang = next(
        (b.nama for b in list_bidang(session, _opd_of(session, p)) if b.id == p.bidang_id), ""
    )
    op = session.get(AppUser, p.submitted_by) if p.submitted_by else None
    return p, bidang, op.telegram_id if op else None


def _opd_of(session: Session, p: Pelaporan) -> int:
    from storage.data.models import Bidang

    b = session.get(Bidang, p.bidang_id)
    return b.opd_id if b else 0


def _decide(session: Session, telegram_id: int, pid: int, approve: bool, alasan: str) -> dict:
    user = _user(session, telegram_id)
    if user is None:
        return {"error": texts.NOT_ALLOWED}
    try:
        p = decide(session, pelaporan_id=pid, user=user, approve=approve, alasan=alasan)
    except SubmissionError as exc:
        return {"error": texts.submission_error(exc)}
    info = _pelaporan_info(session, pid)
    assert info is not None
    _, bidang, op = info
    row = session.get(Setting, REASON_KEY.format(tgid=telegram_id))
    if row is not None:
        session.delete(row)
    return {"p": p, "bidang": bidang, "operator": op, "by": user.nama or str(user.telegram_id)}


def _ask_reason(session: Session, telegram_id: int, pid: int) -> dict:
    user = _user(session, telegram_id)
    info = _pelaporan_info(session, pid)
    if user is None or info is None:
        return {"error": texts.STALE_BUTTON}
    p, bidang, _ = info
    denied = may_decide(
        role=user.role,
        status=user.status,
        user_id=user.id,
        submitted_by=p.submitted_by,
        report_status=p.status,
    )
    if denied is not None:
        return {"error": texts.denied(denied, status=p.status)}
    key = REASON_KEY.format(tgid=telegram_id)
    row = session.get(Setting, key) or Setting(key=key)
    row.value = str(pid)
    session.add(row)
    return {
        "text": texts.VERIF_ASK_REASON.format(
            bidang=escape(bidang), tw=roman(p.triwulan), tahun=p.tahun
        )
    }


def _clear_reason(session: Session, telegram_id: int) -> None:
    row = session.get(Setting, REASON_KEY.format(tgid=telegram_id))
    if row is not None:
        session.delete(row)


def _reason_target(session: Session, telegram_id: int) -> int | None:
    row = session.get(Setting, REASON_KEY.format(tgid=telegram_id))
    return int(row.value) if row is not None and row.value.isdecimal() else None


async def _tell_operator(context: MonevContext, result: dict) -> None:
    p: Pelaporan = result["p"]
    if result["operator"] is None:
        return
    if p.status == StatusLaporan.DISETUJUI:
        text = texts.VERIF_APPROVED_OP.format(
            tw=roman(p.triwulan), tahun=p.tahun, bidang=escape(result["bidang"])
        )
    else:
        text = texts.VERIF_RETURNED_OP.format(
            tw=roman(p.triwulan),
            tahun=p.tahun,
            bidang=escape(result["bidang"]),
            alasan=escape(p.alasan),
        )
    try:
        await context.bot.send_message(result["operator"], text)
    except TelegramError as exc:
        log.warning("could not tell the operator: %s", type(exc).__name__)


async def on_verify(update: Update, context: MonevContext) -> None:
    """Setujui / Kembalikan on a submitted report."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    actor = context.actor
    if actor is None or may_decide_as(role=actor.role, status=actor.status) is not None:
        await _say(
            update, context, texts.NOT_ALLOWED if actor and actor.active else texts.NOT_REGISTERED
        )
        return
    m = re.fullmatch(r"vf:(ok|back):(\d+)", query.data)
    if not m:
        await _say(update, context, texts.STALE_BUTTON)
        return
    pid = int(m.group(2))
    if m.group(1) == "back":
        res = await context.write(_ask_reason, actor.telegram_id, pid)
        if "error" in res:
            await _say(update, context, escape(res["error"]))
            return
        awaiting_reason(context).add(actor.telegram_id)
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, res["text"])
        return
    result = await context.write(_decide, actor.telegram_id, pid, True, "")
    if "error" in result:
        await _say(update, context, escape(result["error"]))
        return
    original = (
        query.message.text_html if query.message and getattr(query.message, "text", None) else ""
    )
    await query.edit_message_text(
        texts.VERIF_DONE.format(
            original=original[:3500], outcome="✅ disetujui", oleh=escape(result["by"])
        )
    )
    await _tell_operator(context, result)


async def on_reason(update: Update, context: MonevContext) -> None:
    """The reason typed after 'Kembalikan'."""
    message = update.effective_message
    assert message is not None and message.text is not None and update.effective_user is not None
    tgid = update.effective_user.id
    pid = await context.read(_reason_target, tgid)
    awaiting_reason(context).discard(tgid)
    if pid is None:
        await question(update, context)
        return
    alasan = " ".join(message.text.split())
    if len(alasan) < 5:
        awaiting_reason(context).add(tgid)
        await message.reply_text(
            "Alasan terlalu singkat. Tulis apa yang perlu diperbaiki, minimal 5 huruf, atau /batal."
        )
        return
    result = await context.write(_decide, tgid, pid, False, alasan)
    if "error" in result:
        await message.reply_text(escape(result["error"]))
        return
    await message.reply_text(
        f"↩️ Laporan dikembalikan ke operator dengan alasan: <i>{escape(alasan[:500])}</i>"
    )
    await _tell_operator(context, result)


# --- admin and history ---------------------------------------------------------------------


def _reopen(session: Session, telegram_id: int, opd_id: int, args: list[str]) -> str:
    from storage.services.users import find_bidang

    user = _user(session, telegram_id)
    tw = parse_quarter(args[1]) if len(args) >= 2 else None
    if user is None or tw is None:
        return texts.REOPEN_USAGE
    b = find_bidang(session, text=args[0], opd_id=opd_id)
    if b is None:
        return f"Bidang '{escape(args[0])}' tidak dikenal. " + texts.REOPEN_USAGE
    years = years_with_data(session, opd_id)
    tahun = int(args[2]) if len(args) > 2 and args[2].isdecimal() else (years[-1] if years else 0)
    try:
        reopen(session, bidang_id=b.id, tahun=tahun, tw=tw, user=user)  # type: ignore[arg-type]
    except SubmissionError as exc:
        return escape(texts.submission_error(exc))
    return texts.REOPEN_DONE.format(tw=roman(tw), tahun=tahun, bidang=escape(b.nama))


async def bukakembali(update: Update, context: MonevContext) -> None:
    """/bukakembali bidang tw [tahun]: an admin unlocks an approved quarter."""
    message = update.effective_message
    assert message is not None
    actor = context.actor
    if actor is None or not actor.has(Role.ADMIN):
        await message.reply_text(
            texts.NOT_ALLOWED if actor and actor.active else texts.NOT_REGISTERED
        )
        return
    await message.reply_text(
        await context.write(_reopen, actor.telegram_id, context.opd_id, list(context.args or []))
    )


def _history(session: Session, telegram_id: int, opd_id: int, q: str) -> str:
    from storage.services.nodes import find_node

    user = _user(session, telegram_id)
    if user is None:
        return texts.NOT_REGISTERED
    node = find_node(session, opd_id=opd_id, text=q).best
    if node is None:
        return texts.RIWAYAT_NONE.format(q=escape(q))
    bidang_id = bidang_of(session, node.id)  # type: ignore[arg-type]
    denied = may_see_history(
        role=user.role, status=user.status, user_bidang_id=user.bidang_id, bidang_id=bidang_id
    )
    if denied is not None:
        return texts.denied(denied)
    rows = history(session, node.id)  # type: ignore[arg-type]
    if not rows:
        return texts.RIWAYAT_EMPTY.format(nama=escape(node.nama))
    names: dict[str, str] = {}
    for a in rows:
        if a.actor.startswith("user:") and a.actor not in names:
            u = session.exec(select(AppUser).where(AppUser.telegram_id == int(a.actor[5:]))).first()
            names[a.actor] = u.nama if u and u.nama else a.actor
    lines = [f"<b>Riwayat: {escape(node.nama)}</b>", ""]
    for a in rows[-25:]:
        at = a.at if a.at.tzinfo else a.at.replace(tzinfo=UTC)
        who = names.get(
            a.actor,
            "impor laporan" if a.actor.startswith("import") or a.actor == "demo" else a.actor,
        )
        old = _fmt_value(a.field, a.old)
        new = _fmt_value(a.field, a.new)
        lines.append(
            f"• {format_waktu(at.astimezone(WIB))} — {escape(who)}: {escape(a.field)} {old} → {new}"
        )
    return "\n".join(lines)[:4000]


def _fmt_value(field: str, value: str | None) -> str:
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


async def riwayat(update: Update, context: MonevContext) -> None:
    """/riwayat <sub kegiatan>: who changed its figures, when, from what to what."""
    message = update.effective_message
    assert message is not None
    actor = context.actor
    if actor is None or not actor.active:
        await message.reply_text(texts.NOT_REGISTERED)
        return
    q = " ".join(context.args or []).strip()
    if len(q) < 3:
        await message.reply_text(texts.RIWAYAT_USAGE)
        return
    await message.reply_text(
        await context.read(_history, actor.telegram_id, context.opd_id, q[:200])
    )
