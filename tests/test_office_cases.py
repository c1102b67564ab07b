"""Issue 23's cases replayed through the real Application, on both databases: a forged
'Lihat bukti' of another office (1), office groups (2), evidence read for what it is (6),
/daftar while a request waits (7) and names with invisible characters (8)."""

from __future__ import annotations

import io
import zipfile
from datetime import time, timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select
from telegram.ext import CallbackContext

from bot.console import html_to_text
from storage.data import db
from storage.data.db import read_scope, session_scope
from storage.data.models import AppUser, Bukti, Role, UserStatus
from storage.services.users import set_user
from tests import office_pair, test_bukti
from tests.bot_harness import ADMIN, Bot
from tests.office_pair import Office, open_quiet, second_office
from tests.test_bukti import PDF, _doc, _figures_of_first_sub, _start, _to_review
from tests.test_lapor import OP1, VERIF, _button, _close
from tests.test_reminders import ADMIN as ADMIN_KAB
from tests.test_reminders import Clock, close, open_bot, wib

_open = open_quiet
# The fixtures: both offices staged with the bot on them; the bot with a Koperasi operator.
pair = office_pair.pair
bot = test_bukti.bot


# --- case 1: a forged "Lihat bukti" of another office --------------------------------------------


async def test_case1_forged_lihat_bukti_of_another_office_shows_nothing(
    pair: tuple[Bot, Office, Office],
) -> None:
    bot, a, b = pair
    forged = f"bk:{b.pelaporan_id}:{b.pelaporan_version}"
    for role in ("kepala", "verifikator", "admin"):
        mark = len(bot.api.calls)
        out = await bot.press(a.people[role], forged)
        calls = bot.api.calls[mark:]
        assert not [c for c in calls if c.method in ("sendPhoto", "sendDocument", "sendMediaGroup")]
        shown = repr([c.params for c in calls])
        for secret in ("Catatan rahasia Zirkon", "Operator Zirkon", "GPS", *b.file_ids):
            assert secret not in shown, (role, secret)
        assert "tidak" in out  # told the button names nothing they may see
    # the same button works for the office's own verifier: the files are there to leak
    mark = len(bot.api.calls)
    await bot.press(b.people["verifikator"], forged)
    assert [c for c in bot.api.calls[mark:] if c.method == "sendPhoto"]


# --- case 2: each office has its own group; the kabupaten has one too ---------------------------

GA, GB, GK = -100_500_001, -100_500_002, -100_500_003
ADMIN_A, ADMIN_B, KEPALA_A, KEPALA_B, PEMANTAU = 7701, 7702, 7703, 7704, 7705


