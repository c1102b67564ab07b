"""``monev console``: the real bot in a terminal, as a newcomer would first meet it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parents[1]


def _console(tmp_path: Path, lines: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"TELEGRAM_BOT_TOKEN", "DATABASE_URL"}}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "console", *args],
        cwd=tmp_path,
        env=env,
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_fresh_folder_console_answers_the_example(tmp_path: Path) -> None:
    proc = _console(
        tmp_path,
        [
            "serapan anggaran Q2 koperasi",
            "serapan metrologi",
            "1",
            "grafik serapan tw3",
            "/laporan 3 2022",
        ],
    )
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr
    assert "data contoh 2022" in out
    assert "TW II 2022" in out and "Rp 79.265.450" in out and "Rp 193.690.000" in out
    assert "40,92%" in out
    for program in (
        "PROGRAM PENGAWASAN DAN PEMERIKSAAN KOPERASI",
        "PROGRAM PENILAIAN KESEHATAN KSP/USP KOPERASI",
        "PROGRAM PEMBERDAYAAN DAN PELINDUNGAN KOPERASI",
    ):
        assert program in out
    # buttons are numbered choices, and typing the number presses it
    assert "[1] Kegiatan: Kegiatan Pelaksanaan metrologi" in out
    assert "Per sub kegiatan:" in out
    # photos and documents are saved and their paths printed
    saved = [
        line.split(": ", 1)[1].rstrip("]")
        for line in out.splitlines()
        if "[berkas disimpan:" in line
    ]
    assert any(p.endswith(".png") for p in saved) and any(p.endswith(".xlsx") for p in saved)
    for p in saved:
        assert (tmp_path / p).exists()
    assert "<b>" not in out and "Traceback" not in out + proc.stderr


def test_console_as_operator_can_start_a_report(tmp_path: Path) -> None:
    proc = _console(tmp_path, ["/lapor", "1"], "--role", "operator", "--bidang", "koperasi")
    assert proc.returncode == 0, proc.stderr
    assert "Laporan triwulan bidang Koperasi" in proc.stdout
    assert "Sub kegiatan:" in proc.stdout and "Pagu: Rp 22.499.800" in proc.stdout


def test_console_refuses_unknown_bidang(tmp_path: Path) -> None:
    proc = _console(tmp_path, [], "--role", "operator", "--bidang", "antah")
    assert proc.returncode == 2 and "tidak dikenal" in proc.stderr


# --- issue 27: Ctrl+C, files by path, buttons that stay, names, roles --------------------------


def test_ctrl_c_at_the_prompt_ends_the_console_at_once(tmp_path: Path) -> None:
    """In a terminal: Ctrl+C at the prompt ends the console (no "^C" waiting for Enter)."""
    import pty
    import select
    import time

    env = {k: v for k, v in os.environ.items() if k not in {"TELEGRAM_BOT_TOKEN", "DATABASE_URL"}}
    env["PYTHONPATH"] = str(ROOT)
    pid, fd = pty.fork()
    if pid == 0:  # the child: the console in a terminal of its own
        os.chdir(tmp_path)
        os.execve(sys.executable, [sys.executable, "-m", "bot.cli.main", "console"], env)
    seen = b""

    def read_until(token: bytes, seconds: float) -> bool:
        nonlocal seen
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    return token in seen
                if not chunk:
                    return token in seen
                seen += chunk
                if token in seen:
                    return True
        return False

    try:
        assert read_until(b"\n> ", 120), seen.decode(errors="replace")
        os.write(fd, b"\x03")  # Ctrl+C, as the terminal sends it
        assert read_until(b"Sampai jumpa", 15), seen.decode(errors="replace")[-500:]
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(fd)
    assert b"Traceback" not in seen


async def _session(engine: Engine, role: str, bidang: str | None = None):  # type: ignore[no-untyped-def]
    from bot.console import ConsoleSession, _prepare_user, console_user_id, open_offline
    from bot.settings import Settings

    settings = Settings(MONEV_ADMIN_IDS="", DATABASE_URL="", TELEGRAM_BOT_TOKEN="")
    app, api = await open_offline(settings, engine)
    user_id = console_user_id(role)
    assert _prepare_user(engine, role, bidang, user_id=user_id, nama=f"Konsol {role}") is None
    out: list[str] = []
    return app, ConsoleSession(app, api, user_id=user_id, write=out.append), out


async def test_ctrl_c_during_a_step_cancels_it_and_the_prompt_comes_back(seeded: Engine) -> None:
    from bot.console import ConsoleLoop

    app, con, out = await _session(seeded, "kepala")
    started = asyncio.Event()

    async def slow(update: object) -> None:
        started.set()
        await asyncio.sleep(3600)

    lines: asyncio.Queue[str | None] = asyncio.Queue()
    for line in ("serapan tw3", "/keluar"):
        lines.put_nowait(line)
    prompts: list[int] = []
    loop = ConsoleLoop(con, lines.get, prompt=lambda: prompts.append(1))
    try:
        app.process_update = slow  # type: ignore[method-assign]
        running = asyncio.create_task(loop.run())
        await asyncio.wait_for(started.wait(), 10)
        loop.interrupt()  # Ctrl+C while the step runs
        await asyncio.wait_for(running, 10)
        assert any("Langkah dibatalkan" in line for line in out)
        assert len(prompts) == 2  # back at the prompt, then /keluar
        # Ctrl+C at the prompt ends the loop.
        again = ConsoleLoop(con, asyncio.Queue().get)
        task = asyncio.create_task(again.run())
        await asyncio.sleep(0)
        again.interrupt()
        await asyncio.wait_for(task, 5)
    finally:
        del app.process_update
        await app.stop()
        await app.shutdown()


async def test_evidence_by_path_buttons_stay_and_no_raw_html(
    seeded: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image

    monkeypatch.setenv("MONEV_DATA_DIR", str(tmp_path / "data"))
    photo = tmp_path / "foto kegiatan.jpg"
    Image.new("RGB", (32, 24), (10, 20, 30)).save(photo, "JPEG")
    app, con, out = await _session(seeded, "operator", "koperasi")

    async def tap(label: str) -> None:
        i = next(i for i, (lb, _, _) in enumerate(con.buttons, 1) if lb.startswith(label))
        await con.send(str(i))

    try:
        await con.send("/lapor")
        await tap("Isi TW IV 2022")
        await con.send("21.000.000")
        await con.send("93")
        n = len(out)
        await con.send(f"'{photo}'")  # a path dragged into a terminal comes quoted
        shown = "\n".join(out[n:])
        assert "[mengirim berkas:" in shown and "Bukti diterima" in shown, shown
        # A screen without buttons (an answer to typed text) leaves the numbered ones.
        before = list(con.buttons)
        assert [lb for lb, _, _ in before] == ["Lewati"]
        n = len(out)
        await con.send("Kuitansi menyusul")
        labels = [lb for lb, _, _ in con.buttons]
        assert labels  # the next question's buttons
        # The number typed with "'" is an answer, not a button.
        await con.send("'120000000")
        assert any("realisasi fisik" in line.lower() for line in out[n:])
        for line in out:
            assert "<b>" not in line and "&lt;" not in line
    finally:
        await app.stop()
        await app.shutdown()


async def test_numbered_buttons_stay_after_text_without_buttons(seeded: Engine) -> None:
    app, con, out = await _session(seeded, "kepala")
    try:
        await con.send("serapan metrologi")
        first = [lb for lb, _, _ in con.buttons]
        assert first, out
        n = len(out)
        await con.send("xyzzy qwerty")  # not understood: an answer without buttons
        assert [lb for lb, _, _ in con.buttons] == first
        assert any("masih bisa dipilih" in line for line in out[n:])
        n = len(out)
        await con.send("1")  # still presses the first button
        assert out[n:] and not any("belum memahami" in line.lower() for line in out[n:])
    finally:
        await app.stop()
        await app.shutdown()


async def test_two_files_in_the_same_second_both_stay(
    seeded: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import datetime

    import bot.console

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def,override]
            return datetime(2026, 12, 6, 9, 34, 51, tzinfo=tz)

    monkeypatch.setattr(bot.console, "datetime", Frozen)  # both files in one second
    app, con, out = await _session(seeded, "kepala")
    con.out_dir = tmp_path / "out"
    try:
        await con.send("/laporan 3 2022")
        await con.send("/laporan 3 2022")
        saved = [line.split(": ", 1)[1].rstrip("]") for line in out if "[berkas disimpan:" in line]
        assert len(saved) == 2 and len(set(saved)) == 2, saved
        assert all(Path(p).exists() for p in saved)
        assert all("20261206-093451" in p for p in saved)  # named by the time in WIB
    finally:
        await app.stop()
        await app.shutdown()


def test_bidang_by_name_or_code_and_the_valid_list(seeded: Engine) -> None:
    from bot.console import _prepare_user, console_user_id

    uid = console_user_id("operator")
    assert _prepare_user(seeded, "operator", "perindus", user_id=uid) is None
    assert _prepare_user(seeded, "operator", "Koperasi", user_id=uid) is None
    problem = _prepare_user(seeded, "operator", "pencegahan", user_id=uid)
    assert problem is not None and "tidak dikenal" in problem
    assert "koperasi (Koperasi)" in problem and "umkm (UMKM)" in problem


def test_each_role_is_its_own_person_across_runs(tmp_path: Path) -> None:
    """An operator's console run submits; a later kepala run finds it waiting."""
    lines = ["/lapor", "1", "21.000.000", "93", "1", "120.000.000", "80,5", "1", "23 jt", "95"]
    lines += ["1"] * 7 + ["7"]  # Lewati, three indicators, three notes as before, Kirim
    sent = _console(tmp_path, lines, "--role", "operator", "--bidang", "koperasi")
    assert sent.returncode == 0, sent.stderr
    assert "Anda bertindak sebagai operator bidang koperasi" in sent.stdout
    assert "terkirim" in sent.stdout, sent.stdout[-2000:]
    kepala = _console(tmp_path, ["/verifikasi"])
    assert kepala.returncode == 0, kepala.stderr
    assert "orang konsol untuk peran ini" in kepala.stdout
    assert "Menunggu keputusan Anda" in kepala.stdout and "Setujui" in kepala.stdout
