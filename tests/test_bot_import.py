"""Issue 25 from the bot: an admin sends the office's own file as a document, gets what
``monev import --coba`` shows as a message, and confirms with a button. Refused, cancelled or
confirmed, nothing is half-written; a button acts once, for the preview it came with; other
people's documents still go to /lapor evidence. Through the real Application, both databases.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.console import html_to_text, open_offline
from bot.offline.updates import make_document_update
from bot.settings import Settings
from bot.views import texts
from storage.data.db import read_scope, session_scope
from storage.data.models import ImportedReport, Node, Role
from storage.services.office import init_office
from storage.services.queries import summary
from storage.services.users import find_bidang, set_user
from tests.bot_harness import ADMIN, Bot

LAYOUTS = Path(__file__).parent / "data" / "layouts"
OPERATOR = 9210


@pytest.fixture
async def distan(engine: Engine, tmp_path: Path) -> AsyncIterator[Bot]:
    """The bot of one new office (Dinas Pertanian), its admin from MONEV_ADMIN_IDS."""
    with session_scope(engine) as s:
        opd = init_office(
            s,
            nama="Dinas Pertanian Kabupaten Solok",
            singkatan="Distan",
            kepala="Ir. Budi",
            nip="197001011995031001",
            bidang=[("psp", "Prasarana dan Sarana", ["sarana"], []), ("luh", "Penyuluhan", [], [])],
            actor="test",
        )
        psp = find_bidang(s, text="psp", opd_id=opd.id)  # type: ignore[arg-type]
        assert psp is not None
        set_user(s, telegram_id=OPERATOR, role=Role.OPERATOR, bidang_id=psp.id, actor="test")
    settings = Settings(  # type: ignore[call-arg]
        MONEV_ADMIN_IDS=str(ADMIN), DATABASE_URL="", TELEGRAM_BOT_TOKEN="", MONEV_DATA_DIR=tmp_path
    )
    app, api = await open_offline(settings, engine)
    try:
        yield Bot(app, api, engine)
    finally:
        await app.stop()
        await app.shutdown()


async def _send(bot: Bot, user_id: int, name: str, content: bytes | None = None) -> str:
    data = content if content is not None else (LAYOUTS / name).read_bytes()
    before = len(bot.api.sent(user_id))
    update = make_document_update(bot.app.bot, data, user_id=user_id, file_name=name)
    await bot.app.process_update(update)
    return html_to_text("\n".join(c.text or "" for c in bot.api.sent(user_id)[before:]))


def _counts(engine: Engine) -> tuple[int, int]:
    with read_scope(engine) as s:
        nodes = s.exec(select(func.count()).select_from(Node)).one()
        reports = s.exec(select(func.count()).select_from(ImportedReport)).one()
        return nodes, reports


def _pressed(bot: Bot, label: str) -> str:
    found = [data for text, data in bot.buttons(ADMIN) if text == label]
    assert found, (label, bot.buttons(ADMIN))
    return found[0]


async def test_admin_previews_then_imports_with_a_button(distan: Bot) -> None:
    bot = distan
    shown = await _send(bot, ADMIN, "lkj-distan-2023.tsv")
    assert "Pratinjau impor lkj-distan-2023.tsv — belum ada yang disimpan." in shown
    assert "Baris per tingkat: 3 program, 4 kegiatan, 7 sub kegiatan." in shown
    assert "Capaian (%) → realisasi keuangan (%) tertulis" in shown
    assert "Tanpa bidang" in shown and "Total dinas" in shown and "Rp 914.200.000" in shown
    assert "persentase tertulis 91,94%" in shown
    assert [t for t, _ in bot.buttons(ADMIN)] == ["Impor", "Batal"]
    assert len(shown) < 4096
    assert _counts(bot.engine) == (0, 0)  # a preview writes nothing

    ok = _pressed(bot, "Impor")
    done = await bot.press(ADMIN, ok)
    assert "Impor lkj-distan-2023.tsv selesai ke Dinas Pertanian Kabupaten Solok" in done
    assert _counts(bot.engine) == (14, 1)
    with read_scope(bot.engine) as s:
        total = summary(s, 1, 2023, 4).total
        assert (total.pagu, total.realisasi) == (914_200_000, 833_923_000)
    # The same button again (a double tap, a replayed update): acts once.
    again = await bot.press(ADMIN, ok)
    assert "sudah tidak berlaku" in again
    assert _counts(bot.engine) == (14, 1)


async def test_cancel_and_a_stale_preview_change_nothing(distan: Bot) -> None:
    bot = distan
    await _send(bot, ADMIN, "sipd-dishub-2024.tsv")  # names Dinas Perhubungan
    first_ok = _pressed(bot, "Impor walau OPD berbeda")
    await _send(bot, ADMIN, "lkj-distan-2023.tsv")  # a newer preview replaces the first
    assert "sudah tidak berlaku" in await bot.press(ADMIN, first_ok)
    cancelled = await bot.press(ADMIN, _pressed(bot, "Batal"))
    assert "Impor lkj-distan-2023.tsv dibatalkan. Tidak ada yang berubah." in cancelled
    assert _counts(bot.engine) == (0, 0)


async def test_a_refused_file_says_why_and_offers_no_import(distan: Bot) -> None:
    bot = distan
    shown = await _send(bot, ADMIN, "lkj-tanpa-nama.tsv")
    assert "Berkas lkj-tanpa-nama.tsv tidak diimpor" in shown
    assert "tidak ada kolom nama kegiatan" in shown and "Tidak ada yang berubah." in shown
    assert not bot.buttons(ADMIN) or "Impor" not in [t for t, _ in bot.buttons(ADMIN)]
    assert _counts(bot.engine) == (0, 0)


async def test_a_file_of_another_office_needs_the_explicit_button(distan: Bot) -> None:
    bot = distan
    shown = await _send(bot, ADMIN, "kinerja-dinkes-2023.tsv")
    assert "Judul berkas menyebut Dinas Kesehatan Kabupaten Solok" in shown
    assert "Impor ini akan ditolak" in shown
    assert [t for t, _ in bot.buttons(ADMIN)] == ["Impor walau OPD berbeda", "Batal"]
    assert _counts(bot.engine) == (0, 0)
    done = await bot.press(ADMIN, _pressed(bot, "Impor walau OPD berbeda"))
    assert "selesai ke Dinas Pertanian Kabupaten Solok" in done
    assert _counts(bot.engine) == (10, 3)  # TW I-III of the page


async def test_documents_of_others_still_go_to_evidence(distan: Bot) -> None:
    bot = distan
    shown = await _send(
        bot, OPERATOR, "laporan.xlsx", (LAYOUTS / "sipd-dpupr-2024.xlsx").read_bytes()
    )
    assert "Pratinjau" not in shown
    assert texts.BUKTI_NO_DRAFT.split(".")[0] in shown  # what /lapor evidence says, as before
    assert _counts(bot.engine) == (0, 0)


async def test_answers_show_the_tanpa_bidang_row(distan: Bot) -> None:
    """Programs of no bidang are their own row in the kepala's answer, adding up."""
    bot = distan
    await _send(bot, ADMIN, "lkj-distan-2023.tsv")
    await bot.press(ADMIN, _pressed(bot, "Impor"))
    with session_scope(bot.engine) as s:
        set_user(s, telegram_id=9211, role=Role.KEPALA, nama="Kepala", opd_id=1, actor="test")
    answer = await bot.say(9211, "serapan anggaran tw4 2023")
    assert "Per bidang:" in answer
    assert "• Tanpa bidang: 91,22% (Rp 833.923.000 / Rp 914.200.000)" in answer


async def test_an_import_by_button_leaves_planner_statistics(distan: Bot) -> None:
    """On PostgreSQL the tables an import wrote are analysed once it is confirmed (the
    preview writes, and analyses, nothing): a new office's questions use the indexes at once,
    whether or not the server's autovacuum runs. SQLite needs none, and gets none."""
    from storage.data.db import is_sqlite
    from storage.data.statistics import IMPORTED_TABLES
    from tests.test_statistics import _analysed

    bot = distan

    def analysed() -> set[str]:
        """The imported tables with planner statistics (SQLite: checked to have none)."""
        if is_sqlite(bot.engine):
            with bot.engine.connect() as c:
                stat = text("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
                assert c.execute(stat).first() is None
            return set()
        return set(IMPORTED_TABLES) & _analysed(bot.engine)

    await _send(bot, ADMIN, "lkj-distan-2023.tsv")
    assert analysed() == set()
    done = await bot.press(ADMIN, _pressed(bot, "Impor"))
    assert "selesai ke Dinas Pertanian Kabupaten Solok" in done
    assert analysed() == (set() if is_sqlite(bot.engine) else set(IMPORTED_TABLES))
