"""``monev init``, ``template``, ``tahun-baru`` and ``pagu``: setting up a real office.

``add_setup_commands(sub)`` registers the commands on the ``monev`` sub-command parser.
Every command prints one Indonesian result line (plus hints); errors go to stderr with
exit status 1 and never as a traceback.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from bot.cli import common
from bot.settings import Settings
from storage.data import db
from storage.domain.numbers import ParseError, format_rupiah, parse_rupiah
from storage.domain.periods import parse_quarter, roman

Command = Callable[[argparse.Namespace, Settings], int]


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


def _guarded(func: Command) -> Command:
    """Turn the errors a user can cause into a message and exit status 1."""

    def run(args: argparse.Namespace, settings: Settings) -> int:
        from storage.files.report_parser import BadFileError
        from storage.services.office import SetupError

        try:
            return func(args, settings)
        except (SetupError, ParseError, BadFileError) as exc:
            return _fail(str(exc))
        except IntegrityError:
            return _fail(
                "Perubahan ditolak basis data karena bertabrakan dengan data yang ada "
                "(mungkin dijalankan dua kali bersamaan). Tidak ada yang berubah; ulangi perintah."
            )
        except OSError as exc:
            return _fail(f"Berkas tidak dapat ditulis atau dibaca: {exc.strerror or exc}.")

    run.__name__ = func.__name__
    run.__doc__ = func.__doc__
    return run


def parse_bidang(text: str) -> tuple[str, str, list[str], list[int]]:
    """``kode:Nama:sasaran[,sasaran][:alias,alias]`` → (kode, nama, aliases, sasaran)."""
    from storage.services.office import SetupError

    parts = [p.strip() for p in text.split(":")]
    if len(parts) < 2 or len(parts) > 4 or not parts[0] or not parts[1]:
        raise SetupError(
            f"--bidang '{text}' tidak terbaca. Tulis kode:Nama:nomor sasaran, "
            "misalnya kop:Koperasi:2 atau dagang:Perdagangan:4,5"
        )
    numbers: list[int] = []
    for s in (parts[2] if len(parts) > 2 else "").replace(";", ",").split(","):
        s = s.strip()
        if not s:
            continue
        if not s.isdecimal():
            raise SetupError(f"Nomor sasaran '{s}' pada --bidang '{text}' bukan angka.")
        numbers.append(int(s))
    aliases = [a.strip() for a in parts[3].split(",") if a.strip()] if len(parts) > 3 else []
    return parts[0], parts[1], aliases, numbers


def parse_tw(text: str) -> int:
    """``3``, ``III``, ``TW III``, ``tw3``, ``Q3`` → 3; anything else is refused in Indonesian."""
    from storage.services.office import SetupError

    t = text.strip()
    if t.isdecimal():
        return int(t)  # the range is checked where the revision is made
    tw = parse_quarter(t)
    if tw is not None:
        return tw
    raise SetupError(f"Triwulan '{text}' tidak dikenal. Tulis 1 sampai 4, misalnya --dari-tw 3.")


def parse_pagu(text: str) -> int:
    from storage.services.office import SetupError

    if re.match(r"(?i)^\s*(rp\.?\s*)?-\s*\d", text):
        raise SetupError("Pagu tidak boleh negatif.")
    return parse_rupiah(text)


# --- commands ----------------------------------------------------------------------------


@_guarded
def cmd_init(args: argparse.Namespace, settings: Settings) -> int:
    """Create an empty office with its bidang."""
    from storage.services.kabupaten import office_names
    from storage.services.office import init_office
    from storage.services.queries import list_bidang

    bidang = [parse_bidang(b) for b in args.bidang] if args.bidang else None
    engine = common.migrated_engine(settings)
    with db.session_scope(engine) as s:
        others = [o.nama for o in office_names(s)]
        opd = init_office(
            s,
            nama=args.opd,
            kepala=args.kepala,
            nip=args.nip,
            tempat=args.tempat or "",
            bidang=bidang,
            actor="cli",
            singkatan=args.singkatan,
            aliases=[a for a in (args.alias or "").split(",") if a.strip()],
        )
        opd_id = opd.id
        assert opd_id is not None  # init_office flushed it
        listed = ", ".join(f"{b.nama} (sasaran {b.sasaran or '-'})" for b in list_bidang(s, opd_id))
    print(f"Perangkat daerah '{opd.nama}' dibuat (id {opd_id}) dengan bidang: {listed}.")
    pick = opd.singkatan or opd_id
    print(
        f"Langkah berikutnya: monev template --opd {pick}  "
        f"(isi rencana, lalu monev import BERKAS --opd {pick})"
    )
    if others:
        print(
            f"Catatan: basis data ini juga berisi {'; '.join(others)}. Perintah data kini "
            "perlu --opd SINGKATAN atau --opd ID (lihat: monev opd list).",
            file=sys.stderr,
        )
    return 0


@_guarded
def cmd_template(args: argparse.Namespace, settings: Settings) -> int:
    """Write the XLSX plan template."""
    from storage.files.template import write_template
    from storage.services.office import template_year
    from storage.services.queries import years_with_data

    engine = common.migrated_engine(settings)
    with db.read_scope(engine) as s:
        opd = common.resolve_opd(s, args.opd)
        assert opd.id is not None
        tahun = args.tahun or template_year(s, opd.id)
        has_plan = tahun in years_with_data(s, opd.id)
        path = Path(args.output) if args.output else Path(f"rencana-{tahun}.xlsx")
        write_template(s, path, opd_id=opd.id, tahun=tahun, tw=args.tw)
    what = (
        f"berisi rencana TW I {tahun} yang tersimpan"
        if has_plan
        else "berisi baris CONTOH yang perlu diganti"
    )
    print(f"Templat rencana {tahun} untuk {opd.nama} ditulis ke {path} ({what}).")
    print(
        f"Realisasi TW {roman(args.tw)} yang sudah ada boleh diisi di kolom 19 (fisik) dan 21 "
        "(anggaran) baris sub kegiatan; bila kosong, realisasi diisi lewat bot."
    )
    print(f"Petunjuk pengisian ada di lembar 'Petunjuk'. Setelah diisi: monev import {path}")
    return 0


@_guarded
def cmd_tahun_baru(args: argparse.Namespace, settings: Settings) -> int:
    """Copy a year's structure and plan into a new year."""
    from storage.services.office import copy_year

    engine = common.migrated_engine(settings)
    with db.session_scope(engine) as s:
        opd = common.resolve_opd(s, args.opd)
        assert opd.id is not None
        count = copy_year(s, opd_id=opd.id, dari=args.dari, ke=args.ke, actor="cli")
    print(
        f"Rencana {args.dari} disalin ke {args.ke}: {count} program/kegiatan/sub kegiatan "
        "dengan target dan pagu sebagai rencana TW I, tanpa realisasi."
    )
    print(
        f'Ubah pagu yang berbeda dengan: monev pagu --tahun {args.ke} --node "nama" '
        '--dari-tw 1 --pagu "…"'
    )
    return 0


