"""Reporting deadlines, and the decision of which reminders are due at a given moment.

No Telegram here: :func:`due_reminders` is a pure function of the database and ``now``,
so the bot, the tests and a second process all reach the same answer. It returns typed
values (who, which quarter, which deadline, which kind, what is missing); the words and their
formatting are the bot's (``bot/views/reminders.py``), and so is :func:`describe_reminders`'
outlook for /pengingat.

Rules (docs/domain.md):

- A quarter's window opens the day after the quarter ends; the default deadline (``H``) is
  the 10th of the following month (TW IV: 10 January of the next year). Admins may move it.
- Operators of a bidang that has not submitted (status not diajukan/disetujui) are reminded
  at the reminder time (WIB) on H-7, H-3, H-1 and H, then every working day (Mon–Fri, minus
  the holidays in the ``hari_libur`` setting) after H, at most ``max_overdue`` times.
- Kepala get a digest of the late bidang, and the office group a notice, on the first working
  day after H ("H+1"); the group also gets a notice on H.
- Verifikator are reminded of a submission that has waited more than two working days.
- Nothing is sent before the day's reminder time. After downtime only the latest due
  reminder of each recipient goes out (catch-up once, not once per missed day).
- Quarters of a year without a plan are skipped: the submission flow cannot accept a report
  for them, so a reminder would only lead to a refusal.

Delivery is at-most-once: :func:`record_sent` claims a reminder (unique on kind, period and
chat) in its own transaction *before* the message is sent and the status is updated after.
A crash between the two leaves the row in ``mengirim``: that reminder is never re-sent. We
prefer a rare lost reminder to a duplicate in someone's chat; the next slot (the following
working day at the latest) reminds them again anyway.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import partial
from typing import Protocol

from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.data.models import (
    AppUser,
    AuditLog,
    Bidang,
    GrupKantor,
    Jadwal,
    Pelaporan,
    ReminderStatus,
    Role,
    SentReminder,
    Setting,
    StatusLaporan,
    UserPref,
    UserStatus,
    row_id,
    utcnow,
)
from storage.domain.calendar import MAX_DATE_TEXT as MAX_DATE_TEXT
from storage.domain.calendar import add_working_days as add_working_days
from storage.domain.calendar import is_working_day as is_working_day
from storage.domain.calendar import next_working_day as next_working_day
from storage.domain.calendar import parse_tanggal as parse_tanggal
from storage.domain.calendar import working_days_between as working_days_between
from storage.domain.errors import MonevError
from storage.domain.numbers import format_tanggal
from storage.domain.periods import WIB, day_after_quarter, roman
from storage.domain.policy import KABUPATEN_ROLES, is_asked_to_verify
from storage.services.queries import (
    StatusRow,
    YearData,
    bidang_sasaran_ids,
    reporting_status,
    years_with_data,
)
from storage.services.users import get_user
from storage.services.verification import waiting_for

DEADLINE_DAY = 10  # the 10th of the month after the quarter
HOLIDAY_SETTING = "hari_libur"  # "2026-12-25, 2026-12-26": days that are not working days
DEFAULT_MAX_OVERDUE = 10
VERIFY_AFTER_WORKING_DAYS = 2

PRE_DEADLINE = (("H-7", 7), ("H-3", 3), ("H-1", 1), ("H", 0))
OVERDUE_PREFIX = "telat:"
DIGEST_KIND = "digest-H+1"
GROUP_H, GROUP_H1 = "grup-H", "grup-H+1"
VERIFY_PREFIX = "verifikasi:"


class ScheduleError(MonevError, ValueError):
    """A deadline that cannot be set; ``str()`` is Indonesian."""


# --- calendar ---------------------------------------------------------------------------------


def label(tahun: int, tw: int) -> str:
    """``TW III 2022``."""
    return f"TW {roman(tw)} {tahun}"


def default_window(tahun: int, tw: int) -> tuple[date, date]:
    """(opens, deadline): the day after the quarter ends, and the 10th of that month."""
    buka = day_after_quarter(tahun, tw)
    return buka, buka.replace(day=DEADLINE_DAY)


def holidays(session: Session) -> frozenset[date]:
    row = session.get(Setting, HOLIDAY_SETTING)
    out: set[date] = set()
    for part in re.split(r"[,\s;]+", row.value if row else ""):
        try:
            out.add(date.fromisoformat(part))
        except ValueError:
            continue  # a typo in one entry must not stop reminders
    return frozenset(out)


# --- deadlines --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A quarter's reporting window, as set by an admin or by default."""

    tahun: int
    triwulan: int
    buka: date
    tenggat: date
    custom: bool = False
    updated_by: str = ""
    updated_at: datetime | None = None
    kabupaten: bool = False  # the kabupaten's deadline, inherited (the office set none)

    @property
    def label(self) -> str:
        return label(self.tahun, self.triwulan)

    @property
    def period(self) -> tuple[int, int]:
        return self.tahun, self.triwulan


def _window(tahun: int, tw: int, row: Jadwal | None, inherited: date | None = None) -> Window:
    if row is None:
        buka, tenggat = default_window(tahun, tw)
        if inherited is not None and inherited >= buka:
            return Window(tahun, tw, buka, inherited, kabupaten=True)
        return Window(tahun, tw, buka, tenggat)
    return Window(tahun, tw, row.buka, row.tenggat, True, row.updated_by, row.updated_at)


