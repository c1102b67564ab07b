"""A bidang's quarterly submission: drafts, checks, submit, verify, reopen. No Telegram.

A draft holds everything entered so far and where the operator stands, in the database,
so nothing is lost when the chat or the bot stops. Submitting writes the figures at sub
kegiatan level (everything above is a roll-up), refuses to overwrite a figure someone else
changed since the draft began, and puts the bidang's quarter up for verification.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, select

from storage.data.audit import record
from storage.data.models import (
    AppUser,
    AuditLog,
    Bidang,
    CapaianSasaran,
    Draft,
    DraftStatus,
    IndikatorSasaran,
    Narasi,
    Node,
    Pelaporan,
    Realisasi,
    Report,
    Sasaran,
    Source,
    StatusLaporan,
    utcnow,
)
from storage.domain.numbers import (
    ParseError,
    format_percent,
    format_rupiah,
    parse_percent,
    parse_rupiah,
)
from storage.domain.periods import latest_ended_quarter, roman
from storage.domain.policy import (
    VERIFYING_ROLES,
    Denied,
    is_asked_to_verify,
    may_decide,
    may_reopen,
    may_submit,
)
from storage.domain.reported import quarter_value
from storage.services.queries import (
    Figure,
    NodeRow,
    bidang_sasaran_ids,
    cached,
    rollup,
    year_data,
    years_with_data,
)

MAX_TEXT = 500
NARASI_FIELDS = ("aksi", "hambatan", "tindak_lanjut")
NARASI_LABEL = {"aksi": "aksi", "hambatan": "hambatan", "tindak_lanjut": "tindak lanjut"}


class SubmissionError(ValueError):
    """Something the operator must be told; ``str()`` is Indonesian."""


class NotPermitted(SubmissionError):
    """A permission rule (``storage.domain.policy``) refused; the caller words ``reason``."""

    def __init__(self, reason: Denied, *, status: str = "") -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.status = status  # the report's status, for NOT_SUBMITTED


# --- the plan a draft walks through -----------------------------------------------------------


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
            out += [f"anggaran:{i}", f"fisik:{i}", f"ket:{i}"]
        out += [f"ind:{j}" for j in range(len(self.indikator))]
        for k in range(len(self.sasaran)):
            out += [f"{f}:{k}" for f in NARASI_FIELDS]
        return [*out, "review"]


def _prev_narasi(session: Session, sasaran_id: int, tw: int) -> dict[str, str]:
    rows = session.exec(
        select(Narasi)
        .where(Narasi.sasaran_id == sasaran_id, Narasi.triwulan < tw)
        .order_by(Narasi.triwulan.desc(), Narasi.urutan)  # type: ignore[attr-defined]
    ).all()
    if not rows:
        return {f: "" for f in NARASI_FIELDS}
    latest = rows[0].triwulan
    same = [r for r in rows if r.triwulan == latest]
    return {
        f: " ".join(getattr(r, f) for r in same if getattr(r, f)).strip() for f in NARASI_FIELDS
    }


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
    sasaran = sorted((data.sasaran[s] for s in sids), key=lambda s: s.nomor)
    own_report: dict[int, int] = {
        q: rid  # type: ignore[misc]
        for q, rid in session.exec(
            select(Report.triwulan, Report.id).where(
                Report.opd_id == bidang.opd_id, Report.tahun == tahun
            )
        ).all()
    }
    inds: list[IndItem] = []
    sas_items: list[SasaranItem] = []
    for s in sasaran:
        for ind in session.exec(
            select(IndikatorSasaran)
            .where(IndikatorSasaran.sasaran_id == s.id)
            .order_by(IndikatorSasaran.urutan)
        ).all():
            if ind.program_id is not None and not data.in_plan(ind.program_id, tw):
                continue
            cur_v = _indicator_value(session, ind.id, tw, own_report)  # type: ignore[arg-type]
            prev_v = _indicator_value(session, ind.id, tw - 1, own_report) if tw > 1 else None  # type: ignore[arg-type]
            target = (
                cur_v.target
                if cur_v and cur_v.target is not None
                else (prev_v.target if prev_v else None)
            )
            label = data.nodes[ind.program_id].nama if ind.program_id in data.nodes else ind.nama
            inds.append(
                IndItem(ind.id, s.nomor, label, target, prev_v.realisasi if prev_v else None)
            )
        sas_items.append(SasaranItem(s.id, s.nomor, s.teks, _prev_narasi(session, s.id, tw)))
    return DraftPlan(bidang, tahun, tw, subs, inds, sas_items)


# --- periods --------------------------------------------------------------------------------------


def propose_period(session: Session, opd_id: int, today: date) -> tuple[int, int] | None:
    """The latest ended quarter of a year that has a plan."""
    years = years_with_data(session, opd_id)
    if not years:
        return None
    tahun, tw = latest_ended_quarter(today)
    if tahun in years:
        return tahun, tw
    past = [y for y in years if y < tahun]
    return (past[-1], 4) if past else None


def pelaporan(session: Session, bidang_id: int, tahun: int, tw: int) -> Pelaporan | None:
    return session.exec(
        select(Pelaporan).where(
            Pelaporan.bidang_id == bidang_id, Pelaporan.tahun == tahun, Pelaporan.triwulan == tw
        )
    ).first()


def can_start(session: Session, bidang_id: int, tahun: int, tw: int) -> str | None:
    """Why a bidang's quarter cannot be filled in now (None: it can)."""
    if tahun not in years_with_data(session, session.get(Bidang, bidang_id).opd_id):  # type: ignore[union-attr]
        return (
            f"Tahun {tahun} belum memiliki rencana (program dan pagu). Minta admin menyiapkannya."
        )
    p = pelaporan(session, bidang_id, tahun, tw)
    if p is not None and p.status == StatusLaporan.DISETUJUI:
        return (
            f"Laporan TW {roman(tw)} {tahun} bidang ini sudah disetujui dan dikunci. "
            "Bila perlu diubah, minta admin membukanya kembali."
        )
    if p is not None and p.status == StatusLaporan.DIAJUKAN:
        return (
            f"Laporan TW {roman(tw)} {tahun} sudah diajukan dan sedang menunggu verifikasi. "
            "Tunggu hasilnya; bila dikembalikan, Anda dapat mengubahnya."
        )
    return None


