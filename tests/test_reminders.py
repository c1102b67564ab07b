"""Reminders through the real Application on the offline Bot API, with a controllable clock.

TW IV 2022 is the quarter being reported: window from Sunday 1 January 2023, default deadline
Tuesday 10 January 2023 (H-7 = 3 Jan, H-3 = 7 Jan, H-1 = 9 Jan, overdue from Wed 11 Jan).
"""

from __future__ import annotations

import asyncio
import time as _time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from telegram import Chat
from telegram.error import TimedOut
from telegram.ext import Application, CallbackContext

from bot.app import build_application, post_init
from bot.cli.schedule import add_schedule_commands
from bot.console import html_to_text
from bot.jobs.reminders import (
    CLOCK,
    DELAYS,
    JOB_NAME,
    LAST_REPORT,
    RATE,
    schedule_jobs,
    send_due,
)
from bot.offline.api import Call, OfflineBotAPI
from bot.offline.updates import make_callback_update, make_message_update
from bot.settings import WIB, Settings
from storage.data.audit import record
from storage.data.db import read_scope, session_scope
from storage.data.models import (
    AppUser,
    AuditLog,
    Pelaporan,
    ReminderStatus,
    Role,
    SentReminder,
    Source,
    StatusLaporan,
    UserPref,
)
from storage.services.schedule import get_jadwal, group_chat_id

ADMIN = 8001
KEPALA = 8002
VERIF = 8003
OP = {"koperasi": 8101, "umkm": 8102, "perdagangan": 8103}
GROUP = -100200300


def wib(y: int, m: int, d: int, hh: int = 8, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=WIB)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


