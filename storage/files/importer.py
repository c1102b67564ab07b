"""Importing parsed reports into the database.

Each report owns its quarter: importing it again changes nothing, importing a changed
copy replaces that quarter's imported figures and nothing else. Nodes are matched across
reports by name within their parent, tolerating the typos real reports carry.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage.data.db import session_scope
from storage.data.models import (
    AuditLog,
    Bidang,
    CapaianSasaran,
    Finding,
    FindingKind,
    ImportedReport,
    IndikatorSasaran,
    Level,
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
    utcnow,
)
from storage.domain.numbers import format_percent, format_rupiah
from storage.domain.periods import roman
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


def normalise_name(name: str) -> str:
    """Name without level prefix, case, punctuation or extra spaces: the key for matching."""
    s = name.lower()
    s = re.sub(r"^(sub\s*kegiatan|kegiatan|pro[a-z]{1,4}m)\s+", "", s)
    s = re.sub(r"[^a-z0-9]+", " ", s)
    return s.strip()


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
) -> ImportSummary:
    """Import every report in ``path`` in one transaction; a bad file changes nothing.

    A quarter that already has a report is replaced only when the file covers every bidang
    at least as completely, or with ``replace`` (``--ganti``); a bidang whose quarter is
    approved (disetujui) is never changed: an admin reopens it first. ``dry_run``
    (``--coba``) does all the work, reports what would change, and writes nothing.
    """
    reports = parse_lines(read_lines(path), name=path.name)
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
    with session_scope(engine) as session:
        summary = import_reports(
            session,
            reports,
            file_name=path.name,
            opd_id=opd_id,
            actor=actor or f"import:{path.name}",
            replace=replace,
            dry_run=dry_run,
        )
        if dry_run:
            session.rollback()
        return summary


def import_reports(
    session: Session,
    reports: list[ParsedReport],
    *,
    file_name: str,
    opd_id: int | None = None,
    actor: str = "import",
    replace: bool = False,
    dry_run: bool = False,
) -> ImportSummary:
    """Write ``reports``; raises ImportRefused (before the caller commits) when a quarter
    would shrink without ``replace`` or an approved bidang would change."""
    from storage.services.validator import validate_year

    summary = ImportSummary(file=file_name, dry_run=dry_run)
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
        summary.findings = len(validate_year(session, opd_id_, tahun))
    return summary


@dataclass
class _BidangState:
    figures: dict[int, tuple[int | None, float | None]]  # node id -> (anggaran, fisik)
    rupiah: int | None
    approved: bool


def _quarter_state(session: Session, opd_id: int, tahun: int, tw: int) -> dict[str, _BidangState]:
    """Per bidang (by name): every node's figure of the quarter, the bidang's realisation as
    the summary shows it, and whether the quarter is approved."""
    from storage.services.queries import NoData, summary

    bidang = {b.id: b.nama for b in session.exec(select(Bidang).where(Bidang.opd_id == opd_id))}
    rows = session.exec(
        select(Sasaran.bidang_id, Realisasi.node_id, Realisasi.anggaran, Realisasi.fisik)
        .join(Node, Node.id == Realisasi.node_id)  # type: ignore[arg-type]
        .join(Sasaran, Sasaran.id == Node.sasaran_id)  # type: ignore[arg-type]
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
    except NoData:
        figures = {}
    approved = set(
        session.exec(
            select(Bidang.nama)
            .join(Pelaporan, Pelaporan.bidang_id == Bidang.id)  # type: ignore[arg-type]
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


class _ReportWriter:
    """Writes one parsed report; matches its nodes to the year's existing nodes."""

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
        self.tahun: int = parsed.tahun  # type: ignore[assignment]
        self.tw = parsed.triwulan
        self.file_name = file_name
        self.actor = actor
        self.summary = summary
        self.rs = ReportSummary(self.tahun, self.tw, "baru", first_line=parsed.first_line)
        self.audit: list[AuditLog] = []

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
        old_real: dict[int, Realisasi] = {}
        old_plan: dict[int, NodePlan] = {}
        if report is not None:
            self.rs.status = "diganti"
            old_real = {
                r.node_id: r
                for r in s.exec(select(Realisasi).where(Realisasi.report_id == report.id)).all()
            }
            old_plan = {
                p.node_id: p
                for p in s.exec(select(NodePlan).where(NodePlan.report_id == report.id)).all()
            }
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
        # One entry per import that changes anything: also the version stamp query caches use.
        self._log("report", report.id, "impor", self.rs.status, self.file_name)

        self.bidang_by_sasaran = {
            n: b.id
            for b in s.exec(select(Bidang).where(Bidang.opd_id == self.opd.id)).all()
            for n in b.sasaran_numbers()
        }
        self.nodes = s.exec(
            select(Node).where(Node.opd_id == self.opd.id, Node.tahun == self.tahun)
        ).all()
        self.children: dict[tuple[int, int | None], list[Node]] = {}
        for n in self.nodes:
            key = (n.sasaran_id, n.parent_id)
            self.children.setdefault(key, []).append(n)
        self.claimed: set[int] = set()
        self.is_latest = self.tw >= _latest_report_tw_of_year(s, self.opd.id, self.tahun)  # type: ignore[arg-type]
        self.seen_real: set[int] = set()
        self.seen_plan: set[int] = set()
        self.seen_capaian: set[tuple[int | None, int]] = set()

        for ps in self.p.sasaran:
            self._sasaran(ps, old_real, old_plan)
        # Figures the earlier copy of this report gave that the new copy no longer gives.
        for node_id, r in old_real.items():
            if node_id not in self.seen_real and r.source == Source.IMPORT:
                self._log("realisasi", r.id, "anggaran", r.anggaran, None)
                s.delete(r)
        for node_id, pl in old_plan.items():
            if node_id not in self.seen_plan:
                s.delete(pl)
        s.flush()
        mark_absent_programs(s, self.opd.id, self.tahun)  # type: ignore[arg-type]
        s.add_all(self.audit)
        return self.rs

    def _log(self, entity: str, entity_id: int | None, fld: str, old: object, new: object) -> None:
        self.audit.append(
            AuditLog(
                actor=self.actor,
                entity=entity,
                entity_id=entity_id,
                field=f"{fld} TW {roman(self.tw)} {self.tahun}",
                old=None if old is None else str(old),
                new=None if new is None else str(new),
            )
        )

    def _sasaran(
        self, ps: ParsedSasaran, old_real: dict[int, Realisasi], old_plan: dict[int, NodePlan]
    ) -> None:
        s = self.s
        sas = s.exec(
            select(Sasaran).where(
                Sasaran.opd_id == self.opd.id,
                Sasaran.tahun == self.tahun,
                Sasaran.nomor == ps.nomor,
            )
        ).first()
        if sas is None:
            sas = Sasaran(opd_id=row_id(self.opd), tahun=self.tahun, nomor=ps.nomor)
        if self.is_latest or not sas.teks:
            sas.teks, sas.indikator = ps.teks, ps.indikator
        if sas.bidang_id is None:
            sas.bidang_id = self.bidang_by_sasaran.get(ps.nomor)
        s.add(sas)
        s.flush()
        assert sas.id is not None
        node_ids: dict[int, int] = {}  # id(ParsedNode) -> Node.id
        for i, prog in enumerate(ps.programs):
            self._node(sas.id, None, prog, i, node_ids, old_real, old_plan)
        reported = any(
            n.realisasi is not None or n.fisik is not None for p in ps.programs for n in p.walk()
        )
        if sas.bidang_id is not None and reported:
            # A plan without figures (a filled-in template) is not a report of the bidang.
            self._pelaporan(sas.bidang_id)

        indikators = list(
            s.exec(select(IndikatorSasaran).where(IndikatorSasaran.sasaran_id == sas.id)).all()
        )
        for i, row in enumerate(ps.indicators):
            program_id = node_ids.get(id(row.program)) if row.program else None
            ind = next(
                (
                    x
                    for x in indikators
                    if (program_id is not None and x.program_id == program_id)
                    or (program_id is None and x.program_id is None and x.urutan == i)
                ),
                None,
            )
            if ind is None:
                ind = IndikatorSasaran(
                    sasaran_id=sas.id,
                    program_id=program_id,
                    nama=row.program.indikator if row.program else ps.indikator,
                    urutan=i,
                )
                s.add(ind)
                s.flush()
                indikators.append(ind)
            for tw, (t, r) in row.values.items():
                if (ind.id, tw) in self.seen_capaian:
                    # A second T/R for the same indicator: a row cut or repeated in the file.
                    self.p.problems.append(
                        f"baris {row.line_no}: T/R TW {roman(tw)} sasaran {ps.nomor} sudah ada "
                        "di baris sebelumnya; baris ini dilewati (berkas terpotong?)"
                    )
                    continue
                self.seen_capaian.add((ind.id, tw))
                s.add(
                    CapaianSasaran(
                        indikator_id=row_id(ind),
                        triwulan=tw,
                        report_id=self.report.id,
                        target=t,
                        realisasi=r,
                        capaian_dilaporkan=row.capaian if tw == self.tw else None,
                    )
                )
            for tw, (t, r) in row.future.items():
                figures = ", ".join(
                    f"{k} {format_percent(v)}" for k, v in (("T", t), ("R", r)) if v is not None
                )
                s.add(
                    Finding(
                        opd_id=row_id(self.opd),
                        tahun=self.tahun,
                        triwulan=self.tw,
                        kind=FindingKind.FUTURE_QUARTER,
                        sasaran_id=sas.id,
                        node_id=program_id,
                        report_id=self.report.id,
                        row_no=row.line_no,
                        message=(
                            f"Laporan TW {roman(self.tw)} {self.tahun}, baris {row.line_no}, "
                            f"sasaran {ps.nomor}: kolom TW {roman(tw)} sudah berisi {figures}, "
                            "padahal triwulan itu belum berakhir pada laporan ini. "
                            "Nilai diabaikan."
                        ),
                    )
                )
        for i, n in enumerate(ps.narasi):
            s.add(
                Narasi(
                    sasaran_id=sas.id,
                    program_id=node_ids.get(id(n.program)) if n.program else None,
                    triwulan=self.tw,
                    urutan=i,
                    aksi=n.aksi,
                    hambatan=n.hambatan,
                    tindak_lanjut=n.tindak_lanjut,
                    report_id=self.report.id,
                )
            )

    def _pelaporan(self, bidang_id: int) -> None:
        row = self.s.exec(
            select(Pelaporan).where(
                Pelaporan.bidang_id == bidang_id,
                Pelaporan.tahun == self.tahun,
                Pelaporan.triwulan == self.tw,
            )
        ).first()
        if row is None:
            row = Pelaporan(bidang_id=bidang_id, tahun=self.tahun, triwulan=self.tw)
        if row.source == Source.IMPORT:
            row.status = StatusLaporan.DISETUJUI
            row.report_id = self.report.id
            row.submitted_at = row.decided_at = self.report.imported_at
            self.s.add(row)

    def _match(self, sasaran_id: int, parent_id: int | None, pn: ParsedNode) -> Node | None:
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

    def _node(
        self,
        sasaran_id: int,
        parent_id: int | None,
        pn: ParsedNode,
        urutan: int,
        node_ids: dict[int, int],
        old_real: dict[int, Realisasi],
        old_plan: dict[int, NodePlan],
    ) -> None:
        s = self.s
        node = self._match(sasaran_id, parent_id, pn)
        self.rs.nodes += 1
        if node is None:
            node = Node(
                opd_id=self.opd.id,  # type: ignore[arg-type]
                tahun=self.tahun,
                sasaran_id=sasaran_id,
                parent_id=parent_id,
                level=pn.level,
                nama=pn.nama,
                indikator=pn.indikator,
                urutan=urutan,
            )
            s.add(node)
            s.flush()
            self.children.setdefault((sasaran_id, parent_id), []).append(node)
            self.rs.new_nodes += 1
            self._log("node", node.id, "nama", None, node.nama)
        elif self.is_latest and node.urutan != urutan:
            # The newest report decides the order in which the plan is shown.
            node.urutan = urutan
            s.add(node)
        assert node.id is not None
        self.claimed.add(node.id)
        node_ids[id(pn)] = node.id

        plan = (
            old_plan.get(node.id)
            or s.exec(
                select(NodePlan).where(NodePlan.node_id == node.id, NodePlan.triwulan == self.tw)
            ).first()
        )
        if plan is None:
            plan = NodePlan(node_id=node.id, triwulan=self.tw)
        if plan.pagu != pn.pagu or not plan.aktif:
            self._log("node_plan", node.id, "pagu", plan.pagu, pn.pagu)
        plan.aktif, plan.target, plan.pagu = True, pn.target, pn.pagu
        plan.source, plan.report_id = Source.IMPORT, self.report.id
        s.add(plan)
        self.seen_plan.add(node.id)

        if pn.realisasi is not None or pn.fisik is not None:
            real = (
                old_real.get(node.id)
                or s.exec(
                    select(Realisasi).where(
                        Realisasi.node_id == node.id, Realisasi.triwulan == self.tw
                    )
                ).first()
            )
            if real is None:
                real = Realisasi(node_id=node.id, triwulan=self.tw)
            if real.source == Source.IMPORT or real.id is None:
                if real.anggaran != pn.realisasi or real.fisik != pn.fisik:
                    self._log("realisasi", node.id, "anggaran", real.anggaran, pn.realisasi)
                    if real.id is not None:
                        real.version += 1
                real.anggaran, real.fisik, real.ket = pn.realisasi, pn.fisik, pn.ket
                real.source, real.report_id, real.row_no = Source.IMPORT, self.report.id, pn.line_no
                real.updated_at = utcnow()
                s.add(real)
                self.rs.figures += 1
            else:
                self.summary.problems.append(
                    f"TW {roman(self.tw)} baris {pn.line_no}: '{pn.nama[:60]}' sudah diisi lewat "
                    "bot; angka dari berkas tidak menimpanya."
                )
            self.seen_real.add(node.id)
        for i, child in enumerate(pn.children):
            self._node(sasaran_id, node.id, child, i, node_ids, old_real, old_plan)


