"""Setting up a real office: the office and its bidang, the year's plan, a new year, pagu revisions.

No Telegram here. The demo profile is one office's structure; every other office starts
empty with ``init_office``, describes its plan in the XLSX template (its rows and words here,
written by ``storage.files.template``, read back by ``storage.files.importer``), carries its
structure into the next year with ``copy_year`` and records budget shifts (pergeseran, APBD
Perubahan) with ``revise_pagu``.
Errors are ``SetupError`` whose ``str()`` is an Indonesian message for the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, func, select

from storage.data.audit import record
from storage.data.models import (
    Bidang,
    IndikatorSasaran,
    Level,
    Node,
    NodePlan,
    PerangkatDaerah,
    Role,
    Sasaran,
    Source,
    UserStatus,
    row_id,
)
from storage.domain.errors import MonevError
from storage.domain.numbers import format_rupiah
from storage.domain.offices import OfficeName
from storage.domain.periods import default_year, roman, today_wib
from storage.domain.report_format import HEADERS, KEGIATAN_RE, NCOLS, PROGRAM_RE, SUB_RE
from storage.domain.text import normalise_name
from storage.services.nodes import find_node
from storage.services.queries import (
    NodeRow,
    PlanRow,
    YearData,
    get_opd,
    list_bidang,
    years_with_data,
)
from storage.services.users import bidang_names, bind_to_office, get_user, set_user

if TYPE_CHECKING:
    from openpyxl.styles import Alignment
    from openpyxl.worksheet.worksheet import Worksheet


BidangSpec = tuple[str, str, list[str], list[int]]  # kode, nama, aliases, sasaran numbers

DEFAULT_BIDANG: BidangSpec = (
    "sekretariat",
    "Sekretariat",
    ["sekretariat", "sekre", "sekretaris", "kesekretariatan", "umum"],
    [1],
)

CellValue = str | int | float | None  # what the template writes into a cell


class SetupError(MonevError, ValueError):
    """A setup request that cannot be carried out; ``str()`` is an Indonesian message."""


def _require_opd(session: Session, opd_id: int) -> PerangkatDaerah:
    opd = get_opd(session, opd_id)
    if opd is None:
        raise SetupError(f"Perangkat daerah dengan id {opd_id} tidak ada.")
    return opd


class NoOffice(SetupError):
    """The database holds no office yet."""


class SeveralOffices(SetupError):
    """A one-office command met a database serving several offices."""

    def __init__(self, offices: list[PerangkatDaerah]) -> None:
        names = "; ".join(f"{o.id}: {o.nama}" for o in offices)
        super().__init__(f"Ada {len(offices)} perangkat daerah ({names}). Pilih dengan --opd ID.")
        self.offices = offices


def the_only_office(session: Session) -> PerangkatDaerah:
    """The office of a one-office deployment, for the edges (bot start-up, CLI commands)
    that serve "the" office; services themselves always take ``opd_id``.

    Raises ``NoOffice`` when there is none and ``SeveralOffices`` when there are more,
    rather than silently picking the first.
    """
    offices = list(session.exec(select(PerangkatDaerah).order_by(col(PerangkatDaerah.id))).all())
    if not offices:
        raise NoOffice(
            "Basis data belum berisi perangkat daerah. Buat dulu dengan: "
            'monev init --opd "NAMA DINAS" --kepala "NAMA" --nip "NIP"'
        )
    if len(offices) > 1:
        raise SeveralOffices(offices)
    return offices[0]


def the_only_office_name(session: Session) -> OfficeName:
    """``the_only_office`` as plain values (for the transport, which knows no tables)."""
    o = the_only_office(session)
    return OfficeName(row_id(o), o.nama, o.singkatan, tuple(o.alias_list()))


# --- the office ------------------------------------------------------------------------------


def _is_sekretariat(kode: str, nama: str) -> bool:
    return "sekretariat" in {normalise_name(kode), normalise_name(nama)}


def init_office(
    session: Session,
    *,
    nama: str,
    kepala: str,
    nip: str,
    tempat: str = "",
    bidang: list[BidangSpec] | None = None,
    actor: str,
    singkatan: str | None = None,
    aliases: list[str] | None = None,
) -> PerangkatDaerah:
    """Create an empty office with its bidang.

    Every dinas has a Sekretariat, so it is always there: ``bidang=None`` gives Sekretariat
    (sasaran 1) alone, and a list of bidang is added to it unless the list names its own
    Sekretariat. In that case Sekretariat keeps sasaran 1 only when no listed bidang
    claims it. A sasaran number belongs to one bidang only.
    """
    nama = " ".join(nama.split())
    if not nama:
        raise SetupError("Nama perangkat daerah wajib diisi.")
    key = normalise_name(nama)
    for other in session.exec(select(PerangkatDaerah)).all():
        if normalise_name(other.nama) == key:
            raise SetupError(
                f"Perangkat daerah '{other.nama}' sudah ada (id {other.id}). "
                "Gunakan nama lain atau kelola yang sudah ada."
            )
    singkatan, alias_text = check_office_names(session, nama, singkatan, aliases or [])
    nip_digits = "".join(nip.split())
    if nip_digits and not nip_digits.isdecimal():
        raise SetupError(f"NIP '{nip}' tidak sah: NIP hanya berisi angka (biasanya 18 digit).")

    specs = list(bidang or [])
    if not any(_is_sekretariat(k, n) for k, n, _, _ in specs):
        claimed = {s for _, _, _, nums in specs for s in nums}
        kode, bnama, aliases, nums = DEFAULT_BIDANG
        specs.insert(0, (kode, bnama, aliases, [s for s in nums if s not in claimed]))

    seen_kode: dict[str, str] = {}
    owner: dict[int, str] = {}
    for kode, bnama, _, nums in specs:
        k = kode.strip().lower()
        if not k or not bnama.strip():
            raise SetupError("Setiap bidang perlu kode dan nama, misalnya kop:Koperasi:2.")
        if k in seen_kode:
            raise SetupError(f"Kode bidang '{k}' dipakai dua kali ({seen_kode[k]}, {bnama}).")
        seen_kode[k] = bnama.strip()
        for n in nums:
            if n < 1:
                raise SetupError(f"Nomor sasaran bidang {bnama} harus 1 atau lebih, bukan {n}.")
            if n in owner:
                raise SetupError(
                    f"Sasaran {n} dipegang dua bidang ({owner[n]} dan {bnama}); "
                    "satu sasaran hanya milik satu bidang."
                )
            owner[n] = bnama.strip()

    opd = PerangkatDaerah(
        nama=nama,
        nama_kepala=" ".join(kepala.split()),
        nip_kepala=nip_digits,
        tempat=tempat,
        singkatan=singkatan,
        aliases=alias_text,
    )
    session.add(opd)
    session.flush()
    for i, (kode, bnama, aliases, nums) in enumerate(specs):
        alias_list = list(dict.fromkeys(a.strip().lower() for a in [kode, bnama, *aliases]))
        session.add(
            Bidang(
                opd_id=row_id(opd),
                kode=kode.strip().lower(),
                nama=bnama.strip(),
                aliases=",".join(a for a in alias_list if a),
                sasaran=",".join(str(n) for n in sorted(nums)),
                urutan=i,
            )
        )
    record(
        session,
        actor=actor,
        entity="perangkat_daerah",
        entity_id=opd.id,
        field="nama",
        old=None,
        new=nama,
    )
    session.flush()
    return opd


def check_office_names(
    session: Session,
    nama: str,
    singkatan: str | None,
    aliases: list[str],
    *,
    opd_id: int | None = None,
) -> tuple[str | None, str]:
    """The short name and aliases of an office, checked: a short name or alias that names
    another office (its name, short name or an alias) would make ``--opd`` and questions
    ambiguous, so it is refused. Returns (singkatan, comma-separated aliases)."""
    short = " ".join((singkatan or "").split()) or None
    if short is not None and (len(short) > 40 or not any(c.isalnum() for c in short)):
        raise SetupError(f"Singkatan '{short}' tidak sah: paling banyak 40 huruf, mis. Dinkes.")
    spelled = [a.strip().lower() for a in aliases if a.strip()]
    mine = [normalise_name(x) for x in [nama, *([short] if short else []), *spelled]]
    for other in session.exec(select(PerangkatDaerah)).all():
        if other.id == opd_id:
            continue
        theirs = {
            normalise_name(x) for x in [other.nama, other.singkatan or "", *other.alias_list()]
        }
        clash = next((m for m in mine[1:] if m and m in theirs), None)
        if clash is not None:
            raise SetupError(
                f"Nama '{clash}' sudah dipakai {other.nama} (id {other.id}); "
                "pilih singkatan atau nama lain yang khas."
            )
    return short, ",".join(dict.fromkeys(spelled))


# --- the plan template -----------------------------------------------------------------------

SHEET_PLAN = "Rencana"
SHEET_HELP = "Petunjuk"
MONEY_FORMAT = "#,##0"
EXAMPLE_MARK = "CONTOH"

# The importer recognises the header row by SASARAN, PROGRAM and ANGGARAN in it.
_WIDTHS: dict[int, float] = {
    1: 5,
    2: 30,
    3: 28,
    **{c: 5 for c in range(4, 16)},
    16: 55,
    17: 35,
    18: 14,
    19: 11,
    20: 18,
    21: 15,
    22: 12,
}


@cache
def _xl() -> SimpleNamespace:
    """openpyxl and the template's shared styles, loaded on the first template written: the
    bot process imports this module at start-up and must not carry openpyxl (and numpy)
    until someone asks for a template."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    thin = Side(style="thin")
    return SimpleNamespace(
        Workbook=Workbook,
        Alignment=Alignment,
        Font=Font,
        get_column_letter=get_column_letter,
        DataValidation=DataValidation,
        BORDER=Border(left=thin, right=thin, top=thin, bottom=thin),
        HEADER_FILL=PatternFill("solid", fgColor="D9D9D9"),
        EXAMPLE_FILL=PatternFill("solid", fgColor="FFF2CC"),
    )


