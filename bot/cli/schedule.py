"""``monev jadwal``: list and set the reporting deadlines from the command line."""

from __future__ import annotations

import argparse
import sys

from sqlalchemy.engine import Engine

from bot.cli import common
from bot.settings import Settings, wib
from storage.data import db
from storage.domain.numbers import ParseError, format_tanggal, format_waktu
from storage.domain.periods import roman, today_wib
from storage.services.office import SetupError
from storage.services.schedule import (
    ScheduleError,
    get_jadwal,
    kabupaten_tenggat,
    list_jadwal,
    parse_tanggal,
    set_deadline,
    set_kabupaten_deadline,
)


def add_schedule_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``monev jadwal`` on the ``monev`` sub-command parser."""
    j = sub.add_parser(
        "jadwal",
        help="lihat atau ubah batas akhir pelaporan per triwulan",
        description=(
            "Tanpa --tenggat: tampilkan jadwal pelaporan setahun. Dengan --tw dan --tenggat: "
            'ubah batas akhir, misalnya: monev jadwal --tahun 2022 --tw 3 --tenggat "10 Oktober '
            '2022".'
        ),
    )
    j.add_argument("--tahun", type=int, help="tahun laporan (bawaan: tahun berjalan)")
    j.add_argument("--tw", type=int, choices=[1, 2, 3, 4], help="triwulan (1–4)")
    j.add_argument(
        "--tenggat",
        help='batas akhir baru: "10 Oktober 2022", "10/10/2022" atau 2022-10-10',
    )
    j.add_argument("--opd", help="singkatan, nama atau id perangkat daerah (bila lebih dari satu)")
    j.add_argument(
        "--kabupaten",
        action="store_true",
        help="batas akhir kabupaten: berlaku bagi setiap OPD yang tidak mengatur sendiri",
    )
    j.set_defaults(func=cmd_jadwal)


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


def cmd_jadwal(args: argparse.Namespace, settings: Settings) -> int:
    if args.tenggat is not None and args.tw is None:
        return _fail("--tw wajib diisi bersama --tenggat, misalnya --tw 3.")
    tahun = args.tahun or today_wib().year  # a schedule is for a calendar year
    if not 2000 <= tahun <= 2100:
        return _fail(f"Tahun {tahun} di luar rentang yang wajar.")
    engine = common.migrated_engine(settings)
    if args.kabupaten:
        return _kabupaten(engine, args, tahun)
    try:
        with db.read_scope(engine) as s:
            opd = common.resolve_opd(s, args.opd)
    except SetupError as exc:
        return _fail(str(exc))
    assert opd.id is not None

    if args.tenggat is not None:
        try:
            tenggat = parse_tanggal(args.tenggat)
            with db.session_scope(engine) as s:
                old = get_jadwal(s, opd_id=opd.id, tahun=tahun, tw=args.tw)
                new = set_deadline(
                    s, opd_id=opd.id, tahun=tahun, tw=args.tw, tenggat=tenggat, actor="cli"
                )
        except (ParseError, ScheduleError) as exc:
            return _fail(f"Batas akhir tidak diubah: {exc}")
        if old.tenggat == new.tenggat:
            print(f"Batas akhir {new.label} tetap {format_tanggal(new.tenggat)}.")
        else:
            print(
                f"Batas akhir {new.label} diubah dari {format_tanggal(old.tenggat)} "
                f"menjadi {format_tanggal(new.tenggat)}."
            )
        return 0

    with db.read_scope(engine) as s:
        windows = list_jadwal(s, opd_id=opd.id, tahun=tahun)
    if args.tw is not None:
        windows = [w for w in windows if w.triwulan == args.tw]
    print(f"Jadwal pelaporan tahun {tahun} — {opd.nama}")
    header = f"{'Triwulan':<10}{'Dibuka':<20}{'Batas akhir':<20}Keterangan"
    print(header)
    print("-" * (len(header) + 30))
    for w in windows:
        note = "bawaan"
        if w.kabupaten:
            note = "batas akhir kabupaten"
        if w.custom:
            when = format_waktu(wib(w.updated_at)) if w.updated_at else ""
            note = f"diubah oleh {w.updated_by or '-'} {when}".rstrip()
        print(
            f"{'TW ' + w.label.split()[1]:<10}{format_tanggal(w.buka):<20}"
            f"{format_tanggal(w.tenggat):<20}{note}"
        )
    return 0


def _kabupaten(engine: Engine, args: argparse.Namespace, tahun: int) -> int:
    """``--kabupaten``: show or set the deadline every office without its own inherits."""
    if args.tenggat is not None:
        try:
            tenggat = parse_tanggal(args.tenggat)
            with db.session_scope(engine) as s:
                w = set_kabupaten_deadline(s, tahun=tahun, tw=args.tw, tenggat=tenggat, actor="cli")
        except (ParseError, ScheduleError) as exc:
            return _fail(f"Batas akhir tidak diubah: {exc}")
        print(
            f"Batas akhir kabupaten {w.label}: {format_tanggal(w.tenggat)} (berlaku bagi OPD "
            "yang tidak mengatur batas akhirnya sendiri)."
        )
        return 0
    with db.read_scope(engine) as s:
        rows = [(tw, kabupaten_tenggat(s, tahun, tw)) for tw in (1, 2, 3, 4)]
    print(f"Batas akhir kabupaten tahun {tahun}")
    for tw, when in rows:
        if args.tw is None or tw == args.tw:
            shown = format_tanggal(when) if when else "bawaan (tanggal 10 bulan berikutnya)"
            print(f"TW {roman(tw):<4} {shown}")
    return 0
