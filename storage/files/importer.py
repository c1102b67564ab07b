"""Importing parsed reports into the database.

Each report owns its quarter: importing it again changes nothing, importing a changed
copy replaces that quarter's imported figures and nothing else. Nodes are matched across
reports by name within their parent, tolerating the typos real reports carry.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import Table, bindparam, delete, func, insert, update
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, SQLModel, col, select

from storage.data.db import session_scope
from storage.data.models import (
    AuditLog,
    Bidang,
    CapaianSasaran,
    Finding,
    FindingKind,
    ImportedReport,
    IndikatorSasaran,
    Narasi,
    Node,
    NodePlan,
    Pelaporan,
    PerangkatDaerah,
    Realisasi,
    Sasaran,
    Source,
    StatusLaporan,
    row_id,
    table_of,
    utcnow,
)
from storage.data.statistics import analyze_imported
from storage.domain.numbers import format_percent, format_rupiah
from storage.domain.periods import roman
from storage.domain.text import normalise_name
from storage.files.report_parser import (
    BadFileError,
    ParsedNode,
    ParsedReport,
    ParsedSasaran,
    parse_lines,
    read_lines,
)

FUZZY_THRESHOLD = 90
PROFILES_FILE = Path(__file__).with_name("seed") / "profiles.json"


@dataclass
class BidangChange:
    """One bidang's figures of a quarter before and after an import replaces its report."""

    bidang: str
    rows_before: int  # nodes with a figure (anggaran or fisik)
    rows_after: int
    rupiah_before: int | None  # the bidang's realisation; None: incomplete ("belum lengkap")
    rupiah_after: int | None
    figures_changed: bool  # any node's figure differs
    approved: bool  # the bidang's quarter was disetujui before the import

    @property
    def shrinks(self) -> bool:
        return self.rows_after < self.rows_before or (
            self.rupiah_before is not None and self.rupiah_after is None
        )

    def line(self) -> str:
        def rp(v: int | None) -> str:
            return format_rupiah(v) if v is not None else "belum lengkap"

        mark = " (disetujui)" if self.approved else ""
        return (
            f"{self.bidang}{mark}: {self.rows_before} → {self.rows_after} baris berangka, "
            f"{rp(self.rupiah_before)} → {rp(self.rupiah_after)}"
        )


@dataclass
class ReportSummary:
    tahun: int
    triwulan: int
    status: str  # "baru", "diganti", "tidak berubah"
    nodes: int = 0
    new_nodes: int = 0
    figures: int = 0
    first_line: int = 0
    changes: list[BidangChange] = field(default_factory=list)  # only when "diganti"


@dataclass
class ImportSummary:
    file: str
    reports: list[ReportSummary] = field(default_factory=list)
    matches: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    findings: int = 0
    refusals: list[str] = field(default_factory=list)  # why the import may not be written
    dry_run: bool = False
    finding_messages: list[str] = field(default_factory=list)  # of the (last) year written
    file_office: str = ""  # the office the file's title names ("" when it names none)
    target_office: str = ""  # the office the figures go to

    def office_lines(self) -> list[str]:
        if not self.target_office:
            return []
        named = self.file_office or "(berkas tidak menyebut perangkat daerah)"
        return [f"Perangkat daerah menurut berkas: {named}", f"Diimpor ke: {self.target_office}"]

    def diff_lines(self) -> list[str]:
        out: list[str] = []
        for r in self.reports:
            changed = [c for c in r.changes if c.figures_changed or c.shrinks]
            if changed:
                out.append(f"Perubahan TW {roman(r.triwulan)} {r.tahun} per bidang:")
                out.extend(f"  • {c.line()}" for c in changed)
        return out

    def lines(self) -> list[str]:
        head = "Uji coba impor (tidak ada yang disimpan)" if self.dry_run else "Impor"
        out = [f"{head} {self.file}: {len(self.reports)} laporan."]
        out.extend(self.office_lines())
        for r in self.reports:
            out.append(
                f"- TW {roman(r.triwulan)} {r.tahun} (baris {r.first_line}): {r.status}; "
                f"{r.nodes} program/kegiatan/sub kegiatan ({r.new_nodes} baru), "
                f"{r.figures} angka realisasi."
            )
        out.extend(self.diff_lines())
        if self.dry_run and self.refusals:
            out.append("Impor sungguhan akan DITOLAK:")
            out.extend(f"  • {m}" for m in self.refusals)
        if self.matches:
            out.append("Nama yang berbeda tetapi dianggap sama:")
            out.extend(f"  • {m}" for m in self.matches)
        if self.problems:
            out.append("Sel yang tidak terbaca (dilewati):")
            out.extend(f"  • {p}" for p in self.problems)
        out.append(f"Temuan validasi tahun ini: {self.findings}. Lihat: monev findings --tahun …")
        return out


class ImportRefused(BadFileError):
    """The file would shrink or change figures it may not change; nothing was written."""

    def __init__(self, summary: ImportSummary) -> None:
        self.summary = summary
        super().__init__("\n".join([*summary.refusals, *summary.diff_lines()]))