_INDENT = {Level.PROGRAM: 0, Level.KEGIATAN: 1, Level.SUB_KEGIATAN: 2}
_PREFIX = {Level.PROGRAM: "PROGRAM", Level.KEGIATAN: "Kegiatan", Level.SUB_KEGIATAN: "Sub Kegiatan"}
_FIRST_DATA_ROW = 7  # 1 office, 2 title, 3 blank, 4 header, 5 T/R, 6 column numbers


@dataclass
class _PlanRow:
    level: Level
    nama: str
    indikator: str
    target: str
    pagu: int | None
    example: bool = False


@dataclass
class _SasaranRow:
    nomor: int
    teks: str
    indikator: str
    nodes: list[_PlanRow]
    example: bool = False


def template_year(session: Session, opd_id: int) -> int:
    """The year a template is written for by default: the office's latest with a plan; for a
    new office, the latest year another office of the deployment reports on (a kabupaten
    brings its offices in for the same year); else this year."""
    year = default_year(None, years_with_data(session, opd_id))
    if year is not None:
        return year
    latest = session.exec(select(func.max(Node.tahun))).one()
    return int(latest) if latest else today_wib().year


def with_prefix(level: Level, nama: str) -> str:
    """The name as the importer needs it: the level prefix decides the level of a row.

    Real reports leave prefixes out in places (docs/domain.md); the importer matches names
    without their prefix, so adding one does not make a node new.
    """
    nama = " ".join(nama.split())
    if level is Level.SUB_KEGIATAN:
        ok = bool(SUB_RE.match(nama))
    elif level is Level.KEGIATAN:
        ok = bool(KEGIATAN_RE.match(nama))
    else:
        ok = bool(PROGRAM_RE.match(nama))
    return nama if ok else f"{_PREFIX[level]} {nama}"


