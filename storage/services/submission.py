"""A bidang's quarterly submission: drafts, checks, submit, verify, reopen. No Telegram.

A draft holds everything entered so far and where the operator stands, in the database,
so nothing is lost when the chat or the bot stops. Submitting writes the figures at sub
kegiatan level (everything above is a roll-up), refuses to overwrite a figure someone else
changed since the draft began, and puts the bidang's quarter up for verification.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.data.audit import record
from storage.data.models import (
    AppUser,
    AuditLog,
    Bidang,
    Bukti,
    CapaianSasaran,
    Draft,
    DraftStatus,
    Finding,
    FindingKind,
    ImportedReport,
    IndikatorSasaran,
    Narasi,
    Node,
    Pelaporan,
    Realisasi,
    Sasaran,
    Source,
    StatusLaporan,
    row_id,
    utcnow,
)
from storage.domain.errors import MonevError
from storage.domain.lapor_steps import REVIEW, step_id
from storage.domain.numbers import (
    ParseError,
    format_percent,
    parse_percent,
    parse_rupiah,
)
from storage.domain.periods import latest_ended_quarter, roman
from storage.domain.policy import (
    VERIFYING_ROLES,
    Denied,
    is_asked_to_verify,
    may_see_history,
    may_see_office,
    may_submit,
)
from storage.domain.reported import quarter_value
from storage.domain.text import clean_line, has_hidden, strip_control
from storage.services.queries import (
    Figure,
    NodeRow,
    YearData,
    bidang_sasaran_ids,
    cached,
    rollup,
    year_data,
    years_with_data,
)

MAX_TYPED = 500  # characters kept of a typed note (keterangan, narasi, alasan): an input bound
NARASI_FIELDS = ("aksi", "hambatan", "tindak_lanjut")
NARASI_LABEL = {"aksi": "aksi", "hambatan": "hambatan", "tindak_lanjut": "tindak lanjut"}


@dataclass
class Conflict:
    nama: str
    theirs: int | None
    mine: int | None


class SubmissionError(MonevError, ValueError):
    """Something the operator must be told; ``str()`` is Indonesian."""


class NotPermitted(SubmissionError):
    """A permission rule (``storage.domain.policy``) refused; the caller words ``reason``."""

    def __init__(self, reason: Denied, *, status: str = "") -> None:
        super().__init__(detail=reason.value)
        self.reason = reason
        self.status = status  # the report's status, for NOT_SUBMITTED


@dataclass(frozen=True)
class Overtaken:
    """Another submission of the same bidang-quarter came after the draft began."""

    oleh: str
    at: datetime | None
    status: str
    version: int  # the version the operator is shown; submitting over it names it
    figures: list[Conflict]


# --- why a quarter cannot be filled in (worded by bot/views/lapor.closed) -------------------


@dataclass(frozen=True)
class NoPlanYear:
    """The office has no plan (programs and pagu) for the year."""

    tahun: int


@dataclass(frozen=True)
class QuarterApproved:
    """The bidang's report of the quarter is approved, hence locked."""

    tahun: int
    triwulan: int


@dataclass(frozen=True)
class QuarterWaiting:
    """The bidang's report of the quarter waits for verification."""

    tahun: int
    triwulan: int


Closed = NoPlanYear | QuarterApproved | QuarterWaiting


class QuarterClosed(SubmissionError):
    """The quarter cannot be filled in now; the caller words ``reason``."""

    def __init__(self, reason: Closed) -> None:
        super().__init__(detail=type(reason).__name__)
        self.reason = reason


class OutdatedDraft(SubmissionError):
    """The draft began before another submission of its quarter: nothing was written."""

    def __init__(self, overtaken: Overtaken) -> None:
        super().__init__("Laporan triwulan ini sudah dikirim orang lain sejak draf Anda dimulai.")
        self.overtaken = overtaken


# --- the plan a draft walks through -----------------------------------------------------------


@dataclass(frozen=True)
class AboveFigure:
    """Last quarter's figure of the nearest level above a sub kegiatan that has none of its
    own (the quarter was reported at kegiatan or program level): what a drop is checked
    against once every sub kegiatan under that level has a figure."""

    level: str  # "kegiatan", "program"
    nama: str
    prev: int
    subs: tuple[int, ...]  # node ids of the plan's sub kegiatan under that level
    whole_bidang: bool  # those are all the bidang's sub kegiatan: its total is the bidang's


@dataclass
class SubItem:
    node_id: int
    nama: str
    program: str
    kegiatan: str
    pagu: int | None
    target: str
    prev_anggaran: int | None
    prev_fisik: float | None
    current_version: int  # 0 when there is no figure yet
    above: AboveFigure | None = None


@dataclass
class IndItem:
    indikator_id: int
    sasaran_nomor: int
    nama: str
    target: float | None
    prev_r: float | None


@dataclass
class SasaranItem:
    sasaran_id: int
    nomor: int
    teks: str
    prev: dict[str, str]  # previous quarter's aksi / hambatan / tindak lanjut


@dataclass
class DraftPlan:
    bidang: Bidang
    tahun: int
    triwulan: int
    subs: list[SubItem]
    indikator: list[IndItem]
    sasaran: list[SasaranItem]

    def steps(self) -> list[str]:
        """The questions in order: figures per sub kegiatan, indicators, then narrative."""
        out = []
        for i in range(len(self.subs)):
            out += [step_id("anggaran", i), step_id("fisik", i), step_id("ket", i)]
        out += [step_id("ind", j) for j in range(len(self.indikator))]
        for k in range(len(self.sasaran)):
            out += [step_id(f, k) for f in NARASI_FIELDS]
        return [*out, REVIEW]


def _prev_narasi(session: Session, sasaran_id: int, tw: int) -> dict[str, str]:
    rows = session.exec(
        select(Narasi)
        .where(Narasi.sasaran_id == sasaran_id, Narasi.triwulan < tw)
        .order_by(col(Narasi.triwulan).desc(), col(Narasi.urutan))
    ).all()
    if not rows:
        return {f: "" for f in NARASI_FIELDS}
    latest = rows[0].triwulan
    return join_narasi([r for r in rows if r.triwulan == latest])