def _check_period(tahun: int, tw: int) -> None:
    if tw not in (1, 2, 3, 4):
        raise ScheduleError("Triwulan harus 1, 2, 3 atau 4.")
    if not 2000 <= tahun <= 2100:
        raise ScheduleError(f"Tahun {tahun} di luar rentang yang wajar.")


def _jadwal_row(session: Session, opd_id: int, tahun: int, tw: int) -> Jadwal | None:
    return session.exec(
        select(Jadwal).where(Jadwal.opd_id == opd_id, Jadwal.tahun == tahun, Jadwal.triwulan == tw)
    ).first()


def get_jadwal(session: Session, *, opd_id: int, tahun: int, tw: int) -> Window:
    """The window of one quarter (the default when no admin changed it)."""
    _check_period(tahun, tw)
    row = _jadwal_row(session, opd_id, tahun, tw)
    return _window(tahun, tw, row, kabupaten_tenggat(session, tahun, tw))


def list_jadwal(session: Session, *, opd_id: int, tahun: int) -> list[Window]:
    """The four quarters of a year."""
    rows = {
        j.triwulan: j
        for j in session.exec(
            select(Jadwal).where(Jadwal.opd_id == opd_id, Jadwal.tahun == tahun)
        ).all()
    }
    return [
        _window(tahun, tw, rows.get(tw), kabupaten_tenggat(session, tahun, tw))
        for tw in (1, 2, 3, 4)
    ]


def set_deadline(
    session: Session, *, opd_id: int, tahun: int, tw: int, tenggat: date, actor: str
) -> Window:
    """Move a quarter's deadline (audit-logged).

    Reminders already sent for the old deadline are kept but renamed (``H-7@<audit id>``), so
    the new deadline gets its own H-7/H-3/H-1/H cycle while the history stays complete.
    """
    _check_period(tahun, tw)
    buka, _ = default_window(tahun, tw)
    row = _jadwal_row(session, opd_id, tahun, tw)
    if row is not None:
        buka = row.buka
    inherited = _window(tahun, tw, None, kabupaten_tenggat(session, tahun, tw)).tenggat
    if tenggat < buka:
        raise ScheduleError(
            f"Tenggat {label(tahun, tw)} tidak boleh sebelum {format_tanggal(buka)}, "
            "hari pertama pelaporan triwulan itu."
        )
    if tenggat > buka + timedelta(days=365):
        raise ScheduleError(
            f"Tenggat {format_tanggal(tenggat)} terlalu jauh dari akhir {label(tahun, tw)}. "
            "Periksa kembali tahunnya."
        )
    old = row.tenggat if row is not None else inherited
    if row is not None and row.tenggat == tenggat:
        return _window(tahun, tw, row)
    if row is None:
        row = Jadwal(opd_id=opd_id, tahun=tahun, triwulan=tw, buka=buka, tenggat=tenggat)
    row.tenggat, row.updated_by, row.updated_at = tenggat, actor, utcnow()
    session.add(row)
    session.flush()
    audit = AuditLog(
        actor=actor,
        entity="jadwal",
        entity_id=row.id,
        field=f"tenggat {label(tahun, tw)}",
        old=old.isoformat(),
        new=tenggat.isoformat(),
    )
    session.add(audit)
    session.flush()
    if old != tenggat:
        _archive_cycle(session, tahun, tw, f"@{audit.id}", opd_id=opd_id)
    return _window(tahun, tw, row)


def _archive_cycle(
    session: Session, tahun: int, tw: int, suffix: str, *, opd_id: int | None = None
) -> None:
    """Rename the reminders sent for the old deadline; with ``opd_id``, only those of that
    office's people and its group messages (another office's cycle is not restarted)."""
    rows = session.exec(
        select(SentReminder).where(SentReminder.tahun == tahun, SentReminder.triwulan == tw)
    ).all()
    people: set[int] | None = None
    if opd_id is not None and len(session.exec(select(Bidang.opd_id).distinct()).all()) > 1:
        people = set(
            session.exec(select(AppUser.telegram_id).where(AppUser.opd_id == opd_id)).all()
        )
    for r in rows:
        if "@" in r.kind or r.kind.startswith(VERIFY_PREFIX):
            continue
        if people is not None and not (
            r.telegram_id in people
            or (r.telegram_id is None and r.kind.endswith(office_kind(opd_id or 0)))
        ):
            continue
        r.kind = f"{r.kind}{suffix}"
        session.add(r)
    session.flush()


def windows_around(session: Session, *, opd_id: int, today: date) -> list[Window]:
    """Every quarter that may be open or coming up around ``today``, by deadline."""
    years = [today.year - 1, today.year]
    rows = session.exec(
        select(Jadwal).where(
            Jadwal.opd_id == opd_id,
            or_(
                col(Jadwal.tahun).in_(years),
                col(Jadwal.tenggat) >= today - timedelta(days=60),
            ),
        )
    ).all()
    custom = {(j.tahun, j.triwulan): j for j in rows}
    periods = {(y, tw) for y in years for tw in (1, 2, 3, 4)} | set(custom)
    out = [
        _window(y, tw, custom.get((y, tw)), kabupaten_tenggat(session, y, tw)) for y, tw in periods
    ]
    return sorted(out, key=lambda w: (w.tenggat, w.tahun, w.triwulan))