def _subtree_rows(data: YearData, node: NodeRow, tw: int) -> list[_PlanRow]:
    """The node and everything under it in the plan at ``tw``, depth first."""
    assert node.id is not None
    plan = data.plan(node.id, tw)
    assert plan is not None
    level = Level(node.level)
    out = [_PlanRow(level, with_prefix(level, node.nama), node.indikator, plan.target, plan.pagu)]
    for child in data.children(node.id, tw):
        out.extend(_subtree_rows(data, child, tw))
    return out


def _plan_rows(data: YearData, tw: int) -> list[_SasaranRow]:
    """The plan in force at ``tw``: every sasaran with its tree."""
    out: list[_SasaranRow] = []
    for sas in sorted(data.sasaran.values(), key=lambda s: s.nomor):
        assert sas.id is not None
        rows = [r for p in data.programs(tw, {sas.id}) for r in _subtree_rows(data, p, tw)]
        out.append(_SasaranRow(sas.nomor, sas.teks, sas.indikator, rows))
    return out


def _example_rows(bidang: list[Bidang], sasaran: list[_SasaranRow]) -> list[_SasaranRow]:
    """A few rows that show the shape of a plan; marked so nobody imports them unawares.

    Sasaran the year has already are kept; example sasaran stand for the bidang's numbers.
    """
    known = {s.nomor: s for s in sasaran}
    numbers = sorted({n for b in bidang for n in b.sasaran_numbers()} | set(known)) or [1]
    owner = {n: b.nama for b in bidang for n in b.sasaran_numbers()}
    out: list[_SasaranRow] = []
    for i, n in enumerate(numbers):
        nodes: list[_PlanRow] = []
        if i == 0:
            nodes = [
                _PlanRow(
                    Level.PROGRAM,
                    "PROGRAM CONTOH PENUNJANG URUSAN PEMERINTAHAN DAERAH",
                    "Persentase terlaksananya penunjang urusan pemerintahan",
                    "100%",
                    150_000_000,
                    True,
                ),
                _PlanRow(
                    Level.KEGIATAN,
                    "Kegiatan Contoh Perencanaan, Penganggaran dan Evaluasi Kinerja",
                    "Persentase terlaksananya perencanaan dan evaluasi kinerja",
                    "100%",
                    150_000_000,
                    True,
                ),
                _PlanRow(
                    Level.SUB_KEGIATAN,
                    "Sub Kegiatan Contoh Penyusunan Dokumen Perencanaan Perangkat Daerah",
                    "Jumlah dokumen perencanaan yang tersusun",
                    "1 Dokumen",
                    100_000_000,
                    True,
                ),
                _PlanRow(
                    Level.SUB_KEGIATAN,
                    "Sub Kegiatan Contoh Evaluasi Kinerja Perangkat Daerah",
                    "Jumlah laporan evaluasi kinerja",
                    "4 Laporan",
                    50_000_000,
                    True,
                ),
            ]
        if n in known:
            out.append(_SasaranRow(n, known[n].teks, known[n].indikator, nodes))
            continue
        bidang_nama = owner.get(n, "")
        out.append(
            _SasaranRow(
                n,
                f"Contoh: sasaran strategis {('bidang ' + bidang_nama) if bidang_nama else n}",
                "Contoh: indikator kinerja sasaran",
                nodes,
                True,
            )
        )
    return out


