"""Two offices in one database, each with everything a forged button or command could aim at:
people of every role, a submitted report with a photo (GPS and a note), an open draft with a
file, a waiting registration, an approval message and a group. Office A is the demo office;
office B is a second office whose names and figures differ from A's everywhere, so any of
them showing to A's people (or A's to B's) is a leak a test can spot.

Shared by the cross-office tests (``test_office_boundary.py`` and the case tests)."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from storage.data import bukti_store
from storage.data.db import read_scope, session_scope
from storage.data.models import (
    AppUser,
    Bidang,
    Bukti,
    Draft,
    DraftStatus,
    GrupKantor,
    Level,
    Node,
    NodePlan,
    Pelaporan,
    Realisasi,
    RegMessage,
    Role,
    Sasaran,
    Source,
    StatusLaporan,
    UserStatus,
    VerifMessage,
)
from storage.domain.numbers import format_rupiah
from storage.files.export import export_bytes
from storage.files.importer import import_file
from storage.services.office import init_office
from storage.services.users import set_user
from tests.bot_harness import Bot

DEMO = 1
B_BIDANG = [
    ("tatausaha", "Tata Usaha Zirkon", [], [1]),
    ("kesmas", "Kesehatan Masyarakat Zirkon", [], [2]),
    ("yankes", "Pelayanan Kesehatan Zirkon", [], [3]),
    ("p2p", "Pencegahan Penyakit Zirkon", [], [4]),
    ("sdk", "Sumber Daya Kesehatan Zirkon", [], [5]),
]
ROLES = ("operator", "verifikator", "kepala", "admin")


def jpeg_with_gps(seed: int, lat_seconds: float) -> bytes:
    img = Image.new("RGB", (40, 30), ((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256))
    e = Image.Exif()
    e[0x0132] = "2022:12:10 09:15:00"
    e[0x8825] = {1: "S", 2: (0.0, 35.0, lat_seconds), 3: "E", 4: (100.0, 21.0, 36.0)}
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=e)
    return buf.getvalue()


@dataclass
class Office:
    """One office of the pair, with the ids a forged update may carry and what must never be
    shown to anybody outside it."""

    opd_id: int
    label: str  # how people name it ("Dinkes")
    tag: str  # distinctive word in its names
    people: dict[str, int]  # role -> telegram id
    pending: int  # telegram id of a waiting registration for this office
    pending_version: int
    bidang_id: int
    bidang_name: str
    program_id: int
    sub_id: int
    sub_name: str
    pelaporan_id: int
    pelaporan_version: int
    draft_id: int
    bukti_ids: list[int]
    group: int
    photo: bytes
    secrets: list[str] = field(default_factory=list)
    file_ids: list[str] = field(default_factory=list)

    @property
    def chats(self) -> set[int]:
        """Every chat of this office's people and its group."""
        return {*self.people.values(), self.pending, self.group}


def office_from_demo(
    engine: Engine,
    folder: Path,
    *,
    nama: str,
    singkatan: str,
    kepala: str,
    bidang: list[tuple[str, str, list[str], list[int]]],
) -> int:
    """A second office holding the demo's TW III 2022 report (exported, then imported)."""
    with session_scope(engine) as s:
        opd = init_office(
            s,
            nama=nama,
            singkatan=singkatan,
            kepala=kepala,
            nip="198001012005011001",
            bidang=bidang,
            actor="test",
        )
        opd_id = opd.id
        assert opd_id is not None
    with read_scope(engine) as s:
        _, data = export_bytes(s, DEMO, 2022, 3)
    path = folder / f"tw3-{singkatan.lower()}.xlsx"
    path.write_bytes(data)
    # The demo office's own export, confirmed into another office (the file names the demo).
    import_file(engine, path, opd_id=opd_id, actor="test", other_office=True)
    return opd_id


def second_office(engine: Engine, folder: Path) -> int:
    """Dinas Kesehatan: the demo's TW III 2022 report under other names, other figures."""
    opd_id = office_from_demo(
        engine,
        folder,
        nama="Dinas Kesehatan",
        singkatan="Dinkes",
        kepala="dr. Zirkon",
        bidang=B_BIDANG,
    )
    with session_scope(engine) as s:
        # Names and figures of its own: nothing of B looks like anything of A.
        s.connection().execute(
            text("UPDATE node SET nama = 'Zirkon kegiatan ' || id WHERE opd_id = :o"),
            {"o": opd_id},
        )
        for table, column in (("realisasi", "anggaran"), ("node_plan", "pagu")):
            s.connection().execute(
                text(
                    f"UPDATE {table} SET {column} = {column} * 7 + 3 WHERE {column} IS NOT NULL "
                    "AND node_id IN (SELECT id FROM node WHERE opd_id = :o)"
                ),
                {"o": opd_id},
            )
    return opd_id


async def open_quiet(engine: Engine, data_dir: Path) -> Bot:
    """The real bot (offline Bot API) with its evidence in ``data_dir`` and no job running:
    reminders and digests have tests of their own and would only add messages here."""
    from tests.test_bukti import _open

    bot = await _open(engine, data_dir)
    for job in bot.app.job_queue.jobs():  # type: ignore[union-attr]
        job.schedule_removal()
    return bot


