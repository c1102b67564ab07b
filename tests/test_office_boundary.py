"""The office boundary (issue 23), through the real Application on both databases.

The generated test takes every command and every button pattern from the Application itself,
forges each with the ids and names of the other office's objects (its report, draft, files,
waiting registration, bidang, program, group), sends it as each role of one office against the
other, and checks that nothing of the other office was shown (no text, caption, photo,
document or file id of it), that nobody of the other office was messaged, and that none of
its rows changed. A handler registered later without a row in ``FORGERIES`` fails the test.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import delete, func, update
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from telegram import Chat, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
)

from bot.offline.api import Call
from bot.offline.updates import (
    make_callback_update,
    make_document_update,
    make_message_update,
    make_photo_update,
    next_update_id,
)
from bot.views import texts
from charts.answers import ChartKind, ChartRequest, encode
from storage.data import boundary
from storage.data.db import read_scope, session_scope
from storage.data.models import (
    AppUser,
    Bukti,
    ChatState,
    Draft,
    Node,
    Pelaporan,
    Realisasi,
    VerifMessage,
)
from storage.domain.policy import KABUPATEN, NO_OFFICE, Scope
from storage.services.queries import YearData, years_with_data
from storage.services.submission import history
from tests import office_pair
from tests.bot_harness import Bot
from tests.office_pair import DEMO, ROLES, Office, snapshot

pair = office_pair.pair  # the fixture: both offices staged, the bot running on them

# --- the forgeries: one row per handler the Application registers ----------------------------


@dataclass(frozen=True)
class Forge:
    """One forged update: a text (command or message) or a button's data, in a chat."""

    kind: str  # "text", "button", "photo", "document", "sticker"
    payload: str = ""
    group: bool = False  # sent in the victim office's group (/grupkantor)


Forger = Callable[[Office], list[Forge]]


def _texts(*items: str) -> Forger:
    return lambda v: [Forge("text", i.format(v=v)) for i in items]


def _buttons(*items: str) -> Forger:
    return lambda v: [Forge("button", i.format(v=v)) for i in items]


def _chart_buttons(v: Office) -> list[Forge]:
    return [
        Forge("button", encode(ChartRequest(kind, 2022, 3, v.bidang_id)))
        for kind in (ChartKind.PROGRAM, ChartKind.BIDANG, ChartKind.RENCANA)
    ]


