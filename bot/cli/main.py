"""The ``monev`` command: the operator's interface to the database and the bot."""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, OperationalError

from bot.cli import common
from bot.cli.argparse_id import IndonesianParser, indonesian
from bot.settings import Settings
from storage.data import db
from storage.domain.numbers import format_number
from storage.domain.policy import Role
from storage.services.cache import FigureCache

EXIT_USAGE = 2


def prepare_database(settings: Settings) -> Engine:
    """Migrate, then fill an empty database with the demo data unless turned off."""
    from storage.files.demo import ensure_demo_data

    engine = common.engine(settings)
    db.upgrade_if_needed(engine)
    if settings.demo_data:
        summary = ensure_demo_data(engine)
        if summary is not None:
            print("Basis data baru diisi data contoh 2022 (tiga laporan triwulan).")
    return engine


# --- commands ----------------------------------------------------------------------------


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    engine = common.engine(settings)
    if args.action == "upgrade":
        db.upgrade(engine)
        print(f"Basis data pada revisi {db.current_revision(engine)} (terbaru).")
    elif args.action == "current":
        cur, head = db.current_revision(engine), db.head_revision(engine)
        state = "terbaru" if cur == head else f"perlu 'monev db upgrade' ke {head}"
        print(f"Revisi: {cur or '(kosong)'} — {state}.")
    elif args.action == "downgrade":
        db.downgrade(engine, args.revision)
        print(f"Basis data pada revisi {db.current_revision(engine) or '(kosong)'}.")
    elif args.action == "check":
        cur, head = db.current_revision(engine), db.head_revision(engine)
        if cur != head:
            print(
                f"Revisi {cur or '(kosong)'} bukan yang terbaru ({head}): "
                "jalankan 'monev db upgrade'."
            )
            return 1
        diff = db.schema_diff(engine)
        if diff:
            print("Model dan migrasi tidak sama; buat migrasi baru untuk perbedaan ini:")
            for d in diff:
                print(f"  - {d}")
            return 1
        print(f"Model dan migrasi sama (revisi {head}).")
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    # Any office's file, 22-column or its own layout (issue 25): bot/cli/imports.py.
    from bot.cli.imports import run_import

    return run_import(args, settings)


def _period(
    cache: FigureCache, engine: Engine, opd_id: int, tahun: int | None, tw: int | None
) -> tuple[int, int]:
    from storage.services.queries import NoYearData, resolve_period

    with cache.read(engine) as s:
        try:
            period = resolve_period(s, opd_id=opd_id, tahun=tahun, tw=tw)
        except NoYearData:
            raise SystemExit("Belum ada data.") from None
        return period.tahun, period.triwulan


SUMMARY_NAME_MAX = 40  # a longer bidang name wraps onto lines of its own in the first column