def _help_lines(
    opd: PerangkatDaerah, tahun: int, bidang: list[Bidang], examples: bool, tw: int = 1
) -> list[str]:
    """The Petunjuk sheet, one line a row in column A.

    The importer reads every sheet of a workbook; a row with a single cell is harmless to it,
    but a line must not contain the report title phrase, or it would start a new report.
    """
    mapping = (
        "; ".join(
            f"{b.nama}: sasaran {', '.join(str(n) for n in b.sasaran_numbers()) or '(belum ada)'}"
            for b in bidang
        )
        or "(belum ada bidang)"
    )
    lines = [
        f"PETUNJUK PENGISIAN RENCANA TAHUN {tahun}",
        opd.nama,
        "",
        f"Lembar '{SHEET_PLAN}' memuat rencana tahun {tahun}: sasaran, program, kegiatan, "
        "sub kegiatan, indikator, target dan pagu anggaran.",
        "",
        "1. Jangan mengubah baris nama perangkat daerah dan baris judul di atas tabel, "
        "baris judul kolom, baris T/R, dan baris nomor kolom 1 sampai 22. "
        "Dari baris-baris itulah berkas ini dikenali saat diimpor.",
        "2. Setiap sasaran menempati satu baris: nomor sasaran di kolom 1 (A), uraian sasaran "
        "di kolom 2 (B), indikator kinerja sasaran di kolom 3 (C).",
        f"3. Nomor sasaran menentukan bidang yang melaporkannya. Pembagian saat ini: {mapping}.",
        "4. Di bawah baris sasaran, tulis program, kegiatan dan sub kegiatannya, satu per baris, "
        "di kolom 16 (P): program dahulu, lalu setiap kegiatannya diikuti sub kegiatannya.",
        "5. Awali nama dengan kata PROGRAM, Kegiatan, atau Sub Kegiatan. Awalan itulah yang "
        "menentukan tingkat baris, jadi jangan dihapus.",
        "6. Kolom 17 (Q) berisi indikator, kolom 18 (R) target "
        "(misalnya 100%, 1 Dokumen, 12 Bulan).",
        "7. Kolom 20 (T) berisi pagu anggaran dalam rupiah penuh tanpa Rp dan tanpa sen, "
        "misalnya 1500000000. Pagu kegiatan sama dengan jumlah pagu sub kegiatannya, "
        "dan pagu program sama dengan jumlah pagu kegiatannya.",
        f"8. Bila angka realisasi TW {roman(tw)} sudah ada (misalnya dari laporan lama "
        "kantor), isi kolom 21 (U) dengan realisasi anggaran kumulatif sampai akhir triwulan "
        "itu dalam rupiah penuh, dan kolom 19 (S) dengan realisasi fisik dalam persen; cukup "
        "di baris sub kegiatan, kegiatan dan program dijumlahkan. Bila belum ada, biarkan "
        "kosong: realisasi diisi setiap triwulan melalui bot. Kolom 4 sampai 15 biarkan kosong. "
        f"Untuk triwulan lain buat templatnya dengan: monev template --tw 3",
    ]
    if examples:
        lines.append(
            f"9. Baris berwarna kuning bertanda {EXAMPLE_MARK} di kolom 22 (KET) hanya contoh. "
            "Ganti dengan rencana sebenarnya atau hapus sebelum berkas diimpor."
        )
    else:
        lines.append(
            f"9. Isian lembar ini diambil dari rencana tahun {tahun} yang sudah tersimpan "
            "(rencana yang berlaku pada awal tahun)."
        )
    lines += [
        "",
        "Setelah selesai, simpan sebagai XLSX lalu impor, misalnya:",
        f"    monev import rencana-{tahun}.xlsx",
        "",
        "PERHATIAN",
        f"- Berkas ini diimpor sebagai rencana (dan realisasi, bila diisi) TW {roman(tw)}. "
        "Jangan mengimpornya tanpa realisasi untuk triwulan yang sudah berisi laporan: angka "
        "realisasi triwulan itu akan terhapus karena berkas ini tidak memuatnya.",
        "- Perubahan pagu di tengah tahun (pergeseran anggaran, APBD Perubahan) dicatat dengan:",
        '    monev pagu --node "nama sub kegiatan" --dari-tw 3 --pagu "1.500.000.000" '
        '--alasan "APBD Perubahan"',
        "- Untuk tahun berikutnya, salin struktur tahun ini tanpa realisasi dengan:",
        f"    monev tahun-baru --dari {tahun} --ke {tahun + 1}",
    ]
    return lines