def load_profiles() -> list[dict]:
    return json.loads(PROFILES_FILE.read_text(encoding="utf-8"))


def ensure_opd(session: Session, nama: str, *, tempat: str = "") -> PerangkatDaerah:
    """The office of this name; created with its bidang from a known profile if new."""
    key = normalise_name(nama)
    for opd in session.exec(select(PerangkatDaerah)).all():
        if normalise_name(opd.nama) == key:
            return opd
    profile = next((p for p in load_profiles() if normalise_name(p["nama"]) == key), None)
    opd = PerangkatDaerah(
        nama=nama,
        tempat=tempat or (profile or {}).get("tempat", ""),
        singkatan=(profile or {}).get("singkatan"),
        aliases=",".join((profile or {}).get("aliases", [])),
    )
    session.add(opd)
    session.flush()
    for i, b in enumerate((profile or {}).get("bidang", [])):
        session.add(
            Bidang(
                opd_id=row_id(opd),
                kode=b["kode"],
                nama=b["nama"],
                aliases=",".join(b.get("aliases", [])),
                sasaran=",".join(str(n) for n in b.get("sasaran", [])),
                urutan=i,
            )
        )
    session.add(AuditLog(actor="system", entity="perangkat_daerah", entity_id=opd.id, new=nama))
    session.flush()
    return opd


def import_file(
    engine: Engine,
    path: Path,
    *,
    tahun: int | None = None,
    opd_id: int | None = None,
    actor: str | None = None,
    replace: bool = False,
    dry_run: bool = False,
    other_office: bool = False,
) -> ImportSummary:
    """Import every report in ``path`` in one transaction; a bad file changes nothing.

    A quarter that already has a report is replaced only when the file covers every bidang
    at least as completely, or with ``replace`` (``--ganti``); a bidang whose quarter is
    approved (disetujui) is never changed: an admin reopens it first. ``dry_run``
    (``--coba``) does all the work, reports what would change, and writes nothing.
    """
    reports = parse_lines(read_lines(path), name=path.name)
    set_years(reports, tahun)
    with session_scope(engine) as session:
        summary = import_reports(
            session,
            reports,
            file_name=path.name,
            opd_id=opd_id,
            actor=actor or f"import:{path.name}",
            replace=replace,
            dry_run=dry_run,
            other_office=other_office,
        )
        if dry_run:
            session.rollback()
    if not dry_run:
        analyze_imported(engine)
    return summary


def set_years(reports: list[ParsedReport], tahun: int | None) -> None:
    """Each report's year from its title, or ``tahun`` (``--tahun``) where the title has none;
    a ``tahun`` the title contradicts is refused."""
    for r in reports:
        if r.tahun is None:
            if tahun is None:
                raise BadFileError(
                    f"Judul laporan TW {roman(r.triwulan)} (baris {r.first_line}) tidak menyebut "
                    "tahun. Ulangi dengan --tahun, misalnya: monev import FILE --tahun 2022"
                )
            r.tahun = tahun
        elif tahun is not None and r.tahun != tahun:
            raise BadFileError(
                f"Laporan TW {roman(r.triwulan)} di baris {r.first_line} adalah tahun {r.tahun}, "
                f"bukan {tahun}. Hapus --tahun atau gunakan --tahun {r.tahun}."
            )


def import_reports(
    session: Session,
    reports: list[ParsedReport],
    *,
    file_name: str,
    opd_id: int | None = None,
    actor: str = "import",
    replace: bool = False,
    dry_run: bool = False,
    other_office: bool = False,
) -> ImportSummary:
    """Write ``reports``; raises ImportRefused (before the caller commits) when a quarter
    would shrink without ``replace`` or an approved bidang would change.

    A file whose title names another office than the one it goes to (or another kabupaten
    than the deployment's) is refused before anything is written, unless ``other_office``
    (``--opd-berbeda``) says that is meant; ``dry_run`` lists it among the refusals.
    """
    from storage.services.validator import validate_year

    summary = ImportSummary(file=file_name, dry_run=dry_run)
    for parsed in reports:
        wrong = _office_mismatch(session, parsed.opd_nama, opd_id, summary)
        if wrong and not other_office:
            if not dry_run:
                raise BadFileError(wrong)
            if wrong not in summary.refusals:
                summary.refusals.append(wrong)
    years: set[tuple[int, int]] = set()
    for parsed in reports:
        if opd_id is not None:
            opd = session.get(PerangkatDaerah, opd_id)
            if opd is None:
                raise BadFileError(f"Perangkat daerah dengan id {opd_id} tidak ada.")
        else:
            opd = ensure_opd(session, parsed.opd_nama or "Perangkat Daerah")
        assert opd.id is not None and parsed.tahun is not None
        stored = session.exec(
            select(ImportedReport.sha256).where(
                ImportedReport.opd_id == opd.id,
                ImportedReport.tahun == parsed.tahun,
                ImportedReport.triwulan == parsed.triwulan,
            )
        ).first()
        # Only a report that replaces another needs the state it replaces.
        replacing = stored is not None and stored != parsed.digest
        before = _quarter_state(session, opd.id, parsed.tahun, parsed.triwulan) if replacing else {}
        rs = _ReportWriter(session, opd, parsed, file_name, actor, summary).run()
        summary.reports.append(rs)
        if rs.status == "diganti":
            session.flush()
            after = _quarter_state(session, opd.id, parsed.tahun, parsed.triwulan)
            rs.changes = _compare(before, after)
            _judge(rs, summary, replace=replace)
        summary.problems.extend(f"TW {roman(parsed.triwulan)} {p}" for p in parsed.problems)
        years.add((opd.id, parsed.tahun))
        if parsed.nama_kepala and parsed.triwulan >= _latest_report_tw(session, opd.id):
            opd.nama_kepala = parsed.nama_kepala
            opd.nip_kepala = parsed.nip_kepala
            if parsed.tempat_tanggal:
                opd.tempat = parsed.tempat_tanggal.split(",")[0].strip()
            session.add(opd)
    session.flush()
    if summary.refusals and not dry_run:
        raise ImportRefused(summary)
    for opd_id_, tahun in sorted(years):
        found = validate_year(session, opd_id_, tahun)
        summary.findings = len(found)
        summary.finding_messages = [f.message for f in found]
    return summary