# Commands by name; buttons by their handler's pattern (None: the catch-all); other handlers
# by their callback. Every id and name comes from the victim office ``v``.
FORGERIES: dict[tuple[str, str | None], Forger] = {
    ("command", "start"): _texts("/start"),
    ("command", "daftar"): _texts("/daftar"),
    ("command", "bantuan"): _texts("/bantuan"),
    ("command", "help"): _texts("/help"),
    ("command", "lapor"): _texts("/lapor"),
    ("command", "batal"): _texts("/batal"),
    ("command", "riwayat"): _texts("/riwayat {v.sub_name}"),
    ("command", "laporan"): _texts(
        "/laporan {v.label} 3 2022", "/laporan {v.label} 4 2022 bukti", "/laporan rekap 3 2022"
    ),
    ("command", "grafik"): _texts("/grafik"),
    ("command", "bukakembali"): _texts("/bukakembali {v.bidang_name} 4 2022"),
    ("command", "verifikasi"): _texts("/verifikasi"),
    ("command", "bukti"): _texts("/bukti {v.sub_name} 4 2022"),
    ("command", "jadwal"): _texts("/jadwal 2022"),
    ("command", "pengingat"): _texts("/pengingat"),
    ("command", "grupkantor"): lambda v: [
        Forge("text", "/grupkantor", group=True),
        Forge("text", "/grupkantor hapus", group=True),
        Forge("text", "/grupkantor"),
    ],
    ("button", "^reg:skip$"): _buttons("reg:skip"),
    ("button", r"^reg:opd:\d+$"): _buttons("reg:opd:{v.opd_id}"),
    ("button", r"^reg:bidang:\d+$"): _buttons("reg:bidang:{v.bidang_id}"),
    ("button", "^(reg:send|reg:cancel)$"): _buttons("reg:send", "reg:cancel"),
    ("button", "^reg:(ok|no|blk):"): _buttons(
        "reg:ok:{v.pending}:admin:0:{v.pending_version}",
        "reg:ok:{v.pending}:operator:{v.bidang_id}:{v.pending_version}",
        "reg:no:{v.pending}:{v.pending_version}",
        "reg:blk:{v.pending}:{v.pending_version}",
        "reg:ok:{v.people[operator]}:kepala:0:1",
    ),
    ("button", "^ask:"): _buttons(
        "ask:bidang:{v.bidang_id}:serapan:3:2022",
        "ask:program:{v.program_id}:realisasi:3:2022",
        "ask:sub_kegiatan:{v.sub_id}:hambatan:3:2022",
        "ask:opd:{v.opd_id}:serapan:3:2022",
    ),
    # an office chosen for a kabupaten question: the office's id is what the button names
    ("button", "^kq:"): _buttons(
        "kq:{v.opd_id}:serapan tw3 2022",
        "kq:{v.opd_id}:hambatan {v.bidang_name}",
        "kq:{v.opd_id}:program mana yang berisiko tidak terserap",
    ),
    # a long answer's later pages: kept per person, so another office's ids name nothing
    ("button", "^pg:"): _buttons("pg:{v.pelaporan_id}:1", "pg:{v.draft_id}:0"),
    ("button", "^lp:"): _buttons(
        "lp:{v.draft_id}:resume:go",
        "lp:{v.draft_id}:resume:restart",
        "lp:{v.draft_id}:review:send",
        "lp:{v.draft_id}:review:bukti.0",
        "lp:{v.draft_id}:review:hapusb.{v.bukti_ids[1]}",
        "lp:{v.draft_id}:review:ringkas",
        "lp:{v.draft_id}:anggaran.0:same",
    ),
    ("button", "^vf:"): _buttons(
        "vf:ok:{v.pelaporan_id}:{v.pelaporan_version}",
        "vf:back:{v.pelaporan_id}:{v.pelaporan_version}",
        "vf:ok:{v.pelaporan_id}",
    ),
    ("button", "^bk:"): _buttons("bk:{v.pelaporan_id}:{v.pelaporan_version}"),
    ("button", "^gr:kab:"): _buttons("gr:kab:3:2022"),
    ("button", "^gr:"): _chart_buttons,
    ("button", r"^jadwal:ubah:\d{4}:[1-4]$"): _buttons("jadwal:ubah:2022:4"),
    ("button", "^jadwal:(selesai|batal)$"): _buttons("jadwal:selesai"),
    ("button", "^pengingat:(mati|nyala)$"): _buttons("pengingat:mati"),
    ("button", "^peringatan:(mati|nyala)$"): _buttons("peringatan:mati"),
    ("button", None): _buttons("zz:{v.pelaporan_id}:{v.draft_id}"),
    ("message", "on_text"): _texts(
        "serapan {v.sub_name} tw3 2022",
        "bukti {v.sub_name} tw4 2022",
        "serapan {v.label} tw3 2022",
        "laporan mana yang perlu saya setujui",
    ),
    ("message", "on_file"): lambda v: [Forge("photo")],
    # an admin's file to import: previewed for their own office, whatever it names
    ("message", "on_document"): lambda v: [Forge("document", "{v.label}")],
    ("button", "^imp:"): _buttons("imp:ok:1", "imp:lain:1", "imp:no:1"),
    ("message", "unknown_command"): _texts("/tidakada {v.pelaporan_id}"),
    ("message", "non_text"): lambda v: [Forge("sticker")],
    # Run for every update above (who is this; a blocked person writing again).
    ("type", "identify"): lambda v: [],
    ("type", "unblock_on_contact"): lambda v: [],
}


