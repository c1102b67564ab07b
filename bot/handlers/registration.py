"""/daftar: a stranger asks for access; every admin decides with one tap."""

from __future__ import annotations

import logging
import re
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import Forbidden, TelegramError

from bot.context import MonevContext
from bot.settings import WIB
from bot.views import texts
from bot.views.answers import short
from storage.data.buttons import SentButtons
from storage.domain.numbers import format_waktu
from storage.domain.offices import OfficeName, match_office
from storage.domain.policy import Denied, Role
from storage.domain.text import clean_line
from storage.services import conversation
from storage.services import registration as service
from storage.services.conversation import Flow, State
from storage.services.registration import Gate, GateResult, request_gate
from storage.services.users import sender_office

log = logging.getLogger(__name__)

SKIP = "reg:skip"
CONFIRM_YES, CONFIRM_NO = "reg:send", "reg:cancel"
# Steps of the registration flow (kept in chat_state, see storage.services.conversation).
NAMA, NIP, BIDANG, KONFIRMASI = "nama", "nip", "bidang", "konfirmasi"
OPD = "opd"  # only when the deployment serves several offices
OFFICE_BUTTONS_MAX = 8  # more offices than this: the office is typed and matched


async def _advance(context: MonevContext, state: State, step: str, payload: dict) -> State:
    """The registration moves to ``step`` (compare-and-set on the state the update saw)."""
    return await context.write(
        conversation.advance,
        telegram_id=state.telegram_id,
        expected_version=state.version,
        step=step,
        payload=payload,
    )