def _office_mismatch(
    session: Session, named: str, opd_id: int | None, summary: ImportSummary
) -> str | None:
    """Why a file naming office ``named`` may not go to ``opd_id`` (None: the office it
    names), or None when it may. Fills in which office the summary names on both sides."""
    from storage.domain.offices import OfficeName, names_same_office, region_of

    offices = session.exec(select(PerangkatDaerah).order_by(col(PerangkatDaerah.id))).all()
    target = next((o for o in offices if o.id == opd_id), None) if opd_id is not None else None
    summary.file_office = summary.file_office or named
    summary.target_office = target.nama if target else (named or "Perangkat Daerah")
    if not named:
        return None
    if target is not None:
        office = OfficeName(
            row_id(target), target.nama, target.singkatan, tuple(target.alias_list())
        )
        if names_same_office(named, office):
            return None
        return (
            f"Judul berkas menyebut {named}, bukan {target.nama}. Impor ke perangkat daerah "
            "lain hanya bila memang disengaja: periksa --opd, atau ulangi dengan --opd-berbeda."
        )
    region = region_of(named)
    ours = {r for o in offices if (r := region_of(o.nama))}
    if region and ours and region not in ours:
        return (
            f"Judul berkas menyebut {named} ({region}), padahal perangkat daerah di sini dari "
            f"{', '.join(sorted(ours))}. Bila memang disengaja, ulangi dengan --opd-berbeda."
        )
    return None


@dataclass
class _BidangState:
    figures: dict[int, tuple[int | None, float | None]]  # node id -> (anggaran, fisik)
    rupiah: int | None
    approved: bool


def _quarter_state(session: Session, opd_id: int, tahun: int, tw: int) -> dict[str, _BidangState]:
    """Per bidang (by name): every node's figure of the quarter, the bidang's realisation as
    the summary shows it, and whether the quarter is approved."""
    from storage.services.queries import NoYearData, summary

    bidang = {b.id: b.nama for b in session.exec(select(Bidang).where(Bidang.opd_id == opd_id))}
    rows = session.exec(
        select(Sasaran.bidang_id, Realisasi.node_id, Realisasi.anggaran, Realisasi.fisik)
        .join(Node, col(Node.id) == Realisasi.node_id)
        .join(Sasaran, col(Sasaran.id) == Node.sasaran_id)
        .where(Node.opd_id == opd_id, Node.tahun == tahun, Realisasi.triwulan == tw)
    ).all()
    out: dict[str, _BidangState] = {}
    for bidang_id, node_id, anggaran, fisik in rows:
        name = bidang.get(bidang_id, "Tanpa bidang")
        state = out.setdefault(name, _BidangState({}, None, False))
        if anggaran is not None or fisik is not None:
            state.figures[node_id] = (anggaran, fisik)
    try:
        figures = {r.nama: r.figure.realisasi for r in summary(session, opd_id, tahun, tw).rows}
    except NoYearData:
        figures = {}
    approved = set(
        session.exec(
            select(Bidang.nama)
            .join(Pelaporan, col(Pelaporan.bidang_id) == Bidang.id)
            .where(
                Bidang.opd_id == opd_id,
                Pelaporan.tahun == tahun,
                Pelaporan.triwulan == tw,
                Pelaporan.status == StatusLaporan.DISETUJUI,
            )
        ).all()
    )
    for name in set(out) | set(figures) | approved:
        state = out.setdefault(name, _BidangState({}, None, False))
        state.rupiah = figures.get(name)
        state.approved = name in approved
    return out


def _compare(before: dict[str, _BidangState], after: dict[str, _BidangState]) -> list[BidangChange]:
    empty = _BidangState({}, None, False)
    return [
        BidangChange(
            bidang=name,
            rows_before=len(b.figures),
            rows_after=len(a.figures),
            rupiah_before=b.rupiah,
            rupiah_after=a.rupiah,
            figures_changed=b.figures != a.figures,
            approved=b.approved,
        )
        for name in sorted(set(before) | set(after))
        for b, a in [(before.get(name, empty), after.get(name, empty))]
    ]