def _key(handler: BaseHandler) -> list[tuple[str, str | None]]:
    if isinstance(handler, CommandHandler):
        return [("command", c) for c in sorted(handler.commands)]
    if isinstance(handler, CallbackQueryHandler):
        pattern = handler.pattern
        return [("button", getattr(pattern, "pattern", pattern))]  # type: ignore[list-item]
    kind = "message" if isinstance(handler, MessageHandler) else "type"
    assert isinstance(handler, MessageHandler | TypeHandler), handler
    return [(kind, handler.callback.__name__)]


def registered(bot: Bot) -> list[tuple[str, str | None]]:
    """Every handler of the Application, as FORGERIES keys it."""
    return [k for group in bot.app.handlers.values() for h in group for k in _key(h)]


def _update(bot: Bot, forge: Forge, user: int, victim: Office) -> Update:
    b = bot.app.bot
    if forge.kind == "button":
        return make_callback_update(b, forge.payload, user_id=user)
    if forge.kind == "photo":
        return make_photo_update(b, victim.photo, user_id=user, caption=victim.sub_name)
    if forge.kind == "document":
        content = f"LAPORAN KINERJA {victim.label}\t{victim.pelaporan_id}\n".encode()
        return make_document_update(
            b, content, user_id=user, file_name="laporan.txt", mime_type="text/plain"
        )
    if forge.kind == "sticker":
        sticker = {
            "file_id": "STK",
            "file_unique_id": "STK",
            "type": "regular",
            "width": 1,
            "height": 1,
            "is_animated": False,
            "is_video": False,
        }
        message = make_message_update(b, "x", user_id=user).to_dict()["message"]
        message.pop("text")
        message["sticker"] = sticker
        return Update.de_json({"update_id": next_update_id(), "message": message}, b)
    if forge.group:
        return make_message_update(
            b, forge.payload, user_id=user, chat_id=victim.group, chat_type=Chat.SUPERGROUP
        )
    return make_message_update(b, forge.payload, user_id=user)


def _shown(calls: list[Call]) -> tuple[str, list[bytes]]:
    """Everything the calls put in front of anyone: their parameters as text (texts,
    captions, albums, file ids, file names), and the bytes of every uploaded file."""
    shown = json.dumps([c.params for c in calls], default=str, ensure_ascii=False)
    files = [content for c in calls for _, content in c.files.values()]
    return shown, files


def _leaks(calls: list[Call], victim: Office, forge: Forge) -> list[str]:
    shown, files = _shown(calls)
    typed = forge.payload
    found = [s for s in victim.secrets if s in shown and s not in typed]
    found += [f for f in victim.file_ids if f in shown]
    if any(victim.photo == content for content in files):
        found.append("the photo itself")
    # The reply to a command typed in the other office's group goes to that group: the sender
    # is in it. Any other message to the other office's people or group is a leak.
    here = victim.group if forge.group else None
    messaged = {c.chat_id for c in calls if c.chat_id is not None and c.chat_id != here}
    found += [f"a message to chat {c}" for c in sorted(victim.chats & messaged)]  # type: ignore[operator]
    if texts.ERROR in shown:
        found.append("the error message")
    return found


def _reset(engine: Engine, user: int) -> None:
    # Each forgery stands alone: nothing the previous one began (a flow) carries over.
    with session_scope(engine) as s:
        s.exec(delete(ChatState).where(col(ChatState.telegram_id) == user))  # type: ignore[call-overload]


