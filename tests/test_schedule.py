"""Deadlines and the decision of which reminders are due (storage.services.schedule),
with a fake clock.

The seed holds 2022 TW I–III, all approved; TW IV 2022 is the quarter being reported:
its window opens Sunday 1 January 2023 and its default deadline is Tuesday 10 January 2023.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.views.reminders import outlook_text, reminder_button, reminder_text
from storage.data.db import read_scope, session_scope
from storage.data.models import (
    AuditLog,
    Pelaporan,
    ReminderStatus,
    Role,
    SentReminder,
    Setting,
    Source,
    StatusLaporan,
)
from storage.domain.numbers import ParseError, format_tanggal
from storage.domain.periods import quarter_end
from storage.services.office import the_only_office
from storage.services.schedule import (
    HOLIDAY_SETTING,
    WIB,
    Reminder,
    ScheduleError,
    add_working_days,
    default_window,
    describe_reminders,
    due_reminders,
    finish_sent,
    get_jadwal,
    list_jadwal,
    mark_blocked,
    parse_tanggal,
    record_sent,
    set_deadline,
    set_group_chat,
    set_muted,
)
from storage.services.users import find_bidang, set_user

AT = time(8, 0)
OP_KOP, OP_UMKM, OP_KOP2 = 5001, 5002, 5003
KEPALA, VERIF = 5100, 5200
GROUP = -100777


def wib(y: int, m: int, d: int, hh: int = 8, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=WIB)


@pytest.fixture
def office(seeded: Engine) -> Engine:
    with session_scope(seeded) as s:
        kop, umkm = find_bidang(s, text="koperasi", opd_id=1), find_bidang(s, text="umkm", opd_id=1)
        assert kop and umkm
        for tg, b, nama in ((OP_KOP, kop, "Ani"), (OP_UMKM, umkm, "Budi"), (OP_KOP2, kop, "")):
            set_user(s, telegram_id=tg, role=Role.OPERATOR, bidang_id=b.id, nama=nama, actor="t")
        set_user(s, telegram_id=KEPALA, role=Role.KEPALA, nama="Kepala Dinas", actor="t")
        set_user(s, telegram_id=VERIF, role=Role.VERIFIKATOR, nama="Vera", actor="t")
    return seeded


def opd(engine: Engine) -> int:
    with read_scope(engine) as s:
        o = the_only_office(s)
        assert o is not None and o.id is not None
        return o.id


def due(engine: Engine, now: datetime, **kw: object) -> list[Reminder]:
    with read_scope(engine) as s:
        return due_reminders(s, opd_id=opd(engine), now=now, reminder_time=AT, **kw)  # type: ignore[arg-type]


def send(engine: Engine, now: datetime, **kw: object) -> list[Reminder]:
    """What a perfect sender would do at ``now``: claim and mark every due reminder sent."""
    out = due(engine, now, **kw)
    with session_scope(engine) as s:
        for r in out:
            sid = record_sent(s, reminder=r)
            assert sid is not None
            finish_sent(s, sent_id=sid, status=ReminderStatus.TERKIRIM)
    return out


def submit(engine: Engine, bidang: str, *, at: datetime, tahun: int = 2022, tw: int = 4) -> int:
    with session_scope(engine) as s:
        b = find_bidang(s, text=bidang, opd_id=1)
        assert b is not None
        p = Pelaporan(
            bidang_id=b.id,  # type: ignore[arg-type]
            tahun=tahun,
            triwulan=tw,
            status=StatusLaporan.DIAJUKAN,
            source=Source.ENTRY,
            submitted_at=at.astimezone(UTC),
        )
        s.add(p)
        s.flush()
        return p.id  # type: ignore[return-value]


# --- calendar -------------------------------------------------------------------------------------


def test_default_windows() -> None:
    assert quarter_end(2022, 1) == date(2022, 3, 31)
    assert quarter_end(2022, 2) == date(2022, 6, 30)
    assert default_window(2022, 3) == (date(2022, 10, 1), date(2022, 10, 10))
    assert default_window(2022, 4) == (date(2023, 1, 1), date(2023, 1, 10))
    assert add_working_days(date(2023, 1, 6), 3) == date(2023, 1, 11)  # Fri → Wed


def test_list_and_set_deadline_is_audited(office: Engine) -> None:
    oid = opd(office)
    with read_scope(office) as s:
        ws = list_jadwal(s, opd_id=oid, tahun=2022)
        assert [w.tenggat for w in ws] == [
            date(2022, 4, 10),
            date(2022, 7, 10),
            date(2022, 10, 10),
            date(2023, 1, 10),
        ]
        assert not any(w.custom for w in ws)
    with session_scope(office) as s:
        w = set_deadline(s, opd_id=oid, tahun=2022, tw=4, tenggat=date(2023, 1, 13), actor="cli")
        assert w.custom and w.tenggat == date(2023, 1, 13) and w.label == "TW IV 2022"
    with read_scope(office) as s:
        assert get_jadwal(s, opd_id=oid, tahun=2022, tw=4).tenggat == date(2023, 1, 13)
        log = s.exec(select(AuditLog).where(AuditLog.entity == "jadwal")).all()
        assert [(a.actor, a.old, a.new) for a in log] == [("cli", "2023-01-10", "2023-01-13")]


@pytest.mark.parametrize(
    ("tenggat", "words"),
    [
        (date(2022, 12, 20), "tidak boleh sebelum 1 Januari 2023"),
        (date(2024, 6, 1), "terlalu jauh"),
    ],
)
def test_set_deadline_refuses_nonsense(office: Engine, tenggat: date, words: str) -> None:
    with pytest.raises(ScheduleError, match=words), session_scope(office) as s:
        set_deadline(s, opd_id=opd(office), tahun=2022, tw=4, tenggat=tenggat, actor="t")


# --- typed dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "10 Januari 2027",
        "10 januari 2027",
        "10 Jan 2027",
        "10 jan. 2027",
        "10-Jan-2027",
        "10/1/2027",
        "10/01/2027",
        "10-01-2027",
        "10.01.2027",
        "10/1/27",
        "2027-01-10",
        "  Minggu, 10 Januari 2027 ",
    ],
)
def test_parse_tanggal_accepts_what_people_type(text: str) -> None:
    assert parse_tanggal(text) == date(2027, 1, 10)


@pytest.mark.parametrize(
    ("text", "month"),
    [("3 Agustus 2026", 8), ("3 Agt 2026", 8), ("3 Nop 2026", 11), ("3 Pebruari 2026", 2)],
)
def test_parse_tanggal_month_spellings(text: str, month: int) -> None:
    assert parse_tanggal(text) == date(2026, month, 3)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "kosong"),
        ("besok", "tidak terbaca"),
        ("31 Februari 2027", "tidak ada"),
        ("10 Brumaire 2027", "Nama bulan"),
        ("10 Januari", "Tahunnya"),
        ("10/13/2027", "Bulan 13"),
        ("10/1/1999", "Tahun 1999"),
        ("1" * 200, "terlalu panjang"),
    ],
)
def test_parse_tanggal_explains_in_indonesian(text: str, words: str) -> None:
    with pytest.raises(ParseError, match=words) as err:
        parse_tanggal(text)
    assert "10 Januari 2027" in str(err.value)  # every message shows how to write it


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=40))
def test_parse_tanggal_never_raises_anything_else(text: str) -> None:
    try:
        result = parse_tanggal(text)
    except ParseError:
        return
    assert 2000 <= result.year <= 2100


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)))
def test_parse_tanggal_reads_every_format_it_shows(d: date) -> None:
    assert parse_tanggal(format_tanggal(d)) == d
    assert parse_tanggal(f"{d.day}/{d.month}/{d.year}") == d
    assert parse_tanggal(d.isoformat()) == d


# --- the schedule ---------------------------------------------------------------------------------


def test_whole_quarter_for_one_operator(office: Engine) -> None:
    got: list[tuple[date, str]] = []
    day = date(2022, 12, 28)
    while day <= date(2023, 1, 31):
        assert [r for r in due(office, wib(day.year, day.month, day.day, 7, 59))] == []
        for hh, mm in ((8, 0), (12, 30), (23, 59)):
            for r in send(office, wib(day.year, day.month, day.day, hh, mm)):
                if r.chat_id == OP_UMKM:
                    got.append((day, r.kind))
                    assert (hh, mm) == (8, 0)  # sent at the reminder time, not later in the day
        day += timedelta(days=1)
    overdue = [11, 12, 13, 16, 17, 18, 19, 20, 23, 24]  # working days only, ten of them
    assert got == [
        (date(2023, 1, 3), "H-7"),
        (date(2023, 1, 7), "H-3"),  # a Saturday: before the deadline every slot counts
        (date(2023, 1, 9), "H-1"),
        (date(2023, 1, 10), "H"),
    ] + [(date(2023, 1, d), f"telat:2023-01-{d:02d}") for d in overdue]


def test_max_overdue_and_holidays(office: Engine) -> None:
    with session_scope(office) as s:
        s.add(Setting(key=HOLIDAY_SETTING, value="2023-01-12, not-a-date"))
    kinds = []
    for d in range(11, 20):
        kinds += [
            r.kind for r in send(office, wib(2023, 1, d), max_overdue=3) if r.chat_id == OP_KOP
        ]
    assert kinds == ["telat:2023-01-11", "telat:2023-01-13", "telat:2023-01-16"]


def test_reminder_text_names_quarter_deadline_and_whats_missing(office: Engine) -> None:
    [r] = [r for r in due(office, wib(2023, 1, 3)) if r.chat_id == OP_KOP]
    assert r.kind == "H-7" and reminder_button(r) == ("Lapor sekarang", "lp:new:2022.4:go")
    assert (
        "TW IV 2022" in reminder_text(r)
        and "10 Januari 2023" in reminder_text(r)
        and "7 hari lagi" in reminder_text(r)
    )
    assert "Yth. Bapak/Ibu Ani" in reminder_text(r) and "<b>Koperasi</b>" in reminder_text(r)
    assert "Sub kegiatan yang belum berisi realisasi TW IV 2022 (3)" in reminder_text(r)
    assert "Pengawasan kekuatan" in reminder_text(r)
    [anon] = [r for r in due(office, wib(2023, 1, 3)) if r.chat_id == OP_KOP2]
    assert "Yth. Bapak/Ibu operator bidang Koperasi" in reminder_text(anon)
    [late] = [r for r in due(office, wib(2023, 1, 12)) if r.chat_id == OP_KOP]
    assert "telah lewat" in reminder_text(late) and "2 hari kerja yang lalu" in reminder_text(late)
    [today] = [r for r in due(office, wib(2023, 1, 10)) if r.chat_id == OP_KOP]
    assert "hari ini" in reminder_text(today)


def test_a_bidang_that_submits_is_no_longer_reminded(office: Engine) -> None:
    assert {r.chat_id for r in send(office, wib(2023, 1, 3))} == {OP_KOP, OP_KOP2, OP_UMKM}
    submit(office, "koperasi", at=wib(2023, 1, 5, 10))
    assert {r.chat_id for r in send(office, wib(2023, 1, 7))} == {OP_UMKM}
    with session_scope(office) as s:  # returned by the verifikator: reminded again
        p = s.exec(select(Pelaporan).where(Pelaporan.triwulan == 4)).one()
        p.status = StatusLaporan.DIKEMBALIKAN
        s.add(p)
    rs = [r for r in send(office, wib(2023, 1, 9)) if r.chat_id == OP_KOP]
    assert len(rs) == 1 and "dikembalikan" in reminder_text(rs[0])


def test_catch_up_after_downtime_sends_only_the_latest_once(office: Engine) -> None:
    assert [r.kind for r in send(office, wib(2023, 1, 9, 10, 15)) if r.chat_id == OP_KOP] == ["H-1"]
    assert due(office, wib(2023, 1, 9, 10, 16)) == []
    assert due(office, wib(2023, 1, 9, 23, 0)) == []


def test_nothing_before_the_reminder_time_not_even_catch_ups(office: Engine) -> None:
    assert due(office, wib(2023, 1, 11, 7, 59)) == []
    assert due(office, wib(2023, 1, 11, 0, 59).astimezone(UTC)) == []  # any zone is fine
    with pytest.raises(ValueError):
        due(office, datetime(2023, 1, 11, 9, 0))  # naive: refuse to guess


def test_muted_and_blocked_people_are_skipped(office: Engine) -> None:
    with session_scope(office) as s:
        set_muted(s, telegram_id=OP_KOP, muted=True)
        mark_blocked(s, telegram_id=OP_UMKM)
    assert {r.chat_id for r in due(office, wib(2023, 1, 3))} == {OP_KOP2}


def test_kepala_digest_on_h_plus_1(office: Engine) -> None:
    d_pid = submit(office, "koperasi", at=wib(2023, 1, 9, 10))
    assert [r for r in send(office, wib(2023, 1, 10)) if r.chat_id == KEPALA] == []
    [d] = [r for r in send(office, wib(2023, 1, 11, 9)) if r.chat_id == KEPALA]
    assert d.kind == "digest-H+1" and d.audience == "kepala" and reminder_button(d) is None
    assert "4 dari 5 bidang belum" in reminder_text(d) and "• UMKM" in reminder_text(d)
    assert "Sudah mengajukan: Koperasi" in reminder_text(d)
    # the digest comes once; what the kepala gets next day is the verification reminder
    # (the kepala is asked to verify too: policy.is_asked_to_verify)
    later = [r for r in send(office, wib(2023, 1, 12)) if r.chat_id == KEPALA]
    assert [r.kind for r in later] == [f"verifikasi:{d_pid}:2023-01-09"]


def test_verifikator_reminded_after_two_working_days(office: Engine) -> None:
    pid = submit(office, "umkm", at=wib(2023, 1, 6, 10))  # Friday
    for d in (6, 9, 10):  # Fri, Mon, Tue: not yet
        assert [r for r in send(office, wib(2023, 1, d, 9)) if r.chat_id == VERIF] == []
    due_now = send(office, wib(2023, 1, 11, 9))
    [r] = [r for r in due_now if r.chat_id == VERIF]
    assert r.kind == f"verifikasi:{pid}:2023-01-06" and r.audience == "verifikator"
    assert "UMKM" in reminder_text(r) and "6 Januari 2023 10.00 WIB" in reminder_text(r)
    # the same people who were sent the submission are reminded: verifikator and kepala
    [k] = [r for r in due_now if r.chat_id == KEPALA and r.kind.startswith("verifikasi:")]
    assert k.kind == r.kind
    assert [r for r in send(office, wib(2023, 1, 12, 9)) if r.chat_id == VERIF] == []


def test_group_gets_h_and_h_plus_1_notices(office: Engine) -> None:
    with session_scope(office) as s:
        set_group_chat(s, opd_id=opd(office), chat_id=GROUP, actor="t")
    sent = []
    for d in range(3, 16):
        sent += [
            (d, r.kind, reminder_text(r))
            for r in send(office, wib(2023, 1, d))
            if r.chat_id == GROUP
        ]
    assert [(d, k) for d, k, _ in sent] == [(10, "grup-H"), (11, "grup-H+1")]
    assert "Hari ini" in sent[0][2] and "telah lewat" in sent[1][2] and "UMKM" in sent[1][2]


def test_moving_the_deadline_starts_a_new_cycle(office: Engine) -> None:
    send(office, wib(2023, 1, 9))  # H-1 of 10 January
    with session_scope(office) as s:
        set_deadline(s, opd_id=opd(office), tahun=2022, tw=4, tenggat=date(2023, 1, 16), actor="t")
    # 13 January is H-3 of the new deadline: sent, although "H-3" went out before the move.
    assert [r.kind for r in send(office, wib(2023, 1, 13)) if r.chat_id == OP_KOP] == ["H-3"]
    with read_scope(office) as s:
        kinds = {r.kind for r in s.exec(select(SentReminder)).all() if r.chat_id == OP_KOP}
    assert "H-1" not in kinds and any(k.startswith("H-1@") for k in kinds)


def test_years_without_a_plan_are_not_reminded(office: Engine) -> None:
    assert due(office, wib(2023, 4, 3)) == []  # TW I 2023: no plan for 2023 in the seed


def test_record_sent_is_a_claim_only_one_wins(office: Engine) -> None:
    [r, *_] = due(office, wib(2023, 1, 3))
    with session_scope(office) as s:
        assert record_sent(s, reminder=r) is not None
        assert record_sent(s, reminder=r) is None  # the transaction stays usable
        s.add(Setting(key="after", value="1"))
    with read_scope(office) as s:
        assert s.get(Setting, "after") is not None
        [row] = s.exec(select(SentReminder)).all()
        assert row.status == ReminderStatus.MENGIRIM


def test_describe_reminders_for_an_operator(office: Engine) -> None:
    with read_scope(office) as s:
        outlook = describe_reminders(
            s, opd_id=opd(office), telegram_id=OP_KOP, now=wib(2023, 1, 5, 9), reminder_time=AT
        )
    text = outlook_text(outlook)
    assert not outlook.muted
    assert "TW IV 2022" in text and "10 Januari 2023" in text
    assert "7 Januari 2023 pukul 08.00 WIB" in text and "3 Januari 2023" not in text
    assert "TW I 2023" in text and "belum memiliki rencana" in text