def cmd_summary(args: argparse.Namespace, settings: Settings) -> int:
    import textwrap

    from storage.domain.numbers import format_percent, format_rupiah
    from storage.domain.periods import roman
    from storage.services.queries import summary, years_with_data

    engine = prepare_database(settings)
    opd_id = common.opd_id_of(engine, args.opd)
    cache = FigureCache()  # one per command: the command owns its engine
    tahun, tw = _period(cache, engine, opd_id, args.tahun, args.tw)
    with cache.read(engine) as s:
        years = years_with_data(s, opd_id)
        sm = summary(s, opd_id, tahun, tw) if tahun in years else None
        nama_opd = common.resolve_opd(s, str(opd_id)).nama
    if sm is None:
        have = f" Data yang tersedia: tahun {', '.join(map(str, years))}." if years else ""
        print(f"Belum ada data tahun {tahun} untuk {nama_opd}.{have}", file=sys.stderr)
        return 1
    rows = [(r.nama, r.figure) for r in sm.rows] + [("Total dinas", sm.total)]
    cells = [
        (
            nama,
            format_rupiah(f.pagu),
            format_rupiah(f.realisasi) if f.complete else "-",
            format_percent(f.serapan) if f.complete else "belum lengkap",
        )
        for nama, f in rows
    ]
    w_name = min(max(len("Bidang"), *(len(c[0]) for c in cells)), SUMMARY_NAME_MAX)
    w_pagu = max(len("Pagu"), *(len(c[1]) for c in cells))
    w_real = max(len("Realisasi"), *(len(c[2]) for c in cells))
    w_ser = max(len("Serapan"), *(len(c[3]) for c in cells))

    def line(nama: str, pagu: str, real: str, serapan: str) -> str:
        return f"{nama:<{w_name}}  {pagu:>{w_pagu}}  {real:>{w_real}}  {serapan:>{w_ser}}"

    print(nama_opd)
    print(
        f"Serapan anggaran TW {roman(tw)} {tahun} "
        f"(target nasional {format_percent(sm.benchmark, 0)})"
    )
    header = line("Bidang", "Pagu", "Realisasi", "Serapan")
    print(header)
    print("-" * len(header))
    for i, (nama, pagu, real, serapan) in enumerate(cells):
        if i == len(cells) - 1:
            print("-" * len(header))
        # A long name: its first lines alone, the figures on the line of its last part.
        *head, last = textwrap.wrap(nama, w_name) or [""]
        for part in head:
            print(part)
        print(line(last, pagu, real, serapan))
    return 0


def cmd_findings(args: argparse.Namespace, settings: Settings) -> int:
    from storage.domain.periods import roman
    from storage.services.validator import validate_year

    engine = prepare_database(settings)
    opd_id = common.opd_id_of(engine, args.opd)
    tahun, _ = _period(FigureCache(), engine, opd_id, args.tahun, 1)
    with db.session_scope(engine) as s:
        findings = validate_year(s, opd_id, tahun)
        if args.tw:
            findings = [f for f in findings if f.triwulan == args.tw]
        if not findings:
            print(f"Tidak ada temuan untuk tahun {tahun}.")
            return 0
        print(f"{len(findings)} temuan tahun {tahun}:")
        for i, f in enumerate(findings, 1):
            tw = f"TW {roman(f.triwulan)}" if f.triwulan else "-"
            print(f"{i:>3}. [{tw}] {f.message}")
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from storage.files.export import export_bytes
    from storage.services.queries import unverified

    engine = prepare_database(settings)
    if args.rekap:
        from bot.cli.kabupaten import export_rekap

        return export_rekap(engine, args)
    opd_id = common.opd_id_of(engine, args.opd)
    cache = FigureCache()  # one per command: the command owns its engine
    tahun, tw = _period(cache, engine, opd_id, args.tahun, args.tw)
    n_bukti = None
    try:
        with cache.read(engine) as s:
            if args.bukti:
                from storage.files.export_bukti import export_zip

                name, data, n_bukti = export_zip(
                    s,
                    opd_id,
                    tahun,
                    tw,
                    Path(settings.data_dir),
                    approved_only=args.hanya_disetujui,
                )
            else:
                name, data = export_bytes(
                    s, opd_id, tahun, tw, fmt=args.format, approved_only=args.hanya_disetujui
                )
            waiting = [r.bidang.nama for r in unverified(s, opd_id, tahun, tw)]
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    out = Path(args.output or name)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    print(f"Laporan TW {tw} {tahun} ditulis ke {out} ({format_number(len(data))} bita).")
    if n_bukti is not None:
        print(f"Bukti dukung dalam ZIP: {n_bukti} berkas.")
    if waiting:
        what = "tidak dimuat" if args.hanya_disetujui else "dimuat, ditandai belum disetujui"
        print(f"Angka bidang {', '.join(waiting)} belum disetujui: {what}.")
    return 0