def join_notes(texts: Iterable[str]) -> str:
    """The notes of several rows of one quarter as one text, each distinct note once.

    A report repeats a sasaran's notes on every program row it covers (merged cells read
    once per row): joining them as they are doubled the text the operator was offered."""
    seen: set[str] = set()
    out: list[str] = []
    for t in texts:
        t = " ".join((t or "").split())
        if t and t.casefold() not in seen:
            seen.add(t.casefold())
            out.append(t)
    return " ".join(out)


def join_narasi(rows: Sequence[Narasi]) -> dict[str, str]:
    """Aksi, hambatan and tindak lanjut of one quarter's rows, each distinct note once."""
    return {f: join_notes(getattr(r, f) for r in rows) for f in NARASI_FIELDS}


def _indicator_value(
    session: Session, indikator_id: int, tw: int, own_report: dict[int, int]
) -> CapaianSasaran | None:
    vals = session.exec(
        select(CapaianSasaran).where(
            CapaianSasaran.indikator_id == indikator_id, CapaianSasaran.triwulan == tw
        )
    ).all()
    return quarter_value(((v.report_id, v) for v in vals), own_report.get(tw))


def draft_plan(session: Session, bidang_id: int, tahun: int, tw: int) -> DraftPlan:
    """What a bidang's report for the quarter asks for (cached per data version)."""
    return cached(
        session,
        "draft_plan",
        (bidang_id, tahun, tw),
        lambda: _draft_plan(session, bidang_id, tahun, tw),
    )


def _draft_plan(session: Session, bidang_id: int, tahun: int, tw: int) -> DraftPlan:
    bidang = session.get(Bidang, bidang_id)
    assert bidang is not None
    data = year_data(session, bidang.opd_id, tahun)
    sids = bidang_sasaran_ids(data, bidang_id)
    subs = []
    for leaf in data.sub_kegiatan(tw, sids):
        chain = []
        n: NodeRow | None = leaf
        while n is not None:
            chain.append(n)
            n = data.nodes.get(n.parent_id) if n.parent_id else None
        program = chain[-1].nama
        kegiatan = chain[-2].nama if len(chain) >= 3 else (chain[0].nama if len(chain) == 2 else "")
        plan = data.plan(leaf.id, tw)
        prev = data.real.get((leaf.id, tw - 1)) if tw > 1 else None
        cur = data.real.get((leaf.id, tw))
        subs.append(
            SubItem(
                node_id=leaf.id,
                nama=leaf.nama,
                program=program,
                kegiatan=kegiatan,
                pagu=plan.pagu if plan else None,
                target=plan.target if plan else "",
                prev_anggaran=prev.anggaran if prev else None,
                prev_fisik=prev.fisik if prev else None,
                current_version=cur.version if cur else 0,
            )
        )
    _above_figures(data, subs, tw)
    sasaran = sorted((data.sasaran[s] for s in sids), key=lambda s: s.nomor)
    own_report: dict[int, int] = {
        q: rid  # type: ignore[misc]
        for q, rid in session.exec(
            select(ImportedReport.triwulan, ImportedReport.id).where(
                ImportedReport.opd_id == bidang.opd_id, ImportedReport.tahun == tahun
            )
        ).all()
    }
    inds: list[IndItem] = []
    sas_items: list[SasaranItem] = []
    for s in sasaran:
        for ind in session.exec(
            select(IndikatorSasaran)
            .where(IndikatorSasaran.sasaran_id == s.id)
            .order_by(col(IndikatorSasaran.urutan))
        ).all():
            if ind.program_id is not None and not data.in_plan(ind.program_id, tw):
                continue
            cur_v = _indicator_value(session, row_id(ind), tw, own_report)
            prev_v = _indicator_value(session, row_id(ind), tw - 1, own_report) if tw > 1 else None
            target = (
                cur_v.target
                if cur_v and cur_v.target is not None
                else (prev_v.target if prev_v else None)
            )
            label = data.nodes[ind.program_id].nama if ind.program_id in data.nodes else ind.nama
            inds.append(
                IndItem(row_id(ind), s.nomor, label, target, prev_v.realisasi if prev_v else None)
            )
        sas_items.append(
            SasaranItem(row_id(s), s.nomor, s.teks, _prev_narasi(session, row_id(s), tw))
        )
    return DraftPlan(bidang, tahun, tw, subs, inds, sas_items)


def _above_figures(data: YearData, subs: list[SubItem], tw: int) -> None:
    """For each sub kegiatan without last quarter's figure: the nearest level above it that
    has one (``SubItem.above``)."""
    if tw <= 1:
        return
    leaves = {s.node_id for s in subs}
    under: dict[int, list[int]] = {}  # ancestor -> plan sub kegiatan under it
    chains: dict[int, list[NodeRow]] = {}
    for s in subs:
        chain: list[NodeRow] = []
        n = data.nodes.get(s.node_id)
        n = data.nodes.get(n.parent_id) if n is not None and n.parent_id else None
        while n is not None:
            chain.append(n)
            under.setdefault(n.id, []).append(s.node_id)
            n = data.nodes.get(n.parent_id) if n.parent_id else None
        chains[s.node_id] = chain
    for s in subs:
        if s.prev_anggaran is not None:
            continue
        for n in chains[s.node_id]:
            prev = data.real.get((n.id, tw - 1))
            if prev is None or prev.anggaran is None:
                continue
            group = tuple(x for x in under[n.id] if x in leaves)
            above = AboveFigure(
                level=str(n.level).replace("_", " "),
                nama=n.nama,
                prev=prev.anggaran,
                subs=group,
                whole_bidang=set(group) == leaves,
            )
            # Every sub kegiatan of the group carries it: whichever is typed last (one with
            # a figure of its own too) completes the level's total and is asked.
            for member in subs:
                if member.node_id in group and member.above is None:
                    member.above = above
            break