# --- the kabupaten's deadline, inherited by every office without its own ---------------------

KABUPATEN_KEY = "tenggat_kabupaten"  # Setting "tenggat_kabupaten:2022:3" = "2022-10-15"


def office_kind(opd_id: int) -> str:
    """The suffix that makes a reminder kind one office's (group messages of a kabupaten:
    one chat, one message per office)."""
    return f"~{opd_id}"


def kabupaten_tenggat(session: Session, tahun: int, tw: int) -> date | None:
    """The deadline the kabupaten set for a quarter (None: the usual default applies)."""
    row = session.get(Setting, f"{KABUPATEN_KEY}:{tahun}:{tw}")
    if row is None or not row.value:
        return None
    try:
        return date.fromisoformat(row.value)
    except ValueError:
        return None


def set_kabupaten_deadline(
    session: Session, *, tahun: int, tw: int, tenggat: date, actor: str
) -> Window:
    """The kabupaten's deadline for a quarter: every office without a deadline of its own
    inherits it (audit-logged; their reminder cycle restarts for the new date)."""
    _check_period(tahun, tw)
    buka, default = default_window(tahun, tw)
    if tenggat < buka or tenggat > buka + timedelta(days=365):
        raise ScheduleError(
            f"Tenggat {label(tahun, tw)} harus antara {format_tanggal(buka)} dan setahun "
            "sesudahnya."
        )
    key = f"{KABUPATEN_KEY}:{tahun}:{tw}"
    row = session.get(Setting, key)
    old = kabupaten_tenggat(session, tahun, tw) or default
    if row is None:
        row = Setting(key=key)
    row.value = tenggat.isoformat()
    session.add(row)
    audit = AuditLog(
        actor=actor,
        entity="setting",
        field=f"tenggat kabupaten {label(tahun, tw)}",
        old=old.isoformat(),
        new=tenggat.isoformat(),
    )
    session.add(audit)
    session.flush()
    if old != tenggat:
        own = set(
            session.exec(
                select(Jadwal.opd_id).where(Jadwal.tahun == tahun, Jadwal.triwulan == tw)
            ).all()
        )
        for office in session.exec(select(Bidang.opd_id).distinct()).all():
            if office not in own:
                _archive_cycle(session, tahun, tw, f"@{audit.id}", opd_id=office)
    return Window(tahun, tw, buka, tenggat, kabupaten=True)


# --- the reminder schedule of a window -----------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    kind: str
    day: date


def operator_slots(w: Window, max_overdue: int, hol: frozenset[date]) -> list[Slot]:
    """H-7, H-3, H-1, H (calendar days, not before the window opens) and the working days
    after H."""
    out = [Slot(k, w.tenggat - timedelta(days=d)) for k, d in PRE_DEADLINE]
    out = [s for s in out if s.day >= w.buka]
    day = w.tenggat
    for _ in range(max(0, max_overdue)):
        day = next_working_day(day, hol)
        out.append(Slot(f"{OVERDUE_PREFIX}{day.isoformat()}", day))
    return out


def digest_day(w: Window, hol: frozenset[date]) -> date:
    """'H+1': the first working day after the deadline."""
    return next_working_day(w.tenggat, hol)


def window_end(w: Window, max_overdue: int, hol: frozenset[date]) -> date:
    last = add_working_days(w.tenggat, max(0, max_overdue), hol)
    return max(last, digest_day(w, hol))


def _latest(slots: Iterable[Slot], today: date) -> Slot | None:
    due = [s for s in slots if s.day <= today]
    return max(due, key=lambda s: s.day) if due else None


# --- people -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    user_id: int
    telegram_id: int
    nama: str
    role: Role
    bidang_id: int | None
    muted: bool
    blocked: bool

    @property
    def reachable(self) -> bool:
        return not self.muted and not self.blocked


def _people(session: Session, opd_id: int) -> list[Person]:
    # Operators belong to a bidang, hence to one office: only this office's are read.
    of_office = select(Bidang.id).where(Bidang.opd_id == opd_id)
    rows = session.exec(
        select(AppUser, UserPref)
        .join(UserPref, col(UserPref.app_user_id) == AppUser.id, isouter=True)
        .where(
            AppUser.status == UserStatus.ACTIVE,
            col(AppUser.role).in_([r.value for r in Role if r not in KABUPATEN_ROLES]),
            # Everyone else of this office only (the kabupaten roles get their own digest).
            or_(col(AppUser.role) != Role.OPERATOR, col(AppUser.bidang_id).in_(of_office)),
            or_(col(AppUser.opd_id) == opd_id, col(AppUser.opd_id).is_(None)),
        )
        .order_by(col(AppUser.id))
    ).all()
    out = []
    for u, pref in rows:
        if u.role is None:
            continue
        role = Role(u.role)
        out.append(
            Person(
                row_id(u),
                u.telegram_id,
                u.nama,
                role,
                u.bidang_id,
                bool(pref and pref.muted),
                bool(pref and pref.blocked),
            )
        )
    return out


