"""``monev import``: any office's file (the 22-column report or its own layout), with
``--coba`` showing what was understood before anything is written (issue 25).

``add_import_options`` adds the options of other layouts to the ``import`` parser of
``bot.cli.main``; ``run_import`` is the command. On a terminal, programs that belong to no
bidang are asked about one by one (after a dry run, so no transaction waits for typing).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from bot.cli import common
from bot.settings import Settings
from bot.views.imports import import_text
from storage.data import db
from storage.files.layout_import import Group, Request, import_any
from storage.files.workbook import BadFileError
from storage.services.users import bidang_names


def add_import_options(i: argparse.ArgumentParser) -> None:
    """The options of layouts other than the 22-column report."""
    i.add_argument(
        "--tw",
        type=int,
        choices=[1, 2, 3, 4],
        help="triwulan realisasi bila judul berkas tidak menyebutnya (4: realisasi setahun)",
    )
    i.add_argument(
        "--kolom",
        default="",
        metavar="NAMA=HURUF,…",
        help="arti kolom bila tidak dikenali, mis. nama=B,pagu=D,realisasi=E (bulan=G:R); "
        "diingat per OPD untuk berkas berbentuk sama",
    )
    i.add_argument("--peta", metavar="FILE", help="berkas pemetaan kolom (baris 'pagu = D')")
    i.add_argument("--angka", choices=["id", "en"], help="cara menulis angka bila tidak pasti")
    i.add_argument(
        "--bidang",
        action="append",
        default=[],
        metavar="NOMOR=BIDANG",
        help="bidang program tanpa bidang, mis. 2=koperasi atau 'PROGRAM X=sekretariat' "
        "(nomornya ada di --coba; boleh diulang)",
    )


def _ask(groups: list[Group], bidang: list[tuple[int, str]]) -> list[str]:
    """Ask on the terminal which bidang each group of programs belongs to."""
    print(
        "Program berikut belum punya bidang. Ketik nomor bidangnya (Enter: biarkan tanpa bidang):"
    )
    for k, (_, nama) in enumerate(bidang, 1):
        print(f"  {k}. {nama}")
    out: list[str] = []
    for g in groups:
        names = "; ".join(g.names)[:100]
        while True:
            try:
                answer = input(f"[{g.nomor}] {names}: ").strip()
            except EOFError:
                return out
            if not answer:
                break
            if answer.isdecimal() and 1 <= int(answer) <= len(bidang):
                out.append(f"{g.nomor}={bidang[int(answer) - 1][0]}")
                break
            print(f"  Ketik 1 sampai {len(bidang)}, atau Enter.")
    return out


def _interactive(args: argparse.Namespace) -> bool:
    return not args.coba and not args.bidang and sys.stdin.isatty() and sys.stdout.isatty()


def run_import(args: argparse.Namespace, settings: Settings) -> int:
    engine = common.engine(settings)
    db.upgrade(engine)
    # Without --opd the office is the one the report names (created when new).
    opd_id = common.opd_id_of(engine, args.opd) if args.opd else None
    request = Request(
        opd_id=opd_id,
        tahun=args.tahun,
        tw=args.tw,
        kolom=args.kolom,
        peta=Path(args.peta) if args.peta else None,
        angka=args.angka or "",
        bidang=list(args.bidang),
        replace=args.ganti,
        dry_run=args.coba,
        other_office=args.opd_berbeda,
    )
    path = Path(args.file)
    try:
        if _interactive(args):
            trial = import_any(engine, path, Request(**{**vars(request), "dry_run": True}))
            if trial.groups and not trial.refused:
                with db.read_scope(engine) as s:
                    bidang = (
                        bidang_names(s, opd_id=trial.opd_id) if trial.opd_id is not None else []
                    )
                if bidang:
                    request.bidang = _ask(trial.groups, bidang)
        result = import_any(engine, path, request)
    except BadFileError as exc:
        print(f"Gagal mengimpor: {exc}", file=sys.stderr)
        print("Basis data tidak berubah.", file=sys.stderr)
        return 1
    except IntegrityError:
        # The importer skips the known causes (rows repeated or cut); this is the last line.
        print(
            f"Gagal mengimpor: isi {path.name} bertentangan dengan data tersimpan "
            "(baris ganda atau terpotong?). Periksa berkasnya, lalu coba dengan --coba.",
            file=sys.stderr,
        )
        print("Basis data tidak berubah.", file=sys.stderr)
        return 1
    print(import_text(result, dry_run=args.coba))
    if args.coba:
        print("Basis data tidak berubah (--coba).")
        # A dry run of an import that would be refused fails too, so scripts notice.
        return 1 if result.refused else 0
    return 0