def above_total(item: SubItem, items: dict, value: int | None = None) -> int | None:
    """The total of ``item.above``'s level with ``value`` for this sub kegiatan (default:
    the draft's), or None while a sub kegiatan under it has no figure yet."""
    if item.above is None:
        return None
    total = 0
    for nid in item.above.subs:
        v = value if nid == item.node_id and value is not None else None
        if v is None:
            v = items.get(str(nid), {}).get("anggaran")
        if v is None:
            return None
        total += v
    return total


def above_drop(item: SubItem, total: int, tw: int, bidang: str) -> LevelDrop:
    """A level's total falling below last quarter's, with where that figure was reported."""
    a = item.above
    assert a is not None
    return LevelDrop(
        level=a.level,
        nama=a.nama,
        whole_bidang=a.whole_bidang,
        bidang=bidang,
        prev=a.prev,
        total=total,
        triwulan=tw,
    )


# --- periods --------------------------------------------------------------------------------------


def propose_period(
    session: Session, opd_id: int, today: date, *, bidang_id: int | None = None
) -> tuple[int, int] | None:
    """The latest ended quarter of a year that has a plan; with ``bidang_id``, the latest
    one that bidang still has to report (neither waiting for verification nor approved)."""
    years = years_with_data(session, opd_id)
    if not years:
        return None
    tahun, tw = latest_ended_quarter(today)
    if tahun not in years:
        past = [y for y in years if y < tahun]
        if not past:
            return None
        tahun, tw = past[-1], 4
    if bidang_id is None:
        return tahun, tw
    done = {
        (p.tahun, p.triwulan)
        for p in session.exec(
            select(Pelaporan).where(
                Pelaporan.bidang_id == bidang_id,
                col(Pelaporan.status).in_([StatusLaporan.DIAJUKAN, StatusLaporan.DISETUJUI]),
            )
        ).all()
    }
    y, q = tahun, tw
    while y in years:
        if (y, q) not in done:
            return y, q
        y, q = (y, q - 1) if q > 1 else (y - 1, 4)
    return None


def pelaporan(session: Session, bidang_id: int, tahun: int, tw: int) -> Pelaporan | None:
    return session.exec(
        select(Pelaporan).where(
            Pelaporan.bidang_id == bidang_id, Pelaporan.tahun == tahun, Pelaporan.triwulan == tw
        )
    ).first()


def can_start(session: Session, bidang_id: int, tahun: int, tw: int) -> Closed | None:
    """Why a bidang's quarter cannot be filled in now (None: it can)."""
    bidang = session.get(Bidang, bidang_id)
    assert bidang is not None, bidang_id
    if tahun not in years_with_data(session, bidang.opd_id):
        return NoPlanYear(tahun)
    p = pelaporan(session, bidang_id, tahun, tw)
    if p is not None and p.status == StatusLaporan.DISETUJUI:
        return QuarterApproved(tahun, tw)
    if p is not None and p.status == StatusLaporan.DIAJUKAN:
        return QuarterWaiting(tahun, tw)
    return None


# --- drafts ----------------------------------------------------------------------------------


def active_draft(session: Session, user_id: int, *, lock: bool = False) -> Draft | None:
    """The user's draft being filled in; ``lock``: held until the transaction ends (the chat
    and the Mini App form write one draft: on PostgreSQL the second writer waits and then
    reads what the first saved; SQLite write transactions queue anyway)."""
    q = select(Draft).where(Draft.user_id == user_id, Draft.status == DraftStatus.AKTIF)
    return session.exec(q.with_for_update() if lock else q).first()


def load(draft: Draft) -> dict:
    return json.loads(draft.data or "{}")


def start_draft(session: Session, *, user: AppUser, tahun: int, tw: int) -> Draft:
    """A fresh draft for the user's bidang (an existing active one is cancelled)."""
    denied = may_submit(
        role=user.role, status=user.status, user_bidang_id=user.bidang_id, bidang_id=None
    )
    if denied is not None or user.bidang_id is None:
        raise NotPermitted(denied or Denied.NOT_OPERATOR)
    reason = can_start(session, user.bidang_id, tahun, tw)
    if reason is not None:
        raise QuarterClosed(reason)
    old = active_draft(session, row_id(user))
    if old is not None:
        old.status = DraftStatus.DIBATALKAN
        session.add(old)
    plan = draft_plan(session, user.bidang_id, tahun, tw)
    if not plan.subs:
        raise SubmissionError(
            f"Tidak ada sub kegiatan bidang ini dalam rencana TW {roman(tw)} {tahun}."
        )
    base = {str(s.node_id): s.current_version for s in plan.subs}
    items = {}
    turun: list = []
    for s in plan.subs:
        # A returned or reopened quarter starts from the figures already stored.
        cur = session.exec(
            select(Realisasi).where(Realisasi.node_id == s.node_id, Realisasi.triwulan == tw)
        ).first()
        if cur is not None and cur.anggaran is not None:
            items[str(s.node_id)] = {"anggaran": cur.anggaran, "fisik": cur.fisik, "ket": cur.ket}
            # A drop confirmed in the earlier submission stays a finding.
            if s.prev_anggaran is not None and cur.anggaran < s.prev_anggaran:
                turun.append(s.node_id)
            if s.prev_fisik is not None and cur.fisik is not None and cur.fisik < s.prev_fisik:
                turun.append(f"fisik:{s.node_id}")
    for s in plan.subs:
        total = above_total(s, items) if s.above else None
        dropped = s.above is not None and total is not None and total < s.above.prev
        if dropped and s.node_id not in turun:
            turun.append(s.node_id)
    p = pelaporan(session, user.bidang_id, tahun, tw)
    submitted = p is not None and p.source == Source.ENTRY and p.status != StatusLaporan.DRAFT
    ind_vals: dict[str, float] = {}
    narasi: dict[str, dict[str, str]] = {}
    if submitted:
        # The operator's own indicators and notes of the earlier submission, so that every
        # step offers them first ("Tetap: …") and nothing typed before is lost.
        for ind in plan.indikator:
            row = next(
                (
                    v
                    for v in session.exec(
                        select(CapaianSasaran).where(
                            CapaianSasaran.indikator_id == ind.indikator_id,
                            CapaianSasaran.triwulan == tw,
                            CapaianSasaran.source == Source.ENTRY,
                        )
                    ).all()
                ),
                None,
            )
            if row is not None and row.realisasi is not None:
                ind_vals[str(ind.indikator_id)] = row.realisasi
                if ind.prev_r is not None and row.realisasi < ind.prev_r:
                    turun.append(f"ind:{ind.indikator_id}")
        for sas in plan.sasaran:
            rows = session.exec(
                select(Narasi)
                .where(Narasi.sasaran_id == sas.sasaran_id, Narasi.triwulan == tw)
                .order_by(col(Narasi.urutan))
            ).all()
            if rows:
                narasi[str(sas.sasaran_id)] = join_narasi(rows)
    data = {"items": items, "ind": ind_vals, "narasi": narasi, "turun": turun}
    if submitted:
        data["returned"] = True
    draft = Draft(
        bidang_id=user.bidang_id,
        tahun=tahun,
        triwulan=tw,
        user_id=row_id(user),
        step=plan.steps()[0],
        data=json.dumps(data),
        base=json.dumps(base),
        based_on=p.version if p is not None else 0,
    )
    session.add(draft)
    session.flush()
    return draft