def group_owner(opd_id: int | None) -> str:
    """The owner key of the group of office ``opd_id`` (None: the kabupaten's)."""
    return "kabupaten" if opd_id is None else f"opd:{opd_id}"


def group_chat_id(session: Session, *, opd_id: int | None) -> int | None:
    """The group registered for office ``opd_id`` (None: the kabupaten's group, which gets
    the pemantau's notices), or None."""
    return session.exec(
        select(GrupKantor.chat_id).where(GrupKantor.owner == group_owner(opd_id))
    ).first()


class GroupChange(StrEnum):
    """What /grupkantor did."""

    SET = "set"  # the group now gets the notices (it replaced an earlier group, if any)
    SAME = "same"  # it was the group already
    TAKEN = "taken"  # the group belongs to another office (or the kabupaten): unchanged
    REMOVED = "removed"
    NOT_THIS = "not_this"  # "hapus" in a group that is not this office's: unchanged


def set_group_chat(
    session: Session, *, opd_id: int | None, chat_id: int, actor: str
) -> GroupChange:
    """Register ``chat_id`` as the group of office ``opd_id`` (None: the kabupaten's),
    replacing the one it had. A group serves one office only: a group another office (or the
    kabupaten) registered is refused, found by the database's own key rather than by reading
    the other office's row (which the session's scope may not show)."""
    owner = group_owner(opd_id)
    current = session.get(GrupKantor, chat_id)
    if current is not None:
        return GroupChange.SAME if current.owner == owner else GroupChange.TAKEN
    old = session.exec(select(GrupKantor).where(GrupKantor.owner == owner)).first()
    old_chat = old.chat_id if old is not None else None
    try:
        # A savepoint: a refused insert keeps the earlier group and the caller's transaction.
        with session.begin_nested():
            if old is not None:
                session.delete(old)
                session.flush()
            session.add(GrupKantor(chat_id=chat_id, opd_id=opd_id, owner=owner, set_by=actor))
    except IntegrityError:
        return GroupChange.TAKEN
    _audit_group(session, actor, opd_id, old_chat, chat_id)
    return GroupChange.SET


def remove_group_chat(
    session: Session, *, opd_id: int | None, chat_id: int, actor: str
) -> GroupChange:
    """/grupkantor hapus: ``chat_id`` stops being the group of office ``opd_id``."""
    row = session.get(GrupKantor, chat_id)
    if row is None or row.owner != group_owner(opd_id):
        return GroupChange.NOT_THIS
    session.delete(row)
    _audit_group(session, actor, opd_id, chat_id, None)
    session.flush()
    return GroupChange.REMOVED


def move_group_chat(session: Session, *, old: int, new: int, actor: str) -> bool:
    """A group became a supergroup (Telegram gave it a new id): it keeps its office."""
    row = session.get(GrupKantor, old)
    if row is None or session.get(GrupKantor, new) is not None:
        return False
    opd_id, owner = row.opd_id, row.owner
    session.delete(row)
    session.flush()
    session.add(GrupKantor(chat_id=new, opd_id=opd_id, owner=owner, set_by=actor))
    _audit_group(session, actor, opd_id, old, new)
    session.flush()
    return True


def _audit_group(
    session: Session, actor: str, opd_id: int | None, old: int | None, new: int | None
) -> None:
    session.add(
        AuditLog(
            actor=actor,
            entity="grup_kantor",
            entity_id=opd_id,
            field=group_owner(opd_id),
            old=None if old is None else str(old),
            new=None if new is None else str(new),
        )
    )


def _pref(session: Session, user_id: int) -> UserPref:
    pref = session.exec(select(UserPref).where(UserPref.app_user_id == user_id)).first()
    return pref or UserPref(app_user_id=user_id)


def set_muted(session: Session, *, telegram_id: int, muted: bool) -> bool:
    """Mute or unmute one person's reminders; returns the new state."""
    user = get_user(session, telegram_id=telegram_id)
    if user is None:
        raise ScheduleError("Anda belum terdaftar.")
    pref = _pref(session, row_id(user))
    pref.muted = muted
    session.add(pref)
    session.flush()
    return muted


def is_muted(session: Session, *, telegram_id: int) -> bool:
    user = get_user(session, telegram_id=telegram_id)
    if user is None:
        return False
    return _pref(session, row_id(user)).muted


def mark_blocked(session: Session, *, telegram_id: int, at: datetime | None = None) -> None:
    """Telegram said 403: stop sending to this person until they write to the bot again."""
    user = get_user(session, telegram_id=telegram_id)
    if user is None:
        return
    pref = _pref(session, row_id(user))
    if not pref.blocked:
        pref.blocked, pref.blocked_at = True, at or utcnow()
        session.add(pref)
        session.flush()


def clear_blocked(session: Session, *, telegram_id: int) -> bool:
    """The person wrote to the bot, so they no longer block it; returns whether it changed."""
    user = get_user(session, telegram_id=telegram_id)
    if user is None:
        return False
    pref = session.exec(select(UserPref).where(UserPref.app_user_id == user.id)).first()
    if pref is None or not pref.blocked:
        return False
    pref.blocked, pref.blocked_at = False, None
    session.add(pref)
    session.flush()
    return True


