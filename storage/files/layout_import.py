"""Bringing an office on board from the files it already has (issue 25).

``import_any`` takes any file ``monev import`` or the bot is given: the 22-column Laporan
Kinerja Triwulan goes through its own reader exactly as before; any other table through
``storage.files.layouts``. Both are written by the one importer (``import_reports``: one
transaction, refused or written whole), then programs are given their bidang (option,
answers on a terminal, or the sheet a bidang's programs came on), and the result says what
was understood: per column its meaning and two samples, counts per level, totals per bidang
(with the explicit "Tanpa bidang" row) and for the office, the findings. ``dry_run``
(``--coba``) does all of it and writes nothing.

Programs of a file without sasaran each get a sasaran number of their own (kept across
quarters and years by the program's name): a bidang owns sasaran numbers, so assigning a
program to a bidang is the same act for these files as for the 22-column report.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage.data.audit import record
from storage.data.db import session_scope
from storage.data.models import (
    Bidang,
    Level,
    Node,
    PerangkatDaerah,
    Sasaran,
    Setting,
    row_id,
    table_of,
)
from storage.data.statistics import analyze_imported
from storage.domain.number_style import Style
from storage.domain.text import normalise_name
from storage.files.importer import (
    ImportSummary,
    _office_mismatch,
    ensure_opd,
    import_reports,
    set_years,
)
from storage.files.layouts import (
    Layout,
    Meaning,
    Options,
    figure,
    pagu_at,
    parse_kolom,
    recognise,
    signature_of,
)
from storage.files.layouts import Node as LayoutNode
from storage.files.report_parser import (
    Line,
    ParsedNode,
    ParsedReport,
    ParsedSasaran,
    parse_lines,
    read_bytes,
)
from storage.files.workbook import BadFileError, read_file_bytes
from storage.services.queries import NO_BIDANG, Figure, summary

MAPPING_KEY = "peta_kolom:{opd_id}:{signature}"


@dataclass
class Group:
    """Programs under one sasaran number (the unit a bidang owns), of no bidang yet when
    ``loose``."""

    nomor: int
    names: list[str]
    pagu: int | None
    loose: bool = True


@dataclass
class BidangLine:
    nama: str
    figure: Figure


@dataclass
class Understood:
    """What an import understood and did; what ``--coba`` and the bot's preview show."""

    summary: ImportSummary
    layout: Layout | None
    opd_id: int
    opd_nama: str
    tahun: int
    triwulan: int  # the quarter whose totals are shown (the latest of the file)
    counts: dict[Level, int]
    bidang: list[BidangLine] = field(default_factory=list)
    total: Figure | None = None
    groups: list[Group] = field(default_factory=list)  # of no bidang after the import
    assigned: list[str] = field(default_factory=list)  # "PROGRAM X → Bina Marga"
    findings: list[str] = field(default_factory=list)
    mapping_note: str = ""
    kolom: str = ""  # the mapping used, as --kolom would write it

    @property
    def refused(self) -> bool:
        return bool(self.summary.refusals)


@dataclass
class Request:
    """How to read and where to put a file: the options of ``monev import``."""

    opd_id: int | None = None
    tahun: int | None = None
    tw: int | None = None
    kolom: str = ""  # --kolom pagu=D,realisasi=E
    peta: Path | None = None  # --peta FILE
    angka: str = ""  # --angka id|en
    bidang: list[str] = field(default_factory=list)  # --bidang "2=koperasi"
    replace: bool = False
    dry_run: bool = False
    other_office: bool = False
    actor: str = ""


def import_any(engine: Engine, path: Path, request: Request) -> Understood:
    """Import ``path`` (any recognised layout) as ``request`` says; see the module doc."""
    return import_bytes(engine, read_file_bytes(path), path.name, request)


