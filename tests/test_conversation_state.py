"""Conversation state in the database: every flow continues after the bot restarts.

The must-show cases drive the real Application with the offline Bot API: start a flow, stop
the Application, build a new one on the same database and go on typing. They run on SQLite
and, with TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, select

from storage.data import db
from storage.data.db import read_scope, session_scope
from storage.data.models import (
    AppUser,
    Bidang,
    ChatState,
    Pelaporan,
    Setting,
    StatusLaporan,
    UserStatus,
)
from storage.services import conversation
from storage.services.conversation import Flow, StaleState
from storage.services.schedule import get_jadwal
from tests.bot_harness import ADMIN, KEPALA, OPERATOR_KOP
from tests.conftest import make_backend_engine, running_bot
from tests.test_lapor import _button, _fill_figures, _finish_narrative


def _state(engine: Engine, telegram_id: int) -> conversation.State | None:
    with read_scope(engine) as s:
        return conversation.get(s, telegram_id=telegram_id)


# --- must show: restarts in the middle of a flow ----------------------------------------------


async def test_registration_continues_after_restart(seeded: Engine) -> None:
    new_user = 9500
    async with running_bot(seeded) as bot:
        assert "nama lengkap" in await bot.say(new_user, "/daftar")
        assert "NIP" in await bot.say(new_user, "Rina Marlina, S.E.")
    # A new Application on the same database: the next typed text is the NIP.
    async with running_bot(seeded) as bot:
        out = await bot.say(new_user, "19800414 199810 2 001")
        assert "bidang" in out and "Rp" not in out
        kop = next(data for label, data in bot.buttons(new_user) if label == "Koperasi")
    # Restart again between the bidang button and the confirmation.
    async with running_bot(seeded) as bot:
        confirm = await bot.press(new_user, kop)
        assert "Periksa kembali" in confirm and "Rina Marlina" in confirm
        assert "198004141998102001" in confirm
    async with running_bot(seeded) as bot:
        assert "dikirim ke admin" in await bot.press(new_user, "reg:send")
        request = bot.api.last(ADMIN).text or ""
        assert "Rina Marlina" in request and "Koperasi" in request
        # The flow is over: the same button again is stale, text is a question again.
        assert "tidak berlaku" in await bot.press(new_user, "reg:send")
    assert _state(seeded, new_user) is None
    with read_scope(seeded) as s:
        user = s.exec(select(AppUser).where(AppUser.telegram_id == new_user)).one()
        assert (user.nama, user.nip, user.status) == (
            "Rina Marlina, S.E.",
            "198004141998102001",
            UserStatus.PENDING,
        )


async def test_lapor_continues_after_restart(seeded: Engine) -> None:
    async with running_bot(seeded) as bot:
        await bot.say(OPERATOR_KOP, "/lapor")
        await bot.press(OPERATOR_KOP, _button(bot, OPERATOR_KOP, "Isi TW IV 2022"))
        assert "realisasi fisik" in (await bot.say(OPERATOR_KOP, "21.000.000")).lower()
    async with running_bot(seeded) as bot:
        # The typed fisik answers the draft (it would otherwise be read as a question).
        out = await bot.say(OPERATOR_KOP, "93")
        assert "keterangan" in out.lower()
        await bot.press(OPERATOR_KOP, _button(bot, OPERATOR_KOP, "Lewati"))
        assert "(2/3)" in (bot.api.last(OPERATOR_KOP).text or "")
        # /batal stops typing into the draft (kept), and text becomes a question again.
        assert "tetap tersimpan" in await bot.say(OPERATOR_KOP, "/batal")
    async with running_bot(seeded) as bot:
        assert "Rp" in await bot.say(OPERATOR_KOP, "serapan koperasi tw3")
        await bot.say(OPERATOR_KOP, "/lapor")
        await bot.press(OPERATOR_KOP, _button(bot, OPERATOR_KOP, "Lanjutkan"))
    async with running_bot(seeded) as bot:
        assert "realisasi fisik" in (await bot.say(OPERATOR_KOP, "120.000.000")).lower()


async def _submitted_and_kembalikan_pressed(seeded: Engine) -> None:
    async with running_bot(seeded) as bot:
        await bot.say(OPERATOR_KOP, "/lapor")
        await bot.press(OPERATOR_KOP, _button(bot, OPERATOR_KOP, "Isi TW IV 2022"))
        await _fill_figures(bot, OPERATOR_KOP)
        await _finish_narrative(bot, OPERATOR_KOP)
        assert "terkirim" in await bot.press(OPERATOR_KOP, _button(bot, OPERATOR_KOP, "📨 Kirim"))
        request = [c for c in bot.api.sent(KEPALA) if "Laporan masuk" in (c.text or "")][-1]
        back = next(
            d for row in bot.api.buttons(request) for _, d in row if d.startswith("vf:back")
        )
        assert "alasan" in (await bot.press(KEPALA, back)).lower()
        assert "terlalu singkat" in await bot.say(KEPALA, "x")


async def test_return_reason_continues_after_restart(seeded: Engine) -> None:
    await _submitted_and_kembalikan_pressed(seeded)
    state = _state(seeded, KEPALA)
    assert state is not None and state.flow == Flow.REASON
    async with running_bot(seeded) as bot:
        before = len(bot.api.sent(OPERATOR_KOP))
        out = await bot.say(KEPALA, "Realisasi fisik sub kegiatan kedua terlalu tinggi")
        assert "dikembalikan ke operator" in out
        told = "\n".join(c.text or "" for c in bot.api.sent(OPERATOR_KOP)[before:])
        assert "dikembalikan" in told and "terlalu tinggi" in told
        # Decided: the next text is a question, not another reason.
        assert "Rp" in await bot.say(KEPALA, "serapan koperasi tw3")
    assert _state(seeded, KEPALA) is None
    with read_scope(seeded) as s:
        p = s.exec(select(Pelaporan).where(Pelaporan.tahun == 2022, Pelaporan.triwulan == 4)).one()
        assert p.status == StatusLaporan.DIKEMBALIKAN and "terlalu tinggi" in p.alasan
        # No per-user state hides in the settings any more.
        assert s.exec(select(Setting).where(Setting.key.startswith("alasan:"))).all() == []  # type: ignore[attr-defined]


async def test_return_reason_cancelled_after_restart(seeded: Engine) -> None:
    await _submitted_and_kembalikan_pressed(seeded)
    async with running_bot(seeded) as bot:
        assert "Pengembalian laporan dibatalkan" in await bot.say(KEPALA, "/batal")
        assert "Tidak ada langkah" in await bot.say(KEPALA, "/batal")
    with read_scope(seeded) as s:
        p = s.exec(select(Pelaporan).where(Pelaporan.tahun == 2022, Pelaporan.triwulan == 4)).one()
        assert p.status == StatusLaporan.DIAJUKAN


async def test_jadwal_date_continues_after_restart(seeded: Engine) -> None:
    async with running_bot(seeded) as bot:
        await bot.say(ADMIN, "/jadwal 2022")
        assert "Ketik batas akhir baru" in await bot.press(ADMIN, "jadwal:ubah:2022:4")
    async with running_bot(seeded) as bot:
        assert "menjadi 13 Januari 2023" in await bot.say(ADMIN, "13 Januari 2023")
    with read_scope(seeded) as s:
        assert get_jadwal(s, opd_id=1, tahun=2022, tw=4).tenggat == date(2023, 1, 13)
    assert _state(seeded, ADMIN) is None


# --- routing ---------------------------------------------------------------------------------


async def test_batal_ends_registration_and_a_timed_out_flow_is_gone(seeded: Engine) -> None:
    async with running_bot(seeded) as bot:
        await bot.say(9501, "/daftar")
        assert "Pendaftaran dibatalkan" in await bot.say(9501, "/batal")
        assert "Tidak ada langkah" in await bot.say(9501, "/batal")
        # A registration left alone for over an hour has ended, as PTB's timeout did.
        await bot.say(9502, "/daftar")
        with session_scope(seeded) as s:
            row = s.get(ChatState, 9502)
            assert row is not None
            row.updated_at = datetime.now(UTC) - timedelta(hours=2)
            s.add(row)
        out = await bot.say(9502, "Budi Santoso")
        assert "NIP" not in out and "belum terdaftar" in out
        assert "tidak berlaku" in await bot.press(9502, "reg:skip")


async def test_flow_buttons_check_the_step(seeded: Engine) -> None:
    async with running_bot(seeded) as bot:
        await bot.say(9503, "/daftar")
        # Buttons of later steps do nothing before their step.
        assert "tidak berlaku" in await bot.press(9503, "reg:bidang:0")
        assert "tidak berlaku" in await bot.press(9503, "reg:send")
        assert "NIP" in await bot.say(9503, "Budi Santoso")
        assert "bidang" in await bot.press(9503, "reg:skip")
        assert "tombol" in await bot.say(9503, "Koperasi")  # text where a button is expected
        assert "Periksa kembali" in await bot.press(9503, "reg:bidang:0")
        assert "dibatalkan" in await bot.press(9503, "reg:cancel")
    with read_scope(seeded) as s:
        assert s.exec(select(AppUser).where(AppUser.telegram_id == 9503)).first() is None


# --- the service -----------------------------------------------------------------------------


def test_start_advance_clear_with_compare_and_set(engine: Engine) -> None:
    with session_scope(engine) as s:
        st = conversation.start(
            s, telegram_id=5_000_000_001, flow=Flow.REGISTRATION, step="nama", payload={}
        )
        assert (st.flow, st.step, st.version) == (Flow.REGISTRATION, "nama", 1)
    with session_scope(engine) as s:
        st2 = conversation.advance(
            s, telegram_id=5_000_000_001, expected_version=1, step="nip", payload={"nama": "Ani"}
        )
        assert (st2.step, st2.version, st2.payload) == ("nip", 2, {"nama": "Ani"})
    # A second writer holding the old version is refused, and nothing changes.
    with pytest.raises(StaleState), session_scope(engine) as s:
        conversation.advance(s, telegram_id=5_000_000_001, expected_version=1, step="bidang")
    got = _state(engine, 5_000_000_001)
    assert got is not None and got.step == "nip" and got.payload == {"nama": "Ani"}
    # Starting another flow replaces the first one; clearing a flow one is not in is a no-op.
    with session_scope(engine) as s:
        st3 = conversation.start(
            s, telegram_id=5_000_000_001, flow=Flow.REASON, payload={"pelaporan_id": 7}
        )
        assert st3.version == 3
        assert conversation.clear(s, telegram_id=5_000_000_001, flow=Flow.LAPOR) is None
    with session_scope(engine) as s:
        ended = conversation.clear(s, telegram_id=5_000_000_001)
        assert ended is not None and ended.payload == {"pelaporan_id": 7}
    assert _state(engine, 5_000_000_001) is None
    with pytest.raises(StaleState), session_scope(engine) as s:
        conversation.advance(s, telegram_id=5_000_000_001, expected_version=3, step="x")


def test_a_failed_transaction_leaves_the_state_as_it_was(engine: Engine) -> None:
    """The state is written in the caller's transaction: a step whose data fails keeps none."""
    with session_scope(engine) as s:
        conversation.start(s, telegram_id=42, flow=Flow.LAPOR, payload={"draft_id": 1})
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        conversation.clear(s, telegram_id=42)
        raise RuntimeError("the step's own write failed")
    got = _state(engine, 42)
    assert got is not None and got.flow == Flow.LAPOR