def _money_cell(value: int | None) -> int | str | None:
    # The importer finds the pagu column by an amount written with digit grouping; a
    # workbook integer below 1000 is read back without grouping, so it is spelt with Rp.
    if value is None or value >= 1000:
        return value
    return f"Rp {value}"


def _write_plan_sheet(
    ws: Worksheet, opd: PerangkatDaerah, tahun: int, rows: list[_SasaranRow], tw: int = 1
) -> None:
    xl = _xl()
    ws.title = SHEET_PLAN
    for column, width in _WIDTHS.items():
        ws.column_dimensions[xl.get_column_letter(column)].width = width
    title_font = xl.Font(size=12, bold=True)
    # Single cells in column A: the importer takes the office from the line right above
    # the title, and the quarter and year from the title.
    _text_as_text(ws.cell(row=1, column=1, value=opd.nama)).font = title_font
    title = f"LAPORAN KINERJA TRIWULAN {roman(tw)} TAHUN {tahun}"
    ws.cell(row=2, column=1, value=title).font = title_font

    top, sub, numbers = 4, 5, 6
    bold = xl.Font(bold=True)
    center = xl.Alignment(horizontal="center", vertical="center", wrap_text=True)
    for column in range(1, NCOLS + 1):
        for r in (top, sub, numbers):
            c = ws.cell(row=r, column=column)
            c.border = xl.BORDER
            c.alignment = center
            if r != numbers:
                c.font = bold
                c.fill = xl.HEADER_FILL
        ws.cell(row=numbers, column=column, value=column)
    for column, text in HEADERS:
        ws.cell(row=top, column=column, value=text)
        if 4 <= column <= 11:
            ws.cell(row=sub, column=column, value="T")
            ws.cell(row=sub, column=column + 1, value="R")
    ws.row_dimensions[top].height = 60

    r = _FIRST_DATA_ROW
    wrap = xl.Alignment(wrap_text=True, vertical="top")
    for sas in rows:
        values: dict[int, CellValue] = {1: sas.nomor, 2: sas.teks or "-", 3: sas.indikator or None}
        if sas.example:
            values[22] = EXAMPLE_MARK
        _write_row(ws, r, values, sas.example, wrap, bold_from=1)
        r += 1
        for node in sas.nodes:
            values = {
                16: node.nama,
                17: node.indikator or None,
                18: node.target or None,
                20: _money_cell(node.pagu),
            }
            if node.example:
                values[22] = EXAMPLE_MARK
            _write_row(
                ws,
                r,
                values,
                node.example,
                xl.Alignment(wrap_text=True, vertical="top", indent=_INDENT[node.level]),
                bold_from=16 if node.level is not Level.SUB_KEGIATAN else None,
            )
            r += 1

    last = max(r - 1, _FIRST_DATA_ROW + 200)
    money = xl.DataValidation(
        type="whole",
        operator="greaterThanOrEqual",
        formula1="0",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Pagu tidak sah",
        error="Tulis pagu dalam rupiah penuh tanpa sen, misalnya 1500000000.",
    )
    money.add(f"T{_FIRST_DATA_ROW}:T{last}")
    ws.add_data_validation(money)
    for row in range(r, last + 1):
        ws.cell(row=row, column=20).number_format = MONEY_FORMAT
    ws.freeze_panes = f"A{_FIRST_DATA_ROW}"
    ws.sheet_view.zoomScale = 90