def import_bytes(engine: Engine, data: bytes, name: str, request: Request) -> Understood:
    kolom = _kolom_text(request)
    reports: list[ParsedReport] | None = None
    first_error: BadFileError | None = None
    # Read once, bounded (a file over any bound is refused here, whatever its layout).
    lines = read_bytes(data, name=name)
    if not kolom:
        try:
            reports = parse_lines(lines, name=name)
        except BadFileError as exc:
            first_error = exc  # not the 22-column report: another layout, perhaps
    actor = request.actor or f"import:{name}"
    with session_scope(engine) as session:
        early: list[str] = []  # refusals found before anything is written
        if reports is not None:
            set_years(reports, request.tahun)
            layout = None
            opd_id = request.opd_id
        else:
            layout, reports, opd_id, note, kolom = _layout_reports(
                session, data, name, request, kolom, first_error, early, lines
            )
        summary_ = import_reports(
            session,
            reports,
            file_name=name,
            opd_id=opd_id,
            actor=actor,
            replace=request.replace,
            dry_run=request.dry_run,
            other_office=request.other_office,
        )
        summary_.refusals[:0] = [r for r in early if r not in summary_.refusals]
        last = max(reports, key=lambda r: (r.tahun or 0, r.triwulan))
        opd = _office_of(session, opd_id, last)
        out = Understood(
            summary=summary_,
            layout=layout,
            opd_id=row_id(opd),
            opd_nama=opd.nama,
            tahun=last.tahun or 0,
            triwulan=last.triwulan,
            counts=dict(Counter(n.level for n in last.nodes())),
            mapping_note=note if layout is not None else "",
            kolom=kolom,
        )
        hints = _sheet_hints(layout, reports) if layout is not None else {}
        _assign(session, out, request, hints)
        _show(session, out)
        if request.dry_run:
            session.rollback()
        elif layout is not None and kolom and request.opd_id is not None:
            remember_mapping(session, row_id(opd), layout.signature, kolom)
    if not request.dry_run:
        analyze_imported(engine)
    return out


def _kolom_text(request: Request) -> str:
    parts = [request.kolom.strip()] if request.kolom.strip() else []
    if request.peta is not None:
        parts.append(read_mapping_file(request.peta))
    return ",".join(p for p in parts if p)


def read_mapping_file(path: Path) -> str:
    """A mapping file: ``pagu = D`` lines (``#`` comments), or a JSON object."""
    raw = read_file_bytes(path, limit=64 * 1024).decode("utf-8-sig", errors="replace")
    text = raw.strip()
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except ValueError:
            raise BadFileError(f"Berkas pemetaan {path.name} bukan JSON yang sah.") from None
        if not isinstance(obj, dict):
            raise BadFileError(f"Berkas pemetaan {path.name} harus berisi pasangan NAMA: KOLOM.")
        return ",".join(f"{k}={v}" for k, v in obj.items())
    lines = [ln.split("#", 1)[0].strip() for ln in text.splitlines()]
    return ",".join(ln.replace(" ", "") for ln in lines if ln)


def _split_angka(kolom: str, angka: str) -> tuple[str, Style | None]:
    """``angka=id`` may sit in a mapping beside the columns; --angka wins."""
    parts, style = [], None
    for part in re.split(r"[,;]+", kolom):
        key, _, value = part.partition("=")
        if key.strip().lower() == "angka":
            angka = angka or value.strip()
        elif part.strip():
            parts.append(part.strip())
    if angka:
        try:
            style = Style(angka.strip().lower())
        except ValueError:
            raise BadFileError(
                f"--angka '{angka}' tidak dikenal. Tulis --angka id (812.440.100 dan 98,47) "
                "atau --angka en (812,440,100 dan 98.47)."
            ) from None
    return ",".join(parts), style


