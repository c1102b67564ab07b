"""``monev rencana`` (the office's spending plan) and ``monev peringatan`` (early-warning
settings: the digest's weekday and the deviation tolerance)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli import common
from bot.settings import Settings
from storage.data import db
from storage.domain.numbers import ParseError, format_percent, parse_percent
from storage.domain.periods import roman


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


def cmd_rencana_impor(args: argparse.Namespace, settings: Settings) -> int:
    """Import the filled "Rencana Penarikan" sheet of a plan template."""
    from storage.files.plan_sheet import import_rencana
    from storage.services.office import SetupError

    path = Path(args.file)
    if not path.is_file():
        return _fail(f"Berkas {path} tidak ditemukan.")
    tw = int(args.dari_tw)
    if tw not in (1, 2, 3, 4):
        return _fail(f"--dari-tw harus 1 sampai 4, bukan {args.dari_tw}.")
    engine = common.migrated_engine(settings)
    try:
        with db.session_scope(engine) as s:
            opd = common.resolve_opd(s, args.opd)
            result = import_rencana(s, path, opd_id=opd.id, dari_tw=tw, actor=f"import:{path.name}")
            if result.errors:
                s.rollback()  # all or nothing: nothing of a sheet with a mistake is kept
    except SetupError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"Berkas tidak dapat dibaca: {exc.strerror or exc}.")
    if result.errors:
        shown = "\n".join(f"  • {e}" for e in result.errors[:20])
        more = f"\n  … dan {len(result.errors) - 20} lagi" if len(result.errors) > 20 else ""
        return _fail(
            f"Rencana penarikan TIDAK diimpor; perbaiki dulu:\n{shown}{more}\n"
            "Tidak ada rencana yang berubah."
        )
    print(
        f"Rencana penarikan {result.tahun} berlaku mulai TW {roman(tw)}: "
        f"{result.changed} sub kegiatan diubah, {result.unchanged} tetap, "
        f"{result.empty} dikosongkan (mengikuti pola nasional)."
    )
    return 0


def cmd_peringatan(args: argparse.Namespace, settings: Settings) -> int:
    """Show or change the digest's weekday and the deviation tolerance."""
    from storage.services.early_warning import (
        WEEKDAYS,
        EarlyWarningError,
        digest_weekday,
        parse_weekday,
        set_digest_weekday,
        set_tolerance,
        tolerance,
    )

    engine = common.migrated_engine(settings)
    try:
        with db.session_scope(engine) as s:
            if args.hari:
                set_digest_weekday(s, weekday=parse_weekday(args.hari), actor="cli")
            if args.toleransi:
                set_tolerance(s, points=parse_percent(args.toleransi), actor="cli")
            hari, tol = digest_weekday(s), tolerance(s)
    except (EarlyWarningError, ParseError) as exc:
        return _fail(str(exc))
    at = settings.reminder_time.strftime("%H.%M")
    print(
        f"Peringatan dini mingguan: setiap {WEEKDAYS[hari].capitalize()} pukul {at} WIB "
        "(MONEV_REMINDER_TIME) kepada kepala dan grup kantor."
    )
    print(f"Toleransi deviasi: {format_percent(tol, 1).rstrip('%')} poin persen dari pagu.")
    return 0


def add_early_warning_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``rencana impor`` and ``peringatan`` on the ``monev`` parser."""
    r = sub.add_parser("rencana", help="rencana penarikan anggaran per sub kegiatan")
    rsub = r.add_subparsers(dest="rencana_cmd", required=True)
    i = rsub.add_parser("impor", help="impor lembar 'Rencana Penarikan' dari templat")
    i.add_argument("file", help="berkas XLSX dari monev template yang sudah diisi")
    i.add_argument("--dari-tw", default="1", help="triwulan mulai berlaku (1-4; bawaan 1)")
    i.add_argument("--opd", help="id atau nama perangkat daerah (bila lebih dari satu)")
    i.set_defaults(func=cmd_rencana_impor)

    p = sub.add_parser("peringatan", help="hari peringatan dini mingguan dan toleransi deviasi")
    p.add_argument("--hari", help="senin … minggu")
    p.add_argument("--toleransi", help="poin persen dari pagu, mis. 5")
    p.set_defaults(func=cmd_peringatan)