def _text_as_text(cell: Any) -> Any:
    """A text cell stays text: names come from people and imported files, and openpyxl would
    store one starting with "=" as a formula."""
    if isinstance(cell.value, str):
        cell.data_type = "s"
    return cell


def _write_row(
    ws: Worksheet,
    r: int,
    values: dict[int, CellValue],
    example: bool,
    name_alignment: Alignment,
    *,
    bold_from: int | None,
) -> None:
    xl = _xl()
    for column in range(1, NCOLS + 1):
        c = _text_as_text(ws.cell(row=r, column=column, value=values.get(column)))
        c.border = xl.BORDER
        c.alignment = (
            name_alignment if column == 16 else xl.Alignment(wrap_text=True, vertical="top")
        )
        if column == 20:
            c.number_format = MONEY_FORMAT
            c.alignment = xl.Alignment(horizontal="right", vertical="top")
        if bold_from is not None and column >= bold_from and column in (1, 2, 3, 16, 17, 18, 20):
            c.font = xl.Font(bold=True)
        if example:
            c.fill = xl.EXAMPLE_FILL


# --- a new year ------------------------------------------------------------------------------


def copy_year(session: Session, *, opd_id: int, dari: int, ke: int, actor: str) -> int:
    """Copy the structure of year ``dari`` into year ``ke`` and return the number of nodes.

    Sasaran keep their bidang; nodes keep their parents and order; each node's latest
    active plan row becomes its TW I plan of the new year (source ADMIN). Realisation,
    reports and capaian values are not copied: the new year starts with a plan only.
    """
    opd = _require_opd(session, opd_id)
    if dari == ke:
        raise SetupError("Tahun asal dan tahun tujuan sama; tidak ada yang disalin.")
    src = YearData(session, opd_id, dari)
    if not src.nodes:
        years = years_with_data(session, opd_id)
        hint = f" Tahun yang berisi rencana: {', '.join(map(str, years))}." if years else ""
        raise SetupError(f"Tahun {dari} belum berisi rencana untuk {opd.nama}.{hint}")
    existing = session.exec(select(Node.id).where(Node.opd_id == opd_id, Node.tahun == ke)).all()
    if existing:
        raise SetupError(
            f"Tahun {ke} sudah berisi {len(existing)} program/kegiatan/sub kegiatan; "
            "penyalinan dibatalkan agar rencana yang ada tidak tertimpa."
        )

    bidang_by_nomor = {n: b.id for b in list_bidang(session, opd_id) for n in b.sasaran_numbers()}
    target_sasaran = {
        s.nomor: s
        for s in session.exec(
            select(Sasaran).where(Sasaran.opd_id == opd_id, Sasaran.tahun == ke)
        ).all()
    }
    sasaran_map: dict[int, int] = {}
    for old in sorted(src.sasaran.values(), key=lambda s: s.nomor):
        new = target_sasaran.get(old.nomor)
        if new is None:
            # Sasaran of the target year that exist already (an imported template without
            # nodes) are kept as they are.
            new = Sasaran(
                opd_id=opd_id,
                tahun=ke,
                nomor=old.nomor,
                teks=old.teks,
                indikator=old.indikator,
                bidang_id=old.bidang_id or bidang_by_nomor.get(old.nomor),
            )
            session.add(new)
            session.flush()
        assert old.id is not None and new.id is not None
        sasaran_map[old.id] = new.id

    node_map: dict[int, int] = {}
    total = 0

    def copy(node: NodeRow, parent_id: int | None) -> None:
        nonlocal total
        assert node.id is not None
        new = Node(
            opd_id=opd_id,
            tahun=ke,
            sasaran_id=sasaran_map[node.sasaran_id],
            parent_id=parent_id,
            level=Level(node.level),
            nama=node.nama,
            indikator=node.indikator,
            urutan=node.urutan,
        )
        session.add(new)
        session.flush()
        assert new.id is not None
        node_map[node.id] = new.id
        active = [p for p in src.plans.get(node.id, []) if p.aktif]
        latest = active[-1] if active else None
        session.add(
            NodePlan(
                node_id=new.id,
                triwulan=1,
                aktif=latest is not None,
                target=latest.target if latest else "",
                pagu=latest.pagu if latest else None,
                source=Source.ADMIN,
            )
        )
        if latest is not None and latest.pagu is not None and node.parent_id is None:
            total += latest.pagu
        for child in src.kids.get(node.id, []):
            copy(child, new.id)

    for root in src.kids.get(None, []):
        copy(root, None)

    # The indicator list of each sasaran is structure too; its T/R values are not.
    if src.sasaran:
        for ind in session.exec(
            select(IndikatorSasaran)
            .where(col(IndikatorSasaran.sasaran_id).in_(list(src.sasaran)))
            .order_by(col(IndikatorSasaran.id))
        ).all():
            session.add(
                IndikatorSasaran(
                    sasaran_id=sasaran_map[ind.sasaran_id],
                    program_id=node_map.get(ind.program_id) if ind.program_id else None,
                    nama=ind.nama,
                    urutan=ind.urutan,
                )
            )
    record(
        session,
        actor=actor,
        entity="perangkat_daerah",
        entity_id=opd_id,
        field=f"salin rencana {dari} ke {ke}",
        old=None,
        new=f"{len(node_map)} program/kegiatan/sub kegiatan; pagu TW I {format_rupiah(total)}",
    )
    session.flush()
    return len(node_map)