def save(session: Session, draft: Draft, data: dict, step: str | None = None) -> Draft:
    draft.data = json.dumps(data)
    if step is not None:
        draft.step = step
    draft.updated_at = utcnow()
    session.add(draft)
    session.flush()
    return draft


def next_step(plan: DraftPlan, step: str, data: dict) -> str:
    """The step after ``step``; back to the review when the operator was changing one item
    (``data["editing"]`` names the last step of the item being changed)."""
    if data.get("editing") == step:
        data.pop("editing")
        return "review"
    steps = plan.steps()
    i = steps.index(step) if step in steps else -1
    return steps[min(i + 1, len(steps) - 1)]


# --- checks while typing ----------------------------------------------------------------------


class Measure(StrEnum):
    """What a percentage answer measures (the view names it)."""

    FISIK = "fisik"  # realisasi fisik of a sub kegiatan
    INDIKATOR = "ind"  # realisasi (R) of a sasaran's indicator


# Why a typed answer is refused (worded by bot/views/lapor.invalid).


@dataclass(frozen=True)
class Unparsed:
    """The text is not a figure; ``message`` is the parser's (``ParseError.user_message``)."""

    message: str


@dataclass(frozen=True)
class OverPagu:
    """A cumulative realisasi above the sub kegiatan's pagu."""

    value: int
    pagu: int


@dataclass(frozen=True)
class OutOfRange:
    """A percentage outside 0–100."""

    measure: Measure
    value: float


@dataclass(frozen=True)
class Blank:
    """Nothing left of the typed text (``hidden``: it held only invisible control
    characters)."""

    hidden: bool


Invalid = Unparsed | OverPagu | OutOfRange | Blank


# A cumulative figure below last quarter's: asked before it is kept, then a note of the
# review (worded by bot/views/lapor.drop_question and drop_note).


@dataclass(frozen=True)
class RupiahDrop:
    """Realisasi anggaran of sub kegiatan ``nama`` (empty while it is asked) went down."""

    value: int
    prev: int
    nama: str = ""


@dataclass(frozen=True)
class PercentDrop:
    """Realisasi fisik of a sub kegiatan, or an indicator's R (of sasaran ``sasaran``),
    went down; ``nama`` is empty while it is asked."""

    measure: Measure
    value: float
    prev: float
    nama: str = ""
    sasaran: int | None = None


@dataclass(frozen=True)
class LevelDrop:
    """With this figure, the total of ``level`` ``nama`` (of the whole bidang when
    ``whole_bidang``) falls below the figure it was reported with last quarter."""

    level: str  # "kegiatan", "program"
    nama: str
    whole_bidang: bool
    bidang: str
    prev: int
    total: int
    triwulan: int  # the quarter being reported


Drop = RupiahDrop | PercentDrop | LevelDrop


@dataclass
class Check:
    value: object = None
    error: Invalid | None = None  # refused: the view says what to type instead
    confirm: Drop | None = None  # accepted only after the operator confirms
    cleaned: bool = False  # control characters were removed from the typed text


def check_anggaran(
    item: SubItem, text: str, items: dict | None = None, where: tuple[int, str] | None = None
) -> Check:
    """A cumulative rupiah figure up to the pagu. Lower than last quarter's asks first; so
    does a sub kegiatan without one of its own whose figure (with the other sub kegiatan
    under the same level, ``items``) makes that level's total fall below the figure it was
    reported with last quarter (``where``: the quarter and the bidang)."""
    try:
        value = parse_rupiah(text)
    except ParseError as exc:
        return Check(error=Unparsed(exc.user_message))
    if item.pagu is not None and value > item.pagu:
        return Check(error=OverPagu(value, item.pagu))
    if item.prev_anggaran is not None and value < item.prev_anggaran:
        return Check(value=value, confirm=RupiahDrop(value, item.prev_anggaran))
    if items is not None and where is not None:
        total = above_total(item, items, value)
        if total is not None and item.above is not None and total < item.above.prev:
            return Check(value=value, confirm=above_drop(item, total, *where))
    return Check(value=value)


def check_fisik(text: str, prev: float | None = None, measure: Measure = Measure.FISIK) -> Check:
    """A percentage 0–100; lower than last quarter's cumulative ``prev`` asks first."""
    try:
        value = parse_percent(text)
    except ParseError as exc:
        return Check(error=Unparsed(exc.user_message))
    if not 0 <= value <= 100:
        return Check(error=OutOfRange(measure, value))
    value = round(value, 2)
    if prev is not None and value < prev:
        return Check(value=value, confirm=PercentDrop(measure, value, prev))
    return Check(value=value)