def cmd_user(args: argparse.Namespace, settings: Settings) -> int:
    from bot.views import texts
    from storage.domain.policy import KABUPATEN_ROLES
    from storage.services.office import SetupError
    from storage.services.users import (
        UserError,
        bidang_codes,
        find_bidang,
        list_users,
        remove_user,
        set_user,
    )

    engine = common.engine(settings)
    db.upgrade(engine)
    try:
        with db.session_scope(engine) as s:
            if args.action == "add":
                if args.telegram_id is None or args.role is None:
                    raise UserError(
                        "Sebutkan --telegram-id dan --peran, misalnya: monev user add "
                        "--telegram-id 123456 --peran kepala --opd dinkes"
                    )
                role = Role(args.role)
                bidang_id = opd_id = None
                if role not in KABUPATEN_ROLES:
                    # The bidang and the office of a person of an office: never a guess
                    # when the database serves several (common.resolve_opd says which).
                    opd_id = common.resolve_opd(s, args.opd).id
                    if args.bidang:
                        b = find_bidang(s, text=args.bidang, opd_id=opd_id, partial=True)
                        if b is None:
                            raise UserError(
                                texts.unknown_bidang(args.bidang, bidang_codes(s, opd_id))
                            )
                        bidang_id = b.id
                u = set_user(
                    s,
                    telegram_id=args.telegram_id,
                    role=role,
                    bidang_id=bidang_id,
                    nama=args.nama,
                    actor="cli",
                    opd_id=opd_id,
                )
                where = f" di {common.resolve_opd(s, str(u.opd_id)).nama}" if u.opd_id else ""
                print(f"Pengguna {u.telegram_id} aktif sebagai {u.role}{where}.")
            elif args.action == "remove":
                u = remove_user(s, telegram_id=args.telegram_id, actor="cli")
                print(f"Akses pengguna {u.telegram_id} dicabut.")
            else:
                users = list_users(s)
                if not users:
                    print("Belum ada pengguna.")
                for u in users:
                    print(
                        f"{u.telegram_id:>14}  {u.status:<9} {u.role or '-':<15} "
                        f"opd={u.opd_id or '-'}  bidang={u.bidang_id or '-'}  {u.nama}"
                    )
    except (UserError, SetupError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.telegram_bot_token:
        print(
            "TELEGRAM_BOT_TOKEN belum diisi.\n"
            "Buat bot lewat @BotFather di Telegram (/newbot), salin tokennya, lalu jalankan:\n"
            "  TELEGRAM_BOT_TOKEN=123456:ABC... monev run\n"
            "atau tulis di berkas .env. Untuk mencoba tanpa Telegram: monev console",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from telegram.error import InvalidToken, NetworkError

    from bot.app import run_polling
    from bot.cli.ops import maybe_run_webhook
    from bot.cluster import sqlite_run_lock
    from bot.health import check_token
    from bot.logging_setup import setup_logging_from_env
    from storage.ops.health import check_data_dir, check_database_url

    # Fail fast, before anything runs, on what a configuration can get wrong.
    url_check, url = check_database_url(settings)
    problems = [c for c in (check_token(settings.telegram_bot_token), url_check) if not c.ok]
    data_check = check_data_dir(settings, url) if url is not None else None
    if data_check is not None and not data_check.ok:
        problems.append(data_check)
    if problems:
        for c in problems:
            print(f"✘ {c.name}: {c.detail}", file=sys.stderr)
        print("Perbaiki konfigurasi (.env), lalu periksa dengan: monev check", file=sys.stderr)
        return EXIT_USAGE
    setup_logging_from_env()
    # SQLite serves one process: a second `monev run` on the same file stops here, before it
    # touches the database (PostgreSQL takes several, see bot/cluster.py).
    running = sqlite_run_lock(url) if url is not None else None
    engine = prepare_database(settings)
    try:
        if maybe_run_webhook(settings, engine):
            return 0
        run_polling(settings, engine)
    except InvalidToken:
        print(
            "Token ditolak oleh Telegram. Periksa TELEGRAM_BOT_TOKEN (@BotFather).", file=sys.stderr
        )
        return 1
    except NetworkError as exc:
        print(
            f"Bot API tidak dapat dihubungi ({exc.message}). Periksa jaringan server atau "
            "TELEGRAM_API_BASE_URL, lalu jalankan: monev check",
            file=sys.stderr,
        )
        return 1
    finally:
        if running is not None:
            running.close()
    return 0


def cmd_console(args: argparse.Namespace, settings: Settings) -> int:
    from bot.console import run_console

    engine = prepare_database(settings)
    return run_console(settings, engine, role=args.role, bidang=args.bidang, opd=args.opd)


OPD_HELP = "singkatan, nama atau id perangkat daerah (wajib bila lebih dari satu)"
TAHUN_HELP = "tahun laporan, mis. 2022 (bawaan: tahun data terakhir)"
TW_HELP = "triwulan 1-4 (bawaan: triwulan terakhir yang sudah lewat)"
BIDANG_HELP = "kode atau nama bidang, mis. koperasi"


def build_parser() -> argparse.ArgumentParser:
    p = IndonesianParser(prog="monev", description="monev-bot: laporan kinerja triwulan")
    sub = p.add_subparsers(dest="command", required=True, title="perintah", metavar="PERINTAH")

    d = sub.add_parser("db", help="migrasi basis data")
    d.add_argument(
        "action",
        choices=["upgrade", "current", "downgrade", "check"],
        help="upgrade: ke revisi terbaru; current: revisi sekarang; downgrade: mundur; "
        "check: model dan migrasi sama",
    )
    d.add_argument(
        "revision", nargs="?", default="-1", help="revisi tujuan downgrade (bawaan: satu mundur)"
    )
    d.set_defaults(func=cmd_db)

    i = sub.add_parser(
        "import",
        help="impor laporan: 22 kolom, atau bentuk lain (kinerja bulanan, LKj, ekspor Kode)",
    )
    i.add_argument("file", help="berkas laporan: XLSX, teks bertab, atau teks salinan PDF")
    i.add_argument("--tahun", type=int, help=TAHUN_HELP)
    i.add_argument("--opd", help="perangkat daerah tujuan (bawaan: yang disebut laporan)")
    i.add_argument(
        "--coba", action="store_true", help="tampilkan perubahan per bidang tanpa menyimpan"
    )
    i.add_argument(
        "--ganti",
        action="store_true",
        help="ganti triwulan yang sudah ada walau berkas ini kurang lengkap (lihat --coba dulu)",
    )
    i.add_argument(
        "--opd-berbeda",
        action="store_true",
        help="impor walau judul berkas menyebut perangkat daerah (atau kabupaten) lain",
    )
    # --- other layouts (issue 25): --tw, --kolom, --peta, --angka, --bidang -------------
    from bot.cli.imports import add_import_options

    add_import_options(i)
    # ------------------------------------------------------------------------------------
    i.set_defaults(func=cmd_import)

    s = sub.add_parser("summary", help="ringkasan serapan per bidang")
    s.add_argument("--tahun", type=int, help=TAHUN_HELP)
    s.add_argument("--tw", type=int, choices=[1, 2, 3, 4], help=TW_HELP)
    s.add_argument(
        "--opd", help="singkatan, nama atau id perangkat daerah (wajib bila lebih dari satu)"
    )
    s.set_defaults(func=cmd_summary)

    f = sub.add_parser("findings", help="temuan validasi")
    f.add_argument("--tahun", type=int, help=TAHUN_HELP)
    f.add_argument("--tw", type=int, choices=[1, 2, 3, 4], help="hanya temuan triwulan ini (1-4)")
    f.add_argument(
        "--opd", help="singkatan, nama atau id perangkat daerah (wajib bila lebih dari satu)"
    )
    f.set_defaults(func=cmd_findings)

    e = sub.add_parser("export", help="tulis Laporan Kinerja Triwulan (XLSX 22 kolom atau CSV)")
    e.add_argument("--tahun", type=int, help=TAHUN_HELP)
    e.add_argument("--tw", type=int, choices=[1, 2, 3, 4], help=TW_HELP)
    e.add_argument("-o", "--output", help="nama berkas yang ditulis (bawaan: nama baku laporan)")
    e.add_argument(
        "--format",
        choices=["xlsx", "csv"],
        default="xlsx",
        help="xlsx: siap cetak (bawaan); csv: angka untuk spreadsheet berbahasa Indonesia",
    )
    e.add_argument(
        "--hanya-disetujui",
        action="store_true",
        help="tanpa angka bidang yang laporannya belum disetujui",
    )
    e.add_argument(
        "--bukti",
        action="store_true",
        help="ZIP: XLSX beserta bukti dukung per bidang/sub kegiatan dan indeksnya",
    )
    e.add_argument(
        "--opd", help="singkatan, nama atau id perangkat daerah (wajib bila lebih dari satu)"
    )
    e.add_argument(
        "--rekap",
        action="store_true",
        help="rekap kabupaten: satu baris per perangkat daerah, diurutkan menurut serapan",
    )
    e.set_defaults(func=cmd_export)

    u = sub.add_parser("user", help="kelola pengguna")
    u.add_argument(
        "action",
        choices=["add", "list", "remove"],
        help="add: daftarkan atau ubah; list: daftar pengguna; remove: cabut akses",
    )
    u.add_argument("--telegram-id", type=int, help="id Telegram orangnya (angka)")
    u.add_argument(
        "--role",
        "--peran",
        dest="role",
        choices=[r.value for r in Role],
        help="peran pengguna",
    )
    u.add_argument("--bidang", help=BIDANG_HELP + " (wajib untuk operator)")
    u.add_argument(
        "--opd", help="singkatan, nama atau id perangkat daerah (wajib bila lebih dari satu)"
    )
    u.add_argument("--nama", help="nama orangnya, seperti ditampilkan bot")
    u.set_defaults(func=cmd_user)

    r = sub.add_parser("run", help="jalankan bot (long polling)")
    r.set_defaults(func=cmd_run)

    from bot.cli.early_warning import add_early_warning_commands
    from bot.cli.kabupaten import add_kabupaten_commands
    from bot.cli.office import add_setup_commands
    from bot.cli.ops import add_ops_commands
    from bot.cli.schedule import add_schedule_commands

    add_setup_commands(sub)
    add_kabupaten_commands(sub)
    add_schedule_commands(sub)
    add_early_warning_commands(sub)
    add_ops_commands(sub)

    c = sub.add_parser("console", help="coba bot di terminal tanpa Telegram")
    c.add_argument(
        "--role",
        choices=[r.value for r in Role],
        default="kepala",
        help="peran yang dimainkan konsol (bawaan: kepala); tiap peran orang tersendiri",
    )
    c.add_argument("--bidang", help=BIDANG_HELP + " (untuk operator)")
    c.add_argument("--opd", help=OPD_HELP)
    c.set_defaults(func=cmd_console)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        _quiet_closed_stdout()
        return 141  # what a shell reports for a command ended by a closed pipe (128 + 13)
    except KeyboardInterrupt:
        return 130


def _quiet_closed_stdout() -> None:
    """``monev findings | head``: the reader left. Point stdout at /dev/null so Python's
    flush at exit does not print a second BrokenPipeError."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _main(argv: Sequence[str] | None = None) -> int:
    with indonesian():
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command == "user":
            if args.action in {"add", "remove"} and args.telegram_id is None:
                parser.error("--telegram-id wajib diisi")
            if args.action == "add" and args.role is None:
                parser.error("--role wajib diisi (admin, kepala, verifikator, operator)")
    settings = Settings()
    try:
        return args.func(args, settings)
    except OperationalError as exc:
        print(
            f"Basis data tidak bisa dihubungi ({type(exc.orig).__name__}). Periksa DATABASE_URL.",
            file=sys.stderr,
        )
        return 1
    except (DatabaseError, sqlite3.DatabaseError) as exc:
        # A damaged SQLite file (its connect-time PRAGMAs raise unwrapped), a constraint a
        # command did not expect: a sentence, no trace.
        orig = getattr(exc, "orig", exc)
        print(
            f"Basis data menolak perintah ini ({type(orig).__name__}: {orig}). Bila "
            "basis data rusak, pulihkan dari cadangan: monev restore BERKAS --force",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