# --- pagu revisions --------------------------------------------------------------------------


@dataclass
class PaguChange:
    """One plan row changed by a revision: the node itself or one of its ancestors."""

    node: Node | NodeRow  # a revision reads the ancestors as plain rows
    old: int | None
    new: int


def revise_pagu(
    session: Session,
    *,
    node_id: int,
    dari_tw: int,
    pagu: int,
    actor: str,
    alasan: str = "",
    ancestors: bool = True,
    changes: list[PaguChange] | None = None,
) -> NodePlan:
    """Set a node's pagu in force from quarter ``dari_tw`` on (pergeseran, APBD Perubahan).

    The plan row at ``dari_tw`` is created (copying target and aktif from the plan in
    force) or updated; earlier quarters keep their rows, so their figures do not change.
    A later quarter that has a plan row of its own (from a later report) keeps it.

    Kegiatan and program rows carry their own reported pagu, which the roll-up prefers
    over the sum of their children; with ``ancestors`` (the default) the same difference
    is applied to each ancestor that has a pagu of its own, so bidang and office totals
    follow. ``changes``, when given, receives every row changed, the node first.
    """
    if dari_tw not in (1, 2, 3, 4):
        raise SetupError(f"Triwulan harus 1 sampai 4 (TW I–IV), bukan {dari_tw}.")
    if pagu < 0:
        raise SetupError("Pagu tidak boleh negatif.")
    node = session.get(Node, node_id)
    if node is None:
        raise SetupError(f"Program/kegiatan/sub kegiatan dengan id {node_id} tidak ada.")
    # The node and its ancestors are all the revision reads: not the whole office-year, which
    # at a province's size would hold the write lock for the time it takes to load.
    chain, up = [node_id], node.parent_id
    while up is not None:
        chain.append(up)
        above = session.get(Node, up)
        up = above.parent_id if above is not None else None
    data = YearData(session, node.opd_id, node.tahun, only=chain)
    in_force = data.plan(node_id, dari_tw)
    if in_force is None:
        raise SetupError(
            f"'{node.nama}' tidak termasuk rencana TW {roman(dari_tw)} {node.tahun}, "
            "sehingga pagunya tidak dapat direvisi mulai triwulan itu."
        )
    old = in_force.pagu
    if old == pagu:
        unchanged = session.get(NodePlan, in_force.id)
        assert unchanged is not None
        return unchanged
    delta = pagu - old if old is not None else None

    plan_changes: list[tuple[Node | NodeRow, PlanRow, int]] = [(node, in_force, pagu)]
    if ancestors and delta is not None:
        parent_id = node.parent_id
        while parent_id is not None:
            parent = data.nodes[parent_id]
            p_plan = data.plan(parent_id, dari_tw)
            if p_plan is not None and p_plan.pagu is not None:
                new_value = p_plan.pagu + delta
                if new_value < 0:
                    raise SetupError(
                        f"Pagu '{parent.nama}' akan menjadi negatif "
                        f"({format_rupiah(p_plan.pagu)} dikurangi {format_rupiah(-delta)}). "
                        "Periksa kembali angka yang diketik."
                    )
                plan_changes.append((parent, p_plan, new_value))
            parent_id = parent.parent_id

    why = f" — {alasan.strip()}" if alasan.strip() else ""
    result: NodePlan | None = None
    for target_node, current, new_value in plan_changes:
        assert target_node.id is not None
        row = session.exec(
            select(NodePlan).where(NodePlan.node_id == target_node.id, NodePlan.triwulan == dari_tw)
        ).first()
        if row is None:
            row = NodePlan(
                node_id=target_node.id,
                triwulan=dari_tw,
                aktif=current.aktif,
                target=current.target,
            )
        old_value = current.pagu
        row.pagu = new_value
        # The pagu of this row no longer comes from a report.
        row.source, row.report_id = Source.ADMIN, None
        session.add(row)
        record(
            session,
            actor=actor,
            entity="node_plan",
            entity_id=target_node.id,
            field=f"pagu TW {roman(dari_tw)} {target_node.tahun}{why}",
            old=old_value,
            new=new_value,
        )
        if changes is not None:
            changes.append(PaguChange(target_node, old_value, new_value))
        if result is None:
            result = row
    session.flush()
    assert result is not None
    return result