class FlakyAPI(OfflineBotAPI):
    """The offline API plus what it cannot inject by itself: per-chat 403s and timeouts."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked_chats: set[int] = set()
        self.failing_chats: dict[int, int] = {}  # chat -> how many more 502s
        self.migrated: dict[int, int] = {}  # group -> the supergroup it became
        self.timeouts = 0

    async def do_request(self, url: str, method: str, request_data: Any = None, **kw: Any):  # type: ignore[no-untyped-def, override]
        if url.endswith("/sendMessage") and self.timeouts > 0:
            self.timeouts -= 1
            raise TimedOut("simulated timeout")
        return await super().do_request(url, method, request_data, **kw)

    async def handle(self, method: str, params: dict[str, Any], files: Any = None):  # type: ignore[no-untyped-def, override]
        chat = params.get("chat_id")
        if method == "sendMessage" and chat is not None and int(chat) in self.blocked_chats:
            self.calls.append(Call(method, params, {}, _time.monotonic(), status=403))
            return 403, {
                "ok": False,
                "error_code": 403,
                "description": "Forbidden: bot was blocked by the user",
            }
        if method == "sendMessage" and int(chat or 0) in self.migrated:
            self.calls.append(Call(method, params, {}, _time.monotonic(), status=400))
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: group chat was upgraded to a supergroup chat",
                "parameters": {"migrate_to_chat_id": self.migrated[int(chat)]},  # type: ignore[arg-type]
            }
        if method == "sendMessage" and self.failing_chats.get(int(chat or 0), 0) > 0:
            self.failing_chats[int(chat)] -= 1  # type: ignore[arg-type]
            self.calls.append(Call(method, params, {}, _time.monotonic(), status=502))
            return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        return await super().handle(method, params, files)


@dataclass
class Bot:
    app: Application
    api: FlakyAPI
    engine: Engine
    clock: Clock
    closers: list[Callable[[], Any]] = field(default_factory=list)

    async def tick(self, when: datetime | None = None) -> None:
        """One run of the minute job at ``when``."""
        if when is not None:
            self.clock.now = when
        await send_due(CallbackContext(self.app))

    async def say(self, user_id: int, text: str, *, chat_id: int | None = None) -> str:
        chat_type = Chat.PRIVATE if chat_id is None or chat_id > 0 else Chat.GROUP
        where = chat_id if chat_id is not None else user_id
        before = len(self.api.sent(where))
        await self.app.process_update(
            make_message_update(
                self.app.bot, text, user_id=user_id, chat_id=chat_id, chat_type=chat_type
            )
        )
        return html_to_text("\n".join(c.text or "" for c in self.api.sent(where)[before:]))

    async def press(self, user_id: int, data: str) -> str:
        before = len(self.api.calls)
        await self.app.process_update(make_callback_update(self.app.bot, data, user_id=user_id))
        new = self.api.calls[before:]
        return html_to_text("\n".join(c.text or "" for c in new))


def _is_reminder(call: Call) -> bool:
    text = call.text or ""
    return any(
        w in text
        for w in (
            "Pengingat pelaporan TW",
            "Rekap pelaporan",
            "menunggu pemeriksaan",
            "Pelaporan TW",
        )
    )


async def open_bot(
    engine: Engine,
    clock: Clock,
    *,
    reminder_time: time = time(8, 0),
    api: FlakyAPI | None = None,
    rate_limiter: bool = False,
    start: bool = False,
) -> Bot:
    api = api or FlakyAPI()
    settings = Settings(
        MONEV_ADMIN_IDS=str(ADMIN),
        DATABASE_URL="",
        TELEGRAM_BOT_TOKEN="",
        MONEV_REMINDER_TIME=reminder_time.strftime("%H:%M"),
    )
    app = build_application(
        settings, engine, request=api, get_updates_request=api, rate_limiter=rate_limiter
    )
    app.bot_data[CLOCK] = clock
    app.bot_data[RATE] = None  # no pacing in tests (the benchmark measures it)
    app.bot_data[DELAYS] = (0.01, 0.02, 0.04)
    await app.initialize()
    await post_init(app)
    schedule_jobs(app)  # idempotent: fine once bot/app.py calls it from post_init too
    if start:
        await app.start()
    return Bot(app, api, engine, clock)


async def close(bot: Bot) -> None:
    if bot.app.running:
        await bot.app.stop()
    await bot.app.shutdown()


def _add_people(engine: Engine, extra_operators: int = 0) -> None:
    from storage.services.users import find_bidang, set_user

    with session_scope(engine) as s:
        for bidang, tg in OP.items():
            b = find_bidang(s, text=bidang, opd_id=1)
            assert b is not None
            set_user(
                s,
                telegram_id=tg,
                role=Role.OPERATOR,
                bidang_id=b.id,
                nama=f"Operator {bidang}",
                actor="t",
            )
        set_user(s, telegram_id=KEPALA, role=Role.KEPALA, nama="Kepala Dinas", actor="t")
        set_user(s, telegram_id=VERIF, role=Role.VERIFIKATOR, nama="Vera", actor="t")
        bidang_ids = [
            find_bidang(s, text=k, opd_id=1).id  # type: ignore[union-attr]
            for k in ("sekretariat", "koperasi", "umkm", "perdagangan", "perindustrian")
        ]
        for i in range(extra_operators):
            set_user(
                s,
                telegram_id=600_000 + i,
                role=Role.OPERATOR,
                bidang_id=bidang_ids[i % 5],
                nama=f"Operator {i}",
                actor="t",
            )


def submit(engine: Engine, bidang: str, at: datetime) -> int:
    from storage.services.users import find_bidang

    with session_scope(engine) as s:
        b = find_bidang(s, text=bidang, opd_id=1)
        assert b is not None
        p = Pelaporan(
            bidang_id=b.id,  # type: ignore[arg-type]
            tahun=2022,
            triwulan=4,
            status=StatusLaporan.DIAJUKAN,
            source=Source.ENTRY,
            submitted_at=at.astimezone(UTC),
        )
        s.add(p)
        s.flush()
        # as a submission does (storage.services.submission): a report's status changes with
        # an audit entry, which is how the figure cache learns of it
        record(s, actor="test", entity="pelaporan", entity_id=p.id, field="status", new=p.status)
        return p.id  # type: ignore[return-value]


def sent_reminders(api: OfflineBotAPI, chat_id: int | None = None) -> list[Call]:
    return [c for c in api.sent(chat_id) if c.method == "sendMessage" and _is_reminder(c)]


def statuses(engine: Engine) -> Counter[str]:
    with read_scope(engine) as s:
        return Counter(str(r.status) for r in s.exec(select(SentReminder)).all())


@pytest.fixture
async def bot(seeded: Engine) -> AsyncIterator[Bot]:
    _add_people(seeded)
    b = await open_bot(seeded, Clock(wib(2022, 12, 30)))
    try:
        yield b
    finally:
        await close(b)


# --- the schedule through the bot -------------------------------------------------------------


async def test_whole_quarter_h7_h3_h1_h_then_working_days(bot: Bot) -> None:
    days: list[tuple[date, str]] = []
    for d in range(1, 32):
        before = len(sent_reminders(bot.api, OP["umkm"]))
        await bot.tick(wib(2023, 1, d, 7, 59))
        assert len(sent_reminders(bot.api, OP["umkm"])) == before  # never before 08.00
        await bot.tick(wib(2023, 1, d, 8, 0))
        await bot.tick(wib(2023, 1, d, 8, 1))
        new = sent_reminders(bot.api, OP["umkm"])[before:]
        days += [(date(2023, 1, d), c.text or "") for c in new]
    got = [(d.day, text.splitlines()[0]) for d, text in days]
    assert [d for d, _ in got] == [3, 7, 9, 10, 11, 12, 13, 16, 17, 18, 19, 20, 23, 24]
    assert all(head == "<b>Pengingat pelaporan TW IV 2022</b>" for _, head in got)
    assert "7 hari lagi" in days[0][1] and "hari ini" in days[3][1]
    assert "telah lewat" in days[4][1]
    # Every operator reminder carries the "Lapor sekarang" button.
    first = sent_reminders(bot.api, OP["umkm"])[0]
    assert bot.api.buttons(first) == [[("Lapor sekarang", "lp:new:2022.4:go")]]


async def test_a_bidang_that_submits_stops_being_reminded(bot: Bot) -> None:
    await bot.tick(wib(2023, 1, 3))
    assert all(len(sent_reminders(bot.api, tg)) == 1 for tg in OP.values())
    submit(bot.engine, "koperasi", wib(2023, 1, 4, 9))
    await bot.tick(wib(2023, 1, 7))
    await bot.tick(wib(2023, 1, 11))
    assert len(sent_reminders(bot.api, OP["koperasi"])) == 1
    assert len(sent_reminders(bot.api, OP["umkm"])) == 3


async def test_restart_in_the_middle_sends_nothing_twice(seeded: Engine) -> None:
    _add_people(seeded)
    clock = Clock(wib(2023, 1, 3, 8, 5))
    first = await open_bot(seeded, clock)
    await first.tick()
    assert len(sent_reminders(first.api)) == 3
    await close(first)
    second = await open_bot(seeded, clock)  # a new Application on the same database
    try:
        await second.tick()
        await second.tick(wib(2023, 1, 3, 17))
        assert sent_reminders(second.api) == []
        await second.tick(wib(2023, 1, 7, 8))
        assert sorted(c.chat_id for c in sent_reminders(second.api)) == sorted(OP.values())  # type: ignore[type-var]
    finally:
        await close(second)


async def test_catch_up_after_downtime_is_sent_once(bot: Bot) -> None:
    await bot.tick(wib(2023, 1, 3))  # H-7, then the bot is down until H-1 at 10.30
    await bot.tick(wib(2023, 1, 9, 10, 30))
    await bot.tick(wib(2023, 1, 9, 10, 31))
    await bot.tick(wib(2023, 1, 9, 16, 0))
    texts = [c.text or "" for c in sent_reminders(bot.api, OP["umkm"])]
    assert len(texts) == 2 and "besok" in texts[1]  # H-1 only; the missed H-3 is not replayed


async def test_first_run_at_start_sends_catch_ups_once(seeded: Engine) -> None:
    _add_people(seeded)
    b = await open_bot(seeded, Clock(wib(2023, 1, 9, 9, 30)), start=True)
    try:
        [job] = b.app.job_queue.get_jobs_by_name(JOB_NAME)  # type: ignore[union-attr]
        for _ in range(200):  # the first run starts right away (first=0)
            if len(sent_reminders(b.api)) == 3:
                break
            await asyncio.sleep(0.02)
        assert sorted(c.chat_id for c in sent_reminders(b.api)) == sorted(OP.values())  # type: ignore[type-var]
        await job.run(b.app)  # the next minute
        assert len(sent_reminders(b.api)) == 3
    finally:
        await close(b)


# --- failures -------------------------------------------------------------------------------


async def test_blocked_user_is_marked_skipped_and_unblocked_when_they_write(bot: Bot) -> None:
    bot.api.blocked_chats.add(OP["umkm"])
    await bot.tick(wib(2023, 1, 3))
    with read_scope(bot.engine) as s:
        u = s.exec(select(AppUser).where(AppUser.telegram_id == OP["umkm"])).one()
        pref = s.exec(select(UserPref).where(UserPref.app_user_id == u.id)).one()
        assert pref.blocked and pref.blocked_at is not None
        row = s.exec(select(SentReminder).where(SentReminder.chat_id == OP["umkm"])).one()
        assert row.status == ReminderStatus.DIBLOKIR
    attempts = len([c for c in bot.api.calls if c.chat_id == OP["umkm"]])
    await bot.tick(wib(2023, 1, 7))
    assert len([c for c in bot.api.calls if c.chat_id == OP["umkm"]]) == attempts  # not tried
    assert len(sent_reminders(bot.api, OP["koperasi"])) == 2  # the others carry on
    # The person unblocks the bot and writes to it: reminders resume at the next slot.
    bot.api.blocked_chats.clear()
    await bot.say(OP["umkm"], "/start")
    await bot.tick(wib(2023, 1, 9))
    assert "besok" in (sent_reminders(bot.api, OP["umkm"])[-1].text or "")


async def test_429_502_and_timeouts_are_retried_without_duplicates(bot: Bot) -> None:
    bot.api.fail_next("sendMessage", status=429, retry_after=1)
    bot.api.fail_next("sendMessage", status=502, times=2)
    bot.api.timeouts = 2
    await bot.tick(wib(2023, 1, 3))
    for tg in OP.values():
        assert len(sent_reminders(bot.api, tg)) == 1
    assert statuses(bot.engine) == Counter({"terkirim": 3})
    report = bot.app.bot_data[LAST_REPORT]
    assert report.sent == 3 and report.retries == 5 and report.failed == 0


async def test_429_is_retried_by_the_rate_limiter_in_production_setup(seeded: Engine) -> None:
    _add_people(seeded)
    b = await open_bot(seeded, Clock(wib(2023, 1, 3)), rate_limiter=True)
    try:
        b.api.fail_next("sendMessage", status=429, retry_after=1, times=2)
        await b.tick()
        assert Counter(c.chat_id for c in sent_reminders(b.api)) == Counter(
            {tg: 1 for tg in OP.values()}
        )
    finally:
        await close(b)


async def test_a_failure_that_outlasts_the_retries_is_recorded_not_repeated(bot: Bot) -> None:
    bot.api.failing_chats[OP["umkm"]] = 4  # 1 try + 3 retries
    await bot.tick(wib(2023, 1, 3))
    assert len([c for c in bot.api.calls if c.chat_id == OP["umkm"]]) == 4
    assert statuses(bot.engine) == Counter({"terkirim": 2, "gagal": 1})
    await bot.tick(wib(2023, 1, 3, 9))
    assert len(sent_reminders(bot.api)) == 2  # at-most-once: "gagal" is not re-sent


async def test_300_recipients_each_get_exactly_one_message(seeded: Engine) -> None:
    _add_people(seeded, extra_operators=297)  # + the three named ones
    api = FlakyAPI()
    clock = Clock(wib(2023, 1, 3, 8, 0))
    one = await open_bot(seeded, clock, api=api)
    two = await open_bot(seeded, clock, api=api)  # a second process on the same database
    try:
        api.fail_next("sendMessage", status=502, times=3)
        api.fail_next("sendMessage", status=429, retry_after=1)
        api.timeouts = 3
        await asyncio.gather(one.tick(), two.tick(), one.tick())
        per_chat = Counter(c.chat_id for c in sent_reminders(api))
        assert len(per_chat) == 300 and set(per_chat.values()) == {1}
        assert statuses(seeded) == Counter({"terkirim": 300})
    finally:
        await close(one)
        await close(two)


# --- kepala, verifikator, group ------------------------------------------------------------------


async def test_kepala_digest_on_h_plus_1(bot: Bot) -> None:
    submit(bot.engine, "perdagangan", wib(2023, 1, 9, 14))
    await bot.tick(wib(2023, 1, 10))
    assert sent_reminders(bot.api, KEPALA) == []
    await bot.tick(wib(2023, 1, 11))
    [digest] = sent_reminders(bot.api, KEPALA)
    text = html_to_text(digest.text or "")
    assert "Rekap pelaporan TW IV 2022" in text and "4 dari 5 bidang belum" in text
    assert "• Koperasi" in text and "Sudah mengajukan: Perdagangan" in text
    await bot.tick(wib(2023, 1, 12))
    # no second digest; the kepala, asked to verify like the verifikator, is reminded of the
    # submission that has waited more than two working days
    [_, verify] = sent_reminders(bot.api, KEPALA)
    text = html_to_text(verify.text or "")
    assert "Rekap" not in text and "Perdagangan" in text and "lebih dari 2 hari kerja" in text


async def test_verifikator_reminded_after_two_working_days(bot: Bot) -> None:
    submit(bot.engine, "koperasi", wib(2023, 1, 5, 15))  # Thursday
    await bot.tick(wib(2023, 1, 6))
    await bot.tick(wib(2023, 1, 9))  # Fri and Mon have passed: not yet "more than two"
    assert sent_reminders(bot.api, VERIF) == []
    await bot.tick(wib(2023, 1, 10))
    [r] = sent_reminders(bot.api, VERIF)
    assert "Koperasi" in (r.text or "") and "lebih dari 2 hari kerja" in (r.text or "")
    assert any("lebih dari 2 hari kerja" in (k.text or "") for k in sent_reminders(bot.api, KEPALA))
    await bot.tick(wib(2023, 1, 11))
    assert len(sent_reminders(bot.api, VERIF)) == 1


async def test_grupkantor_registers_the_group_for_h_and_h_plus_1(bot: Bot) -> None:
    assert "grup kantor" in await bot.say(ADMIN, "/grupkantor")  # private: how to use it
    assert "hanya admin" in await bot.say(OP["umkm"], "/grupkantor", chat_id=GROUP)
    assert "terdaftar sebagai grup kantor" in await bot.say(ADMIN, "/grupkantor", chat_id=GROUP)
    with read_scope(bot.engine) as s:
        assert group_chat_id(s, opd_id=1) == GROUP
    for d in (9, 10, 11, 12):
        await bot.tick(wib(2023, 1, d))
    notices = sent_reminders(bot.api, GROUP)
    assert [html_to_text(c.text or "").splitlines()[2][:9] for c in notices] == [
        "Hari ini,",
        "Batas akh",
    ]
    assert all(bot.api.buttons(c) == [] for c in notices)  # no "Lapor" button in a group
    assert "tidak lagi menerima" in await bot.say(ADMIN, "/grupkantor hapus", chat_id=GROUP)
    with read_scope(bot.engine) as s:
        assert group_chat_id(s, opd_id=1) is None


async def test_a_group_that_became_a_supergroup_is_followed(bot: Bot) -> None:
    await bot.say(ADMIN, "/grupkantor", chat_id=GROUP)
    bot.api.migrated[GROUP] = GROUP * 1000
    await bot.tick(wib(2023, 1, 10))
    assert len(sent_reminders(bot.api, GROUP * 1000)) == 1
    with read_scope(bot.engine) as s:
        assert group_chat_id(s, opd_id=1) == GROUP * 1000


# --- /jadwal and /pengingat --------------------------------------------------------------------


async def test_jadwal_admin_changes_the_deadline_by_typing_a_date(bot: Bot) -> None:
    bot.clock.now = wib(2023, 1, 2, 10)
    out = await bot.say(ADMIN, "/jadwal")
    assert "TW IV 2022: dibuka 1 Januari 2023, batas akhir 10 Januari 2023 (bawaan)" in out
    assert "TW I 2023" in out
    out = await bot.press(ADMIN, "jadwal:ubah:2022:4")
    assert "Ketik batas akhir baru untuk TW IV 2022" in out
    out = await bot.say(ADMIN, "31 Februari 2023")
    assert "tidak ada" in out and "Silakan ketik lagi" in out
    out = await bot.say(ADMIN, "13 Januari 2023")
    assert "diubah dari 10 Januari 2023 menjadi 13 Januari 2023" in out
    with read_scope(bot.engine) as s:
        assert get_jadwal(s, opd_id=1, tahun=2022, tw=4).tenggat == date(2023, 1, 13)
        [audit] = s.exec(select(AuditLog).where(AuditLog.entity == "jadwal")).all()
        assert audit.actor == f"user:{ADMIN}"
    # Numeric and ISO dates work as well; the conversation ended, so start again.
    await bot.say(ADMIN, "/jadwal")
    await bot.press(ADMIN, "jadwal:ubah:2022:4")
    assert "menjadi 16 Januari 2023" in await bot.say(ADMIN, "16/1/2023")
    await bot.press(ADMIN, "jadwal:ubah:2022:4")  # a button of an old message still works
    assert "menjadi 17 Januari 2023" in await bot.say(ADMIN, "2023-01-17")
    out = await bot.say(ADMIN, "/jadwal 2022")  # any year, e.g. the demo's
    assert "Jadwal pelaporan 2022" in out and "TW I 2022: dibuka 1 April 2022" in out
    assert "TW IV 2022" in out and "17 Januari 2023 (diubah" in out
    assert "Pengaturan jadwal ditutup" in await bot.press(ADMIN, "jadwal:selesai")


async def test_jadwal_is_refused_to_others_even_through_forged_buttons(bot: Bot) -> None:
    assert "hanya dapat dilakukan oleh admin" in await bot.say(OP["umkm"], "/jadwal")
    assert "hanya dapat dilakukan oleh admin" in await bot.press(OP["umkm"], "jadwal:ubah:2022:4")
    await bot.say(OP["umkm"], "1 Januari 2023")
    with read_scope(bot.engine) as s:
        assert not get_jadwal(s, opd_id=1, tahun=2022, tw=4).custom


async def test_pengingat_shows_the_schedule_and_mute_stops_reminders(bot: Bot) -> None:
    bot.clock.now = wib(2023, 1, 2, 12)
    out = await bot.say(OP["umkm"], "/pengingat")
    assert "Pengingat untuk Anda aktif" in out and "3 Januari 2023 pukul 08.00 WIB" in out
    call = bot.api.last(OP["umkm"])
    assert bot.api.buttons(call) == [[("Matikan pengingat", "pengingat:mati")]]
    out = await bot.press(OP["umkm"], "pengingat:mati")
    assert "dimatikan" in out
    await bot.tick(wib(2023, 1, 3))
    assert sent_reminders(bot.api, OP["umkm"]) == []
    assert len(sent_reminders(bot.api, OP["koperasi"])) == 1
    await bot.press(OP["umkm"], "pengingat:nyala")
    await bot.tick(wib(2023, 1, 7))
    assert len(sent_reminders(bot.api, OP["umkm"])) == 1
    assert "belum terdaftar" in await bot.say(999_999, "/pengingat")


async def test_pengingat_tells_a_kepala_of_the_digest_and_of_verification_reminders(
    bot: Bot,
) -> None:
    bot.clock.now = wib(2023, 1, 2, 12)
    out = await bot.say(KEPALA, "/pengingat")
    assert "Rekap bidang yang belum melapor dikirim pada 11 Januari 2023" in out
    assert "menunggu pemeriksaan lebih dari 2 hari kerja" in out


# --- Must-show --------------------------------------------------------------------------------


async def test_must_show_deadline_today_reminder_time_two_minutes_ahead(seeded: Engine) -> None:
    _add_people(seeded)
    submit(seeded, "koperasi", wib(2023, 1, 4, 16))  # this bidang has reported
    clock = Clock(wib(2023, 1, 5, 7, 0))  # Thursday 07.00; reminders at 07.02
    b = await open_bot(seeded, clock, reminder_time=time(7, 2), start=True)
    try:
        # The admin sets TW IV 2022's deadline to today.
        await b.say(ADMIN, "/jadwal")
        await b.press(ADMIN, "jadwal:ubah:2022:4")
        assert "menjadi 5 Januari 2023" in await b.say(ADMIN, "5 Januari 2023")
        [job] = b.app.job_queue.get_jobs_by_name(JOB_NAME)  # type: ignore[union-attr]
        await job.run(b.app)
        clock.now = datetime(2023, 1, 5, 7, 1, 59, tzinfo=WIB)
        await job.run(b.app)
        assert sent_reminders(b.api) == []  # nothing before 07.02
        clock.now = wib(2023, 1, 5, 7, 2)
        await job.run(b.app)
        got = {c.chat_id: c.text or "" for c in sent_reminders(b.api)}
        assert set(got) == {OP["umkm"], OP["perdagangan"]}  # not koperasi: it has reported
        assert all("hari ini" in t and "5 Januari 2023" in t for t in got.values())
        with read_scope(seeded) as s:
            assert {r.kind for r in s.exec(select(SentReminder)).all()} == {"H"}
    finally:
        await close(b)
    again = await open_bot(seeded, Clock(wib(2023, 1, 5, 7, 3)), reminder_time=time(7, 2))
    try:
        await again.tick()
        await again.tick(wib(2023, 1, 5, 15, 0))
        assert sent_reminders(again.api) == []  # after a restart: nothing twice
    finally:
        await close(again)


# --- the command line ---------------------------------------------------------------------------


def test_cli_lists_and_sets_deadlines(
    seeded: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    import bot.cli.common

    monkeypatch.setattr(bot.cli.common, "engine", lambda settings: seeded)
    parser = argparse.ArgumentParser(prog="monev")
    add_schedule_commands(parser.add_subparsers(dest="command", required=True))

    def run(*argv: str) -> int:
        args = parser.parse_args(list(argv))
        return args.func(args, Settings(DATABASE_URL="", TELEGRAM_BOT_TOKEN=""))

    assert run("jadwal", "--tahun", "2022") == 0
    out = capsys.readouterr().out
    assert "TW III" in out and "10 Oktober 2022" in out and "bawaan" in out
    assert run("jadwal", "--tahun", "2022", "--tw", "3", "--tenggat", "14 Oktober 2022") == 0
    assert "menjadi 14 Oktober 2022" in capsys.readouterr().out
    with read_scope(seeded) as s:
        assert get_jadwal(s, opd_id=1, tahun=2022, tw=3).tenggat == date(2022, 10, 14)
    assert run("jadwal", "--tahun", "2022", "--tw", "3", "--tenggat", "14 Oktobr 2022") == 1
    err = capsys.readouterr().err
    assert "Nama bulan" in err
    assert run("jadwal", "--tahun", "2022", "--tenggat", "14 Oktober 2022") == 1
    assert "--tw" in capsys.readouterr().err