def _layout_reports(
    session: Session,
    data: bytes,
    name: str,
    request: Request,
    kolom: str,
    first_error: BadFileError | None,
    early: list[str],
    lines: list[Line],
) -> tuple[Layout, list[ParsedReport], int, str, str]:
    note = ""
    if not kolom and request.opd_id is not None:
        signature = signature_of(data, name, lines)
        remembered = recalled_mapping(session, request.opd_id, signature) if signature else ""
        if remembered:
            kolom = remembered
            note = f"pemetaan kolom yang tersimpan untuk berkas berbentuk sama dipakai: {kolom}"
    columns, style = _split_angka(kolom, request.angka)
    options = Options(
        tahun=request.tahun,
        tw=request.tw,
        kolom=parse_kolom(columns),
        angka=style,
    )
    try:
        layout = recognise(data, name, options, lines=lines)
    except BadFileError as exc:
        if (
            first_error is not None
            and "LAPORAN KINERJA TRIWULAN" in str(first_error).upper()
            and ("baris sasaran" in str(first_error))
        ):
            # A 22-column title over another table: say both.
            raise BadFileError(f"{first_error} {exc}") from None
        raise
    if request.opd_id is not None:
        opd_id = request.opd_id
    else:
        if not layout.office:
            raise BadFileError(
                f"{name} tidak menyebut perangkat daerahnya. Sebutkan tujuannya dengan --opd, "
                "misalnya --opd dinkes (lihat: monev opd list)."
            )
        check = ImportSummary(file=name)
        wrong = _office_mismatch(session, layout.office, None, check)
        if wrong and not request.other_office:
            if not request.dry_run:
                raise BadFileError(wrong)
            early.append(wrong)
        opd_id = row_id(ensure_opd(session, layout.office))
    numbers = root_numbers(session, opd_id, layout.roots)
    return layout, to_reports(layout, numbers), opd_id, note, columns


def _office_of(session: Session, opd_id: int | None, report: ParsedReport) -> PerangkatDaerah:
    if opd_id is not None:
        opd = session.get(PerangkatDaerah, opd_id)
        assert opd is not None
        return opd
    key = normalise_name(report.opd_nama or "Perangkat Daerah")
    return next(
        o for o in session.exec(select(PerangkatDaerah)).all() if normalise_name(o.nama) == key
    )


# --- a layout into reports --------------------------------------------------------------------


def root_numbers(session: Session, opd_id: int, roots: list[LayoutNode]) -> list[int]:
    """The sasaran number of each top node: the number its name had before (any year of the
    office), else a number no sasaran and no bidang of the office uses yet."""
    known: dict[str, int] = {}
    for nama, nomor in session.exec(
        select(Node.nama, Sasaran.nomor)
        .join(Sasaran, col(Sasaran.id) == col(Node.sasaran_id))
        .where(Node.opd_id == opd_id, col(Node.parent_id).is_(None))
        .order_by(col(Node.tahun).desc(), col(Node.id))
    ).all():
        known.setdefault(normalise_name(nama), nomor)
    used = set(session.exec(select(Sasaran.nomor).where(Sasaran.opd_id == opd_id)).all())
    for b in session.exec(select(Bidang).where(Bidang.opd_id == opd_id)).all():
        used.update(b.sasaran_numbers())
    following = max(used, default=0) + 1
    out: list[int] = []
    for root in roots:
        n = known.get(normalise_name(root.nama))
        if n is None or n in out:
            n, following = following, following + 1
        out.append(n)
    return out


def to_reports(layout: Layout, numbers: list[int]) -> list[ParsedReport]:
    """One report per quarter of the layout, each top node under its own sasaran number."""
    last = max(layout.quarters)
    out: list[ParsedReport] = []
    for q in layout.quarters:
        parsed: dict[int, ParsedNode] = {}

        def convert(
            node: LayoutNode, q: int = q, parsed: dict[int, ParsedNode] = parsed
        ) -> ParsedNode:
            pn = ParsedNode(
                level=node.level,
                nama=node.nama,
                indikator=node.indikator,
                target=node.target,
                pagu=pagu_at(node, q),
                realisasi=node.cumulative.get(q),
                fisik=node.fisik if q == last else None,
                ket=node.ket,
                line_no=node.row_no,
                children=[convert(c) for c in node.children],
            )
            parsed[id(node)] = pn
            return pn

        sasaran = [
            ParsedSasaran(
                nomor=n, teks="", indikator="", line_no=root.row_no, programs=[convert(root)]
            )
            for root, n in zip(layout.roots, numbers, strict=True)
        ]
        digest = hashlib.sha256(
            f"{layout.digest}:{q}:{','.join(map(str, numbers))}".encode()
        ).hexdigest()
        report = ParsedReport(
            triwulan=q,
            tahun=layout.tahun,
            opd_nama=layout.office,
            first_line=layout.first_row,
            sasaran=sasaran,
            digest=digest,
            problems=list(layout.problems) if q == last else [],
        )
        if q == last:
            report.notes = [
                (parsed.get(id(node)) if node is not None else None, f"{layout.name} {message}")
                for node, message in layout.findings
            ]
        out.append(report)
    return out


