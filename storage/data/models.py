"""Database schema: the office's plan, its quarterly realisations, people and the audit trail.

Families follow the SQLModel convention (``XBase`` for shared fields, the table class
for storage). Money is whole rupiah (``int``); percentages are ``float`` percent points
(``64.7`` means 64,70%).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy import inspect as sa_inspect

# isort: split
from sqlalchemy import Boolean, false  # user_pref.digest_muted (early warning)
from sqlmodel import Field, SQLModel

# Kinds and statuses the rows store: pure values, importable without the tables.
from storage.domain.enums import DraftStatus as DraftStatus
from storage.domain.enums import FindingKind as FindingKind
from storage.domain.enums import InboxStatus as InboxStatus
from storage.domain.enums import Level as Level
from storage.domain.enums import ReminderStatus as ReminderStatus
from storage.domain.enums import Source as Source

# The permission rules own these enums; the tables store their values.
from storage.domain.policy import Role as Role
from storage.domain.policy import StatusLaporan as StatusLaporan
from storage.domain.policy import UserStatus as UserStatus


def utcnow() -> datetime:
    """Timezone-aware 'now'; stored as UTC and shown in WIB."""
    return datetime.now(UTC)


# --- organisation --------------------------------------------------------------------------


class PerangkatDaerah(SQLModel, table=True):
    """An office (OPD). One database may hold several."""

    __tablename__ = "perangkat_daerah"
    # A unique index rather than a column constraint: added by migration 0011 to a table
    # others point at, which SQLite cannot rebuild in place.
    __table_args__ = (Index("uq_perangkat_daerah_singkatan", "singkatan", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    nama: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    nama_kepala: str = ""
    nip_kepala: str = ""
    tempat: str = ""  # place printed above the signature, e.g. "Koto Baru"
    # A kabupaten serves many offices: the short name people type ("diskoperindag") and
    # other spellings (comma-separated), matched the way bidang names are.
    singkatan: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    aliases: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))

    def alias_list(self) -> list[str]:
        return [a.strip() for a in self.aliases.split(",") if a.strip()]


class Bidang(SQLModel, table=True):
    """A division of an office; owns the sasaran whose numbers are listed in ``sasaran``."""

    __tablename__ = "bidang"
    __table_args__ = (UniqueConstraint("opd_id", "kode"),)

    id: int | None = Field(default=None, primary_key=True)
    opd_id: int = Field(foreign_key="perangkat_daerah.id", index=True)
    kode: str
    nama: str
    aliases: str = ""  # comma-separated spellings people type ("kop", "koperasi")
    sasaran: str = ""  # comma-separated sasaran numbers this bidang reports ("2")
    urutan: int = 0

    def alias_list(self) -> list[str]:
        return [a.strip() for a in self.aliases.split(",") if a.strip()]

    def sasaran_numbers(self) -> list[int]:
        return [int(s) for s in self.sasaran.split(",") if s.strip().isdecimal()]


# --- plan -------------------------------------------------------------------------------------


class Sasaran(SQLModel, table=True):
    """A strategic goal of one year."""

    __tablename__ = "sasaran"
    __table_args__ = (UniqueConstraint("opd_id", "tahun", "nomor"),)

    id: int | None = Field(default=None, primary_key=True)
    opd_id: int = Field(foreign_key="perangkat_daerah.id", index=True)
    bidang_id: int | None = Field(default=None, foreign_key="bidang.id", index=True)
    tahun: int = Field(index=True)
    nomor: int
    teks: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    indikator: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class Node(SQLModel, table=True):
    """A program, kegiatan or sub kegiatan of one year."""

    __tablename__ = "node"
    __table_args__ = (Index("ix_node_parent", "parent_id"),)

    id: int | None = Field(default=None, primary_key=True)
    opd_id: int = Field(foreign_key="perangkat_daerah.id", index=True)
    tahun: int = Field(index=True)
    sasaran_id: int = Field(foreign_key="sasaran.id", index=True)
    parent_id: int | None = Field(default=None, foreign_key="node.id")
    level: Level = Field(sa_type=String(16))
    nama: str = Field(sa_column=Column(Text, nullable=False))
    indikator: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    urutan: int = 0


class NodePlan(SQLModel, table=True):
    """The plan of a node in force from ``triwulan`` on: target text and pagu.

    ``aktif = False`` records that the node is not part of that quarter's plan (a program
    absent from that quarter's report). Quarters without a row inherit the latest earlier row.
    """

    __tablename__ = "node_plan"
    __table_args__ = (UniqueConstraint("node_id", "triwulan"),)

    id: int | None = Field(default=None, primary_key=True)
    node_id: int = Field(foreign_key="node.id", index=True)
    triwulan: int
    aktif: bool = True
    target: str = ""
    pagu: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    source: Source = Field(default=Source.IMPORT, sa_type=String(16))
    report_id: int | None = Field(default=None, foreign_key="report.id")


class Realisasi(SQLModel, table=True):
    """A node's cumulative realisation at the end of a quarter, as reported or entered."""

    __tablename__ = "realisasi"
    __table_args__ = (UniqueConstraint("node_id", "triwulan"),)

    id: int | None = Field(default=None, primary_key=True)
    node_id: int = Field(foreign_key="node.id", index=True)
    triwulan: int
    anggaran: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    fisik: float | None = None
    ket: str = ""
    source: Source = Field(default=Source.IMPORT, sa_type=String(16))
    report_id: int | None = Field(default=None, foreign_key="report.id")
    row_no: int | None = None  # line of the report the figure came from
    entered_by: int | None = Field(default=None, foreign_key="app_user.id")
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = 1  # bumped on every change; guards against lost updates