async def test_case2_each_office_its_own_group_digest_and_notices(
    seeded: Engine, tmp_path: Path
) -> None:
    office_b = second_office(seeded, tmp_path)
    with session_scope(seeded) as s:
        for tgid, role, opd in (
            (ADMIN_A, Role.ADMIN, 1),
            (ADMIN_B, Role.ADMIN, office_b),
            (KEPALA_A, Role.KEPALA, 1),
            (KEPALA_B, Role.KEPALA, office_b),
        ):
            set_user(s, telegram_id=tgid, role=role, nama=f"{role} {opd}", actor="t", opd_id=opd)
        set_user(s, telegram_id=PEMANTAU, role=Role.PEMANTAU, nama="Bappeda", actor="t")
    clock = Clock(wib(2023, 1, 2, 7, 0))  # Monday: the digest's default day
    bot = await open_bot(seeded, clock, reminder_time=time(8, 0))
    try:
        assert "terdaftar sebagai grup kantor" in await bot.say(ADMIN_A, "/grupkantor", chat_id=GA)
        # B's admin cannot take A's group over, nor remove it
        taken = await bot.say(ADMIN_B, "/grupkantor", chat_id=GA)
        assert "perangkat daerah lain" in taken and "tidak ada yang diubah" in taken
        assert "bukan grup kantor Anda" in await bot.say(ADMIN_B, "/grupkantor hapus", chat_id=GA)
        assert "grup kantor perangkat daerah Anda" in await bot.say(
            ADMIN_B, "/grupkantor", chat_id=GB
        )
        # the kabupaten's own group, for the pemantau's notices
        # (MONEV_ADMIN_IDS of a kabupaten deployment: the admin kabupaten)
        assert "grup kabupaten" in await bot.say(ADMIN_KAB, "/grupkantor", chat_id=GK)
        with read_scope(seeded) as s:
            rows = s.connection().execute(text("SELECT chat_id, owner FROM grup_kantor")).all()
        owners = {r[0]: r[1] for r in rows}
        assert owners == {GA: "opd:1", GB: f"opd:{office_b}", GK: "kabupaten"}
        assert "sudah ada grup kantor" in await bot.say(ADMIN_B, "/grupkantor")

        # the weekly digest: each office's to its own group only
        from bot.jobs.early_warning import send_digest

        clock.now = wib(2023, 1, 2, 8, 0)
        await send_digest(CallbackContext(bot.app))
        ga = " ".join(html_to_text(c.text or "") for c in bot.api.sent(GA))
        gb = " ".join(html_to_text(c.text or "") for c in bot.api.sent(GB))
        assert "Peringatan dini" in ga and "Peringatan dini" in gb
        assert "Diskoperindag" in ga and "Dinkes" not in ga
        assert "Dinkes" in gb and "Diskoperindag" not in gb
        # the kabupaten's group: the kabupaten's own weekly digest (every office), no office's
        gk = [c.text or "" for c in bot.api.sent(GK) if "Peringatan dini" in (c.text or "")]
        assert len(gk) == 1 and "Peringatan dini mingguan kabupaten" in gk[0]

        # deadline notices (TW IV 2022: H = 10 January 2023) to each office's group
        for day in (10, 11):
            await bot.tick(wib(2023, 1, day, 8, 0))
        ga_notices = [
            html_to_text(c.text or "") for c in bot.api.sent(GA) if "TW IV 2022" in (c.text or "")
        ]
        gb_notices = [
            html_to_text(c.text or "") for c in bot.api.sent(GB) if "TW IV 2022" in (c.text or "")
        ]
        assert len(ga_notices) == 2 and len(gb_notices) == 2
        assert all("Dinkes" not in t and "Dinas Kesehatan" not in t for t in ga_notices)
        assert all("Diskoperindag" not in t for t in gb_notices)
        # the pemantau's recap of the offices behind reaches the kabupaten's group
        kab = [html_to_text(c.text or "") for c in bot.api.sent(GK)]
        assert any("Rekap pelaporan OPD" in t for t in kab)
    finally:
        await close(bot)


def test_case2_the_old_global_group_moves_to_the_office_that_set_it(engine: Engine) -> None:
    """Migration 0013: the one group every office shared goes to the office of the admin who
    registered it (several offices), or to the only office."""
    db.downgrade(engine, "0012")
    with engine.begin() as c:
        for i, nama in ((1, "Dinas A"), (2, "Dinas B")):
            c.execute(
                text(
                    "INSERT INTO perangkat_daerah (id, nama, nama_kepala, nip_kepala, tempat, "
                    "aliases) VALUES (:i, :n, '', '', '', '')"
                ),
                {"i": i, "n": nama},
            )
        c.execute(
            text(
                "INSERT INTO app_user (telegram_id, nama, nip, role, status, created_at, "
                "request_version, opd_id) VALUES (555, 'Admin B', '', 'admin', 'aktif', "
                "CURRENT_TIMESTAMP, 0, 2)"
            )
        )
        c.execute(text("INSERT INTO setting (key, value) VALUES ('grup_kantor_chat_id', '-77')"))
        c.execute(
            text(
                "INSERT INTO audit_log (at, actor, entity, field, old, new) VALUES "
                "(CURRENT_TIMESTAMP, 'user:555', 'setting', 'grup_kantor_chat_id', NULL, '-77')"
            )
        )
    db.upgrade(engine)
    with engine.connect() as c:
        rows = c.execute(text("SELECT chat_id, opd_id, owner FROM grup_kantor")).all()
        left = c.execute(text("SELECT COUNT(*) FROM setting WHERE key = 'grup_kantor_chat_id'"))
        assert left.scalar() == 0
    assert [tuple(r) for r in rows] == [(-77, 2, "opd:2")]


