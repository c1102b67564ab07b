"""``monev opd list|set|ttd`` and ``monev export --rekap``: the offices of a kabupaten.

``add_kabupaten_commands(sub)`` registers ``opd`` on the ``monev`` sub-command parser; the
recap is written by ``export_rekap`` (called from ``monev export --rekap``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy.engine import Engine

from bot.cli import common
from bot.cli.office import _guarded
from bot.settings import Settings
from storage.data import db
from storage.domain.numbers import format_number


@_guarded
def cmd_opd(args: argparse.Namespace, settings: Settings) -> int:
    """List the offices, or set the short name and aliases of one."""
    from storage.services.kabupaten import office_names, set_office_names
    from storage.services.users import list_users

    engine = common.migrated_engine(settings)
    if args.action == "ttd":
        return _signer(engine, args)
    if args.action == "set":
        with db.session_scope(engine) as s:
            opd = common.resolve_opd(s, args.opd)
            named = set_office_names(
                s,
                opd_id=opd.id,
                singkatan=args.singkatan,
                aliases=None if args.alias is None else args.alias.split(","),
                actor="cli",
            )
        alias_text = ",".join(named.aliases)
        print(f"{named.nama}: singkatan {named.singkatan or '-'}, alias {alias_text or '-'}.")
        return 0
    with db.read_scope(engine) as s:
        offices = office_names(s)
        people: dict[int | None, int] = {}
        for u in list_users(s):
            if u.role:
                people[u.opd_id] = people.get(u.opd_id, 0) + 1
    if not offices:
        print("Belum ada perangkat daerah. Buat dengan: monev init --opd NAMA ...")
        return 0
    print(f"{len(offices)} perangkat daerah:")
    for o in offices:
        alias = f"  alias: {', '.join(o.aliases)}" if o.aliases else ""
        print(
            f"{o.id:>4}  {o.singkatan or '-':<16} {o.nama}  ({people.get(o.id, 0)} pengguna){alias}"
        )
    if people.get(None):
        print(f"Pengguna tingkat kabupaten (pemantau/admin kabupaten): {people[None]}")
    return 0


def _signer(engine: Engine, args: argparse.Namespace) -> int:
    """``monev opd ttd``: who signs the kabupaten recap (position, name, NIP, place)."""
    from storage.files.export_rekap import SIGNER_KEYS
    from storage.services.kabupaten import set_settings, settings_values

    given = dict(zip(SIGNER_KEYS, (args.tempat, args.jabatan, args.nama, args.nip), strict=True))
    values: dict[str, str] = {}
    for key, value in given.items():
        if value is None:
            continue
        value = " ".join(value.split())[:120]
        if key == "rekap_nip" and value and not value.replace(" ", "").isdecimal():
            print(f"NIP '{value}' tidak sah: NIP hanya berisi angka.", file=sys.stderr)
            return 1
        values[key] = value
    with db.session_scope(engine) as s:
        set_settings(s, values=values, actor="cli")
        shown = settings_values(s, SIGNER_KEYS)
    print(
        "Penanda tangan rekap kabupaten: "
        f"{shown['rekap_jabatan'] or 'KEPALA BAPPEDA,'} {shown['rekap_nama'] or '-'}, "
        f"NIP {shown['rekap_nip'] or '-'}, tempat {shown['rekap_tempat'] or '-'}."
    )
    return 0


def export_rekap(engine: Engine, args: argparse.Namespace) -> int:
    """``monev export --rekap``: one row per office, ranked by serapan."""
    from storage.files.export_rekap import rekap_bytes, signer_hint
    from storage.services.cache import FigureCache
    from storage.services.kabupaten import OfficeError, kabupaten_period

    cache = FigureCache()
    try:
        with cache.read(engine) as s:
            tahun, tw = kabupaten_period(s, args.tahun, args.tw)
            name, data = rekap_bytes(s, tahun, tw, fmt=args.format)
            hint = signer_hint(s)
    except (ValueError, OfficeError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    out = Path(args.output or name)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    print(f"Rekap kabupaten TW {tw} {tahun} ditulis ke {out} ({format_number(len(data))} bita).")
    if hint:
        print(hint)
    return 0


def add_kabupaten_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``opd`` on the ``monev`` sub-command parser."""
    o = sub.add_parser("opd", help="daftar perangkat daerah; ubah singkatan dan aliasnya")
    o.add_argument(
        "action",
        choices=["list", "set", "ttd"],
        help="list: daftar OPD; set: singkatan dan alias; ttd: penanda tangan rekap kabupaten",
    )
    o.add_argument("--opd", help="perangkat daerah yang diubah (set)")
    o.add_argument("--singkatan", help="singkatan baru, mis. Dinkes")
    o.add_argument("--alias", help='ejaan lain, dipisah koma, mis. "dinas kesehatan, diskes"')
    o.add_argument("--jabatan", help='penanda tangan rekap (ttd), mis. "KEPALA BAPPEDA,"')
    o.add_argument("--nama", help="nama penanda tangan rekap (ttd)")
    o.add_argument("--nip", help="NIP penanda tangan rekap (ttd)")
    o.add_argument("--tempat", help="tempat penandatanganan rekap (ttd), mis. Arosuka")
    o.set_defaults(func=cmd_opd)