class IndikatorSasaran(SQLModel, table=True):
    """One indicator row of a sasaran (the reports give one per program of the sasaran)."""

    __tablename__ = "indikator_sasaran"

    id: int | None = Field(default=None, primary_key=True)
    sasaran_id: int = Field(foreign_key="sasaran.id", index=True)
    program_id: int | None = Field(default=None, foreign_key="node.id")
    nama: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    urutan: int = 0


class CapaianSasaran(SQLModel, table=True):
    """Target and realisation (percent) of an indikator for one quarter, as one report gave it."""

    __tablename__ = "capaian_sasaran"
    __table_args__ = (UniqueConstraint("indikator_id", "triwulan", "report_id"),)

    id: int | None = Field(default=None, primary_key=True)
    indikator_id: int = Field(foreign_key="indikator_sasaran.id", index=True)
    triwulan: int
    report_id: int | None = Field(default=None, foreign_key="report.id")
    target: float | None = None
    realisasi: float | None = None
    capaian_dilaporkan: float | None = None  # column 12 as printed, kept to flag it
    source: Source = Field(default=Source.IMPORT, sa_type=String(16))


class Narasi(SQLModel, table=True):
    """Aksi, hambatan and tindak lanjut of a sasaran (per program row) for one quarter."""

    __tablename__ = "narasi"

    id: int | None = Field(default=None, primary_key=True)
    sasaran_id: int = Field(foreign_key="sasaran.id", index=True)
    program_id: int | None = Field(default=None, foreign_key="node.id")
    triwulan: int
    urutan: int = 0
    aksi: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    hambatan: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    tindak_lanjut: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    source: Source = Field(default=Source.IMPORT, sa_type=String(16))
    report_id: int | None = Field(default=None, foreign_key="report.id")


# --- provenance and control ------------------------------------------------------------------