@_guarded
def cmd_pagu(args: argparse.Namespace, settings: Settings) -> int:
    """Revise a node's pagu from a quarter on."""
    from storage.services.office import PaguChange, SetupError, find_nodes, later_plans, revise_pagu

    tw = parse_tw(args.dari_tw)
    pagu = parse_pagu(args.pagu)
    engine = common.migrated_engine(settings)
    with db.session_scope(engine) as s:
        opd = common.resolve_opd(s, args.opd)
        nodes = find_nodes(s, text=args.node, opd_id=opd.id, tahun=args.tahun)
        if not nodes:
            raise SetupError(
                f"Program/kegiatan/sub kegiatan '{args.node}' tidak ditemukan. "
                "Tulis id-nya atau sebagian namanya."
            )
        if len(nodes) > 1:
            listed = "\n".join(f"  {n.id}: {n.nama} ({n.tahun})" for n in nodes[:15])
            more = f"\n  … dan {len(nodes) - 15} lagi" if len(nodes) > 15 else ""
            raise SetupError(
                f"'{args.node}' cocok dengan {len(nodes)} baris. Pilih dengan --node ID:\n"
                f"{listed}{more}"
            )
        node = nodes[0]
        assert node.id is not None
        changes: list[PaguChange] = []
        revise_pagu(
            s,
            node_id=node.id,
            dari_tw=tw,
            pagu=pagu,
            actor="cli",
            alasan=args.alasan or "",
            ancestors=not args.tanpa_induk,
            changes=changes,
        )
        later = [p.triwulan for p in later_plans(s, node_id=node.id, tw=tw) if p.aktif]
    period = f"TW {roman(tw)} {node.tahun}"
    if not changes:
        print(
            f"Pagu '{node.nama}' mulai {period} sudah {format_rupiah(pagu)}; tidak ada perubahan."
        )
        return 0
    why = f" ({args.alasan})" if args.alasan else ""
    first = changes[0]
    print(
        f"Pagu '{node.nama}' mulai {period}: {format_rupiah(first.old)} → "
        f"{format_rupiah(first.new)}{why}."
    )
    for c in changes[1:]:
        print(f"  ikut berubah: '{c.node.nama}' {format_rupiah(c.old)} → {format_rupiah(c.new)}")
    if later:
        quarters = ", ".join(f"TW {roman(q)}" for q in later)
        print(
            f"Perhatian: {quarters} punya rencana sendiri dan tetap memakai pagunya; "
            f"ulangi perintah dengan --dari-tw {later[0]} bila pagu itu juga berubah."
        )
    return 0