def test_timeouts(engine: Engine) -> None:
    t0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    with session_scope(engine) as s:
        conversation.start(s, telegram_id=1, flow=Flow.JADWAL, step="tanggal", now=t0)
        conversation.start(s, telegram_id=2, flow=Flow.LAPOR, now=t0)
    with read_scope(engine) as s:
        assert conversation.get(s, telegram_id=1, now=t0 + timedelta(minutes=14)) is not None
        assert conversation.get(s, telegram_id=1, now=t0 + timedelta(minutes=16)) is None
        # /lapor waits as long as it takes (the draft is saved anyway).
        assert conversation.get(s, telegram_id=2, now=t0 + timedelta(days=30)) is not None


# --- the migration -----------------------------------------------------------------------------


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, SQLModel.metadata) == []


def test_migration_moves_pending_reasons_and_recent_drafts(backend: str, tmp_path: Path) -> None:
    eng, schema = make_backend_engine(backend, tmp_path)
    try:
        db.upgrade(eng, "0003")
        now = datetime.now(UTC)
        with session_scope(eng) as s:
            # Raw row: the perangkat_daerah table of revision 0003 lacks columns added later.
            s.execute(  # type: ignore[call-overload]
                text(
                    "INSERT INTO perangkat_daerah (id, nama, nama_kepala, nip_kepala, tempat) "
                    "VALUES (1, 'Dinas', '', '', '')"
                )
            )
            s.flush()
            s.add(Bidang(id=1, opd_id=1, kode="kop", nama="Koperasi"))
            # Raw rows: the app_user table of revision 0003 lacks columns added later.
            for i in (1, 2, 3):
                s.execute(  # type: ignore[call-overload]
                    text(
                        "INSERT INTO app_user (id, telegram_id, nama, nip, status, created_at) "
                        "VALUES (:id, :tg, :nama, '', 'active', :at)"
                    ),
                    {"id": i, "tg": 111 * i, "nama": f"U{i}", "at": datetime.now(UTC)},
                )
            s.flush()
            # A draft touched an hour ago keeps taking typed answers; one of three days ago
            # did not after a restart either.
            # Raw rows: the draft table of revision 0003 lacks columns added later.
            for did, tw, uid, at in ((5, 4, 1, now), (6, 3, 2, now - timedelta(days=3))):
                s.execute(  # type: ignore[call-overload]
                    text(
                        "INSERT INTO draft (id, bidang_id, tahun, triwulan, user_id, status, "
                        "step, data, base, created_at, updated_at) VALUES (:id, 1, 2022, :tw, "
                        ":uid, 'aktif', '', '{}', '{}', :at, :at)"
                    ),
                    {"id": did, "tw": tw, "uid": uid, "at": at},
                )
            s.add(Setting(key="alasan:333", value="9"))
            s.add(Setting(key="demo", value="1"))
        db.upgrade(eng)
        with read_scope(eng) as s:
            rows = {
                r.telegram_id: (r.flow, json.loads(r.payload)) for r in s.exec(select(ChatState))
            }
            assert rows == {111: ("lapor", {"draft_id": 5}), 333: ("alasan", {"pelaporan_id": 9})}
            assert [k.key for k in s.exec(select(Setting))] == ["demo"]
        db.downgrade(eng, "0003")
        with eng.connect() as conn:
            keys = dict(conn.execute(text("SELECT key, value FROM setting")).all())
        assert keys == {"demo": "1", "alasan:333": "9"}
    finally:
        eng.dispose()
        if schema:
            from tests.conftest import _drop_pg_schema

            _drop_pg_schema(schema)