def blocked_telegram_ids(session: Session) -> set[int]:
    rows = session.exec(
        select(AppUser.telegram_id)
        .join(UserPref, col(UserPref.app_user_id) == AppUser.id)
        .where(UserPref.blocked == True)  # noqa: E712
    ).all()
    return set(rows)


# --- what is due --------------------------------------------------------------------------------


class Audience(StrEnum):
    OPERATOR = "operator"
    KEPALA = "kepala"
    VERIFIKATOR = "verifikator"
    GRUP = "grup"


@dataclass(frozen=True)
class OperatorNotice:
    """An operator's bidang has not submitted the quarter (H-7 … H, then overdue)."""

    nama: str  # the operator's name; may be blank
    bidang: str
    window: Window
    today: date
    late_working_days: int  # working days since the deadline (0 before or on it)
    returned: bool  # the earlier submission was sent back (dikembalikan)
    missing: tuple[str, ...]  # sub kegiatan without a realisation for the quarter
    total: int  # sub kegiatan of the bidang in the quarter


@dataclass(frozen=True)
class LateBidang:
    nama: str
    status: StatusLaporan | None  # None: no report started


@dataclass(frozen=True)
class DigestNotice:
    """The kepala's H+1 summary of the bidang that have not submitted."""

    nama: str
    window: Window
    now: datetime  # WIB
    late: tuple[LateBidang, ...]
    done: tuple[str, ...]  # bidang that submitted
    total: int


@dataclass(frozen=True)
class GroupNotice:
    """The office group's notice on H and H+1."""

    window: Window
    today: date
    late: tuple[str, ...]  # bidang that have not submitted
    office: str = ""  # named when the deployment serves several offices


@dataclass(frozen=True)
class LateOffice:
    nama: str
    late: int  # bidang that have not submitted
    total: int
    tenggat: date  # the office's own deadline (its Jadwal, else the kabupaten's)


@dataclass(frozen=True)
class KabupatenNotice:
    """The pemantau's H+1 summary of the offices that have not (fully) reported."""

    nama: str
    window: Window  # the kabupaten's window of the quarter
    now: datetime  # WIB
    late: tuple[LateOffice, ...]
    total: int  # offices with a plan for the year


@dataclass(frozen=True)
class VerifyNotice:
    """A submission has waited more than VERIFY_AFTER_WORKING_DAYS working days."""

    nama: str
    tahun: int
    triwulan: int
    bidang: str
    submitted: datetime  # WIB
    after_working_days: int


Notice = OperatorNotice | DigestNotice | GroupNotice | VerifyNotice | KabupatenNotice


@dataclass(frozen=True)
class Reminder:
    """One message to send: to whom, about what, and under which key it is recorded."""

    kind: str
    tahun: int
    triwulan: int
    chat_id: int
    telegram_id: int | None  # None for the office group
    notice: Notice
    audience: Audience = Audience.OPERATOR

    @property
    def key(self) -> tuple[str, int, int, int]:
        return self.kind, self.tahun, self.triwulan, self.chat_id


@dataclass
class _Candidate:
    kind: str
    tahun: int
    triwulan: int
    chat_id: int
    telegram_id: int | None
    audience: Audience
    # Deferred: a notice may need a year's plan loaded, so only reminders still due build one.
    build: Callable[[], Notice] = field(repr=False)

    @property
    def key(self) -> tuple[str, int, int, int]:
        return self.kind, self.tahun, self.triwulan, self.chat_id