class ImportedReport(SQLModel, table=True):
    """One imported Laporan Kinerja Triwulan."""

    __tablename__ = "report"
    __table_args__ = (UniqueConstraint("opd_id", "tahun", "triwulan"),)

    id: int | None = Field(default=None, primary_key=True)
    opd_id: int = Field(foreign_key="perangkat_daerah.id", index=True)
    tahun: int
    triwulan: int
    source_file: str = ""
    sha256: str = ""
    first_line: int = 0
    tempat_tanggal: str = ""
    nama_kepala: str = ""
    nip_kepala: str = ""
    imported_at: datetime = Field(default_factory=utcnow)


class AppUser(SQLModel, table=True):
    """A person known to the bot."""

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    nama: str = ""
    nip: str = ""
    role: Role | None = Field(default=None, sa_type=String(16))
    bidang_id: int | None = Field(default=None, foreign_key="bidang.id")
    status: UserStatus = Field(default=UserStatus.PENDING, sa_type=String(16))
    created_at: datetime = Field(default_factory=utcnow)
    # Bumped by every /daftar request that changes what admins were shown: an admin's button
    # names the version its message showed, so a later name or NIP cannot be approved unseen.
    request_version: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )
    status_at: datetime | None = None  # when the status last changed (rejection cool-down)
    # The office the person belongs to; None for the kabupaten roles (pemantau, admin
    # kabupaten), who read every office.
    opd_id: int | None = Field(default=None, foreign_key="perangkat_daerah.id", index=True)