def later_plans(session: Session, *, node_id: int, tw: int) -> list[NodePlan]:
    """Plan rows of a node after quarter ``tw``: they outrank a revision made from ``tw``."""
    return list(
        session.exec(
            select(NodePlan)
            .where(NodePlan.node_id == node_id, NodePlan.triwulan > tw)
            .order_by(col(NodePlan.triwulan))
        ).all()
    )


def find_nodes(session: Session, *, text: str, opd_id: int, tahun: int | None = None) -> list[Node]:
    """Nodes a person means by ``text``, best first, by the one matching order of
    ``storage.services.nodes.find_node`` (id, exact name, prefix, contains, fuzzy).

    Without ``tahun`` the latest year with a plan is searched.
    """
    _require_opd(session, opd_id)
    return find_node(session, opd_id=opd_id, text=text, tahun=tahun).nodes


@dataclass(frozen=True)
class Deployment:
    """What the bot keeps from start-up: the office it serves (None: several), and every
    bidang's name by id."""

    opd_id: int | None
    bidang_names: dict[int, str]


def prepare_deployment(session: Session, *, admin_ids: list[int]) -> Deployment:
    """Start-up: the office served (raises ``office.NoOffice`` when there is none), the
    people of a one-office deployment bound to it, and the server's own admins
    (``MONEV_ADMIN_IDS``: of the office, or of the kabupaten when it serves several)."""
    try:
        opd_id: int | None = row_id(the_only_office(session))
    except SeveralOffices:
        opd_id = None
    if opd_id is not None:
        bind_to_office(session, opd_id=opd_id)
    admin_role = Role.ADMIN if opd_id is not None else Role.ADMIN_KABUPATEN
    for tgid in admin_ids:
        user = get_user(session, telegram_id=tgid)
        if (
            user is None
            or user.role not in (Role.ADMIN, Role.ADMIN_KABUPATEN)
            or user.status != UserStatus.ACTIVE
        ):
            set_user(session, telegram_id=tgid, role=admin_role, actor="MONEV_ADMIN_IDS")
    return Deployment(opd_id, dict(bidang_names(session)))
