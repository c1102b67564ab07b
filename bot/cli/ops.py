"""Operations commands of ``monev``: backup, restore, check, and the webhook switch of run.

bot.cli.main calls add_ops_commands() while building its parser; the engine comes from
bot.cli.common, so this module never imports bot.cli.main.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from bot.settings import Settings

OK_MARK = "✔"
FAIL_MARK = "✘"


def _size(path: Path) -> str:
    n = float(path.stat().st_size)
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}".replace(".", ",")
        n /= 1024
    return ""


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli import common
    from storage.ops.backup import BackupError, backup

    engine = common.engine(settings)
    dest: Path = args.output if args.output is not None else Path(settings.data_dir) / "backup"
    if args.output is None:
        dest.mkdir(parents=True, exist_ok=True)
    try:
        path = backup(engine, dest)
    except (BackupError, OSError) as exc:
        print(f"Pencadangan gagal: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"Cadangan tersimpan di {path.resolve()} ({_size(path)}).")
    from storage.ops.bukti_files import backup_files, companion

    try:
        n = backup_files(Path(settings.data_dir), path)
    except OSError as exc:
        print(f"Berkas bukti dukung gagal dicadangkan: {exc}", file=sys.stderr)
        return 1
    if n:
        print(f"Bukti dukung: {n} berkas di {companion(path).resolve()}.")
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli import common
    from storage.data import db
    from storage.ops.backup import BackupError, restore

    engine = common.engine(settings)
    try:
        kept = restore(
            engine,
            args.file,
            force=args.force,
            keep_dir=Path(settings.data_dir) / "backup",
            scratch_check=not args.tanpa_uji,
        )
        revision = db.current_revision(engine)
        head = db.head_revision(engine)
    except (ValueError, BackupError, OSError) as exc:
        print(f"Pemulihan dibatalkan: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"Basis data dipulihkan dari {args.file}.")
    from storage.ops.bukti_files import restore_files

    try:
        files = restore_files(Path(args.file), Path(settings.data_dir))
    except OSError as exc:
        print(f"Berkas bukti dukung gagal dipulihkan: {exc}", file=sys.stderr)
        return 1
    if files is not None:
        print(
            f"Bukti dukung: {files.copied} berkas dipulihkan, {files.present} sudah ada"
            + (f", {files.damaged} rusak dilewati" if files.damaged else "")
            + "."
        )
    if args.tanpa_uji and not db.is_sqlite(engine):
        print(
            "Perhatian: cadangan tidak diuji lebih dulu di basis data sementara (--tanpa-uji); "
            "periksa hasilnya dengan 'monev summary'."
        )
    if kept is not None:
        print(f"Isi sebelumnya disimpan di {kept.resolve()}.")
    if revision != head:
        print(
            f"Cadangan berasal dari revisi {revision or '(kosong)'}; "
            "jalankan 'monev db upgrade' sebelum menyalakan bot."
        )
    return 0


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from bot.health import check
    from bot.webhook import WebhookSettings

    webhook_url = "" if args.quick else WebhookSettings().webhook_url
    results = check(settings, None, bot_api=not args.quick, webhook_url=webhook_url)
    width = max(len(r.name) for r in results)
    for r in results:
        print(f"{OK_MARK if r.ok else FAIL_MARK} {r.name:<{width}}  {r.detail}")
    failed = [r for r in results if not r.ok]
    if failed:
        print(f"\n{len(failed)} pemeriksaan gagal.", file=sys.stderr)
        return 1
    return 0


def maybe_run_webhook(settings: Settings, engine: Engine) -> bool:
    """For ``monev run``: serve in webhook mode when WEBHOOK_URL is set (and return True
    once the server has stopped); return False at once otherwise, for long polling."""
    from bot.logging_setup import setup_logging_from_env
    from bot.webhook import WebhookSettings, run_webhook

    ws = WebhookSettings()
    if not ws.webhook_url:
        return False
    setup_logging_from_env()
    try:
        asyncio.run(run_webhook(settings, engine, webhook=ws))
    except ValueError as exc:  # the configuration messages are already in Indonesian
        raise SystemExit(str(exc)) from exc
    except OSError as exc:
        raise SystemExit(str(exc)) from exc
    return True


def add_ops_commands(sub: argparse._SubParsersAction) -> None:
    """Register backup, restore and check on ``monev``'s subparsers."""
    b = sub.add_parser("backup", help="cadangkan basis data ke sebuah berkas")
    b.add_argument(
        "-o",
        "--output",
        type=Path,
        help="berkas atau folder tujuan (bawaan: data/backup/monev-TANGGAL-JAM.sqlite|.dump)",
    )
    b.set_defaults(func=cmd_backup)

    r = sub.add_parser("restore", help="pulihkan basis data dari berkas cadangan")
    r.add_argument("file", type=Path, help="berkas hasil 'monev backup'")
    r.add_argument(
        "--force",
        action="store_true",
        help="timpa basis data yang sudah berisi data",
    )
    r.add_argument(
        "--tanpa-uji",
        action="store_true",
        help=(
            "PostgreSQL: jangan uji cadangan di basis data sementara lebih dulu "
            "(bila pengguna basis data tidak berhak CREATEDB)"
        ),
    )
    r.set_defaults(func=cmd_restore)

    c = sub.add_parser("check", help="periksa konfigurasi, basis data dan koneksi ke Telegram")
    c.add_argument(
        "--quick",
        action="store_true",
        help="lewati pemeriksaan Bot API (tanpa akses jaringan; untuk HEALTHCHECK)",
    )
    c.set_defaults(func=cmd_check)