def clean_text(text: str) -> Check:
    # Control characters (NUL, ESC, ...) are invisible in Telegram, break the XLSX and are
    # refused by PostgreSQL; bidi overrides and zero-width characters change what a reader
    # sees: all are dropped here (``clean_line``), before the draft stores anything.
    t = clean_line(text)
    if not t:
        return Check(error=Blank(hidden=has_hidden(text or "")))
    return Check(value=t[:MAX_TYPED], cleaned=has_hidden(text or ""))


def drop_notes(plan: DraftPlan, data: dict) -> list[Drop]:
    """Every confirmed drop below last quarter's cumulative figure (the review's findings)."""
    items = data.get("items", {})
    notes: list[Drop] = []
    for key in data.get("turun", []):
        kind, _, ident = str(key).rpartition(":")
        if not ident.isdecimal():
            continue
        if kind == "ind":
            ind = next((x for x in plan.indikator if x.indikator_id == int(ident)), None)
            v = data.get("ind", {}).get(ident)
            if ind is not None and v is not None and ind.prev_r is not None and v < ind.prev_r:
                notes.append(
                    PercentDrop(
                        Measure.INDIKATOR, v, ind.prev_r, nama=ind.nama, sasaran=ind.sasaran_nomor
                    )
                )
            continue
        s = next((x for x in plan.subs if x.node_id == int(ident)), None)
        it = items.get(ident, {})
        if s is None:
            continue
        fisik, anggaran = it.get("fisik"), it.get("anggaran")
        if kind == "fisik":
            if s.prev_fisik is not None and fisik is not None and fisik < s.prev_fisik:
                notes.append(PercentDrop(Measure.FISIK, fisik, s.prev_fisik, nama=s.nama))
        elif anggaran is not None and s.prev_anggaran is not None and anggaran < s.prev_anggaran:
            notes.append(RupiahDrop(it["anggaran"], s.prev_anggaran, nama=s.nama))
        elif anggaran is not None and s.above is not None:
            total = above_total(s, items)
            if total is not None and total < s.above.prev:
                note = above_drop(s, total, plan.triwulan, plan.bidang.nama)
                if note not in notes:
                    notes.append(note)
    return notes


# --- review ----------------------------------------------------------------------------------


@dataclass
class Review:
    plan: DraftPlan
    data: dict
    programs: list[tuple[str, Figure]]
    bidang: Figure
    notes: list[Drop] = field(default_factory=list)  # confirmed drops: the review's findings
    missing: list[str] = field(default_factory=list)
    bukti: dict[int, int] = field(default_factory=dict)  # evidence items per sub kegiatan
    tanpa_bukti: list[str] = field(default_factory=list)  # realisasi rose, no evidence
    # What changed since the quarter's previous submission (None: there is none to compare).
    changes: Changes | None = None


@dataclass(frozen=True)
class SubChange:
    """A sub kegiatan's figures or keterangan changed: (before, now) of what differs."""

    nama: str
    anggaran: tuple[int | None, int | None] | None = None
    fisik: tuple[float | None, float | None] | None = None
    ket: tuple[str, str] | None = None


@dataclass(frozen=True)
class IndicatorChange:
    """An indicator's R changed."""

    sasaran: int
    nama: str
    before: float | None
    now: float | None


@dataclass(frozen=True)
class NarasiChange:
    """A sasaran's note (``field``: one of ``NARASI_FIELDS``) changed."""

    field: str
    sasaran: int
    before: str
    now: str


DraftChange = SubChange | IndicatorChange | NarasiChange


@dataclass(frozen=True)
class Changes:
    """Figures and notes of a submission that differ from the quarter's previous one."""

    version: int  # the version compared with
    lines: list[DraftChange]
    more: int = 0  # further changes left out (``MAX_CHANGE_LINES`` in all, with that line)


MAX_CHANGE_LINES = 15


def review(session: Session, draft: Draft) -> Review:
    """What the submission would give: figures per program and for the bidang, and notes."""
    plan = draft_plan(session, draft.bidang_id, draft.tahun, draft.triwulan)
    data = load(draft)
    bidang = plan.bidang
    stored = year_data(session, bidang.opd_id, draft.tahun)
    tw = draft.triwulan
    items = data.get("items", {})
    overrides: dict[tuple[int, int], Realisasi | None] = {}
    for s in plan.subs:
        it = items.get(str(s.node_id), {})
        if it.get("anggaran") is not None:
            overrides[(s.node_id, tw)] = Realisasi(
                node_id=s.node_id, triwulan=tw, anggaran=it["anggaran"], fisik=it.get("fisik")
            )
    sids = bidang_sasaran_ids(stored, row_id(bidang))
    # Submitting leaves programs and kegiatan of the bidang without figures of their own
    # for the quarter, so that they roll up from what was entered; preview the same.
    leaf_ids = {s.node_id for s in plan.subs}
    for nid, node in stored.nodes.items():
        if node.sasaran_id in sids and nid not in leaf_ids:
            overrides[(nid, tw)] = None
    year = stored.with_realisasi(overrides)
    programs = [(p.nama, year.node_figure(p.id, tw)) for p in year.programs(tw, sids)]
    fig = rollup(f for _, f in programs)
    notes = drop_notes(plan, data)
    missing = [s.nama for s in plan.subs if items.get(str(s.node_id), {}).get("anggaran") is None]
    bukti: dict[int, int] = {}
    for node_id in session.exec(select(Bukti.node_id).where(Bukti.draft_id == draft.id)).all():
        bukti[node_id] = bukti.get(node_id, 0) + 1
    # Money spent this quarter is what a verifier wants to see proof of.
    tanpa = [
        s.nama
        for s in plan.subs
        if (a := items.get(str(s.node_id), {}).get("anggaran")) is not None
        and a > (s.prev_anggaran or 0)
        and not bukti.get(s.node_id)
    ]
    changes = changes_since(session, draft, plan, data)
    return Review(plan, data, programs, fig, notes, missing, bukti, tanpa, changes)