def _judge(rs: ReportSummary, summary: ImportSummary, *, replace: bool) -> None:
    period = f"TW {roman(rs.triwulan)} {rs.tahun}"
    locked = [c.bidang for c in rs.changes if c.approved and (c.figures_changed or c.shrinks)]
    if locked:
        summary.refusals.append(
            f"{period} sudah disetujui untuk bidang {', '.join(locked)}; impor tidak boleh "
            "mengubah angkanya. Minta admin membuka kembali lebih dulu, misalnya: "
            f"/bukakembali {locked[0].split()[0].lower()} {rs.triwulan} {rs.tahun}"
        )
    shrinking = [c.bidang for c in rs.changes if c.shrinks]
    if shrinking and not replace:
        summary.refusals.append(
            f"Berkas ini memuat {period} kurang lengkap daripada yang sudah tersimpan "
            f"(bidang {', '.join(shrinking)}). Periksa berkasnya (terpotong?); bila memang "
            "ingin mengganti, lihat dulu perubahannya dengan --coba, lalu ulangi dengan --ganti."
        )


def _latest_report_tw(session: Session, opd_id: int) -> int:
    rows = session.exec(
        select(ImportedReport.tahun, ImportedReport.triwulan).where(ImportedReport.opd_id == opd_id)
    ).all()
    return max((t * 10 + tw for t, tw in rows), default=0) % 10


@dataclass
class _NodeRef:
    """A stored node of the year, as matching needs it (a plain row, not an ORM object)."""

    id: int
    sasaran_id: int
    parent_id: int | None
    level: str
    nama: str
    urutan: int


@dataclass
class _Placed:
    """A parsed node with its place in the plan: the stored node it matched, or a new one."""

    pn: ParsedNode
    sasaran_id: int
    parent: _Placed | None
    urutan: int
    node: _NodeRef | None  # None: a new node
    id: int | None = None  # the node's id (a new node's once inserted)


def _table(model: type[SQLModel]) -> Table:
    return table_of(model)


def _rows_to_insert(
    objects: Sequence[Any], *, with_id: bool = False
) -> tuple[Table, list[dict[str, Any]]]:
    """(table, column values) of new model instances, for one executemany insert; the
    instances only supply their defaults (timestamps, versions) and never join the session."""
    table = _table(type(objects[0]))
    names = [c.name for c in table.columns if with_id or c.name != "id"]
    return table, [{n: getattr(o, n) for n in names} for o in objects]