async def _registration_at(update: Update, context: MonevContext, *steps: str) -> State | None:
    """The sender's registration state when it is at one of ``steps`` (a button of that step
    was pressed); otherwise the button is stale and is answered as such."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    state = await context.read(conversation.get, telegram_id=update.effective_user.id)
    if state is None or state.flow != Flow.REGISTRATION or state.step not in steps:
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return None
    return state


async def daftar(update: Update, context: MonevContext) -> None:
    """Start a registration (or say there is no need)."""
    assert update.effective_message is not None and update.effective_user is not None
    actor = context.actor
    if actor is not None and actor.active:
        await update.effective_message.reply_text(
            texts.REG_ALREADY.format(role=texts.ROLE_NAMES[actor.role])  # type: ignore[index]
        )
        return
    gate = await context.read(request_gate, telegram_id=update.effective_user.id)
    if gate.gate in (Gate.BLOCKED, Gate.COOLING):
        await update.effective_message.reply_text(_gate_text(gate))
        return
    await context.write(
        conversation.start,
        telegram_id=update.effective_user.id,
        flow=Flow.REGISTRATION,
        step=NAMA,
    )
    ask = texts.REG_ASK_NAME
    if gate.pending:
        # One request at a time: what is sent now changes the waiting one, same office.
        label = await context.read(service.office_label, opd_id=gate.pending_opd)
        ask = texts.REG_PENDING_CHANGE.format(office=f" ({escape(label)})" if label else "") + ask
    await update.effective_message.reply_text(ask)


def _gate_text(gate: GateResult) -> str:
    if gate.gate == Gate.BLOCKED:
        return texts.REG_BLOCKED
    assert gate.until is not None
    when = format_waktu(gate.until.astimezone(WIB))
    if gate.gate == Gate.TOO_SOON:
        return texts.REG_TOO_SOON.format(when=when)
    return texts.REG_COOLING.format(when=when)


async def on_text(update: Update, context: MonevContext, state: State) -> None:
    """Typed text while registering: the name, the NIP, or text where a button is expected."""
    if state.step == NAMA:
        await got_name(update, context, state)
    elif state.step == NIP:
        await got_nip(update, context, state)
    elif state.step == OPD:
        await got_office_text(update, context, state)
    else:
        await use_buttons(update, context)


async def got_name(update: Update, context: MonevContext, state: State) -> None:
    """Take the full name."""
    message = update.effective_message
    assert message is not None and message.text is not None
    # Cleaned as every typed field is (NFC; no control, bidi or zero-width characters): an
    # admin reads the name the database keeps.
    nama = clean_line(message.text)
    if not 3 <= len(nama) <= 80 or not re.search(r"[A-Za-z]", nama):
        await message.reply_text(texts.REG_BAD_NAME)
        return
    await _advance(context, state, NIP, {**state.payload, "nama": nama})
    await message.reply_text(
        texts.REG_ASK_NIP,
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Lewati", callback_data=SKIP)]]),
    )


async def _ask_office_or_bidang(
    update: Update, context: MonevContext, state: State, payload: dict
) -> None:
    """After the NIP: the office first when there are several (not for a waiting request,
    which keeps its office), else straight to the bidang."""
    offices = await context.read(service.offices)
    gate = await context.read(request_gate, telegram_id=state.telegram_id)
    fixed = gate.pending_opd if gate.pending else None
    if len(offices) == 1 or fixed is not None:
        office = fixed if fixed is not None else offices[0].id
        await _advance(context, state, BIDANG, {**payload, "opd_id": office})
        await _ask_bidang(update, context, office)
        return
    await _advance(context, state, OPD, payload)
    assert update.effective_chat is not None
    if len(offices) > OFFICE_BUTTONS_MAX:
        await context.bot.send_message(update.effective_chat.id, texts.REG_ASK_OPD_TYPE)
        return
    await _office_buttons(update, context, offices)


async def _office_buttons(update: Update, context: MonevContext, offices: list[OfficeName]) -> None:
    assert update.effective_chat is not None
    kb = [
        [InlineKeyboardButton(o.short_label(60), callback_data=f"reg:opd:{o.id}")] for o in offices
    ]
    await context.bot.send_message(
        update.effective_chat.id, texts.REG_ASK_OPD, reply_markup=InlineKeyboardMarkup(kb)
    )


async def got_office_text(update: Update, context: MonevContext, state: State) -> None:
    """The office typed (many offices): matched like bidang names, typos forgiven."""
    message = update.effective_message
    assert message is not None and message.text is not None
    offices = await context.read(service.offices)
    found = match_office(offices, message.text[:120])
    if len(found) == 1:
        office = found[0]
        await _advance(context, state, BIDANG, {**state.payload, "opd_id": office.id})
        await message.reply_text(texts.REG_OPD_CHOSEN.format(nama=escape(office.label)))
        await _ask_bidang(update, context, office.id)
    elif 1 < len(found) <= OFFICE_BUTTONS_MAX:
        await _office_buttons(update, context, found)
    else:
        names = ", ".join(escape(o.singkatan or short(o.nama, 30)) for o in offices[:10])
        await message.reply_text(
            texts.REG_OPD_UNKNOWN.format(text=escape(message.text[:60]), names=names)
        )


async def got_office(update: Update, context: MonevContext) -> None:
    """The office chosen with a button."""
    state = await _registration_at(update, context, OPD)
    if state is None:
        return
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    oid = int(query.data.rsplit(":", 1)[1])
    office = next((o for o in await context.read(service.offices) if o.id == oid), None)
    if office is None:
        await query.edit_message_text(texts.STALE_BUTTON)
        return
    await _advance(context, state, BIDANG, {**state.payload, "opd_id": office.id})
    await query.edit_message_text(texts.REG_OPD_CHOSEN.format(nama=escape(office.label)))
    await _ask_bidang(update, context, office.id)


def _payload_office(context: MonevContext, payload: dict) -> int:
    """The office a registration is for (a flow begun before offices were asked: the only one)."""
    oid = payload.get("opd_id")
    return int(oid) if oid else context.opd_id


async def _ask_bidang(update: Update, context: MonevContext, opd_id: int) -> None:
    rows = await context.read(service.bidang_rows, opd_id=opd_id)
    kb = [[InlineKeyboardButton(nama, callback_data=f"reg:bidang:{bid}")] for bid, nama in rows]
    kb.append([InlineKeyboardButton(texts.REG_NO_BIDANG, callback_data="reg:bidang:0")])
    assert update.effective_chat is not None
    await context.bot.send_message(
        update.effective_chat.id, texts.REG_ASK_BIDANG, reply_markup=InlineKeyboardMarkup(kb)
    )


async def got_nip(update: Update, context: MonevContext, state: State) -> None:
    """Take the NIP (18 digits; spaces allowed)."""
    message = update.effective_message
    assert message is not None and message.text is not None
    nip = re.sub(r"\s+", "", message.text)
    if not re.fullmatch(r"\d{18}", nip):
        await message.reply_text(texts.REG_BAD_NIP)
        return
    await _ask_office_or_bidang(update, context, state, {**state.payload, "nip": nip})


async def skip_nip(update: Update, context: MonevContext) -> None:
    """No NIP."""
    state = await _registration_at(update, context, NIP)
    if state is None:
        return
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    await _ask_office_or_bidang(update, context, state, {**state.payload, "nip": ""})


async def got_bidang(update: Update, context: MonevContext) -> None:
    """Take the bidang and ask for confirmation."""
    state = await _registration_at(update, context, BIDANG)
    if state is None:
        return
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    bid = int(query.data.rsplit(":", 1)[1]) if query.data.rsplit(":", 1)[1].isdecimal() else 0
    rows = dict(
        await context.read(service.bidang_rows, opd_id=_payload_office(context, state.payload))
    )
    if bid and bid not in rows:
        await query.edit_message_text(texts.STALE_BUTTON)
        return
    reg = {**state.payload, "bidang_id": bid or None, "bidang": rows.get(bid, "-")}
    await _advance(context, state, KONFIRMASI, reg)
    await query.edit_message_text(
        _with_office(
            texts.REG_CONFIRM.format(
                nama=escape(reg.get("nama", "")),
                nip=reg.get("nip") or "-",
                bidang=escape(reg["bidang"]),
            ),
            await context.read(service.office_label, opd_id=reg.get("opd_id")),
        ),
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton("Kirim", callback_data=CONFIRM_YES),
                    InlineKeyboardButton("Batal", callback_data=CONFIRM_NO),
                ]
            ]
        ),
    )


def _with_office(text: str, label: str) -> str:
    """A registration message with its office line (only when there are several)."""
    if not label:
        return text
    return text.replace("\nBidang:", f"\nOPD: {escape(label)}\nBidang:", 1)


def _approval_keyboard(
    telegram_id: int, bidang: list[tuple[int, str]], asked: int | None, version: int
) -> InlineKeyboardMarkup:
    # Every button names the request version its message shows (compare-and-set on approve).
    rows: list[list[InlineKeyboardButton]] = []
    ordered = sorted(bidang, key=lambda b: b[0] != asked)
    for bid, nama in ordered:
        rows.append(
            [
                InlineKeyboardButton(
                    f"Operator {nama}",
                    callback_data=f"reg:ok:{telegram_id}:operator:{bid}:{version}",
                )
            ]
        )
    rows.append(
        [
            InlineKeyboardButton(
                "Verifikator", callback_data=f"reg:ok:{telegram_id}:verifikator:0:{version}"
            ),
            InlineKeyboardButton(
                "Kepala", callback_data=f"reg:ok:{telegram_id}:kepala:0:{version}"
            ),
        ]
    )
    rows.append(
        [
            InlineKeyboardButton("Admin", callback_data=f"reg:ok:{telegram_id}:admin:0:{version}"),
            InlineKeyboardButton("Tolak", callback_data=f"reg:no:{telegram_id}:{version}"),
        ]
    )
    rows.append([InlineKeyboardButton("Blokir", callback_data=f"reg:blk:{telegram_id}:{version}")])
    return InlineKeyboardMarkup(rows)


async def _retire(
    context: MonevContext, rows: list[SentButtons], note: str, *, skip: tuple[int, int] | None
) -> None:
    """Take the buttons off earlier admin messages of a request and say what happened."""
    for r in rows:
        if skip is not None and (r.chat_id, r.message_id) == skip:
            continue
        try:
            await context.bot.edit_message_text(
                f"{r.text.split(chr(10) + chr(10))[0]}\n\n{note}",
                chat_id=r.chat_id,
                message_id=r.message_id,
                reply_markup=None,
            )
        except TelegramError as exc:
            log.info("could not retire a registration message: %s", type(exc).__name__)


async def confirm(update: Update, context: MonevContext) -> None:
    """Send the request to every admin."""
    state = await _registration_at(update, context, KONFIRMASI)
    if state is None:
        return
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    await query.answer()
    reg = state.payload
    if query.data == CONFIRM_NO or "nama" not in reg:
        await context.write(
            conversation.clear, telegram_id=state.telegram_id, flow=Flow.REGISTRATION
        )
        await query.edit_message_text(texts.REG_CANCELLED)
        return
    tgid = update.effective_user.id
    result = await context.write(
        service.send_request,
        telegram_id=tgid,
        nama=reg["nama"],
        nip=reg.get("nip", ""),
        bidang_id=reg.get("bidang_id"),
        opd_id=reg.get("opd_id"),
    )
    if isinstance(result, service.GateClosed):
        await query.edit_message_text(_gate_text(result.gate))
        return
    if isinstance(result, service.OtherOffice):
        await query.edit_message_text(
            texts.REG_OTHER_OFFICE.format(
                office=f" ({escape(result.label)})" if result.label else ""
            )
        )
        return
    if isinstance(result, service.AlreadyActive):
        await query.edit_message_text(texts.REG_CANCELLED)
        return
    if isinstance(result, service.SamePending):
        await query.edit_message_text(texts.REG_SAME_PENDING)
        return
    bidang = result.bidang
    text = _with_office(
        texts.REG_ADMIN_REQUEST.format(
            nama=escape(result.nama),
            nip=reg.get("nip") or "-",
            bidang=escape(reg.get("bidang", "-")),
            tgid=tgid,
        ),
        result.office_label,
    )
    keyboard = _approval_keyboard(tgid, bidang, reg.get("bidang_id"), result.version)
    if result.live:
        # The waiting request changed: its admin messages show the new version (their old
        # buttons go with the edit); nobody gets a new message.
        text = texts.REG_ADMIN_UPDATED.format(versi=result.version) + text
        edited = []
        for r in result.live:
            try:
                await context.bot.edit_message_text(
                    text, chat_id=r.chat_id, message_id=r.message_id, reply_markup=keyboard
                )
            except TelegramError as exc:
                log.info("could not update a registration message: %s", type(exc).__name__)
                continue
            edited.append(r.id)
        await context.write(
            service.refresh_reg_messages,
            telegram_id=tgid,
            ids=edited,
            version=result.version,
            text=text,
        )
        await query.edit_message_text(texts.REG_UPDATED if edited else texts.REG_NO_ADMIN)
        return
    sent = 0
    for admin_id in result.admin_ids:
        try:
            message = await context.bot.send_message(admin_id, text, reply_markup=keyboard)
        except (Forbidden, TelegramError) as exc:
            log.warning("could not notify an admin: %s", type(exc).__name__)
            continue
        sent += 1
        await context.write(
            service.remember_reg_message,
            telegram_id=tgid,
            version=result.version,
            chat_id=admin_id,
            message_id=message.message_id,
            text=text,
        )
    await query.edit_message_text(texts.REG_SENT if sent else texts.REG_NO_ADMIN)


async def use_buttons(update: Update, context: MonevContext) -> None:
    """Text where a button was expected."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(texts.REG_USE_BUTTONS)