# --- case 6: evidence is read for what it is; the bot names the file ------------------------------


def _zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("payload.txt", "x" * 2000)
    return buf.getvalue()


def _jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (120, 30, 60)).save(buf, "JPEG")
    return buf.getvalue()


async def test_case6_evidence_content_names_and_captions(bot: Bot) -> None:
    await _start(bot, OP1)
    await _figures_of_first_sub(bot, OP1)
    pdf = "application/pdf"
    for content, why in (
        (b"%PDF-1.4\n<html><body><script>x()</script></body></html>\n%%EOF\n", "HTML"),
        (b"%PDF-1.7\n" + _zip_bytes(), "ZIP behind the header"),
        (PDF + _zip_bytes(), "a PDF with a ZIP appended"),
    ):
        out = await _doc(bot, OP1, content, "laporan.pdf", pdf)
        assert "bukan PDF" in out and "Draf tidak berubah" in out, why
    out = await _doc(bot, OP1, _jpeg()[:200], "foto.jpg", "image/jpeg")
    assert "tidak dapat dibaca" in out
    with read_scope(bot.engine) as s:
        assert s.exec(select(Bukti)).all() == []
    # a real PDF under a right-to-left-override name, with a caption full of invisibles
    caption = "Daftar\u202e hadir\u200b rapat\u2066 e\u0301"
    out = await _doc(bot, OP1, PDF, "x\u202egnp.exe", pdf, caption=caption)
    assert "Bukti diterima" in out
    with read_scope(bot.engine) as s:
        [row] = s.exec(select(Bukti)).all()
    assert row.caption == "Daftar hadir rapat \u00e9"
    assert row.file_name.startswith("bukti-") and row.file_name.endswith("-dokumen.pdf")
    assert "\u202e" not in row.file_name and "gnp" not in row.file_name and row.file_id == ""
    # sent on to the verifier under the bot's name, uploaded (never by the uploader's file_id)
    await _to_review(bot, OP1)
    await bot.press(OP1, _button(bot, OP1, "📨 Kirim"))
    req = [c for c in bot.api.sent(VERIF) if "Laporan masuk" in (c.text or "")][-1]
    see = next(d for row_ in bot.api.buttons(req) for label, d in row_ if label == "Lihat bukti")
    mark = len(bot.api.calls)
    await bot.press(VERIF, see or "")
    [doc] = [c for c in bot.api.calls[mark:] if c.method == "sendDocument"]
    [(name, content)] = doc.files.values()
    assert name == row.file_name and content == PDF
    everything = repr([c.params for c in bot.api.calls]) + repr(
        [n for c in bot.api.calls for n, _ in c.files.values()]
    )
    assert "\u202e" not in everything and "gnp.exe" not in everything


async def test_case6_an_image_beyond_the_pixel_limit_is_refused(bot: Bot) -> None:
    await _start(bot, OP1)
    await _figures_of_first_sub(bot, OP1)
    buf = io.BytesIO()
    Image.new("L", (9000, 8000)).save(buf, "PNG")  # 70 KB on the wire, 72 MP decoded
    out = await _doc(bot, OP1, buf.getvalue(), "denah.png", "image/png")
    assert "terlalu besar" in out and "piksel" in out