class _ReportWriter:
    """Writes one parsed report; matches its nodes to the year's existing nodes.

    The year's nodes, plans and realisation are read up front in one select each and
    written back in bulk (one executemany per table and kind of change), so a report costs
    a fixed number of statements instead of several per row.
    """

    def __init__(
        self,
        session: Session,
        opd: PerangkatDaerah,
        parsed: ParsedReport,
        file_name: str,
        actor: str,
        summary: ImportSummary,
    ) -> None:
        self.s = session
        self.opd = opd
        self.p = parsed
        assert parsed.tahun is not None, "set_years() first"
        self.tahun: int = parsed.tahun
        self.tw = parsed.triwulan
        self.file_name = file_name
        self.actor = actor
        self.summary = summary
        self.rs = ReportSummary(self.tahun, self.tw, "baru", first_line=parsed.first_line)
        self.audit: list[dict[str, Any]] = []  # audit_log rows, inserted at the end

    def run(self) -> ReportSummary:
        s = self.s
        report = s.exec(
            select(ImportedReport).where(
                ImportedReport.opd_id == self.opd.id,
                ImportedReport.tahun == self.tahun,
                ImportedReport.triwulan == self.tw,
            )
        ).first()
        if report is not None and report.sha256 == self.p.digest:
            self.rs.status = "tidak berubah"
            self.rs.nodes = len(self.p.nodes())
            return self.rs
        has_figures = any(n.realisasi is not None or n.fisik is not None for n in self.p.nodes())
        if report is not None and not has_figures:
            raise BadFileError(
                f"Berkas ini hanya berisi rencana (tanpa realisasi) untuk TW {roman(self.tw)} "
                f"{self.tahun}, padahal triwulan itu sudah punya laporan. Mengimpornya akan "
                "menghapus realisasi yang ada. Untuk mengubah pagu gunakan: monev pagu …"
            )
        if report is not None:
            self.rs.status = "diganti"
            for model in (CapaianSasaran, Narasi, Finding):
                s.exec(delete(model).where(col(model.report_id) == report.id))
        else:
            report = ImportedReport(opd_id=row_id(self.opd), tahun=self.tahun, triwulan=self.tw)
        report.source_file = self.file_name
        report.sha256 = self.p.digest
        report.first_line = self.p.first_line
        report.tempat_tanggal = self.p.tempat_tanggal
        report.nama_kepala = self.p.nama_kepala
        report.nip_kepala = self.p.nip_kepala
        report.imported_at = utcnow()
        s.add(report)
        s.flush()
        self.report = report
        self.report_id = row_id(report)
        # One entry per import that changes anything: also the version stamp query caches use.
        self._log("report", report.id, "impor", self.rs.status, self.file_name)

        bidang = s.exec(select(Bidang).where(Bidang.opd_id == self.opd.id)).all()
        self.bidang_by_sasaran = {n: b.id for b in bidang for n in b.sasaran_numbers()}
        self.is_latest = self.tw >= _latest_report_tw_of_year(s, row_id(self.opd), self.tahun)
        self._load_year()
        self.claimed: set[int] = set()

        sasaran = [(ps, self._sasaran(ps)) for ps in self.p.sasaran]
        new = [sas for _, sas in sasaran if sas.id is None]
        # Ids up front: the new sasaran go in one executemany, not one insert each (a file
        # without sasaran has one per program, hundreds at a large office).
        for sas, new_id in zip(
            new, _reserve_ids(s.connection(), _table(Sasaran), len(new)), strict=True
        ):
            sas.id = new_id
        s.flush()
        placed: list[_Placed] = []
        for ps, sas in sasaran:
            for i, prog in enumerate(ps.programs):
                self._place(row_id(sas), None, prog, i, placed)
        self._insert_new_nodes(placed)
        node_ids = {id(p.pn): p.id for p in placed}
        self._figures(placed)
        self._indicators_and_narasi(sasaran, node_ids, bidang)
        self._notes(node_ids)
        mark_absent_programs(s, row_id(self.opd), self.tahun)
        if self.audit:
            s.connection().execute(insert(_table(AuditLog)), self.audit)
        return self.rs

    def _notes(self, node_ids: dict[int, int | None]) -> None:
        """What the file states against its own amounts, as findings of this report."""
        rows = [
            {
                "opd_id": self.opd.id,
                "tahun": self.tahun,
                "triwulan": self.tw,
                "kind": FindingKind.STATED,
                "node_id": node_ids.get(id(pn)) if pn is not None else None,
                "sasaran_id": None,
                "report_id": self.report_id,
                "row_no": pn.line_no if pn is not None else None,
                "message": message,
                "created_at": utcnow(),
            }
            for pn, message in self.p.notes
        ]
        if rows:
            self.s.connection().execute(insert(_table(Finding)), rows)

    def _log(self, entity: str, entity_id: int | None, fld: str, old: object, new: object) -> None:
        # Column values, not AuditLog instances: a large report logs thousands of entries
        # and a model instance costs more to build than its row costs to insert.
        self.audit.append(
            {
                "at": utcnow(),
                "actor": self.actor,
                "entity": entity,
                "entity_id": entity_id,
                "field": f"{fld} TW {roman(self.tw)} {self.tahun}",
                "old": None if old is None else str(old),
                "new": None if new is None else str(new),
            }
        )

    def _load_year(self) -> None:
        """The year's sasaran, nodes, and the quarter's plans and realisation, one select each."""
        s, conn = self.s, self.s.connection()
        self.sasaran_by_nomor: dict[int, Sasaran] = {}
        for sas in s.exec(
            select(Sasaran)
            .where(Sasaran.opd_id == self.opd.id, Sasaran.tahun == self.tahun)
            .order_by(col(Sasaran.id))
        ).all():
            self.sasaran_by_nomor.setdefault(sas.nomor, sas)
        node, plan, real = _table(Node).c, _table(NodePlan), _table(Realisasi)
        in_year = (node.opd_id == self.opd.id, node.tahun == self.tahun)
        self.children: dict[tuple[int, int | None], list[_NodeRef]] = {}
        for r in conn.execute(
            sa_select(node.id, node.sasaran_id, node.parent_id, node.level, node.nama, node.urutan)
            .where(*in_year)
            .order_by(node.id)
        ):
            n = _NodeRef(*r)
            self.children.setdefault((n.sasaran_id, n.parent_id), []).append(n)
        year_nodes = sa_select(node.id).where(*in_year)
        self.plans: dict[int, dict[str, Any]] = {
            r.node_id: dict(r._mapping)
            for r in conn.execute(
                sa_select(plan).where(plan.c.node_id.in_(year_nodes), plan.c.triwulan == self.tw)
            )
        }
        self.reals: dict[int, dict[str, Any]] = {
            r.node_id: dict(r._mapping)
            for r in conn.execute(
                sa_select(real).where(real.c.node_id.in_(year_nodes), real.c.triwulan == self.tw)
            )
        }

    def _sasaran(self, ps: ParsedSasaran) -> Sasaran:
        sas = self.sasaran_by_nomor.get(ps.nomor)
        if sas is None:
            sas = Sasaran(opd_id=row_id(self.opd), tahun=self.tahun, nomor=ps.nomor)
            self.sasaran_by_nomor[ps.nomor] = sas
        if self.is_latest or not sas.teks:
            sas.teks, sas.indikator = ps.teks, ps.indikator
        if sas.bidang_id is None:
            sas.bidang_id = self.bidang_by_sasaran.get(ps.nomor)
        self.s.add(sas)
        return sas

    def _match(self, sasaran_id: int, parent_id: int | None, pn: ParsedNode) -> _NodeRef | None:
        candidates = [
            n
            for n in self.children.get((sasaran_id, parent_id), [])
            if n.level == pn.level and n.id not in self.claimed
        ]
        key = normalise_name(pn.nama)
        for n in candidates:
            if normalise_name(n.nama) == key:
                return n
        best, best_score = None, 0.0
        for n in candidates:
            score = fuzz.ratio(key, normalise_name(n.nama))
            if score > best_score:
                best, best_score = n, score
        if best is not None and best_score >= FUZZY_THRESHOLD:
            self.summary.matches.append(
                f"TW {roman(self.tw)} baris {pn.line_no}: '{pn.nama}' = '{best.nama}' "
                f"(kemiripan {best_score:.0f}%)"
            )
            return best
        return None

    def _place(
        self,
        sasaran_id: int,
        parent: _Placed | None,
        pn: ParsedNode,
        urutan: int,
        out: list[_Placed],
    ) -> None:
        """Match ``pn`` and its subtree, depth first (the order matching claims nodes in)."""
        # Under a new node everything is new: a stored node has no new parent.
        node: _NodeRef | None = None
        if parent is None:
            node = self._match(sasaran_id, None, pn)
        elif parent.node is not None:
            node = self._match(sasaran_id, parent.id, pn)
        placed = _Placed(
            pn,
            sasaran_id,
            parent,
            urutan,
            node,
            node.id if node else None,
        )
        if node is not None:
            self.claimed.add(node.id)
        out.append(placed)
        for i, child in enumerate(pn.children):
            self._place(sasaran_id, placed, child, i, out)

    def _insert_new_nodes(self, placed: list[_Placed]) -> None:
        """Insert the new nodes in one statement, their ids in report order as if inserted
        one by one (a parent's id is known before its children's rows are built)."""
        conn = self.s.connection()
        new = [p for p in placed if p.node is None]
        for p, new_id in zip(new, _reserve_ids(conn, _table(Node), len(new)), strict=True):
            p.id = new_id
        if new:
            conn.execute(
                insert(_table(Node)),
                [
                    {
                        "id": p.id,
                        "opd_id": self.opd.id,
                        "tahun": self.tahun,
                        "sasaran_id": p.sasaran_id,
                        "parent_id": p.parent.id if p.parent else None,
                        "level": p.pn.level,
                        "nama": p.pn.nama,
                        "indikator": p.pn.indikator,
                        "urutan": p.urutan,
                    }
                    for p in new
                ],
            )
        moved = [
            {"_id": p.id, "urutan": p.urutan}
            for p in placed
            if p.node is not None and self.is_latest and p.node.urutan != p.urutan
        ]
        if moved:
            # The newest report decides the order in which the plan is shown.
            table = _table(Node)
            conn.execute(
                update(table)
                .where(table.c.id == bindparam("_id"))
                .values(urutan=bindparam("urutan")),
                moved,
            )

    def _figures(self, placed: list[_Placed]) -> None:
        """Plans and realisation of every node, in the order the report lists them."""
        conn, now = self.s.connection(), utcnow()
        plan_new: list[dict[str, Any]] = []
        plan_changed: list[dict[str, Any]] = []
        real_new: list[dict[str, Any]] = []
        real_changed: list[dict[str, Any]] = []
        seen_plan: set[int] = set()
        seen_real: set[int] = set()
        for p in placed:
            pn, nid = p.pn, p.id
            assert nid is not None
            self.rs.nodes += 1
            if p.node is None:
                self.rs.new_nodes += 1
                self._log("node", nid, "nama", None, pn.nama)
            plan = self.plans.get(nid)
            old_pagu, old_aktif = (plan["pagu"], plan["aktif"]) if plan else (None, True)
            if old_pagu != pn.pagu or not old_aktif:
                self._log("node_plan", nid, "pagu", old_pagu, pn.pagu)
            values = {
                "aktif": True,
                "target": pn.target,
                "pagu": pn.pagu,
                "source": Source.IMPORT,
                "report_id": self.report_id,
            }
            if plan is None:
                plan_new.append({"node_id": nid, "triwulan": self.tw, **values})
            elif any(plan[k] != v for k, v in values.items()):
                plan_changed.append({"_id": plan["id"], **values})
            seen_plan.add(nid)

            if pn.realisasi is not None or pn.fisik is not None:
                real = self.reals.get(nid)
                if real is None or real["source"] == Source.IMPORT:
                    before = (real["anggaran"], real["fisik"]) if real else (None, None)
                    changed = before != (pn.realisasi, pn.fisik)
                    if changed:
                        self._log("realisasi", nid, "anggaran", before[0], pn.realisasi)
                    figures = {
                        "anggaran": pn.realisasi,
                        "fisik": pn.fisik,
                        "ket": pn.ket,
                        "source": Source.IMPORT,
                        "report_id": self.report_id,
                        "row_no": pn.line_no,
                        "updated_at": now,
                    }
                    if real is None:
                        real_new.append(
                            {
                                "node_id": nid,
                                "triwulan": self.tw,
                                "entered_by": None,
                                "version": 1,
                                **figures,
                            }
                        )
                    else:
                        version = real["version"] + (1 if changed else 0)
                        real_changed.append({"_id": real["id"], "version": version, **figures})
                    self.rs.figures += 1
                else:
                    self.summary.problems.append(
                        f"TW {roman(self.tw)} baris {pn.line_no}: '{pn.nama[:60]}' sudah diisi "
                        "lewat bot; angka dari berkas tidak menimpanya."
                    )
                seen_real.add(nid)

        # Figures the earlier copy of this report gave that the new copy no longer gives.
        gone_real = [
            r
            for nid, r in self.reals.items()
            if r["report_id"] == self.report_id
            and nid not in seen_real
            and r["source"] == Source.IMPORT
        ]
        for r in gone_real:
            self._log("realisasi", r["id"], "anggaran", r["anggaran"], None)
        gone_plan = [
            pl["id"]
            for nid, pl in self.plans.items()
            if pl["report_id"] == self.report_id and nid not in seen_plan
        ]
        for model, rows, changes, gone in (
            (NodePlan, plan_new, plan_changed, gone_plan),
            (Realisasi, real_new, real_changed, [r["id"] for r in gone_real]),
        ):
            table = _table(model)
            if gone:
                conn.execute(delete(table).where(table.c.id.in_(gone)))
            if changes:
                names = [k for k in changes[0] if k != "_id"]
                conn.execute(
                    update(table)
                    .where(table.c.id == bindparam("_id"))
                    .values({k: bindparam(k) for k in names}),
                    changes,
                )
            if rows:
                conn.execute(insert(table), rows)

    def _indicators_and_narasi(
        self,
        sasaran: list[tuple[ParsedSasaran, Sasaran]],
        node_ids: dict[int, int | None],
        bidang: Sequence[Bidang],
    ) -> None:
        s = self.s
        sas_ids = [row_id(sas) for _, sas in sasaran]
        indikators: dict[int, list[IndikatorSasaran]] = {}
        for stored in s.exec(
            select(IndikatorSasaran)
            .where(col(IndikatorSasaran.sasaran_id).in_(sas_ids))
            .order_by(col(IndikatorSasaran.id))
        ).all():
            indikators.setdefault(stored.sasaran_id, []).append(stored)
        pelaporan = {
            p.bidang_id: p
            for p in s.exec(
                select(Pelaporan).where(
                    col(Pelaporan.bidang_id).in_([b.id for b in bidang]),
                    Pelaporan.tahun == self.tahun,
                    Pelaporan.triwulan == self.tw,
                )
            ).all()
        }
        values: list[tuple[IndikatorSasaran, dict[str, Any]]] = []  # capaian_sasaran rows
        findings: list[tuple[IndikatorSasaran, Finding]] = []
        narasi: list[Narasi] = []
        seen_capaian: set[tuple[int, int]] = set()  # (id() of the indicator, tw)
        new_indicators: list[IndikatorSasaran] = []  # inserted below, with reserved ids
        for ps, sas in sasaran:
            sas_id = row_id(sas)
            reported = any(
                n.realisasi is not None or n.fisik is not None
                for p in ps.programs
                for n in p.walk()
            )
            if sas.bidang_id is not None and reported:
                # A plan without figures (a filled-in template) is not a report of the bidang.
                self._pelaporan(pelaporan, sas.bidang_id)
            found = indikators.setdefault(sas_id, [])
            for i, row in enumerate(ps.indicators):
                program_id = node_ids.get(id(row.program)) if row.program else None
                ind = next(
                    (
                        x
                        for x in found
                        if (program_id is not None and x.program_id == program_id)
                        or (program_id is None and x.program_id is None and x.urutan == i)
                    ),
                    None,
                )
                if ind is None:
                    ind = IndikatorSasaran(
                        sasaran_id=sas_id,
                        program_id=program_id,
                        nama=row.program.indikator if row.program else ps.indikator,
                        urutan=i,
                    )
                    found.append(ind)
                    new_indicators.append(ind)
                for tw, (t, r) in row.values.items():
                    if (id(ind), tw) in seen_capaian:
                        # A second T/R for the same indicator: a row cut or repeated in the file.
                        self.p.problems.append(
                            f"baris {row.line_no}: T/R TW {roman(tw)} sasaran {ps.nomor} sudah "
                            "ada di baris sebelumnya; baris ini dilewati (berkas terpotong?)"
                        )
                        continue
                    seen_capaian.add((id(ind), tw))
                    values.append(
                        (
                            ind,
                            {
                                "triwulan": tw,
                                "report_id": self.report_id,
                                "target": t,
                                "realisasi": r,
                                "capaian_dilaporkan": row.capaian if tw == self.tw else None,
                                "source": Source.IMPORT,
                            },
                        )
                    )
                for tw, (t, r) in row.future.items():
                    figures = ", ".join(
                        f"{k} {format_percent(v)}" for k, v in (("T", t), ("R", r)) if v is not None
                    )
                    findings.append(
                        (
                            ind,
                            Finding(
                                opd_id=row_id(self.opd),
                                tahun=self.tahun,
                                triwulan=self.tw,
                                kind=FindingKind.FUTURE_QUARTER,
                                sasaran_id=sas_id,
                                node_id=program_id,
                                report_id=self.report_id,
                                row_no=row.line_no,
                                message=(
                                    f"Laporan TW {roman(self.tw)} {self.tahun}, baris "
                                    f"{row.line_no}, sasaran {ps.nomor}: kolom TW {roman(tw)} "
                                    f"sudah berisi {figures}, padahal triwulan itu belum "
                                    "berakhir pada laporan ini. Nilai diabaikan."
                                ),
                            ),
                        )
                    )
            for i, n in enumerate(ps.narasi):
                narasi.append(
                    Narasi(
                        sasaran_id=sas_id,
                        program_id=node_ids.get(id(n.program)) if n.program else None,
                        triwulan=self.tw,
                        urutan=i,
                        aksi=n.aksi,
                        hambatan=n.hambatan,
                        tindak_lanjut=n.tindak_lanjut,
                        report_id=self.report_id,
                    )
                )
        s.flush()  # changed pelaporan rows
        conn = s.connection()
        reserved = _reserve_ids(conn, _table(IndikatorSasaran), len(new_indicators))
        for ind, new_id in zip(new_indicators, reserved, strict=True):
            ind.id = new_id
        new_pelaporan = [p for p in pelaporan.values() if p.id is None]
        for objects in (new_indicators, new_pelaporan, [f for _, f in findings], narasi):
            if objects:
                table, rows = _rows_to_insert(objects, with_id=objects is new_indicators)
                conn.execute(insert(table), rows)
        if values:  # plain rows: thousands of T/R values at a large office's size
            rows = [{"indikator_id": row_id(ind), **v} for ind, v in values]
            conn.execute(insert(_table(CapaianSasaran)), rows)

    def _pelaporan(self, pelaporan: dict[int, Pelaporan], bidang_id: int) -> None:
        row = pelaporan.get(bidang_id)
        if row is None:
            row = pelaporan[bidang_id] = Pelaporan(
                bidang_id=bidang_id, tahun=self.tahun, triwulan=self.tw
            )
        if row.source == Source.IMPORT:
            row.status = StatusLaporan.DISETUJUI
            row.report_id = self.report_id
            row.submitted_at = row.decided_at = self.report.imported_at
            if row.id is not None:  # a new row is inserted in bulk with the others
                self.s.add(row)