def _as_wib(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(WIB)


def due_reminders(
    session: Session,
    *,
    opd_id: int,
    now: datetime,
    reminder_time: time,
    max_overdue: int = DEFAULT_MAX_OVERDUE,
    office: str = "",
) -> list[Reminder]:
    """Every reminder that should be sent at ``now`` and has not been sent yet.

    ``office``: the office's name when the deployment serves several; its group messages
    then name it and are recorded under a kind of their own (one group chat, one message
    per office)."""
    now_wib = _as_wib(now)
    today = now_wib.date()
    if now_wib.time() < reminder_time:
        return []  # nothing before the day's reminder time, catch-ups included
    hol = holidays(session)
    working = is_working_day(today, hol)
    people = _people(session, opd_id)
    reachable = [p for p in people if p.reachable]
    planned_years = set(years_with_data(session, opd_id))
    group = group_chat_id(session, opd_id=opd_id)
    notices = _Notices(session, opd_id, now_wib)
    cands: list[_Candidate] = []

    for w in windows_around(session, opd_id=opd_id, today=today):
        if not (w.buka <= today <= window_end(w, max_overdue, hol)):
            continue
        if w.tahun not in planned_years:
            continue
        statuses = reporting_status(session, opd_id, w.tahun, w.triwulan)
        late = [s for s in statuses if not s.reported]
        late_ids = {s.bidang.id for s in late}
        by_id = {s.bidang.id: s for s in statuses}
        h1 = digest_day(w, hol)

        slot = _latest(operator_slots(w, max_overdue, hol), today)
        if slot is not None and (working or not slot.kind.startswith(OVERDUE_PREFIX)):
            for p in reachable:
                if p.role == Role.OPERATOR and p.bidang_id in late_ids:
                    cands.append(
                        _Candidate(
                            slot.kind,
                            w.tahun,
                            w.triwulan,
                            p.telegram_id,
                            p.telegram_id,
                            Audience.OPERATOR,
                            partial(notices.operator, p, w, by_id[p.bidang_id], hol),
                        )
                    )

        if today >= h1 and working:
            for p in reachable:
                if p.role == Role.KEPALA:
                    cands.append(
                        _Candidate(
                            DIGEST_KIND,
                            w.tahun,
                            w.triwulan,
                            p.telegram_id,
                            p.telegram_id,
                            Audience.KEPALA,
                            partial(notices.digest, p, w, statuses),
                        )
                    )

        if group is not None:
            gslot = _latest([Slot(GROUP_H, w.tenggat), Slot(GROUP_H1, h1)], today)
            if gslot is not None and (working or gslot.kind == GROUP_H):
                cands.append(
                    _Candidate(
                        gslot.kind + (office_kind(opd_id) if office else ""),
                        w.tahun,
                        w.triwulan,
                        group,
                        None,
                        Audience.GRUP,
                        partial(notices.group, w, statuses, office),
                    )
                )

    if working:
        cands.extend(_verification_candidates(session, opd_id, today, reachable, hol, notices))

    if not cands:
        return []
    sent = _already_sent(session, {c.kind for c in cands})
    out = []
    for c in cands:
        if c.key in sent:
            continue
        out.append(
            Reminder(c.kind, c.tahun, c.triwulan, c.chat_id, c.telegram_id, c.build(), c.audience)
        )
    return out


def _verification_candidates(
    session: Session,
    opd_id: int,
    today: date,
    reachable: Sequence[Person],
    hol: frozenset[date],
    notices: _Notices,
) -> list[_Candidate]:
    # Reminded are those who were asked to verify (policy.is_asked_to_verify, as
    # submission.verifiers): every reachable verifikator and kepala but the submitter.
    # _people holds active users only.
    if not any(
        is_asked_to_verify(role=p.role, status=UserStatus.ACTIVE, user_id=p.user_id)
        for p in reachable
    ):
        return []
    rows = session.exec(
        select(Pelaporan, Bidang)
        .join(Bidang, col(Bidang.id) == Pelaporan.bidang_id)
        .where(
            Bidang.opd_id == opd_id,
            Pelaporan.status == StatusLaporan.DIAJUKAN,
            Pelaporan.submitted_at != None,  # noqa: E711
        )
        .order_by(col(Pelaporan.submitted_at))
    ).all()
    out: list[_Candidate] = []
    for p, b in rows:
        assert p.submitted_at is not None  # the query asks for sent reports only
        submitted = p.submitted_at.astimezone(WIB)
        # Due on the working day after two full working days without a decision.
        if today < add_working_days(submitted.date(), VERIFY_AFTER_WORKING_DAYS + 1, hol):
            continue
        kind = f"{VERIFY_PREFIX}{p.id}:{submitted.date().isoformat()}"
        verifiers = [
            v
            for v in reachable
            if is_asked_to_verify(
                role=v.role,
                status=UserStatus.ACTIVE,
                user_id=v.user_id,
                submitted_by=p.submitted_by,
            )
        ]
        for v in verifiers:
            out.append(
                _Candidate(
                    kind,
                    p.tahun,
                    p.triwulan,
                    v.telegram_id,
                    v.telegram_id,
                    Audience.VERIFIKATOR,
                    partial(notices.verify, v, p, b, submitted),
                )
            )
    return out


def _already_sent(session: Session, kinds: set[str]) -> set[tuple[str, int, int, int]]:
    rows = session.exec(
        select(
            SentReminder.kind, SentReminder.tahun, SentReminder.triwulan, SentReminder.chat_id
        ).where(col(SentReminder.kind).in_(sorted(kinds)))
    ).all()
    return {(k, y, t, c) for k, y, t, c in rows}


# --- what a notice says -------------------------------------------------------------------------


class _Notices:
    """Builds the notices; loads a year's plan at most once, and only when a notice needs it."""

    def __init__(self, session: Session, opd_id: int, now_wib: datetime) -> None:
        self.session, self.opd_id, self.now = session, opd_id, now_wib
        self.today = now_wib.date()
        self._years: dict[int, YearData] = {}

    def missing(self, bidang_id: int, tahun: int, tw: int) -> tuple[list[str], int]:
        """Sub kegiatan of the bidang without a realisation for the quarter, and how many
        sub kegiatan the bidang has."""
        data = self._years.get(tahun)
        if data is None:
            data = self._years[tahun] = YearData(self.session, self.opd_id, tahun)
        leaves = data.sub_kegiatan(tw, bidang_sasaran_ids(data, bidang_id))
        out = []
        for n in leaves:
            r = data.real.get((n.id, tw))
            if r is None or r.anggaran is None:
                out.append(n.nama)
        return out, len(leaves)

    def operator(self, p: Person, w: Window, s: StatusRow, hol: frozenset[date]) -> OperatorNotice:
        late = working_days_between(w.tenggat, self.today, hol) if self.today > w.tenggat else 0
        missing, total = self.missing(row_id(s.bidang), w.tahun, w.triwulan)
        return OperatorNotice(
            nama=p.nama,
            bidang=s.bidang.nama,
            window=w,
            today=self.today,
            late_working_days=late,
            returned=s.status == StatusLaporan.DIKEMBALIKAN,
            missing=tuple(missing),
            total=total,
        )

    def digest(self, p: Person, w: Window, statuses: Sequence[StatusRow]) -> DigestNotice:
        return DigestNotice(
            nama=p.nama,
            window=w,
            now=self.now,
            late=tuple(LateBidang(s.bidang.nama, s.status) for s in statuses if not s.reported),
            done=tuple(s.bidang.nama for s in statuses if s.reported),
            total=len(statuses),
        )

    def group(self, w: Window, statuses: Sequence[StatusRow], office: str = "") -> GroupNotice:
        late = tuple(s.bidang.nama for s in statuses if not s.reported)
        return GroupNotice(window=w, today=self.today, late=late, office=office)

    def verify(self, v: Person, p: Pelaporan, b: Bidang, submitted: datetime) -> VerifyNotice:
        return VerifyNotice(
            nama=v.nama,
            tahun=p.tahun,
            triwulan=p.triwulan,
            bidang=b.nama,
            submitted=submitted,
            after_working_days=VERIFY_AFTER_WORKING_DAYS,
        )


# --- recording what was sent ------------------------------------------------------------------


class Claimable(Protocol):
    """What a claim records: a reminder, or a row of a round's plan."""

    @property
    def kind(self) -> str: ...
    @property
    def tahun(self) -> int: ...
    @property
    def triwulan(self) -> int: ...
    @property
    def chat_id(self) -> int: ...
    @property
    def telegram_id(self) -> int | None: ...


def record_sent(
    session: Session,
    *,
    reminder: Claimable,
    at: datetime | None = None,
    status: ReminderStatus = ReminderStatus.MENGIRIM,
) -> int | None:
    """Claim ``reminder`` before sending it; returns the row id, or ``None`` when it was
    claimed already (earlier, or just now by another process): then it must not be sent.

    Call it in a transaction of its own and commit before sending (see the module docstring:
    at-most-once delivery).
    """
    row = SentReminder(
        kind=reminder.kind,
        tahun=reminder.tahun,
        triwulan=reminder.triwulan,
        telegram_id=reminder.telegram_id,
        chat_id=reminder.chat_id,
        sent_at=at or utcnow(),
        status=status,
    )
    try:
        # A savepoint keeps the caller's transaction usable after a unique violation
        # (PostgreSQL aborts the whole transaction otherwise).
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row.id


def finish_sent(
    session: Session, *, sent_id: int, status: ReminderStatus, at: datetime | None = None
) -> None:
    """The outcome of a claimed reminder: terkirim, gagal or diblokir."""
    row = session.get(SentReminder, sent_id)
    if row is None:
        return
    row.status, row.sent_at = status, at or utcnow()
    session.add(row)
    session.flush()


# --- what a person will be reminded of (for /pengingat) -------------------------------------------


@dataclass(frozen=True)
class WindowOutlook:
    """One reporting window as a person's reminders will treat it."""

    window: Window
    planned: bool  # the year has a plan; without one nothing is reminded
    digest_day: date  # H+1: the kepala's digest
    reported_bidang: str | None = None  # operator: their bidang submitted already (its name)
    upcoming: tuple[Slot, ...] = ()  # operator: the H-7 … H reminders still to come


@dataclass(frozen=True)
class ReminderOutlook:
    """What a person will be reminded of (/pengingat). ``role is None``: not an active user."""

    role: Role | None
    muted: bool = False
    reminder_time: time = time(8, 0)
    max_overdue: int = DEFAULT_MAX_OVERDUE
    group_registered: bool = False  # admin: the office group for the H and H+1 notices
    waiting: int = 0  # verifikator: submissions waiting for a decision
    after_working_days: int = VERIFY_AFTER_WORKING_DAYS
    windows: tuple[WindowOutlook, ...] = ()


def describe_reminders(
    session: Session,
    *,
    opd_id: int,
    telegram_id: int,
    now: datetime,
    reminder_time: time,
    max_overdue: int = DEFAULT_MAX_OVERDUE,
) -> ReminderOutlook:
    """What ``telegram_id`` will be reminded of, and whether they muted it."""
    now_wib = _as_wib(now)
    today = now_wib.date()
    person = next((p for p in _people(session, opd_id) if p.telegram_id == telegram_id), None)
    if person is None:
        return ReminderOutlook(role=None)
    hol = holidays(session)
    base = ReminderOutlook(
        role=person.role,
        muted=person.muted,
        reminder_time=reminder_time,
        max_overdue=max_overdue,
    )
    if person.role == Role.ADMIN:
        return replace(base, group_registered=group_chat_id(session, opd_id=opd_id) is not None)
    if person.role == Role.VERIFIKATOR:
        waiting = waiting_for(
            session,
            role=person.role,
            status=UserStatus.ACTIVE,  # _people holds active users only
            user_id=person.user_id,
            opd_id=opd_id,
        )
        return replace(base, waiting=len(waiting))
    planned = set(years_with_data(session, opd_id))
    shown = [
        w
        for w in windows_around(session, opd_id=opd_id, today=today)
        if window_end(w, max_overdue, hol) >= today
    ][:2]
    windows = []
    for w in shown:
        outlook = WindowOutlook(w, w.tahun in planned, digest_day(w, hol))
        if outlook.planned and person.role == Role.OPERATOR:
            outlook = _operator_outlook(
                session, opd_id, person, outlook, now_wib, reminder_time, hol
            )
        windows.append(outlook)
    return replace(base, windows=tuple(windows))


def _operator_outlook(
    session: Session,
    opd_id: int,
    person: Person,
    outlook: WindowOutlook,
    now_wib: datetime,
    reminder_time: time,
    hol: frozenset[date],
) -> WindowOutlook:
    w = outlook.window
    row = next(
        (
            s
            for s in reporting_status(session, opd_id, w.tahun, w.triwulan)
            if s.bidang.id == person.bidang_id
        ),
        None,
    )
    if row is not None and row.reported:
        return replace(outlook, reported_bidang=row.bidang.nama)
    upcoming = tuple(
        s
        for s in operator_slots(w, 0, hol)
        if datetime.combine(s.day, reminder_time, WIB) > now_wib
    )
    return replace(outlook, upcoming=upcoming)


# --- the kabupaten: every office's reminders, and the pemantau's digest ------------------------

KABUPATEN_DIGEST_KIND = "pemantau-H+1"


def _kabupaten_people(session: Session) -> list[tuple[AppUser, UserPref | None]]:
    return list(
        session.exec(
            select(AppUser, UserPref)
            .join(UserPref, col(UserPref.app_user_id) == AppUser.id, isouter=True)
            .where(
                AppUser.status == UserStatus.ACTIVE,
                col(AppUser.role).in_([r.value for r in KABUPATEN_ROLES]),
            )
            .order_by(col(AppUser.id))
        ).all()
    )


def kabupaten_digest(
    session: Session,
    *,
    now: datetime,
    reminder_time: time,
    max_overdue: int = DEFAULT_MAX_OVERDUE,
) -> list[Reminder]:
    """From the first working day after the kabupaten's deadline of a quarter: a digest to
    every pemantau and admin kabupaten of the offices that have not fully reported (each
    office measured against its own deadline), once per quarter and person."""
    from storage.services.kabupaten import office_names

    now_wib = _as_wib(now)
    today = now_wib.date()
    hol = holidays(session)
    if now_wib.time() < reminder_time or not is_working_day(today, hol):
        return []
    people = [(u, p) for u, p in _kabupaten_people(session) if not (p and (p.muted or p.blocked))]
    # Every pemantau and admin kabupaten, then the kabupaten's own group (/grupkantor there).
    chats: list[tuple[int, int | None, str]] = [
        (u.telegram_id, u.telegram_id, u.nama) for u, _ in people
    ]
    group = group_chat_id(session, opd_id=None)
    if group is not None:
        chats.append((group, None, ""))
    if not chats:
        return []
    offices = office_names(session)
    out: list[Reminder] = []
    sent = _already_sent(session, {KABUPATEN_DIGEST_KIND})
    for y in (today.year - 1, today.year):
        for tw in (1, 2, 3, 4):
            w = _window(y, tw, None, kabupaten_tenggat(session, y, tw))
            if not (digest_day(w, hol) <= today <= window_end(w, max_overdue, hol)):
                continue
            planned = [o for o in offices if y in years_with_data(session, o.id)]
            if not planned:
                continue
            late = []
            for o in planned:
                statuses = reporting_status(session, o.id, y, tw)
                missing = sum(1 for st in statuses if not st.reported)
                if missing:
                    own = get_jadwal(session, opd_id=o.id, tahun=y, tw=tw)
                    late.append(LateOffice(o.label, missing, len(statuses), own.tenggat))
            for chat_id, telegram_id, nama in chats:
                if (KABUPATEN_DIGEST_KIND, y, tw, chat_id) in sent:
                    continue
                notice = KabupatenNotice(nama, w, now_wib, tuple(late), len(planned))
                audience = Audience.KEPALA if telegram_id is not None else Audience.GRUP
                out.append(
                    Reminder(KABUPATEN_DIGEST_KIND, y, tw, chat_id, telegram_id, notice, audience)
                )
    return out


@dataclass(frozen=True)
class KabupatenOutlook:
    """What a kabupaten role receives (/pengingat): the next rekap of offices not yet
    reported (after the kabupaten's deadline), and whether their reminders are muted."""

    muted: bool
    window: Window | None  # the next quarter whose rekap is still to come
    digest_day: date | None
    group_registered: bool


def describe_kabupaten(
    session: Session, *, telegram_id: int, today: date, max_overdue: int = DEFAULT_MAX_OVERDUE
) -> KabupatenOutlook:
    """The kabupaten roles' /pengingat: the first quarter (this year or the next) whose rekap
    has not gone out yet, measured against the kabupaten's own deadline."""
    hol = holidays(session)
    nxt: Window | None = None
    for y in (today.year - 1, today.year, today.year + 1):
        for tw in (1, 2, 3, 4):
            w = _window(y, tw, None, kabupaten_tenggat(session, y, tw))
            if window_end(w, max_overdue, hol) >= today:
                nxt = w
                break
        if nxt is not None:
            break
    return KabupatenOutlook(
        muted=is_muted(session, telegram_id=telegram_id),
        window=nxt,
        digest_day=digest_day(nxt, hol) if nxt is not None else None,
        group_registered=group_chat_id(session, opd_id=None) is not None,
    )