def changes_since(session: Session, draft: Draft, plan: DraftPlan, data: dict) -> Changes | None:
    """How ``draft`` differs from the quarter's submission before it: every figure, fisik,
    keterangan, indicator and note that is not the same (at most ``MAX_CHANGE_LINES`` lines,
    then how many more)."""
    if not draft.based_on:
        return None
    before = session.exec(
        select(Draft)
        .where(
            Draft.bidang_id == draft.bidang_id,
            Draft.tahun == draft.tahun,
            Draft.triwulan == draft.triwulan,
            Draft.status == DraftStatus.DIKIRIM,
            col(Draft.id) < (draft.id or 0),
        )
        .order_by(col(Draft.id).desc())
    ).first()
    if before is None:
        return None
    old = load(before)
    lines: list[DraftChange] = []
    new_items, old_items = data.get("items", {}), old.get("items", {})
    for s in plan.subs:
        a, b = old_items.get(str(s.node_id), {}), new_items.get(str(s.node_id), {})
        change = SubChange(
            s.nama,
            anggaran=(
                (a.get("anggaran"), b.get("anggaran"))
                if a.get("anggaran") != b.get("anggaran")
                else None
            ),
            fisik=(a.get("fisik"), b.get("fisik")) if a.get("fisik") != b.get("fisik") else None,
            ket=(
                (a.get("ket") or "", b.get("ket") or "")
                if (a.get("ket") or "") != (b.get("ket") or "")
                else None
            ),
        )
        if change.anggaran or change.fisik or change.ket:
            lines.append(change)
    for ind in plan.indikator:
        a_r = old.get("ind", {}).get(str(ind.indikator_id))
        b_r = data.get("ind", {}).get(str(ind.indikator_id))
        if a_r != b_r:
            lines.append(IndicatorChange(ind.sasaran_nomor, ind.nama, a_r, b_r))
    for sas in plan.sasaran:
        a_n = old.get("narasi", {}).get(str(sas.sasaran_id), {})
        b_n = data.get("narasi", {}).get(str(sas.sasaran_id), {})
        for f in NARASI_FIELDS:
            if (a_n.get(f) or "") != (b_n.get(f) or ""):
                lines.append(NarasiChange(f, sas.nomor, a_n.get(f) or "", b_n.get(f) or ""))
    if len(lines) > MAX_CHANGE_LINES:
        more = len(lines) - (MAX_CHANGE_LINES - 1)
        return Changes(draft.based_on, lines[: MAX_CHANGE_LINES - 1], more)
    return Changes(draft.based_on, lines)


# --- submit, verify, reopen ------------------------------------------------------------------