def _reserve_ids(conn: Connection, table: Table, n: int) -> list[int]:
    """``n`` fresh ids of ``table``, ascending, in one statement.

    Rows are then inserted with their ids in one executemany: SQLAlchemy would insert them
    row by row on SQLite to read each new id back, and a child row needs its parent's id.
    """
    if n == 0:
        return []
    if conn.dialect.name == "sqlite":
        # A writing transaction on SQLite holds the database's write lock from its start
        # (BEGIN IMMEDIATE, see storage.data.db): nobody else can take these ids meanwhile.
        top = conn.execute(sa_select(func.max(table.c.id))).scalar() or 0
        return list(range(top + 1, top + 1 + n))
    # PostgreSQL: the ids come from the column's own sequence, as a plain insert's would.
    rows = conn.execute(
        sa_select(func.nextval(func.pg_get_serial_sequence(table.name, "id"))).select_from(
            func.generate_series(1, n)
        )
    )
    return sorted(r[0] for r in rows)


def _latest_report_tw_of_year(session: Session, opd_id: int, tahun: int) -> int:
    rows = session.exec(
        select(ImportedReport.triwulan).where(
            ImportedReport.opd_id == opd_id, ImportedReport.tahun == tahun
        )
    ).all()
    return max(rows, default=0)