@pytest.fixture
async def pair(seeded: Engine, tmp_path: Path) -> AsyncIterator[tuple[Bot, Office, Office]]:
    """Both offices staged, and the bot running on them."""
    data_dir = tmp_path / "data"
    a, b = stage_pair(seeded, tmp_path, data_dir)
    bot = await open_quiet(seeded, data_dir)
    try:
        yield bot, a, b
    finally:
        await bot.app.stop()
        await bot.app.shutdown()


def _stage(engine: Engine, opd_id: int, label: str, tag: str, base: int, data_dir: Path) -> Office:
    """People of every role, a submitted TW IV 2022 report with a photo, an open draft with
    a file, a pending registration, an approval message and a group, for one office."""
    people = {role: base + i for i, role in enumerate(ROLES)}
    pending = base + 9
    photo = jpeg_with_gps(base, 24.0 + (base % 97) / 10)
    draft_photo = jpeg_with_gps(base + 1, 11.0)
    stored = bukti_store.store(data_dir, photo)
    stored_draft = bukti_store.store(data_dir, draft_photo)
    with session_scope(engine) as s:
        bidang = s.exec(
            select(Bidang)
            .join(Sasaran, col(Sasaran.bidang_id) == col(Bidang.id))
            .where(Bidang.opd_id == opd_id, Sasaran.tahun == 2022)
            .order_by(col(Bidang.id))
        ).first()
        assert bidang is not None and bidang.id is not None
        for role, tgid in people.items():
            set_user(
                s,
                telegram_id=tgid,
                role=Role(role),
                bidang_id=bidang.id if role == "operator" else None,
                nama=f"{role.title()} {tag}",
                actor="test",
                opd_id=opd_id,
            )
        users = {
            u.telegram_id: u
            for u in s.exec(select(AppUser).where(col(AppUser.telegram_id).in_(people.values())))
        }
        op = users[people["operator"]]
        waiting = AppUser(
            telegram_id=pending,
            nama=f"Pemohon {tag}",
            nip="",
            opd_id=opd_id,
            status=UserStatus.PENDING,
            request_version=1,
        )
        s.add(waiting)
        sub = s.exec(
            select(Node)
            .join(Sasaran, col(Sasaran.id) == col(Node.sasaran_id))
            .where(
                Node.opd_id == opd_id,
                Node.tahun == 2022,
                Node.level == Level.SUB_KEGIATAN,
                Sasaran.bidang_id == bidang.id,
            )
            .order_by(col(Node.id))
        ).first()
        assert sub is not None and sub.id is not None
        program = s.exec(
            select(Node)
            .where(Node.opd_id == opd_id, Node.tahun == 2022, Node.level == Level.PROGRAM)
            .order_by(col(Node.id))
        ).first()
        assert program is not None and program.id is not None
        now = datetime.now(UTC)
        p = Pelaporan(
            bidang_id=bidang.id,
            tahun=2022,
            triwulan=4,
            status=StatusLaporan.DIAJUKAN,
            source=Source.ENTRY,
            submitted_by=op.id,
            submitted_at=now,
            version=3,
        )
        s.add(p)
        sent = Draft(
            bidang_id=bidang.id,
            tahun=2022,
            triwulan=4,
            user_id=op.id,  # type: ignore[arg-type]
            status=DraftStatus.DIKIRIM,
            step="review",
            based_on=2,
        )
        open_ = Draft(
            bidang_id=bidang.id,
            tahun=2022,
            triwulan=3,
            user_id=op.id,  # type: ignore[arg-type]
            status=DraftStatus.AKTIF,
            step="review",
            data=json.dumps({"items": {str(sub.id): {"anggaran": 1, "fisik": 1, "ket": ""}}}),
        )
        s.add(sent)
        s.add(open_)
        s.flush()
        assert p.id is not None and sent.id is not None and open_.id is not None
        file_ids = [f"FILE-{tag}-terkirim", f"FILE-{tag}-draf"]
        rows = []
        for draft, st, fid, cap in (
            (sent, stored, file_ids[0], f"Catatan rahasia {tag} terkirim"),
            (open_, stored_draft, file_ids[1], f"Catatan rahasia {tag} draf"),
        ):
            row = Bukti(
                draft_id=draft.id,  # type: ignore[arg-type]
                node_id=sub.id,
                tahun=2022,
                triwulan=draft.triwulan,
                sha256=st.sha256,
                mime=st.mime,
                size=st.size,
                kind="foto",
                file_name=f"rahasia-{tag}.jpg",
                file_id=fid,
                file_unique_id=fid,
                caption=cap,
                uploaded_by=op.id,  # type: ignore[arg-type]
                exif_time=st.exif.time,
                gps_lat=st.exif.lat,
                gps_lon=st.exif.lon,
            )
            s.add(row)
            rows.append(row)
        s.add(
            VerifMessage(
                pelaporan_id=p.id,
                version=3,
                chat_id=people["verifikator"],
                message_id=1,
                text=f"Laporan {tag}",
            )
        )
        s.flush()
        s.add(
            RegMessage(
                user_id=waiting.id,  # type: ignore[arg-type]
                version=1,
                chat_id=people["admin"],
                message_id=2,
                text=f"Permintaan {tag}",
            )
        )
        group = -(1_000_000 + base)
        s.add(GrupKantor(chat_id=group, opd_id=opd_id, owner=f"opd:{opd_id}", set_by="test"))
        office = Office(
            opd_id=opd_id,
            label=label,
            tag=tag,
            people=people,
            pending=pending,
            pending_version=1,
            bidang_id=bidang.id,
            bidang_name=bidang.nama,
            program_id=program.id,
            sub_id=sub.id,
            sub_name=sub.nama,
            pelaporan_id=p.id,
            pelaporan_version=3,
            draft_id=open_.id,
            bukti_ids=[r.id for r in rows if r.id is not None],
            group=group,
            photo=photo,
            file_ids=file_ids,
        )
        office.secrets = _secrets(s, office, stored.exif.lat)
    return office