def _sheet_hints(layout: Layout, reports: list[ParsedReport]) -> dict[int, str]:
    """Sasaran number -> the sheet title a top node came from (a sheet per bidang)."""
    out: dict[int, str] = {}
    for root, ps in zip(layout.roots, reports[-1].sasaran, strict=True):
        if root.bidang_hint:
            out[ps.nomor] = root.bidang_hint
    return out


# --- bidang of programs -----------------------------------------------------------------------


def groups_without_bidang(session: Session, opd_id: int, tahun: int, tw: int) -> list[Group]:
    """The sasaran of the office-year that no bidang owns, with their top nodes."""
    return _groups(session, opd_id, tahun, tw, unassigned_only=True)


def _groups(
    session: Session, opd_id: int, tahun: int, tw: int, *, unassigned_only: bool
) -> list[Group]:
    from storage.services.queries import YearData, unassigned_sasaran_ids

    data = YearData(session, opd_id, tahun)
    loose = unassigned_sasaran_ids(data, tw)
    tops: dict[int, list] = {}
    for p in data.programs(tw, loose if unassigned_only else None):
        tops.setdefault(p.sasaran_id, []).append(p)
    out: list[Group] = []
    for sid in sorted(tops, key=lambda i: data.sasaran[i].nomor):
        pagu = [data.node_figure(p.id, tw).pagu for p in tops[sid]]
        total = sum(x for x in pagu if x is not None) if pagu else None
        names = [p.nama for p in tops[sid]]
        out.append(Group(data.sasaran[sid].nomor, names, total, sid in loose))
    return out


def assign_sasaran(
    session: Session, *, opd_id: int, assignments: dict[int, Bidang], actor: str
) -> None:
    """Each sasaran number of the office (every year) belongs to its bidang from now on: one
    update per bidang, however many programs (a sheet per bidang names hundreds)."""
    if not assignments:
        return
    for b in session.exec(select(Bidang).where(Bidang.opd_id == opd_id)).all():
        numbers = set(b.sasaran_numbers())
        mine = {n for n, target in assignments.items() if target.id == b.id}
        kept = (numbers - set(assignments)) | mine
        if kept != numbers:
            b.sasaran = ",".join(str(n) for n in sorted(kept))
            session.add(b)
    session.flush()
    by_bidang: dict[int, list[int]] = {}
    for nomor, b in assignments.items():
        by_bidang.setdefault(row_id(b), []).append(nomor)
    table = table_of(Sasaran)
    conn = session.connection()
    for bidang_id, owned in by_bidang.items():
        conn.execute(
            update(table)
            .where(table.c.opd_id == opd_id, table.c.nomor.in_(sorted(owned)))
            .values(bidang_id=bidang_id)
        )
        # Office-wide entry: the figure caches reload this office's bidang and figures.
        record(
            session,
            actor=actor,
            entity="perangkat_daerah",
            entity_id=opd_id,
            field="bidang sasaran",
            old=None,
            new=f"sasaran {', '.join(map(str, sorted(owned)))} -> bidang {bidang_id}",
        )
    session.expire_all()  # Sasaran rows the session holds carry the old bidang


