"""``monev run`` as the systemd unit starts it, against a local fake Bot API over HTTP; and
``monev backup`` / ``monev restore`` giving the same ``monev summary``; and a kill -9 in the
middle of a submission."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.offline.http import FakeBotAPI
from bot.offline.updates import callback_query_dict

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef012345"
KEPALA, OPERATOR = 4242, 4343


def _env(fake: FakeBotAPI) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBHOOK")}
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=fake.base_url,
        TELEGRAM_API_BASE_FILE_URL=fake.base_file_url,
        PYTHONPATH=str(ROOT),
        MONEV_LOG_LEVEL="WARNING",
    )
    return env


async def _start(
    workdir: Path, fake: FakeBotAPI, *, new_session: bool = False
) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "run"],
        cwd=workdir,
        env=_env(fake),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        # A process group of its own, to be signalled as a terminal's Ctrl+C does.
        start_new_session=new_session,
    )
    # ready when it has registered its commands (the bound only stops a hang)
    await _until(
        lambda: proc.poll() is not None or any(c.method == "setMyCommands" for c in fake.api.calls)
    )
    assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
    return proc


async def _until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Poll ``condition`` until it holds; the timeout only bounds a hang."""
    end = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < end, "timed out waiting"
        await asyncio.sleep(0.02)


async def _ask(fake: FakeBotAPI, user: int, text: str) -> str:
    update_id = fake.push_text(user, text)
    await fake.wait_reply(update_id, timeout=60)
    await asyncio.sleep(0.05)
    return "\n".join(r.text or "" for r in fake.replies if r.chat_id == user)


async def test_monev_run_answers_questions_over_http(workdir: Path) -> None:
    assert main(["db", "upgrade"]) == 0
    assert main(["summary"]) == 0  # demo data
    assert main(["user", "add", "--telegram-id", str(KEPALA), "--role", "kepala"]) == 0
    async with FakeBotAPI() as fake:
        proc = await _start(workdir, fake)
        try:
            out = await _ask(fake, KEPALA, "serapan anggaran Q2 koperasi")
            assert "Rp 79.265.450" in out and "40,92%" in out
            out = await _ask(fake, 5555, "serapan anggaran Q2 koperasi")
            assert "belum terdaftar" in out and "Rp" not in out
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        # the token never reaches the log
        assert TOKEN not in (proc.stderr.read().decode() if proc.stderr else "")


async def test_kill_minus_nine_mid_submission_loses_nothing(workdir: Path) -> None:
    assert main(["summary"]) == 0
    assert (
        main(
            ["user", "add", "--telegram-id", str(OPERATOR), "--role", "operator", "--bidang", "kop"]
        )
        == 0
    )
    async with FakeBotAPI() as fake:
        proc = await _start(workdir, fake)
        try:
            await _ask(fake, OPERATOR, "/lapor")
            data, message = _button(fake, OPERATOR, "Isi TW IV 2022")
            press = {"callback_query": callback_query_dict(data, user_id=OPERATOR, message=message)}
            # the press is handled once the first question of the report has been sent
            await fake.wait_reply(fake.push_update(press, chat_id=OPERATOR), timeout=60)
            await _ask(fake, OPERATOR, "21.000.000")
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        proc = await _start(workdir, fake)
        try:
            # the draft resumed where it was: the next question is realisasi fisik
            out = await _ask(fake, OPERATOR, "93")
            assert "keterangan" in out.split("Ketik")[-1].lower(), out[-400:]
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    # nothing half-written: the quarter has no submitted figures yet
    from sqlmodel import select

    from bot.settings import Settings
    from storage.data.db import make_engine, read_scope
    from storage.data.models import Draft, DraftStatus, Realisasi

    engine = make_engine(Settings().effective_database_url)
    with read_scope(engine) as s:
        assert s.exec(select(Realisasi).where(Realisasi.triwulan == 4)).all() == []
        d = s.exec(select(Draft).where(Draft.status == DraftStatus.AKTIF)).one()
        assert '"anggaran": 21000000' in d.data and d.step == "ket:0"
    engine.dispose()


def _button(fake: FakeBotAPI, chat_id: int, label_start: str) -> tuple[str, dict]:
    """The callback data of the newest button starting with ``label_start``, and the bot
    message (as the user sees it now) that carries it."""
    for call in reversed(fake.api.sent(chat_id)):
        for row in fake.api.buttons(call):
            for label, data in row:
                if label.startswith(label_start) and isinstance(call.result, dict):
                    message = fake.api.message(chat_id, call.result["message_id"]) or call.result
                    return data or "", message
    raise AssertionError(f"no button {label_start!r}")


def test_backup_then_restore_gives_the_same_summary(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["summary", "--tahun", "2022", "--tw", "3"]) == 0
    original = capsys.readouterr().out.split("\n", 1)[1]  # skip the demo-data notice
    assert main(["backup", "-o", str(workdir / "cadangan.bak")]) == 0
    capsys.readouterr()
    # an empty database: on PostgreSQL the same schema dropped and made again (a dump restores
    # into the schema it came from), on SQLite a new file elsewhere
    if os.environ.get("DATABASE_URL"):
        from sqlalchemy import create_engine, text

        from storage.data.db import normalise_url
        from tests.conftest import PG_URL

        schema = os.environ["DATABASE_URL"].rsplit("%3D", 1)[1]
        admin = create_engine(normalise_url(PG_URL))
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE; CREATE SCHEMA "{schema}"'))
        admin.dispose()
    else:
        monkeypatch.setenv("MONEV_DATA_DIR", str(workdir / "baru"))
    monkeypatch.setenv("MONEV_DEMO_DATA", "false")
    assert main(["restore", str(workdir / "cadangan.bak")]) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["summary", "--tahun", "2022", "--tw", "3"]) == 0
    assert capsys.readouterr().out == original