def _claim(session: Session, draft: Draft) -> Pelaporan | None:
    """Compare-and-set: bump the quarter's version if it is still the one the draft began
    from (None: another submission came first). The row is created first when missing; on
    PostgreSQL the UPDATE waits for a concurrent submitter and then sees its new version, so
    of two operators pressing Kirim at once exactly one gets through."""
    key = (draft.bidang_id, draft.tahun, draft.triwulan)
    if pelaporan(session, *key) is None:
        try:
            with session.begin_nested():
                session.add(Pelaporan(bidang_id=key[0], tahun=key[1], triwulan=key[2], version=0))
        except IntegrityError:
            pass  # created by a concurrent submission: the version check decides
    p = pelaporan(session, *key)
    assert p is not None and p.id is not None
    claimed = session.execute(
        update(Pelaporan)
        .where(
            col(Pelaporan.id) == p.id,
            col(Pelaporan.version) == draft.based_on,
            col(Pelaporan.status) != StatusLaporan.DISETUJUI,
        )
        .values(version=Pelaporan.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    session.refresh(p)
    return p if claimed == 1 else None


def _figure_conflicts(
    session: Session, rv: Review, base: dict, *, tw: int
) -> tuple[list[Conflict], dict[int, Realisasi]]:
    items = rv.data.get("items", {})
    current = {
        r.node_id: r
        for r in session.exec(
            select(Realisasi).where(
                col(Realisasi.node_id).in_([s.node_id for s in rv.plan.subs]),
                Realisasi.triwulan == tw,
            )
        ).all()
    }
    conflicts = []
    for s in rv.plan.subs:
        cur = current.get(s.node_id)
        version = cur.version if cur else 0
        mine = items[str(s.node_id)]["anggaran"]
        if version != base.get(str(s.node_id), 0) and (cur is None or cur.anggaran != mine):
            conflicts.append(Conflict(s.nama, cur.anggaran if cur else None, mine))
    return conflicts, current


def submit(
    session: Session, draft: Draft, *, user: AppUser, over: int | None = None
) -> list[Conflict]:
    """Write the draft's figures; returns conflicts (and writes nothing) if any.

    Raises :class:`OutdatedDraft` (nothing written) when another submission of the quarter
    came after the draft began. ``over``: the operator saw that submission (its version)
    and chose to submit theirs over it; recorded in the audit trail."""
    from storage.services.validator import validate_year

    if draft.status != DraftStatus.AKTIF:
        raise SubmissionError("Draf ini sudah dikirim atau dibatalkan.")
    if user.id != draft.user_id:
        raise SubmissionError("Draf ini milik pengguna lain.")
    if over is not None:
        draft.based_on = over
    reason = can_start(session, draft.bidang_id, draft.tahun, draft.triwulan)
    current_p = pelaporan(session, draft.bidang_id, draft.tahun, draft.triwulan)
    if reason is not None and not (
        current_p is not None and current_p.status == StatusLaporan.DIAJUKAN
    ):
        raise QuarterClosed(reason)
    # A waiting report: replaced only by an operator who was shown it (``over``); the
    # version check below refuses everyone else and says who sent what.
    rv = review(session, draft)
    if rv.missing:
        raise SubmissionError(
            "Masih ada sub kegiatan tanpa realisasi anggaran: "
            + "; ".join(rv.missing[:5])
            + ". Lengkapi dulu lewat tombol Ubah."
        )
    tw, actor = draft.triwulan, f"user:{user.telegram_id}"
    base = json.loads(draft.base or "{}")
    if over is not None:
        # Submitting over what the operator was shown: its figures are the new base.
        _, current = _figure_conflicts(session, rv, base, tw=tw)
        base = {str(k): v.version for k, v in current.items()}
    p = _claim(session, draft)
    if p is None:
        conflicts, _ = _figure_conflicts(session, rv, base, tw=tw)
        raise OutdatedDraft(_overtaken(session, draft, conflicts))
    conflicts, current = _figure_conflicts(session, rv, base, tw=tw)
    if conflicts:
        # Changed outside a submission (CLI, import): give the claimed version back.
        p.version -= 1
        session.add(p)
        session.flush()
        return conflicts
    items = rv.data.get("items", {})
    if over is not None:
        record(
            session,
            actor=actor,
            entity="pelaporan",
            entity_id=p.id,
            field=f"kirim menimpa versi {over} TW {roman(tw)} {draft.tahun}",
            old=over,
            new=p.version,
        )
    for s in rv.plan.subs:
        it = items[str(s.node_id)]
        cur = current.get(s.node_id)
        if cur is None:
            cur = Realisasi(node_id=s.node_id, triwulan=tw, version=0)
        record(
            session,
            actor=actor,
            entity="realisasi",
            entity_id=s.node_id,
            field=f"anggaran TW {roman(tw)} {draft.tahun}",
            old=cur.anggaran,
            new=it["anggaran"],
        )
        if cur.fisik != it.get("fisik"):
            record(
                session,
                actor=actor,
                entity="realisasi",
                entity_id=s.node_id,
                field=f"fisik TW {roman(tw)} {draft.tahun}",
                old=cur.fisik,
                new=it.get("fisik"),
            )
        cur.anggaran, cur.fisik = it["anggaran"], it.get("fisik")
        cur.ket = strip_control(it.get("ket") or "")  # drafts saved before the check
        cur.source, cur.report_id, cur.row_no = Source.ENTRY, None, None
        cur.entered_by, cur.updated_at, cur.version = user.id, utcnow(), cur.version + 1
        session.add(cur)
    # Figures of programs and kegiatan for this quarter are roll-ups now.
    leaf_ids = {s.node_id for s in rv.plan.subs}
    upper = [
        n.id
        for n in session.exec(
            select(Node).where(col(Node.sasaran_id).in_([x.sasaran_id for x in rv.plan.sasaran]))
        ).all()
        if n.id not in leaf_ids
    ]
    if upper:
        for r in session.exec(
            select(Realisasi).where(
                col(Realisasi.triwulan) == tw, col(Realisasi.node_id).in_(upper)
            )
        ).all():
            record(
                session,
                actor=actor,
                entity="realisasi",
                entity_id=r.node_id,
                field=f"anggaran TW {roman(tw)} {draft.tahun}",
                old=r.anggaran,
                new=None,
            )
            session.delete(r)
    for ind in rv.plan.indikator:
        val = rv.data.get("ind", {}).get(str(ind.indikator_id))
        if val is None:
            continue
        row = next(
            (
                v
                for v in session.exec(
                    select(CapaianSasaran).where(
                        CapaianSasaran.indikator_id == ind.indikator_id,
                        CapaianSasaran.triwulan == tw,
                    )
                ).all()
                if v.source == Source.ENTRY
            ),
            None,
        ) or CapaianSasaran(indikator_id=ind.indikator_id, triwulan=tw, source=Source.ENTRY)
        record(
            session,
            actor=actor,
            entity="capaian_sasaran",
            entity_id=ind.indikator_id,
            field=f"R TW {roman(tw)}",
            old=row.realisasi,
            new=val,
        )
        row.realisasi, row.target = val, ind.target
        session.add(row)
    for sas in rv.plan.sasaran:
        nar = rv.data.get("narasi", {}).get(str(sas.sasaran_id))
        if not nar:
            continue
        for old in session.exec(
            select(Narasi).where(Narasi.sasaran_id == sas.sasaran_id, Narasi.triwulan == tw)
        ).all():
            session.delete(old)
        session.add(
            Narasi(
                sasaran_id=sas.sasaran_id,
                triwulan=tw,
                aksi=strip_control(nar.get("aksi", "")),
                hambatan=strip_control(nar.get("hambatan", "")),
                tindak_lanjut=strip_control(nar.get("tindak_lanjut", "")),
                source=Source.ENTRY,
            )
        )
    old_status = p.status
    p.status, p.source, p.report_id = StatusLaporan.DIAJUKAN, Source.ENTRY, None
    p.submitted_by, p.submitted_at, p.alasan = user.id, utcnow(), ""
    p.decided_by = p.decided_at = None
    session.add(p)
    # A first submission creates the row: its id goes into the audit entry, which is how
    # the figure cache knows which office-year changed.
    session.flush()
    record(
        session,
        actor=actor,
        entity="pelaporan",
        entity_id=p.id,
        field=f"status TW {roman(tw)} {draft.tahun}",
        old=old_status,
        new=p.status,
    )
    draft.status, draft.updated_at = DraftStatus.DIKIRIM, utcnow()
    session.add(draft)
    session.flush()
    validate_year(session, rv.plan.bidang.opd_id, draft.tahun)
    _indicator_drop_findings(session, rv, draft)
    return []


def _indicator_drop_findings(session: Session, rv: Review, draft: Draft) -> None:
    """Confirmed drops of an indicator's R are findings, like drops in rupiah and fisik
    (which the validator derives from the figures)."""
    sasaran_ids = [s.sasaran_id for s in rv.plan.sasaran]
    for old in session.exec(
        select(Finding).where(
            Finding.kind == FindingKind.INDICATOR_DOWN,
            Finding.tahun == draft.tahun,
            Finding.triwulan == draft.triwulan,
            col(Finding.sasaran_id).in_(sasaran_ids),
        )
    ).all():
        session.delete(old)
    by_id = {str(i.indikator_id): i for i in rv.plan.indikator}
    for key in rv.data.get("turun", []):
        kind, _, ident = str(key).rpartition(":")
        ind = by_id.get(ident) if kind == "ind" else None
        v = rv.data.get("ind", {}).get(ident)
        if ind is None or v is None or ind.prev_r is None or v >= ind.prev_r:
            continue
        sas = next(s for s in rv.plan.sasaran if s.nomor == ind.sasaran_nomor)
        session.add(
            Finding(
                opd_id=rv.plan.bidang.opd_id,
                tahun=draft.tahun,
                triwulan=draft.triwulan,
                kind=FindingKind.INDICATOR_DOWN,
                sasaran_id=sas.sasaran_id,
                message=(
                    f"TW {roman(draft.triwulan)} {draft.tahun}, sasaran {ind.sasaran_nomor} "
                    f"({ind.nama}): realisasi indikator turun dari {format_percent(ind.prev_r)} "
                    f"menjadi {format_percent(v)}; angka kumulatif biasanya tidak turun."
                ),
            )
        )
    session.flush()


def _overtaken(session: Session, draft: Draft, figures: list[Conflict]) -> Overtaken:
    p = pelaporan(session, draft.bidang_id, draft.tahun, draft.triwulan)
    assert p is not None
    who = session.get(AppUser, p.submitted_by) if p.submitted_by else None
    return Overtaken(
        oleh=(who.nama or str(who.telegram_id)) if who else "impor laporan",
        at=p.submitted_at,
        status=p.status,
        version=p.version,
        figures=figures,
    )


def sent_draft(session: Session, p: Pelaporan) -> Draft | None:
    """The draft of the quarter's latest submission (what its approvers are shown)."""
    return session.exec(
        select(Draft)
        .where(
            Draft.bidang_id == p.bidang_id,
            Draft.tahun == p.tahun,
            Draft.triwulan == p.triwulan,
            Draft.status == DraftStatus.DIKIRIM,
        )
        .order_by(col(Draft.updated_at).desc(), col(Draft.id).desc())
    ).first()


def verifiers(
    session: Session, *, submitted_by: int | None = None, opd_id: int | None = None
) -> list[AppUser]:
    """Who is asked to verify a submission (``policy.is_asked_to_verify``): with ``opd_id``,
    the people of that office only (``policy.may_see_office``)."""
    candidates = session.exec(
        select(AppUser)
        .where(col(AppUser.role).in_([r.value for r in VERIFYING_ROLES]))
        .order_by(col(AppUser.id))
    ).all()
    if opd_id is not None:
        candidates = [
            u
            for u in candidates
            if may_see_office(role=u.role, status=u.status, user_opd_id=u.opd_id, opd_id=opd_id)
            is None
        ]
    return [
        u
        for u in candidates
        if is_asked_to_verify(role=u.role, status=u.status, user_id=u.id, submitted_by=submitted_by)
    ]


def history(session: Session, node_id: int) -> list[AuditLog]:
    """Every recorded change of a node's figures, oldest first.

    The audit log names rows by id, not by office: the node is looked up first, through the
    session's office criteria, so a node outside the sender's office has no history."""
    if session.get(Node, node_id) is None:
        return []
    return list(
        session.exec(
            select(AuditLog)
            .where(
                col(AuditLog.entity).in_(["realisasi", "node_plan"]), AuditLog.entity_id == node_id
            )
            .order_by(col(AuditLog.at), col(AuditLog.id))
        ).all()
    )


@dataclass(frozen=True)
class Change:
    """One recorded change of a node's figure; ``who``: the person's name when a person
    made it (None: an import, the demo, the CLI: ``actor`` says which)."""

    at: datetime
    actor: str
    who: str | None
    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class NoNode:
    """Nothing of the office is named so."""


@dataclass(frozen=True)
class NodeChoices:
    """Several sub kegiatan fit the words: their names, never a guess among them."""

    names: list[str]


@dataclass(frozen=True)
class HistoryDenied:
    denied: Denied


@dataclass(frozen=True)
class NodeHistory:
    """Who changed the node's figures, oldest first (empty: nobody since the import)."""

    nama: str
    changes: list[Change]


HistoryOutcome = NoNode | NodeChoices | HistoryDenied | NodeHistory


def node_history(
    session: Session,
    *,
    user_role: str | None,
    user_status: str | None,
    user_bidang_id: int | None,
    opd_id: int,
    text: str,
) -> HistoryOutcome:
    """/riwayat: the change history of the sub kegiatan ``text`` names in office ``opd_id``,
    when the person may see it (``policy.may_see_history``)."""
    from storage.services.nodes import find_node

    match = find_node(session, opd_id=opd_id, text=text)
    if match.best is None:
        return NoNode()
    node = match.sure
    if node is None:
        return NodeChoices([n.nama for n in match.nodes])
    denied = may_see_history(
        role=user_role,
        status=user_status,
        user_bidang_id=user_bidang_id,
        bidang_id=bidang_of(session, row_id(node)),
    )
    if denied is not None:
        return HistoryDenied(denied)
    rows = history(session, row_id(node))
    ids = {
        int(a.actor[5:]) for a in rows if a.actor.startswith("user:") and a.actor[5:].isdecimal()
    }
    names = (
        {
            u.telegram_id: u.nama
            for u in session.exec(select(AppUser).where(col(AppUser.telegram_id).in_(ids))).all()
        }
        if ids
        else {}
    )
    changes = [
        Change(
            at=a.at if a.at.tzinfo else a.at.replace(tzinfo=UTC),
            actor=a.actor,
            who=(names.get(int(a.actor[5:])) or None)
            if a.actor.startswith("user:") and a.actor[5:].isdecimal()
            else None,
            field=a.field,
            old=a.old,
            new=a.new,
        )
        for a in rows
    ]
    return NodeHistory(node.nama, changes)


def bidang_of(session: Session, node_id: int) -> int | None:
    node = session.get(Node, node_id)
    if node is None:
        return None
    sas = session.get(Sasaran, node.sasaran_id)
    return sas.bidang_id if sas else None