async def test_every_handler_forged_with_the_other_offices_ids(
    pair: tuple[Bot, Office, Office], backend: str
) -> None:
    bot, a, b = pair
    keys = registered(bot)
    uncovered = sorted({k for k in keys if k not in FORGERIES}, key=str)
    assert not uncovered, f"handlers without a forgery in FORGERIES: {uncovered}"
    stale = sorted({k for k in FORGERIES if k not in keys}, key=str)
    assert not stale, f"FORGERIES rows for handlers no longer registered: {stale}"

    forged = 0
    problems: list[str] = []
    for attacker, victim in ((a, b), (b, a)):
        for role in ROLES:
            user = attacker.people[role]
            for key in keys:
                for forge in FORGERIES[key](victim):
                    before = snapshot(bot.engine, victim.opd_id)
                    mark = len(bot.api.calls)
                    await bot.app.process_update(_update(bot, forge, user, victim))
                    calls = bot.api.calls[mark:]
                    forged += 1
                    for leak in _leaks(calls, victim, forge):
                        problems.append(f"{role} of {attacker.label}, {forge}: {leak}")
                    after = snapshot(bot.engine, victim.opd_id)
                    changed = [t for t in before if before[t] != after[t]]
                    if changed:
                        problems.append(f"{role} of {attacker.label}, {forge}: changed {changed}")
                    if not [c for c in calls if c.method != "sendChatAction"]:
                        problems.append(f"{role} of {attacker.label}, {forge}: no answer")
                    _reset(bot.engine, user)
    commands = {k for k in keys if k[0] == "command"}
    buttons = {k for k in keys if k[0] == "button"}
    print(
        f"\n[{backend}] forged {forged} updates: {len(commands)} commands x {len(buttons)} "
        f"button patterns (+ {len(keys) - len(commands) - len(buttons)} other handlers) x "
        f"{len(ROLES) * 2} roles (4 of each office against the other)"
    )
    assert not problems, "\n".join(problems[:40])
    assert forged >= len(ROLES) * 2 * (len(commands) + len(buttons))


# --- the boundary itself, on a session -----------------------------------------------------------


def test_a_scoped_session_reads_nothing_of_another_office(
    pair: tuple[Bot, Office, Office],
) -> None:
    _, a, b = pair
    engine = pair[0].engine
    with read_scope(engine) as s:
        boundary.enter(s, Scope(a.opd_id))
        # ids of the other office name nothing, however they are asked
        assert s.get(Pelaporan, b.pelaporan_id) is None
        assert s.get(Draft, b.draft_id) is None
        assert all(s.get(Bukti, i) is None for i in b.bukti_ids)
        assert s.get(Node, b.sub_id) is None
        assert s.exec(select(AppUser).where(AppUser.telegram_id == b.pending)).first() is None
        assert s.get(Pelaporan, a.pelaporan_id) is not None
        # a join, a count, a column select: only the own office's rows
        n_all = s.exec(select(func.count()).select_from(Pelaporan)).one()
        assert (
            n_all
            == s.exec(
                select(func.count(col(Pelaporan.id))).where(col(Pelaporan.bidang_id) < 10**9)
            ).one()
        )
        assert b.sub_id not in set(s.exec(select(Realisasi.node_id)).all())
        assert b.pelaporan_id not in set(
            s.exec(select(VerifMessage.pelaporan_id).join(Pelaporan)).all()
        )
        # plain-row reads refuse the office outright
        with pytest.raises(boundary.OutOfScope):
            YearData(s, b.opd_id, 2022)
        with pytest.raises(boundary.OutOfScope):
            years_with_data(s, b.opd_id)
        assert years_with_data(s, a.opd_id) == [2022]
        # the audit log names rows by id: a node of the other office has no history
        assert history(s, b.sub_id) == []
    with read_scope(engine) as s:
        assert history(s, b.sub_id), "the other office's node has a history to hide"
    with session_scope(engine) as s:
        boundary.enter(s, Scope(a.opd_id))
        # writes by statement do not reach the other office either
        s.execute(update(Pelaporan).values(alasan="diubah"))
        s.execute(delete(VerifMessage))
    with read_scope(engine) as s:
        assert s.get(Pelaporan, b.pelaporan_id).alasan == ""  # type: ignore[union-attr]
        assert s.get(Pelaporan, a.pelaporan_id).alasan == "diubah"  # type: ignore[union-attr]
        assert s.exec(select(VerifMessage).where(VerifMessage.pelaporan_id == b.pelaporan_id)).all()
    with read_scope(engine) as s:
        boundary.enter(s, NO_OFFICE)  # not (or no longer) an active user: no office at all
        assert s.get(Pelaporan, a.pelaporan_id) is None and s.get(Node, a.sub_id) is None
        boundary.enter(s, KABUPATEN)  # the kabupaten roles read every office
        assert s.get(Pelaporan, b.pelaporan_id) is not None
        assert YearData(s, b.opd_id, 2022).nodes
    assert a.opd_id == DEMO