def _assign(session: Session, out: Understood, request: Request, hints: dict[int, str]) -> None:
    from storage.services.users import find_bidang

    opd_id, actor = out.opd_id, request.actor or "import"
    # Every group may be named (a program moves to another bidang); a sheet's bidang only
    # places programs that have none.
    groups = _groups(session, opd_id, out.tahun, out.triwulan, unassigned_only=False)
    loose = {g.nomor for g in groups if g.loose}
    if not loose and not request.bidang:
        return
    wanted: dict[int, Bidang] = {}
    found: dict[str, Bidang | None] = {}  # a sheet's title, looked up once
    for nomor, hint in hints.items():
        if hint not in found:
            found[hint] = find_bidang(session, text=hint, opd_id=opd_id)
        b = found[hint]
        if b is not None and nomor in loose:
            wanted[nomor] = b
    for spec in request.bidang:
        for item in re.split(r"[;\n]+", spec):
            if item.strip():
                for nomor, b in _parse_assignment(session, item, groups, opd_id):
                    wanted[nomor] = b
    names = {g.nomor: g.names for g in groups}
    assign_sasaran(session, opd_id=opd_id, assignments=wanted, actor=actor)
    for nomor, b in sorted(wanted.items()):
        shown = "; ".join(names.get(nomor, [])) or f"sasaran {nomor}"
        out.assigned.append(f"[{nomor}] {shown} → {b.nama}")


def _parse_assignment(
    session: Session, item: str, groups: list[Group], opd_id: int
) -> list[tuple[int, Bidang]]:
    from storage.services.users import find_bidang

    key, sep, target = item.rpartition("=")
    if not sep or not key.strip() or not target.strip():
        raise BadFileError(
            f"--bidang '{item.strip()}' tidak terbaca. Tulis NOMOR=BIDANG atau "
            "'NAMA PROGRAM=BIDANG', misalnya --bidang 2=koperasi (nomornya ada di --coba)."
        )
    b = find_bidang(session, text=target.strip(), opd_id=opd_id)
    if b is None:
        names = ", ".join(
            x.nama for x in session.exec(select(Bidang).where(Bidang.opd_id == opd_id)).all()
        )
        raise BadFileError(f"Bidang '{target.strip()}' tidak ada. Bidang yang ada: {names}.")
    numbers: list[int] = []
    for part in key.split(","):
        p = part.strip()
        if p.isdecimal():
            if not any(g.nomor == int(p) for g in groups):
                listed = ", ".join(str(g.nomor) for g in groups)
                raise BadFileError(
                    f"--bidang {item.strip()}: nomor {p} tidak ada di rencana tahun ini "
                    f"(yang ada: {listed})."
                )
            numbers.append(int(p))
            continue
        hits = [g.nomor for g in groups if any(_name_fits(p, n) for n in g.names)]
        if len(hits) != 1:
            what = "tidak cocok dengan program mana pun" if not hits else "cocok dengan beberapa"
            raise BadFileError(
                f"--bidang '{item.strip()}': '{p}' {what}. Pakai nomornya (lihat --coba)."
            )
        numbers.append(hits[0])
    return [(n, b) for n in numbers]


def _name_fits(text: str, name: str) -> bool:
    a, b = normalise_name(text), normalise_name(name)
    return bool(a) and (a in b or fuzz.ratio(a, b) >= 90)


# --- what it shows ---------------------------------------------------------------------------


def _show(session: Session, out: Understood) -> None:
    sm = summary(session, out.opd_id, out.tahun, out.triwulan)
    out.bidang = [BidangLine(r.nama, r.figure) for r in sm.rows]
    out.total = sm.total
    out.groups = groups_without_bidang(session, out.opd_id, out.tahun, out.triwulan)
    # Every finding of the year: the file's own and those its figures cause.
    out.findings = list(out.summary.finding_messages)


# --- remembered mappings ----------------------------------------------------------------------


def remember_mapping(session: Session, opd_id: int, signature: str, kolom: str) -> None:
    key = MAPPING_KEY.format(opd_id=opd_id, signature=signature)
    row = session.get(Setting, key)
    if row is None:
        row = Setting(key=key, value=kolom)
    row.value = kolom
    session.add(row)


def recalled_mapping(session: Session, opd_id: int, signature: str) -> str:
    row = session.get(Setting, MAPPING_KEY.format(opd_id=opd_id, signature=signature))
    return row.value if row is not None else ""


__all__ = [
    "NO_BIDANG",
    "Group",
    "Meaning",
    "Request",
    "Understood",
    "assign_sasaran",
    "figure",
    "groups_without_bidang",
    "import_any",
    "import_bytes",
    "read_mapping_file",
    "root_numbers",
    "to_reports",
]