def mark_absent_programs(session: Session, opd_id: int, tahun: int) -> None:
    """A program missing from a quarter's report is not part of that quarter's plan."""
    conn = session.connection()
    session.flush()  # the year's pending plans must be visible to the selects below
    report, node, plan = _table(ImportedReport).c, _table(Node).c, _table(NodePlan).c
    reports = conn.execute(
        sa_select(report.id, report.triwulan).where(report.opd_id == opd_id, report.tahun == tahun)
    ).all()
    # The top of the plan: programs, or kegiatan where an office's reports have no programs.
    programs = sa_select(node.id).where(
        node.opd_id == opd_id, node.tahun == tahun, node.parent_id.is_(None)
    )
    program_ids = list(conn.execute(programs).scalars())
    if not program_ids or not reports:
        return
    have = set(
        conn.execute(sa_select(plan.node_id, plan.triwulan).where(plan.node_id.in_(programs))).all()
    )
    rows = [
        {
            "node_id": prog,
            "triwulan": tw,
            "aktif": False,
            "target": "",
            "pagu": None,
            "source": Source.IMPORT,
            "report_id": rep_id,
        }
        for rep_id, tw in reports
        for prog in program_ids
        if (prog, tw) not in have
    ]
    if rows:
        conn.execute(insert(_table(NodePlan)), rows)