class AuditLog(SQLModel, table=True):
    """Every change to a figure, a plan or a person: who, when, what, old -> new."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str  # "import:<file>", "user:<telegram id>", "cli"
    entity: str
    entity_id: int | None = None
    field: str = ""
    old: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    new: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Finding(SQLModel, table=True):
    """A mistake found in the figures; reported, never repaired silently."""

    __tablename__ = "finding"

    id: int | None = Field(default=None, primary_key=True)
    opd_id: int = Field(foreign_key="perangkat_daerah.id", index=True)
    tahun: int = Field(index=True)
    triwulan: int | None = None
    kind: FindingKind = Field(sa_type=String(32))
    node_id: int | None = Field(default=None, foreign_key="node.id")
    sasaran_id: int | None = Field(default=None, foreign_key="sasaran.id")
    report_id: int | None = Field(default=None, foreign_key="report.id")
    row_no: int | None = None
    message: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class Setting(SQLModel, table=True):
    """Key-value settings kept in the database (benchmarks, demo flag)."""

    __tablename__ = "setting"

    key: str = Field(primary_key=True)
    value: str = ""


class Pelaporan(SQLModel, table=True):
    """Whether a bidang has reported a quarter, and where its report stands."""

    __tablename__ = "pelaporan"
    __table_args__ = (UniqueConstraint("bidang_id", "tahun", "triwulan"),)

    id: int | None = Field(default=None, primary_key=True)
    bidang_id: int = Field(foreign_key="bidang.id", index=True)
    tahun: int
    triwulan: int
    status: StatusLaporan = Field(default=StatusLaporan.DRAFT, sa_type=String(16))
    source: Source = Field(default=Source.IMPORT, sa_type=String(16))
    report_id: int | None = Field(default=None, foreign_key="report.id")
    submitted_by: int | None = Field(default=None, foreign_key="app_user.id")
    submitted_at: datetime | None = None
    decided_by: int | None = Field(default=None, foreign_key="app_user.id")
    decided_at: datetime | None = None
    alasan: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # Bumped by every submission: a decision names the version its approver was shown, and
    # a submission names the version its draft began from (compare-and-set, no lost update).
    version: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))


_DRAFT_REVISION = Column("revision", Integer, nullable=False, server_default="0")


class Draft(SQLModel, table=True):
    """A quarterly submission being filled in through the bot.

    The draft is the conversation's state: what was entered and where the operator is, so
    a restart of the bot or days of silence lose nothing. ``base`` holds the version of
    every figure when the draft began, to stop a submission that would overwrite a figure
    someone else changed since (no lost update).
    """

    __tablename__ = "draft"

    id: int | None = Field(default=None, primary_key=True)
    bidang_id: int = Field(foreign_key="bidang.id", index=True)
    tahun: int
    triwulan: int
    user_id: int = Field(foreign_key="app_user.id", index=True)
    status: DraftStatus = Field(default=DraftStatus.AKTIF, sa_type=String(16))
    step: str = ""  # where the conversation stands, e.g. "anggaran:3"
    data: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    base: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    # The quarter's ``Pelaporan.version`` when the draft began: submitting refuses a draft
    # that another submission overtook.
    based_on: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # Bumped by every write of the row, which only lands on the version it read (SQLAlchemy's
    # version counter): the chat and the Mini App form write one draft, and neither may
    # overwrite what the other saved in between unseen.
    revision: int = Field(default=0, sa_column=_DRAFT_REVISION)

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": _DRAFT_REVISION}


# --- deadlines and reminders --------------------------------------------------------------

# Appended after the original imports on purpose: this section was added by a later change
# and the top of the module is not ours to rewrite.
from datetime import date  # noqa: E402


class Jadwal(SQLModel, table=True):
    """The reporting window of one quarter when an admin set it; without a row the default
    applies (opens the day after the quarter ends, closes on the 10th of the next month)."""

    __tablename__ = "jadwal"
    __table_args__ = (
        UniqueConstraint("opd_id", "tahun", "triwulan", name="uq_jadwal_opd_tahun_triwulan"),
    )

    id: int | None = Field(default=None, primary_key=True)
    opd_id: int = Field(foreign_key="perangkat_daerah.id", index=True)
    tahun: int
    triwulan: int
    buka: date
    tenggat: date
    updated_by: str = ""  # "user:<telegram id>", "cli"
    updated_at: datetime = Field(default_factory=utcnow)


class SentReminder(SQLModel, table=True):
    """A reminder claimed for one chat. The unique key is what makes every reminder
    at-most-once, across restarts and across processes sharing the database."""

    __tablename__ = "sent_reminder"
    __table_args__ = (
        UniqueConstraint("kind", "tahun", "triwulan", "chat_id", name="uq_sent_reminder_once"),
        Index("ix_sent_reminder_period", "tahun", "triwulan"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_type=String(80))  # "H-7", "telat:2026-10-13", "grup-H", ...
    tahun: int
    triwulan: int
    telegram_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    sent_at: datetime = Field(default_factory=utcnow)
    status: ReminderStatus = Field(default=ReminderStatus.MENGIRIM, sa_type=String(16))


class ReminderPlan(SQLModel, table=True):
    """A reminder round's work list, written once when the round starts: who is due, with the
    message as it will be sent. A row leaves the plan in the transaction that claims it in
    ``sent_reminder``, so what is left is exactly what nobody has claimed: a process taking
    a round over (its sender died) sends that rest without working out again what is due in
    every office. A row is good until ``expires_at`` (the end of the day it was planned)."""

    __tablename__ = "reminder_plan"
    __table_args__ = (
        UniqueConstraint("kind", "tahun", "triwulan", "chat_id", name="uq_reminder_plan_once"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_type=String(80))
    tahun: int
    triwulan: int
    telegram_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    audience: str = Field(sa_type=String(16))
    text: str = Field(sa_column=Column(Text, nullable=False))  # Telegram HTML, as sent
    button_text: str | None = Field(default=None, sa_type=String(64))
    button_data: str | None = Field(default=None, sa_type=String(64))
    expires_at: datetime


class UserPref(SQLModel, table=True):
    """Per-person reminder preferences, kept apart from AppUser."""

    __tablename__ = "user_pref"

    id: int | None = Field(default=None, primary_key=True)
    app_user_id: int = Field(foreign_key="app_user.id", unique=True)
    muted: bool = False
    blocked: bool = False  # Telegram answered 403: the person blocked the bot
    blocked_at: datetime | None = None
    # The kepala's weekly early-warning digest (peringatan dini), switched off in /pengingat.
    digest_muted: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )


# --- conversation state -------------------------------------------------------------------


class ChatState(SQLModel, table=True):
    """Where one person stands in a multi-step conversation (registration, /lapor, a return
    reason, /jadwal): one row per person, so starting a flow ends any other. It lives here and
    not in the process, so a restart or a second process continues the conversation; ``version``
    lets a step refuse to overwrite a step that another update applied meanwhile."""

    __tablename__ = "chat_state"

    telegram_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    flow: str = Field(sa_type=String(16))
    step: str = Field(default="", sa_type=String(40))
    payload: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    version: int = 1
    updated_at: datetime = Field(default_factory=utcnow)


# --- verification messages and the update inbox -------------------------------------------


class VerifMessage(SQLModel, table=True):
    """A message with Setujui/Kembalikan buttons sent for one version of a submission, so
    that a later return, resubmission, approval or reopening can take its buttons away."""

    __tablename__ = "verif_message"
    __table_args__ = (Index("ix_verif_message_pelaporan", "pelaporan_id"),)

    id: int | None = Field(default=None, primary_key=True)
    pelaporan_id: int = Field(foreign_key="pelaporan.id")
    version: int
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    message_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))  # as sent
    retired: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class UpdateInbox(SQLModel, table=True):
    """Every update from Telegram, written before it is handled and marked done after: an
    update fetched but not handled when the process died is handled after the restart, and
    an update id seen twice is handled once."""

    __tablename__ = "update_inbox"
    __table_args__ = (
        Index("ix_update_inbox_status", "bot_id", "status"),
        Index("ix_update_inbox_order", "bot_id", "status", "order_key", "update_id"),
    )

    # Telegram numbers updates per bot: a new token (a test bot replaced by the production
    # one, a token revoked after a leak) starts again from small ids, which must never be
    # taken for the old bot's ids "already handled". The id is the token's part before ':'.
    bot_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    status: InboxStatus = Field(default=InboxStatus.BARU, sa_type=String(16))
    received_at: datetime = Field(default_factory=utcnow)
    done_at: datetime | None = None
    # Whose updates must be handled in order, one at a time (the sender, else the chat): with
    # several processes, the one holding this key's lock handles them (bot.cluster).
    order_key: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default="0")
    )


class SendBudget(SQLModel, table=True):
    """The outgoing message budget shared by every process of a bot (bot.cluster): one row
    per limit (the bot's ~30 messages/s, each group's 20/min) holding the earliest time the
    next message may go (a GCRA's theoretical arrival time)."""

    __tablename__ = "send_budget"

    name: str = Field(sa_column=Column(String(64), primary_key=True))
    tat: datetime = Field(default_factory=utcnow)


class AnswerPages(SQLModel, table=True):
    """The pages of one long answer as the person who asked saw its first page: its
    "Selengkapnya" buttons show exactly these, in whichever process takes the press, and
    still after a restart. Only the asker may turn them (``owner``)."""

    __tablename__ = "answer_pages"
    __table_args__ = (Index("ix_answer_pages_created", "created_at"),)

    token: str = Field(sa_column=Column(String(16), primary_key=True))
    owner: int = Field(sa_column=Column(BigInteger, nullable=False))
    pages: str = Field(sa_column=Column(Text, nullable=False))  # JSON: pages and buttons
    created_at: datetime = Field(default_factory=utcnow)


def row_id(row: Any) -> int:
    """The primary key of a stored row (SQLModel types ``id`` as optional until a flush)."""
    ident = row.id
    assert isinstance(ident, int), f"{type(row).__name__} has no id yet: flush it first"
    return ident


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a table model, for statements without ORM objects (SQLModel sets
    ``__table__`` at run time only, so type checkers do not see it)."""
    table = sa_inspect(model).local_table
    assert isinstance(table, Table), f"{model.__name__} is not a table model"
    return table


class RegMessage(SQLModel, table=True):
    """A message with the approve/reject buttons sent to an admin for one version of a
    /daftar request, so that a newer request (or a decision) can take its buttons away."""

    __tablename__ = "reg_message"
    __table_args__ = (Index("ix_reg_message_user", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id")
    version: int
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    message_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))  # as sent
    retired: bool = False
    created_at: datetime = Field(default_factory=utcnow)


# --- early warning: the office's spending plan ----------------------------------------------


class RencanaPenarikan(SQLModel, table=True):
    """The office's own cumulative spending plan (rencana penarikan / anggaran kas) of a sub
    kegiatan for TW I..IV, in force from quarter ``triwulan`` on, like a pagu revision: a
    revision adds a row for its quarter, so deviations of earlier quarters keep the plan they
    were measured against. ``None`` in a quarter: no plan given for it."""

    __tablename__ = "rencana_penarikan"
    __table_args__ = (UniqueConstraint("node_id", "triwulan", name="uq_rencana_penarikan_node_tw"),)

    id: int | None = Field(default=None, primary_key=True)
    node_id: int = Field(foreign_key="node.id", index=True)
    triwulan: int  # in force from this quarter on
    tw1: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    tw2: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    tw3: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    tw4: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    source: Source = Field(default=Source.ADMIN, sa_type=String(16))
    updated_by: str = ""  # "import:<file>", "user:<telegram id>", "cli"
    updated_at: datetime = Field(default_factory=utcnow)

    def cumulative(self) -> tuple[int | None, int | None, int | None, int | None]:
        return self.tw1, self.tw2, self.tw3, self.tw4


# --- evidence (bukti dukung) ----------------------------------------------------------------


class Bukti(SQLModel, table=True):
    """One photo or document attached to a sub kegiatan in a draft (issue 16).

    The bytes live once in the data folder under their SHA-256 (``sha256``); rows of later
    drafts of the same quarter point at the same file, so a file stays as long as any row
    names it. ``file_id`` re-sends it through Telegram without uploading it again."""

    __tablename__ = "bukti"
    __table_args__ = (
        Index("ix_bukti_draft", "draft_id"),
        Index("ix_bukti_node_period", "node_id", "tahun", "triwulan"),
        Index("ix_bukti_sha256", "sha256"),
    )

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="draft.id")
    node_id: int = Field(foreign_key="node.id")
    tahun: int
    triwulan: int
    sha256: str = Field(sa_type=String(64))
    mime: str = Field(sa_type=String(80))
    size: int
    kind: str = Field(sa_type=String(16))  # "foto" or "dokumen"
    file_name: str = Field(default="", sa_type=String(255))
    file_id: str = Field(default="", sa_type=String(255))
    file_unique_id: str = Field(default="", sa_type=String(128))
    media_group_id: str = Field(default="", sa_type=String(64))
    caption: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    uploaded_by: int = Field(foreign_key="app_user.id")
    uploaded_at: datetime = Field(default_factory=utcnow)
    exif_time: str = Field(default="", sa_type=String(32))  # as the camera wrote it
    gps_lat: float | None = None
    gps_lon: float | None = None


# --- office groups ----------------------------------------------------------------------------


class GrupKantor(SQLModel, table=True):
    """A Telegram group registered with /grupkantor: the group of one office (its deadline
    notices and weekly digest) or, without an office, the kabupaten's (the pemantau's notices).
    A group serves one of them, and each of them has at most one group (``owner``)."""

    __tablename__ = "grup_kantor"
    __table_args__ = (UniqueConstraint("owner", name="uq_grup_kantor_owner"),)

    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    opd_id: int | None = Field(default=None, foreign_key="perangkat_daerah.id", index=True)
    owner: str = Field(sa_type=String(24))  # "opd:<id>" or "kabupaten"
    set_by: str = ""  # "user:<telegram id>", "migrasi", "telegram:migrasi-grup"
    set_at: datetime = Field(default_factory=utcnow)
