"""The Mini App in headless Chromium, served by the bot's own process: Sekretariat's 18 sub
kegiatan filled in the form and sent, approved in the chat, and exported; what was typed
survives a reload; a change made in the chat is shown, never overwritten; forged initData is
refused. The taps and typed fields of the form and of the chat are counted for the same
quarter. Skips (saying why) only when Chromium, ChromeDriver or Selenium is not installed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.webapp.server import WebAppServer
from storage.data.db import read_scope
from storage.data.models import Bidang
from storage.domain.numbers import format_number
from storage.services.submission import DraftPlan, draft_plan
from tests import browser
from tests.bot_harness import KEPALA, Bot
from tests.conftest import PG_URL, Templates, clone_database
from tests.csv_id import number, read_rows
from tests.webapp_harness import OPERATOR_SEK, webapp_bot

T = TypeVar("T")

pytestmark = pytest.mark.skipif(browser.missing() is not None, reason=str(browser.missing()))

# What a person does for Sekretariat's TW IV 2022 (18 sub kegiatan, 1 indicator, 1 sasaran;
# the same 40 values typed either way): the form (open it, tap and type each field, Kirim)
# against the chat (/lapor, "Isi TW IV 2022", each answer typed and sent, "Lewati" for each
# keterangan, Kirim). A typed chat message is a typed field and a tap (send). Counted below.
FORM_TAPS, FORM_TYPED = 42, 40
CHAT_TAPS, CHAT_TYPED = 61, 41


async def _in_thread(fn: Callable[..., T], *args: Any) -> T:
    """Selenium blocks: the bot (and its web server) keep running in the event loop."""
    return await asyncio.to_thread(fn, *args)


@dataclass(frozen=True)
class Quarter:
    """The values typed for Sekretariat's TW IV 2022, per field key of the form."""

    plan: DraftPlan
    anggaran: dict[int, int]
    fisik: dict[int, float]
    ind: dict[int, str]
    narasi: dict[str, str]

    def typed(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for s in self.plan.subs:
            out.append((f"anggaran:{s.node_id}", _money(self.anggaran[s.node_id], s.node_id)))
            out.append((f"fisik:{s.node_id}", format_number(self.fisik[s.node_id], 1)))
        out += [(f"ind:{k}", v) for k, v in self.ind.items()]
        out += list(self.narasi.items())
        return out


def _money(value: int, salt: int) -> str:
    """Rupiah typed the ways people type it, all read by the chat's parser."""
    if value % 100_000 == 0 and salt % 2:
        return f"{format_number(value / 1_000_000, 1)} jt"
    return ["Rp {}", "{}", "Rp. {}"][salt % 3].format(format_number(value))


def sekretariat_quarter(engine: Engine) -> Quarter:
    with read_scope(engine) as s:
        sek = s.exec(select(Bidang).where(Bidang.kode == "sekretariat")).one()
        assert sek.id is not None
        plan = draft_plan(s, sek.id, 2022, 4)
    anggaran: dict[int, int] = {}
    fisik: dict[int, float] = {}
    for s_ in plan.subs:
        prev, pagu = s_.prev_anggaran or 0, s_.pagu or 0
        # Halfway from last quarter to the pagu; a sub kegiatan new this quarter at 90% of
        # its pagu, so that the bidang's total stays above the TW III figure it reported as
        # a whole (a fall would be asked first, as in the chat).
        anggaran[s_.node_id] = prev + (pagu - prev) // 2 if prev else pagu * 9 // 10
        pf = s_.prev_fisik or 0.0
        fisik[s_.node_id] = round(pf + (100 - pf) / 2, 1)
    ind = {i.indikator_id: "82,5" for i in plan.indikator}
    narasi = {
        f"{f}:{sas.sasaran_id}": f"{f} sasaran {sas.nomor} TW IV"
        for sas in plan.sasaran
        for f in ("aksi", "hambatan", "tindak_lanjut")
    }
    return Quarter(plan, anggaran, fisik, ind, narasi)


@pytest.fixture
async def served(seeded: Engine) -> AsyncIterator[tuple[Bot, WebAppServer]]:
    async with webapp_bot(seeded) as bot:
        server = WebAppServer(bot.app, "127.0.0.1", 0)
        await server.start()
        try:
            yield bot, server
        finally:
            await server.stop()


def _export_rows(engine: Engine, folder: Path, monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """``monev export --tahun 2022 --tw 4 --format csv`` on the bot's database."""
    from bot.cli.main import main

    if engine.dialect.name == "sqlite":
        url = f"sqlite:///{engine.url.database}"
    else:
        with engine.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        sep = "&" if "?" in PG_URL else "?"
        url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    monkeypatch.setenv("DATABASE_URL", url)
    out = folder / "tw4.csv"
    assert main(["export", "--tahun", "2022", "--tw", "4", "--format", "csv", "-o", str(out)]) == 0
    return read_rows(out.read_bytes())


def _fill_and_send(driver: Any, url: str, quarter: Quarter) -> browser.Fingers:
    from selenium.webdriver.common.by import By

    f = browser.Fingers(driver)
    f.taps += 1  # the bot's menu button (or "Isi lewat formulir" under /lapor) opens it
    driver.get(url)
    f.wait_text("main", "Laporan TW IV 2022 — Sekretariat")
    assert len(driver.find_elements(By.CSS_SELECTOR, "section.card[id^=sub-]")) == 18
    typed = quarter.typed()
    for name, value in typed[:6]:
        f.type(name, value)
    # Closing the page before saving loses nothing: back in the fields, marked unsaved.
    driver.get("about:blank")
    driver.get(url)
    f.wait_text("#status", "6 isian belum disimpan")
    for name, value in typed[:6]:
        field = driver.find_element(By.NAME, name)
        assert field.get_attribute("value") == value and "dirty" in field.get_attribute("class")
    for name, value in typed[6:]:
        f.type(name, value)
    f.tap("#kirim")
    f.wait_text("main", "terkirim", timeout=60)
    return f


async def test_operator_fills_sekretariat_and_the_kepala_approves_in_the_chat(
    served: tuple[Bot, WebAppServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    backend: str,
    templates: Templates,
) -> None:
    bot, server = served
    quarter = sekretariat_quarter(bot.engine)
    with browser.chromium() as driver:
        fingers = await _in_thread(
            _fill_and_send, driver, server.signed_url(OPERATOR_SEK, "lapor"), quarter
        )
    # The verifier's card came to the kepala in the chat; approved there.
    approve = next(d for label, d in bot.buttons(KEPALA) if label == "✅ Setujui")
    assert "Bidang Sekretariat" in "\n".join(c.text or "" for c in bot.api.sent(KEPALA))
    await bot.press(KEPALA, approve)
    assert "disetujui" in (bot.api.sent(OPERATOR_SEK)[-1].text or "")
    # The official file holds exactly what was typed.
    rows = {
        r["Program/Kegiatan/Sub Kegiatan"]: r
        for r in await _in_thread(_export_rows, bot.engine, tmp_path, monkeypatch)
        if r["Tingkat"] == "Sub Kegiatan" and r["Sasaran"] == "1"
    }
    assert len(rows) == 18
    for s in quarter.plan.subs:
        row = rows[s.nama]
        assert int(row["Realisasi Anggaran (Rp)"]) == quarter.anggaran[s.node_id], s.nama
        assert float(number(row["Realisasi Fisik (%)"]) or 0) == quarter.fisik[s.node_id], s.nama
        assert row["Status Verifikasi"] == "final"  # approved: not marked
    # The same quarter through the chat, in a database of its own, counted the same way.
    (tmp_path / "chat").mkdir()
    other, schema = clone_database(backend, tmp_path / "chat", templates, seeded=True)
    try:
        async with webapp_bot(other) as chat_bot:
            chat = await _count_chat(chat_bot, quarter)
    finally:
        other.dispose()
        if schema:
            from tests.conftest import _drop_pg_schema

            _drop_pg_schema(schema)
    counts = {
        "form": (fingers.taps, fingers.typed),
        "chat": (chat.taps, chat.typed),
    }
    print(f"\ntaps, typed fields for Sekretariat TW IV 2022: {counts}")
    assert counts == {"form": (FORM_TAPS, FORM_TYPED), "chat": (CHAT_TAPS, CHAT_TYPED)}


@dataclass
class ChatCount:
    taps: int = 0
    typed: int = 0


async def _count_chat(bot: Bot, quarter: Quarter) -> ChatCount:
    """The chat flow with the same values: a typed message is one typed field and one tap
    (send), a button one tap."""
    n = ChatCount()

    async def say(words: str) -> str:
        n.taps += 1
        n.typed += 1
        return await bot.say(OPERATOR_SEK, words)

    async def press(label: str) -> str:
        n.taps += 1
        data = next(d for lb, d in bot.buttons(OPERATOR_SEK) if lb.startswith(label))
        return await bot.press(OPERATOR_SEK, data)

    await say("/lapor")
    await press("Isi TW IV 2022")
    values = dict(quarter.typed())
    for s in quarter.plan.subs:
        await say(values[f"anggaran:{s.node_id}"])
        await say(values[f"fisik:{s.node_id}"])
        await press("Lewati")
    for key in [k for k in values if k.startswith(("ind:", "aksi:", "hambatan:", "tindak"))]:
        await say(values[key])
    shown = await press("📨 Kirim")
    assert "terkirim" in shown, shown
    return n


def _open(driver: Any, url: str) -> browser.Fingers:
    f = browser.Fingers(driver)
    driver.get(url)
    f.wait_text("main", "Laporan TW IV 2022 — Sekretariat")
    return f


async def test_a_chat_change_is_shown_in_the_page_and_nothing_is_overwritten(
    served: tuple[Bot, WebAppServer],
) -> None:
    from selenium.webdriver.common.by import By

    bot, server = served
    quarter = sekretariat_quarter(bot.engine)
    first = quarter.plan.subs[0].node_id
    with browser.chromium() as driver:
        f = await _in_thread(_open, driver, server.signed_url(OPERATOR_SEK, "lapor"))
        await _in_thread(f.type, f"anggaran:{first}", "7 jt")
        # Meanwhile, in the chat: /lapor, "Lanjutkan", and the same question answered.
        await bot.say(OPERATOR_SEK, "/lapor")
        await bot.press(
            OPERATOR_SEK, next(d for lb, d in bot.buttons(OPERATOR_SEK) if lb == "Lanjutkan")
        )
        await bot.say(OPERATOR_SEK, "6 jt")
        await _in_thread(f.tap, "#simpan")
        banner = await _in_thread(f.wait_text, "#banner", "diubah lewat chat")
        assert "Tidak ada yang disimpan" in banner
        note = await _in_thread(f.wait_text, ".fnote.warn", "Di draf sekarang: 6.000.000")
        assert "Pakai isian draf" in note
        field = driver.find_element(By.NAME, f"anggaran:{first}")
        assert field.get_attribute("value") == "7 jt"  # the operator's input is kept
        with read_scope(bot.engine) as s:
            from storage.data.models import Draft, DraftStatus

            d = s.exec(select(Draft).where(Draft.status == DraftStatus.AKTIF)).one()
            assert '"anggaran": 6000000' in d.data
        # Forged initData: refused with a clear message, nothing shown.
        forged = server.signed_url(OPERATOR_SEK, "lapor").replace("hash%3D", "hash%3D0")
        f2 = browser.Fingers(driver)
        driver.get("about:blank")
        await _in_thread(driver.get, forged)
        shown = await _in_thread(f2.wait_text, "main", "tidak ditandatangani Telegram")
        assert "Sekretariat" not in shown


async def test_a_late_check_never_hides_the_chat_change(
    served: tuple[Bot, WebAppServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Leaving a field checks it, and tapping Simpan leaves it: on a slow server the check's
    "= 7.000.000" came back after the save's "changed in the chat" note and replaced it."""
    import time as clock

    from storage.services import lapor_form

    checked = lapor_form.check_field

    def slow(*args: Any, **kwargs: Any) -> Any:
        clock.sleep(2)  # in the worker thread: the save is answered first
        return checked(*args, **kwargs)

    monkeypatch.setattr(lapor_form, "check_field", slow)
    bot, server = served
    first = sekretariat_quarter(bot.engine).plan.subs[0].node_id
    with browser.chromium() as driver:
        f = await _in_thread(_open, driver, server.signed_url(OPERATOR_SEK, "lapor"))
        await _in_thread(f.type, f"anggaran:{first}", "7 jt")
        await bot.say(OPERATOR_SEK, "/lapor")
        await bot.press(
            OPERATOR_SEK, next(d for lb, d in bot.buttons(OPERATOR_SEK) if lb == "Lanjutkan")
        )
        await bot.say(OPERATOR_SEK, "6 jt")
        await _in_thread(f.tap, "#simpan")
        await _in_thread(f.wait_text, ".fnote.warn", "Di draf sekarang: 6.000.000")
        await asyncio.sleep(3)  # the check has answered by now
        note = await _in_thread(f.wait_text, ".fnote.warn", "Di draf sekarang: 6.000.000", 1)
        assert "Pakai isian draf" in note


def _screens(driver: Any, server: WebAppServer, user: int, page: str, words: str) -> str:
    f = browser.Fingers(driver)
    driver.get(server.signed_url(user, page))
    return f.wait_text("main", words)


async def test_the_dashboard_reads_at_phone_width(served: tuple[Bot, WebAppServer]) -> None:
    _, server = served
    with browser.chromium() as driver:
        shown = await _in_thread(_screens, driver, server, KEPALA, "dasbor", "Peringatan dini")
        assert "45,22%" in shown and "Sedang dilaporkan: TW IV 2022" in shown
        # Nothing wider than the phone: no sideways scrolling.
        width = driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= browser.PHONE[0]
        # The menu button's page sends each role to its own page.
        shown = await _in_thread(_screens, driver, server, KEPALA, "", "Peringatan dini")
        assert "Serapan dan fisik per bidang" in shown