# --- drafts ----------------------------------------------------------------------------------


def active_draft(session: Session, user_id: int) -> Draft | None:
    return session.exec(
        select(Draft).where(Draft.user_id == user_id, Draft.status == DraftStatus.AKTIF)
    ).first()


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
    if reason:
        raise SubmissionError(reason)
    old = active_draft(session, user.id)  # type: ignore[arg-type]
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
    for s in plan.subs:
        # A returned or reopened quarter starts from the figures already stored.
        cur = session.exec(
            select(Realisasi).where(Realisasi.node_id == s.node_id, Realisasi.triwulan == tw)
        ).first()
        if cur is not None and cur.anggaran is not None:
            items[str(s.node_id)] = {"anggaran": cur.anggaran, "fisik": cur.fisik, "ket": cur.ket}
    draft = Draft(
        bidang_id=user.bidang_id,
        tahun=tahun,
        triwulan=tw,
        user_id=user.id,  # type: ignore[arg-type]
        step=plan.steps()[0],
        data=json.dumps({"items": items, "ind": {}, "narasi": {}, "turun": []}),
        base=json.dumps(base),
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


@dataclass
class Check:
    value: object = None
    error: str = ""  # refused: say what to type instead
    confirm: str = ""  # accepted only after the operator confirms


def check_anggaran(item: SubItem, text: str) -> Check:
    try:
        value = parse_rupiah(text)
    except ParseError as exc:
        return Check(error=str(exc))
    if item.pagu is not None and value > item.pagu:
        return Check(
            error=(
                f"Realisasi {format_rupiah(value)} melebihi pagu {format_rupiah(item.pagu)}. "
                "Ketik realisasi kumulatif sampai akhir triwulan, paling banyak sebesar pagu."
            )
        )
    if item.prev_anggaran is not None and value < item.prev_anggaran:
        return Check(
            value=value,
            confirm=(
                f"Realisasi kumulatif {format_rupiah(value)} lebih kecil daripada triwulan lalu "
                f"({format_rupiah(item.prev_anggaran)}). Angka kumulatif biasanya tidak turun. "
                "Tetap pakai angka ini? (akan dicatat sebagai temuan)"
            ),
        )
    return Check(value=value)


def check_fisik(text: str) -> Check:
    try:
        value = parse_percent(text)
    except ParseError as exc:
        return Check(error=str(exc))
    if not 0 <= value <= 100:
        return Check(
            error=(
                f"Realisasi fisik {format_percent(value)} di luar 0–100%. Ketik angka 0 sampai "
                "100, misalnya 45 atau 45,5."
            )
        )
    return Check(value=round(value, 2))


def clean_text(text: str) -> Check:
    t = " ".join((text or "").split())
    if not t:
        return Check(error="Teks kosong. Ketik isinya, atau pilih tombol yang tersedia.")
    return Check(value=t[:MAX_TEXT])


# --- review ----------------------------------------------------------------------------------


@dataclass
class Review:
    plan: DraftPlan
    data: dict
    programs: list[tuple[str, Figure]]
    bidang: Figure
    notes: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


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
    sids = bidang_sasaran_ids(stored, bidang.id)  # type: ignore[arg-type]
    # Submitting leaves programs and kegiatan of the bidang without figures of their own
    # for the quarter, so that they roll up from what was entered; preview the same.
    leaf_ids = {s.node_id for s in plan.subs}
    for nid, node in stored.nodes.items():
        if node.sasaran_id in sids and nid not in leaf_ids:
            overrides[(nid, tw)] = None
    year = stored.with_realisasi(overrides)
    programs = [(p.nama, year.node_figure(p.id, tw)) for p in year.programs(tw, sids)]
    fig = rollup(f for _, f in programs)
    notes = []
    for nid in data.get("turun", []):
        s = next((x for x in plan.subs if x.node_id == nid), None)
        if s:
            notes.append(
                f"'{s.nama}': realisasi kumulatif turun dari "
                f"{format_rupiah(s.prev_anggaran)} menjadi "
                f"{format_rupiah(items.get(str(nid), {}).get('anggaran'))}."
            )
    missing = [s.nama for s in plan.subs if items.get(str(s.node_id), {}).get("anggaran") is None]
    return Review(plan, data, programs, fig, notes, missing)


# --- submit, verify, reopen ------------------------------------------------------------------


@dataclass
class Conflict:
    nama: str
    theirs: int | None
    mine: int | None


def submit(session: Session, draft: Draft, *, user: AppUser) -> list[Conflict]:
    """Write the draft's figures; returns conflicts (and writes nothing) if any."""
    from storage.services.validator import validate_year

    if draft.status != DraftStatus.AKTIF:
        raise SubmissionError("Draf ini sudah dikirim atau dibatalkan.")
    if user.id != draft.user_id:
        raise SubmissionError("Draf ini milik pengguna lain.")
    reason = can_start(session, draft.bidang_id, draft.tahun, draft.triwulan)
    if reason:
        raise SubmissionError(reason)
    rv = review(session, draft)
    if rv.missing:
        raise SubmissionError(
            "Masih ada sub kegiatan tanpa realisasi anggaran: "
            + "; ".join(rv.missing[:5])
            + ". Lengkapi dulu lewat tombol Ubah."
        )
    tw, actor = draft.triwulan, f"user:{user.telegram_id}"
    base = json.loads(draft.base or "{}")
    items = rv.data.get("items", {})
    current = {
        r.node_id: r
        for r in session.exec(
            select(Realisasi).where(
                Realisasi.node_id.in_([s.node_id for s in rv.plan.subs]),
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
    if conflicts:
        return conflicts
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
        cur.anggaran, cur.fisik, cur.ket = it["anggaran"], it.get("fisik"), it.get("ket") or ""
        cur.source, cur.report_id, cur.row_no = Source.ENTRY, None, None
        cur.entered_by, cur.updated_at, cur.version = user.id, utcnow(), cur.version + 1
        session.add(cur)
    # Figures of programs and kegiatan for this quarter are roll-ups now.
    leaf_ids = {s.node_id for s in rv.plan.subs}
    upper = [
        n.id
        for n in session.exec(
            select(Node).where(
                Node.sasaran_id.in_([x.sasaran_id for x in rv.plan.sasaran])  # type: ignore[attr-defined]
            )
        ).all()
        if n.id not in leaf_ids
    ]
    if upper:
        for r in session.exec(
            select(Realisasi).where(Realisasi.triwulan == tw, Realisasi.node_id.in_(upper))
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
    for s in rv.plan.sasaran:
        nar = rv.data.get("narasi", {}).get(str(s.sasaran_id))
        if not nar:
            continue
        for old in session.exec(
            select(Narasi).where(Narasi.sasaran_id == s.sasaran_id, Narasi.triwulan == tw)
        ).all():
            session.delete(old)
        session.add(
            Narasi(
                sasaran_id=s.sasaran_id,
                triwulan=tw,
                aksi=nar.get("aksi", ""),
                hambatan=nar.get("hambatan", ""),
                tindak_lanjut=nar.get("tindak_lanjut", ""),
                source=Source.ENTRY,
            )
        )
    p = pelaporan(session, draft.bidang_id, draft.tahun, tw) or Pelaporan(
        bidang_id=draft.bidang_id, tahun=draft.tahun, triwulan=tw
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
    return []


def verifiers(session: Session, *, submitted_by: int | None = None) -> list[AppUser]:
    """Who is asked to verify a submission (``policy.is_asked_to_verify``)."""
    candidates = session.exec(
        select(AppUser)
        .where(AppUser.role.in_([r.value for r in VERIFYING_ROLES]))  # type: ignore[union-attr]
        .order_by(AppUser.id)
    ).all()
    return [
        u
        for u in candidates
        if is_asked_to_verify(role=u.role, status=u.status, user_id=u.id, submitted_by=submitted_by)
    ]


def decide(
    session: Session, *, pelaporan_id: int, user: AppUser, approve: bool, alasan: str = ""
) -> Pelaporan:
    """Approve (locks the quarter) or return with a reason."""
    p = session.get(Pelaporan, pelaporan_id)
    if p is None:
        raise SubmissionError("Laporan tidak ditemukan.")
    denied = may_decide(
        role=user.role,
        status=user.status,
        user_id=user.id,
        submitted_by=p.submitted_by,
        report_status=p.status,
    )
    if denied is not None:
        raise NotPermitted(denied, status=p.status)
    if not approve and not alasan.strip():
        raise SubmissionError("Alasan pengembalian wajib diisi.")
    old = p.status
    p.status = StatusLaporan.DISETUJUI if approve else StatusLaporan.DIKEMBALIKAN
    p.decided_by, p.decided_at, p.alasan = user.id, utcnow(), alasan.strip()[:MAX_TEXT]
    session.add(p)
    record(
        session,
        actor=f"user:{user.telegram_id}",
        entity="pelaporan",
        entity_id=p.id,
        field="status",
        old=old,
        new=p.status,
    )
    session.flush()
    return p


def reopen(session: Session, *, bidang_id: int, tahun: int, tw: int, user: AppUser) -> Pelaporan:
    """Admin: unlock an approved quarter so its bidang can change it ("buka kembali")."""
    p = pelaporan(session, bidang_id, tahun, tw)
    denied = may_reopen(role=user.role, status=user.status, report_status=p.status if p else None)
    if denied is not None or p is None:
        raise NotPermitted(denied or Denied.NOT_APPROVED)
    old = p.status
    p.status, p.decided_by, p.decided_at = StatusLaporan.DIKEMBALIKAN, user.id, utcnow()
    p.alasan = "Dibuka kembali oleh admin"
    session.add(p)
    record(
        session,
        actor=f"user:{user.telegram_id}",
        entity="pelaporan",
        entity_id=p.id,
        field="buka kembali",
        old=old,
        new=p.status,
    )
    session.flush()
    return p


def history(session: Session, node_id: int) -> list[AuditLog]:
    """Every recorded change of a node's figures, oldest first."""
    return list(
        session.exec(
            select(AuditLog)
            .where(AuditLog.entity.in_(["realisasi", "node_plan"]), AuditLog.entity_id == node_id)  # type: ignore[attr-defined]
            .order_by(AuditLog.at, AuditLog.id)
        ).all()
    )


def bidang_of(session: Session, node_id: int) -> int | None:
    node = session.get(Node, node_id)
    if node is None:
        return None
    sas = session.get(Sasaran, node.sasaran_id)
    return sas.bidang_id if sas else None