def _secrets(s, office: Office, lat: float | None) -> list[str]:  # type: ignore[no-untyped-def]
    """Strings only this office's data contains: its people's names, its notes, its GPS, the
    names of its sub kegiatan and its own (not round) rupiah figures."""
    out = [f"{r.title()} {office.tag}" for r in ROLES] + [
        f"Pemohon {office.tag}",
        f"Catatan rahasia {office.tag}",
        f"rahasia-{office.tag}",
    ]
    if lat is not None:
        out.append(f"{lat:.5f}")
    values: set[int] = set()
    for model, column in ((Realisasi, Realisasi.anggaran), (NodePlan, NodePlan.pagu)):
        values.update(
            v
            for v in s.exec(
                select(column)
                .join(Node, col(Node.id) == col(model.node_id))  # type: ignore[attr-defined]
                .where(Node.opd_id == office.opd_id, Node.tahun == 2022)
            ).all()
            if v is not None and v >= 10_000_000 and v % 1000
        )
    out += sorted(format_rupiah(v).removeprefix("Rp ") for v in values)
    out += [
        n
        for n in s.exec(
            select(Node.nama).where(Node.opd_id == office.opd_id, Node.level == Level.SUB_KEGIATAN)
        ).all()
        if len(n) >= 12
    ]
    return out


def stage_pair(engine: Engine, folder: Path, data_dir: Path) -> tuple[Office, Office]:
    """(A, B): the demo office and Dinas Kesehatan, each staged."""
    b_id = second_office(engine, folder)
    a = _stage(engine, DEMO, "Diskoperindag", "Amber", 9810, data_dir)
    b = _stage(engine, b_id, "Dinkes", "Zirkon", 9830, data_dir)
    return a, b


# --- what belongs to an office, read independently of the boundary under test -------------------

_OWNED = {
    "perangkat_daerah": "id = :o",
    "bidang": "opd_id = :o",
    "sasaran": "opd_id = :o",
    "node": "opd_id = :o",
    "report": "opd_id = :o",
    "finding": "opd_id = :o",
    "jadwal": "opd_id = :o",
    "grup_kantor": "opd_id = :o",
    "node_plan": "node_id IN (SELECT id FROM node WHERE opd_id = :o)",
    "realisasi": "node_id IN (SELECT id FROM node WHERE opd_id = :o)",
    "rencana_penarikan": "node_id IN (SELECT id FROM node WHERE opd_id = :o)",
    "bukti": "node_id IN (SELECT id FROM node WHERE opd_id = :o)",
    "indikator_sasaran": "sasaran_id IN (SELECT id FROM sasaran WHERE opd_id = :o)",
    "narasi": "sasaran_id IN (SELECT id FROM sasaran WHERE opd_id = :o)",
    "capaian_sasaran": "indikator_id IN (SELECT i.id FROM indikator_sasaran i "
    "JOIN sasaran s ON s.id = i.sasaran_id WHERE s.opd_id = :o)",
    "pelaporan": "bidang_id IN (SELECT id FROM bidang WHERE opd_id = :o)",
    "draft": "bidang_id IN (SELECT id FROM bidang WHERE opd_id = :o)",
    "verif_message": "pelaporan_id IN (SELECT p.id FROM pelaporan p "
    "JOIN bidang b ON b.id = p.bidang_id WHERE b.opd_id = :o)",
    "app_user": "opd_id = :o",
    "reg_message": "user_id IN (SELECT id FROM app_user WHERE opd_id = :o)",
    "user_pref": "app_user_id IN (SELECT id FROM app_user WHERE opd_id = :o)",
    "chat_state": "telegram_id IN (SELECT telegram_id FROM app_user WHERE opd_id = :o)",
}


def snapshot(engine: Engine, opd_id: int) -> dict[str, list[tuple]]:
    """Every row that belongs to office ``opd_id``, table by table."""
    out: dict[str, list[tuple]] = {}
    with engine.connect() as conn:
        for table, where in _OWNED.items():
            rows = conn.execute(text(f"SELECT * FROM {table} WHERE {where}"), {"o": opd_id})
            out[table] = sorted((tuple(str(v) for v in r) for r in rows), key=repr)
    return out