# --- the admin's decision ------------------------------------------------------------------------


def _outcome(o: service.Outcome, *, with_bidang: bool = True) -> str:
    """How a decision on a request is named to admins."""
    if isinstance(o, service.Rejected):
        return "ditolak"
    if isinstance(o, service.Blocked):
        return texts.REG_BLOCKED_DONE
    bidang = f" bidang {o.bidang}" if with_bidang and o.bidang else ""
    return f"disetujui sebagai {texts.ROLE_NAMES[o.role]}{bidang}"


_DECISION = re.compile(
    r"reg:(?:(ok):(\d+):(admin|kepala|verifikator|operator):(\d+):(\d+)|(no|blk):(\d+):(\d+))"
)


async def decide(update: Update, context: MonevContext) -> None:
    """An admin pressed approve/reject/block on a request."""
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    actor = context.actor
    if actor is None or not actor.has(Role.ADMIN, Role.ADMIN_KABUPATEN):
        await query.answer(texts.NOT_ALLOWED, show_alert=True)
        return
    m = _DECISION.fullmatch(query.data)
    if m is None:
        # Also a button from before requests had versions: nothing is decided unseen.
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return
    if m.group(1):
        verdict, tgid, version = service.Verdict.APPROVE, int(m.group(2)), int(m.group(5))
        role: Role | None = Role(m.group(3))
        bidang_id = int(m.group(4)) or None
    else:
        verdict, tgid, version = service.Verdict(m.group(6)), int(m.group(7)), int(m.group(8))
        role, bidang_id = None, None
    d = await context.write(
        service.decide,
        admin_telegram_id=actor.telegram_id,
        admin_opd_id=sender_office(opd_id=actor.opd_id, only_office=context.bot_data.get("opd_id")),
        telegram_id=tgid,
        verdict=verdict,
        version=version,
        role=role,
        bidang_id=bidang_id,
    )
    if isinstance(d, service.NotTheirOffice):
        await query.answer(texts.denied(Denied.NOT_THEIR_OFFICE), show_alert=True)
        return
    if isinstance(d, service.UnknownRequest):
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return
    shown = query.message
    original = shown.text_html if isinstance(shown, Message) and shown.text else ""
    if isinstance(d, service.AlreadyDecided):
        await query.answer(
            texts.REG_ALREADY_DECIDED.format(outcome=_outcome(d.outcome, with_bidang=False)),
            show_alert=True,
        )
        await query.edit_message_reply_markup(None)
        return
    if isinstance(d, service.Replaced):
        current = texts.REG_CURRENT.format(nama=escape(d.nama), nip=d.nip, bidang=escape(d.bidang))
        await query.answer(texts.REG_STALE_TAP, show_alert=True)
        await query.edit_message_text(
            f"{original.split(chr(10) + chr(10))[0]}\n\n{texts.REG_REPLACED_NOTE}\n\n{current}"
        )
        return
    await query.answer()
    admin = escape(actor.nama or str(actor.telegram_id))
    outcome = _outcome(d.outcome)
    await query.edit_message_text(
        texts.REG_ADMIN_DONE.format(request=original.split("\n\n")[0], outcome=outcome, admin=admin)
    )
    here = (shown.chat.id, shown.message_id) if shown is not None else None
    await _retire(
        context,
        d.retired,
        texts.REG_RETIRED_DECIDED.format(outcome=outcome, admin=admin),
        skip=here,
    )
    if isinstance(d.outcome, service.Blocked):
        return  # a blocked person is not messaged again
    if isinstance(d.outcome, service.Rejected):
        text = texts.REG_REJECTED_USER
    else:
        text = texts.REG_APPROVED_USER.format(
            role=texts.ROLE_NAMES[d.outcome.role],
            bidang=f" bidang {escape(d.outcome.bidang)}" if d.outcome.bidang else "",
        )
    try:
        await context.bot.send_message(d.telegram_id, text)
    except TelegramError as exc:
        log.warning("could not tell the user the outcome: %s", type(exc).__name__)