# --- cases 7 and 8: /daftar while a request waits; names with invisible characters -------------

ADMIN_A2 = 9006


async def _register(bot: Bot, user: int, nama: str, opd: int | None = None) -> str:
    await bot.say(user, "/daftar")
    await bot.say(user, nama)
    await bot.press(user, "reg:skip")
    if opd is not None:
        await bot.press(user, f"reg:opd:{opd}")
    await bot.press(user, "reg:bidang:0")
    return await bot.press(user, "reg:send")


async def test_case7_six_requests_in_a_row_reach_the_admins_once(
    seeded: Engine, tmp_path: Path
) -> None:
    office_b = second_office(seeded, tmp_path)
    with session_scope(seeded) as s:
        set_user(s, telegram_id=ADMIN_A, role=Role.ADMIN, nama="Admin A", actor="t", opd_id=1)
        set_user(s, telegram_id=ADMIN_A2, role=Role.ADMIN, nama="Admin A2", actor="t", opd_id=1)
        set_user(
            s, telegram_id=ADMIN_B, role=Role.ADMIN, nama="Admin B", actor="t", opd_id=office_b
        )
    bot = await _open(seeded, tmp_path / "data")
    try:
        u = 9450
        admins = {ADMIN, ADMIN_A, ADMIN_A2, ADMIN_B}
        outs = [await _register(bot, u, "Budi Santoso", opd=1)]
        for i, opd in enumerate((office_b, 1, office_b, 1, office_b)):
            # each time another name, and trying the other office
            outs.append(await _register(bot, u, f"Budi Santoso {i}", opd=opd))
        new_messages = [c for c in bot.api.calls_of("sendMessage") if c.chat_id in admins]
        # one message to each admin who decides for office A (and the admin kabupaten)
        assert sorted(c.chat_id for c in new_messages) == sorted([ADMIN, ADMIN_A, ADMIN_A2])
        assert not [c for c in bot.api.calls if c.chat_id == ADMIN_B]
        with read_scope(seeded) as s:
            row = s.exec(select(AppUser).where(AppUser.telegram_id == u)).one()
        assert row.opd_id == 1 and row.status == UserStatus.PENDING
        assert row.nama == "Budi Santoso" and row.request_version == 1
        assert "dikirim ke admin" in outs[0]
        assert all("masih menunggu" in o for o in outs[1:])
        # a minute later a change edits the same messages: still no new message
        with session_scope(seeded) as s:
            row = s.exec(select(AppUser).where(AppUser.telegram_id == u)).one()
            row.status_at = row.status_at - timedelta(minutes=2)  # type: ignore[operator]
            s.add(row)
        assert "diperbarui" in await _register(bot, u, "Budi Santoso, S.E.")
        assert len([c for c in bot.api.calls_of("sendMessage") if c.chat_id in admins]) == 3
        edits = [c for c in bot.api.calls_of("editMessageText") if c.chat_id in admins]
        assert len(edits) == 3 and all("Budi Santoso, S.E." in (c.text or "") for c in edits)
    finally:
        await _close(bot)


async def test_case8_registration_names_lose_invisible_characters(bot: Bot) -> None:
    u = 9460
    typed = "\u202eBudi\u200b Santoso\u200d e\u0301\u2067"
    await bot.say(u, "/daftar")
    await bot.say(u, typed)
    await bot.press(u, "reg:skip")
    await bot.press(u, "reg:bidang:0")
    assert "dikirim ke admin" in await bot.press(u, "reg:send")
    with read_scope(bot.engine) as s:
        row = s.exec(select(AppUser).where(AppUser.telegram_id == u)).one()
    assert row.nama == "Budi Santoso \u00e9"
    shown = bot.api.last(ADMIN).text or ""
    assert "Budi Santoso \u00e9" in shown
    for ch in ("\u202e", "\u200b", "\u200d", "\u2067", "e\u0301"):
        assert ch not in shown