def _latest_report_tw_of_year(session: Session, opd_id: int, tahun: int) -> int:
    rows = session.exec(
        select(ImportedReport.triwulan).where(
            ImportedReport.opd_id == opd_id, ImportedReport.tahun == tahun
        )
    ).all()
    return max(rows, default=0)


def mark_absent_programs(session: Session, opd_id: int, tahun: int) -> None:
    """A program missing from a quarter's report is not part of that quarter's plan."""
    reports = session.exec(
        select(ImportedReport).where(ImportedReport.opd_id == opd_id, ImportedReport.tahun == tahun)
    ).all()
    programs = session.exec(
        select(Node).where(Node.opd_id == opd_id, Node.tahun == tahun, Node.level == Level.PROGRAM)
    ).all()
    if not programs:
        return
    plans = session.exec(
        select(NodePlan).where(col(NodePlan.node_id).in_([p.id for p in programs]))
    ).all()
    have = {(p.node_id, p.triwulan) for p in plans}
    for rep in reports:
        for prog in programs:
            if (prog.id, rep.triwulan) not in have:
                session.add(
                    NodePlan(
                        node_id=prog.id,  # type: ignore[arg-type]
                        triwulan=rep.triwulan,
                        aktif=False,
                        source=Source.IMPORT,
                        report_id=rep.id,
                    )
                )