def add_setup_commands(sub: argparse._SubParsersAction) -> None:
    """Register init, template, tahun-baru and pagu on the ``monev`` sub-command parser."""
    i = sub.add_parser("init", help="buat perangkat daerah baru (kosong) dengan bidangnya")
    i.add_argument("--opd", required=True, help="nama perangkat daerah")
    i.add_argument("--kepala", required=True, help="nama kepala perangkat daerah")
    i.add_argument("--nip", required=True, help="NIP kepala")
    i.add_argument("--tempat", default="", help="tempat penandatanganan, mis. Koto Baru")
    i.add_argument("--singkatan", help="singkatan yang diketik orang, mis. Dinkes (unik)")
    i.add_argument("--alias", help='ejaan lain, dipisah koma, mis. "dinas kesehatan, diskes"')
    i.add_argument(
        "--bidang",
        action="append",
        metavar="KODE:NAMA:SASARAN",
        help="bidang dan nomor sasarannya, mis. kop:Koperasi:2 (boleh diulang); "
        "Sekretariat selalu ada",
    )
    i.set_defaults(func=cmd_init)

    t = sub.add_parser(
        "template", help="tulis templat XLSX rencana (pagu, dan realisasi bila ada) untuk diisi"
    )
    t.add_argument("-o", "--output", help="nama berkas (bawaan: rencana-TAHUN.xlsx)")
    t.add_argument(
        "--tahun",
        type=int,
        help="tahun templat (bawaan: tahun data terakhir kantor itu, atau kabupaten)",
    )
    t.add_argument("--opd", help="id atau nama perangkat daerah (bila lebih dari satu)")
    t.add_argument(
        "--tw",
        type=int,
        choices=[1, 2, 3, 4],
        default=1,
        help="triwulan templat; realisasinya boleh diisi di kolom 19 dan 21 (bawaan 1)",
    )
    t.set_defaults(func=cmd_template)

    n = sub.add_parser("tahun-baru", help="salin struktur dan pagu ke tahun baru, tanpa realisasi")
    n.add_argument("--dari", type=int, required=True, help="tahun asal, mis. 2022")
    n.add_argument("--ke", type=int, required=True, help="tahun baru, mis. 2023")
    n.add_argument("--opd", help="id atau nama perangkat daerah (bila lebih dari satu)")
    n.set_defaults(func=cmd_tahun_baru)

    p = sub.add_parser("pagu", help="revisi pagu mulai triwulan tertentu (APBD Perubahan)")
    p.add_argument("--node", required=True, help="id atau nama program/kegiatan/sub kegiatan")
    p.add_argument("--dari-tw", required=True, help="triwulan mulai berlaku (1-4)")
    p.add_argument("--pagu", required=True, help='pagu baru, mis. "1.500.000.000"')
    p.add_argument("--alasan", default="", help='mis. "APBD Perubahan"')
    p.add_argument("--tahun", type=int, help="tahun rencana (bawaan: tahun terakhir)")
    p.add_argument("--opd", help="id atau nama perangkat daerah (bila lebih dari satu)")
    p.add_argument(
        "--tanpa-induk",
        action="store_true",
        help="jangan ikut mengubah pagu kegiatan/program di atasnya",
    )
    p.set_defaults(func=cmd_pagu)
