"""Two real ``monev run`` processes on one PostgreSQL against the local fake Bot API: any
process takes any update, one sender's updates are handled once and in order, and a process
killed mid-burst, mid-broadcast or mid-verification loses nothing and doubles nothing; a
poller killed is replaced by its standby. And a second ``monev run`` on one SQLite file is
refused. (PostgreSQL cases skip with the reason when TEST_DATABASE_URL is not set.)"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.cli.main import main
from bot.console import html_to_text
from bot.offline.http import FakeBotAPI
from bot.offline.updates import callback_query_dict, message_dict
from bot.settings import WIB, Settings
from storage.data.coordination import take_slot
from storage.data.db import make_engine, read_scope, session_scope
from storage.data.models import (
    AuditLog,
    Draft,
    DraftStatus,
    Jadwal,
    ReminderPlan,
    Role,
    SentReminder,
    StatusLaporan,
)
from storage.services.users import find_bidang, set_user

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef012345"
SECRET = "rahasia-uji-klaster"
KEPALA, VERIF = 4242, 4444
OP1 = 4343
ASKERS = list(range(7001, 7021))  # twenty kepala asking at once

PG = pytest.mark.parametrize("backend", ["postgresql"])  # two processes need PostgreSQL
# Reminder sends in flight when a sender is killed (claimed just before sending, once the
# budget's slot has come: one slot per 40 ms, a claim and a send take a few ms)
IN_FLIGHT = 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(fake: FakeBotAPI, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBHOOK")}
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=fake.base_url,
        TELEGRAM_API_BASE_FILE_URL=fake.base_file_url,
        PYTHONPATH=str(ROOT),
        MONEV_LOG_LEVEL="WARNING",
        MONEV_CHART_IDLE_SECONDS="0",
    )
    env.update(extra)
    return env


async def _until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Poll ``condition`` until it holds; the timeout only bounds a hang."""
    end = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < end, "timed out waiting"
        await asyncio.sleep(0.02)


class Process:
    """One ``monev run``: in webhook mode when it has a port."""

    def __init__(self, workdir: Path, fake: FakeBotAPI, port: int | None, **env: str) -> None:
        self.port = port
        extra = dict(env)
        if port is not None:
            extra.update(
                WEBHOOK_URL="https://bot.example.go.id/telegram",
                WEBHOOK_SECRET=SECRET,
                WEBHOOK_LISTEN="127.0.0.1",
                WEBHOOK_PORT=str(port),
            )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli.main", "run"],
            cwd=workdir,
            env=_env(fake, **extra),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def stderr(self) -> str:
        return self.proc.stderr.read().decode() if self.proc.stderr else ""


class Two:
    """Telegram in front of two webhook processes, as the reverse proxy spreads them: each
    update goes to the next process in turn, and to the other one when that one is down."""

    def __init__(self, fake: FakeBotAPI, engine: Engine, procs: list[Process]) -> None:
        self.fake = fake
        self.api = fake.api
        self.engine = engine
        self.procs = procs
        self.turn = 0
        # no TLS on loopback: verify=False spares loading the CA bundle, which on a busy
        # machine held this loop, the fake Bot API's too, for 0.2 s: a process's sends
        # queued meanwhile reached the fake in one burst and met its 429
        self.client = httpx.AsyncClient(timeout=30, verify=False)
        self.taken: Counter[int] = Counter()  # which process answered 200, by port

    async def post(self, update: dict[str, Any], chat_id: int) -> int:
        uid = self.fake.push_update(update, chat_id=chat_id)
        update = {**update, "update_id": uid}
        for attempt in range(len(self.procs) * 3):
            proc = self.procs[(self.turn + attempt) % len(self.procs)]
            try:
                r = await self.client.post(
                    f"http://127.0.0.1:{proc.port}/telegram",
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                )
            except httpx.TransportError:
                continue  # down: Telegram tries again, the proxy picks the other process
            if r.status_code == 200:
                assert proc.port is not None
                self.taken[proc.port] += 1
                self.turn += 1
                return uid
        raise AssertionError(f"no process took update {uid}")

    async def text(self, user: int, words: str) -> int:
        return await self.post({"message": message_dict(words, user_id=user, api=self.api)}, user)

    async def handled(self, ids: list[int], timeout: float = 60.0) -> None:
        """Until every update in ``ids`` is marked done in the inbox."""
        stmt = text(
            "SELECT count(*) FROM update_inbox WHERE status = 'selesai' AND update_id = ANY(:ids)"
        )
        end = asyncio.get_running_loop().time() + timeout
        while True:
            with self.engine.connect() as c:
                if c.execute(stmt, {"ids": ids}).scalar_one() == len(ids):
                    return
            assert asyncio.get_running_loop().time() < end, "updates never handled"
            await asyncio.sleep(0.05)

    async def settled(self, ids: list[int], user: int, before: int) -> None:
        """Until ``ids`` are done and the bot has answered ``user`` and stopped talking: a
        typed /lapor answer is marked done with its effect, before its reply goes out."""
        await self.handled(ids)

        def answered() -> bool:
            new = self.api.calls[before:]
            return any(
                c.method == "answerCallbackQuery" or str(c.params.get("chat_id")) == str(user)
                for c in new
            )

        await _until(answered)
        seen = -1
        while seen != len(self.api.calls):
            seen = len(self.api.calls)
            await asyncio.sleep(0.3)

    async def say(self, user: int, words: str) -> str:
        before, calls = len(self.api.sent(user)), len(self.api.calls)
        await self.settled([await self.text(user, words)], user, calls)
        return html_to_text("\n".join(c.text or "" for c in self.api.sent(user)[before:]))

    async def press(self, user: int, data: str) -> str:
        before = len(self.api.calls)
        await self.settled([await self.post(self.press_update(user, data), user)], user, before)
        new = self.api.calls[before:]
        shown = [c.text or "" for c in new if c.method != "answerCallbackQuery"]
        alerts = [str(c.params.get("text", "")) for c in new if c.method == "answerCallbackQuery"]
        return html_to_text("\n".join(shown + alerts))

    def press_update(self, user: int, data: str) -> dict[str, Any]:
        for call in reversed(self.api.sent(user)):
            for row in self.api.buttons(call):
                if any(d == data for _, d in row) and isinstance(call.result, dict):
                    message = self.api.message(user, call.result["message_id"]) or call.result
                    return {
                        "callback_query": callback_query_dict(data, user_id=user, message=message)
                    }
        raise AssertionError(f"no message with button {data!r}")

    def buttons(self, user: int) -> list[tuple[str, str]]:
        for call in reversed(self.api.sent(user)):
            rows = self.api.buttons(call)
            if rows:
                return [(label, data or "") for row in rows for label, data in row]
        return []

    def button(self, user: int, label: str) -> str:
        for shown, data in self.buttons(user):
            if shown.startswith(label):
                return data
        raise AssertionError(f"no button {label!r} in {self.buttons(user)}")


def _setup(operators: int = 0) -> Engine:
    """The demo office, a kepala, a verifikator, the Koperasi operator, twenty kepala asking,
    and ``operators`` more operators (recipients of a reminder round)."""
    assert main(["db", "upgrade"]) == 0
    assert main(["summary"]) == 0  # demo data
    engine = make_engine(Settings().effective_database_url)
    with session_scope(engine) as s:
        kop = find_bidang(s, text="koperasi", opd_id=1)
        assert kop is not None
        set_user(s, telegram_id=KEPALA, role=Role.KEPALA, nama="Kepala Dinas", actor="t")
        set_user(s, telegram_id=VERIF, role=Role.VERIFIKATOR, nama="Verifikator", actor="t")
        set_user(s, telegram_id=OP1, role=Role.OPERATOR, bidang_id=kop.id, nama="Op", actor="t")
        for tg in ASKERS:
            set_user(s, telegram_id=tg, role=Role.KEPALA, nama=f"Kepala {tg}", actor="t")
        ids = [
            find_bidang(s, text=k, opd_id=1).id  # type: ignore[union-attr]
            for k in ("sekretariat", "umkm", "perdagangan", "perindustrian")
        ]
        for i in range(operators):
            set_user(
                s,
                telegram_id=800_000 + i,
                role=Role.OPERATOR,
                bidang_id=ids[i % len(ids)],
                nama=f"Operator {i}",
                actor="t",
            )
    return engine


async def _two_webhooks(workdir: Path, fake: FakeBotAPI, **env: str) -> list[Process]:
    procs = [Process(workdir, fake, _free_port(), **env) for _ in range(2)]
    async with httpx.AsyncClient(timeout=2, verify=False) as client:

        async def up(p: Process) -> bool:
            try:
                r = await client.get(f"http://127.0.0.1:{p.port}/healthz")
                return r.status_code == 200
            except httpx.TransportError:
                return False

        end = asyncio.get_running_loop().time() + 60
        while True:
            for p in procs:
                assert p.alive(), p.stderr()
            if all([await up(p) for p in procs]):
                break
            assert asyncio.get_running_loop().time() < end, "processes never came up"
            await asyncio.sleep(0.1)
    return procs


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(rate_limit_per_s=30) as f:
        yield f


QUESTIONS = [f"serapan anggaran Q{q} {b}" for q in (1, 2, 3) for b in ("koperasi", "umkm")]


def _answers(fake: FakeBotAPI, user: int) -> list[str]:
    return [r.text or "" for r in fake.replies if r.chat_id == user and r.method == "sendMessage"]


async def _burst(two: Two) -> dict[int, list[int]]:
    """Every asker asks every question at once (a sender's messages one after another, as a
    fast typist sends them); returns each asker's update ids in order."""
    sent: dict[int, list[int]] = {u: [] for u in ASKERS}
    for q in QUESTIONS:
        for u in ASKERS:
            sent[u].append(await two.text(u, q))
    return sent


def _in_order(fake: FakeBotAPI, user: int) -> None:
    """One answer per question, each about the question asked, in the order asked."""
    answers = _answers(fake, user)
    assert len(answers) == len(QUESTIONS), (user, len(answers))
    for q, a in zip(QUESTIONS, answers, strict=True):
        tw = {"1": "TW I ", "2": "TW II ", "3": "TW III "}[q.split("Q")[1][0]]
        assert tw in a and q.rsplit(" ", 1)[1] in a.lower(), (q, a[:200])


@PG
async def test_burst_split_across_two_processes_each_once_and_in_order(
    workdir: Path, fake: FakeBotAPI
) -> None:
    engine = _setup()
    procs = await _two_webhooks(workdir, fake)
    two = Two(fake, engine, procs)
    try:
        # the operator types a report's figures fast, each to the other process
        await two.say(OP1, "/lapor")
        await two.press(OP1, two.button(OP1, "Isi TW IV 2022"))
        typed = [await two.text(OP1, "21.000.000"), await two.text(OP1, "93")]
        sent = await _burst(two)
        await two.handled(typed + [u for ids in sent.values() for u in ids])
        assert set(two.taken) == {p.port for p in procs}  # both took updates
        for u in ASKERS:
            _in_order(fake, u)
        # "21.000.000" went to the anggaran step and "93" to realisasi fisik, never the other way
        with read_scope(engine) as s:
            d = s.exec(select(Draft).where(Draft.status == DraftStatus.AKTIF)).one()
            assert '"anggaran": 21000000' in d.data and '"fisik": 93' in d.data, d.data
        # every update once: one done row each, and no sender's answers doubled
        with engine.connect() as c:
            left = c.execute(text("SELECT count(*) FROM update_inbox WHERE status <> 'selesai'"))
            assert left.scalar_one() == 0
    finally:
        for p in procs:
            p.stop()
        await two.client.aclose()
        engine.dispose()
    assert fake.rate_limited == 0  # both together stayed within the bot's budget


@PG
async def test_process_killed_mid_burst_loses_nothing_and_doubles_no_write(
    workdir: Path, fake: FakeBotAPI
) -> None:
    engine = _setup()
    procs = await _two_webhooks(workdir, fake)
    two = Two(fake, engine, procs)
    try:
        await two.say(OP1, "/lapor")
        await two.press(OP1, two.button(OP1, "Isi TW IV 2022"))
        sent: dict[int, list[int]] = {u: [] for u in ASKERS}
        typed: list[int] = []
        for i, q in enumerate(QUESTIONS):
            if i == 2:
                typed.append(await two.text(OP1, "21.000.000"))
            if i == 3:
                procs[0].kill()  # in the middle of the burst, with updates of it in hand
                typed.append(await two.text(OP1, "93"))
            for u in ASKERS:
                sent[u].append(await two.text(u, q))
        await two.handled(typed + [u for ids in sent.values() for u in ids])
        for u in ASKERS:
            answers = _answers(fake, u)
            # nothing lost; an answer the killed process sent and could not mark done is sent
            # again by the other (at-least-once), never more than the one it was handling
            assert len(QUESTIONS) <= len(answers) <= len(QUESTIONS) + 1, (u, len(answers))
        with read_scope(engine) as s:
            d = s.exec(select(Draft).where(Draft.status == DraftStatus.AKTIF)).one()
            assert '"anggaran": 21000000' in d.data and '"fisik": 93' in d.data, d.data
            # each typed answer applied once: its step moved the draft on once
            assert d.step.startswith("ket:"), d.step
    finally:
        for p in procs:
            p.stop()
        await two.client.aclose()
        engine.dispose()


@PG
async def test_process_killed_mid_verification_approves_once(
    workdir: Path, fake: FakeBotAPI
) -> None:
    engine = _setup()
    procs = await _two_webhooks(workdir, fake)
    two = Two(fake, engine, procs)
    try:
        await _submit(two)
        request = [c for c in fake.api.sent(VERIF) if "Laporan masuk" in (c.text or "")][-1]
        approve = next(
            d for row in fake.api.buttons(request) for _, d in row if d.startswith("vf:ok")
        )
        # the press reaches the first process, which is killed the moment it has taken it
        two.turn, before = 0, two.taken[procs[0].port or 0]
        uid = await two.post(two.press_update(VERIF, approve), VERIF)
        procs[0].kill()
        assert two.taken[procs[0].port or 0] == before + 1  # the killed one had taken it
        await two.handled([uid])
        with read_scope(engine) as s:
            approvals = s.exec(
                select(AuditLog).where(
                    AuditLog.entity == "pelaporan",
                    AuditLog.field == "status",
                    AuditLog.new == StatusLaporan.DISETUJUI,
                )
            ).all()
        assert len(approvals) == 1
        # the kepala's press was answered once, by whichever process handled it
        assert sum("disetujui" in (c.text or "").lower() for c in fake.api.sent(VERIF)) >= 1
    finally:
        for p in procs:
            p.stop()
        await two.client.aclose()
        engine.dispose()


async def _submit(two: Two) -> None:
    """The Koperasi operator fills TW IV 2022 and sends it (as tests/test_lapor.py does)."""
    await two.say(OP1, "/lapor")
    await two.press(OP1, two.button(OP1, "Isi TW IV 2022"))
    for anggaran, fisik in [("21.000.000", "93"), ("Rp 120.000.000", "80,5"), ("23 jt", "95")]:
        assert "realisasi fisik" in (await two.say(OP1, anggaran)).lower()
        await two.say(OP1, fisik)
        await two.press(OP1, two.button(OP1, "Lewati"))
    for _ in range(20):
        labels = [label for label, _ in two.buttons(OP1)]
        if any(label.startswith("📨 Kirim") for label in labels):
            break
        quick = next(
            (d for label, d in two.buttons(OP1) if label.startswith(("Tetap seperti", "Tetap"))),
            None,
        )
        if quick:
            await two.press(OP1, quick)
        else:
            last = fake_last_text(two, OP1)
            await two.say(OP1, "12,5" if "indikator" in last else "Tidak ada")
    else:
        raise AssertionError("never reached the review")
    assert "terkirim" in await two.press(OP1, two.button(OP1, "📨 Kirim"))


def fake_last_text(two: Two, user: int) -> str:
    return two.api.last(user).text or ""


async def _poller_and_standby(workdir: Path, fake: FakeBotAPI) -> tuple[Process, Process]:
    """Two polling processes: the first polls, the second is up and standing by."""
    first = Process(workdir, fake, None)
    await _until(lambda: not first.alive() or (fake.api.pending_updates == 0 and _polled(fake) > 0))
    assert first.alive(), first.stderr()
    second = Process(workdir, fake, None)
    await _until(lambda: not second.alive() or _commands(fake) >= 2)
    assert second.alive(), second.stderr()
    return first, second


@PG
async def test_poller_killed_and_replaced_by_the_standby(workdir: Path, fake: FakeBotAPI) -> None:
    engine = _setup()
    first, second = await _poller_and_standby(workdir, fake)
    try:
        ids = [fake.push_text(u, QUESTIONS[0]) for u in ASKERS[:5]]
        for uid in ids:
            await fake.wait_reply(uid, timeout=60)
        first.kill()
        killed_at = asyncio.get_running_loop().time()
        ids = [fake.push_text(u, QUESTIONS[1]) for u in ASKERS]
        for uid in ids:
            await fake.wait_reply(uid, timeout=60)
        took = asyncio.get_running_loop().time() - killed_at
        # A liveness bound, generous for a busy CI machine (the standby retries the poller
        # lock every second; the takeover time itself is measured by bench_province).
        assert took < 30, f"the standby took {took:.1f}s to answer"
        for u in ASKERS:
            # each question answered once (the weekly digest, sent to every kepala by one of
            # the processes, is not an answer)
            said = [a for a in _answers(fake, u) if "Peringatan dini" not in a]
            assert len(said) == (2 if u in ASKERS[:5] else 1), said
    finally:
        second.stop()
        first.stop()
        engine.dispose()


CHART = "grafik serapan tw3 2022"


def _inbox_counts(engine: Engine) -> Counter[str]:
    with engine.connect() as c:
        return Counter(
            dict(c.execute(text("SELECT status, count(*) FROM update_inbox GROUP BY status")).all())
        )


@PG
async def test_poller_killed_mid_update_the_new_poller_handles_what_it_had_received(
    workdir: Path, fake: FakeBotAPI
) -> None:
    """Only the poller handles updates (standbys leave the inbox alone): what it received and
    did not finish is handled by the process that takes over, before it polls."""
    engine = _setup()
    first, second = await _poller_and_standby(workdir, fake)
    try:
        # A chart outlasts the confirming getUpdates' grace: it is written to the inbox as
        # received (and Telegram forgets it) while the poller still draws it.
        charts = [fake.push_text(u, CHART) for u in ASKERS[:3]]
        await _until(lambda: _inbox_counts(engine)["baru"] >= 1 or not first.alive())
        first.kill()
        waiting = _inbox_counts(engine)["baru"]
        assert waiting >= 1
        for uid in charts:
            await fake.wait_reply(uid, timeout=60)
        asked = [fake.push_text(u, QUESTIONS[1]) for u in ASKERS[3:8]]
        for uid in asked:
            await fake.wait_reply(uid, timeout=60)
        await _until(lambda: _inbox_counts(engine)["baru"] == 0)
        for u in ASKERS[:3]:  # each chart question answered (the one in flight perhaps twice)
            assert any(r.chat_id == u and r.method == "sendPhoto" for r in fake.replies), _answers(
                fake, u
            )
        for u in ASKERS[3:8]:
            said = [a for a in _answers(fake, u) if "Peringatan dini" not in a]
            assert len(said) == 1, said
    finally:
        second.stop()
        first.stop()
        engine.dispose()


async def _until_healthy(proc: Process, timeout: float = 60.0) -> None:
    """Until ``proc`` answers its health check. Asked without blocking (and without TLS, as
    :class:`Two`): the fake Bot API runs on this loop, and a blocking call here held the other
    process's sends, which then reached the fake in one burst (and met its 429)."""
    end = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient(timeout=2, verify=False) as client:
        while True:
            assert proc.alive(), proc.stderr()
            try:
                r = await client.get(f"http://127.0.0.1:{proc.port}/healthz")
                if r.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert asyncio.get_running_loop().time() < end, "timed out waiting"
            await asyncio.sleep(0.02)


def _polled(fake: FakeBotAPI) -> int:
    return sum(1 for c in fake.api.calls if c.method == "getUpdates")


def _commands(fake: FakeBotAPI) -> int:
    return sum(1 for c in fake.api.calls if c.method == "setMyCommands")


@PG
async def test_reminder_round_killed_halfway_is_resumed_by_the_other_once(
    workdir: Path, fake: FakeBotAPI
) -> None:
    recipients = 400  # ~15 s at the budget's 28/s
    engine = _setup(operators=recipients)
    with session_scope(engine) as s:
        # TW IV 2022 closes in a week: every operator of a bidang without it gets H-7 now
        # (written as a row: the service refuses a 2022 deadline in 2026, rightly)
        today = datetime.now(WIB).date()
        s.add(
            Jadwal(
                opd_id=1,
                tahun=2022,
                triwulan=4,
                buka=date(2023, 1, 1),
                tenggat=today + timedelta(days=7),
                updated_by="t",
            )
        )
    env = {"MONEV_REMINDER_TIME": "00:00", "MONEV_JOB_INTERVAL_SECONDS": "2"}
    procs = [Process(workdir, fake, _free_port(), **env)]

    def reminders() -> list[Any]:
        return [
            r
            for r in fake.replies
            if r.method == "sendMessage" and isinstance(r.chat_id, int) and r.chat_id >= 800_000
        ]

    try:
        # the first process starts the round; then the second starts, and answers questions
        await _until(lambda: not procs[0].alive() or len(reminders()) >= 5)
        assert procs[0].alive(), procs[0].stderr()
        procs.append(Process(workdir, fake, _free_port(), **env))
        # meanwhile people ask the second process: its answers and the first one's reminders
        # share one budget, so together they never meet a 429
        two = Two(fake, engine, procs[1:])
        await _until_healthy(procs[1])
        asked = [await two.text(u, QUESTIONS[0]) for u in ASKERS]
        await _until(lambda: len(reminders()) >= recipients // 3)
        procs[0].kill()
        assert len(reminders()) < recipients - 8  # killed in the middle of the round
        await _until(lambda: len({r.chat_id for r in reminders()}) >= recipients - IN_FLIGHT, 180)
        await asyncio.sleep(3)  # a further run of the job finds nothing left to send
        per_chat = Counter(r.chat_id for r in reminders())
        assert max(per_chat.values()) == 1  # never twice
        with read_scope(engine) as s:
            rows = s.exec(select(SentReminder).where(SentReminder.chat_id >= 800_000)).all()
            left = s.exec(select(ReminderPlan)).all()
        assert len(rows) == recipients  # every recipient claimed exactly once
        assert not left  # the round's plan is used up
        unsent = [r.chat_id for r in rows if r.chat_id not in per_chat]
        # a claim the killed process made and could not send is not sent again (at-most-once)
        # and stays 'mengirim' for an admin to see. A message is claimed only once its slot of
        # the budget has come, so in doubt are only the sends really in flight at the kill
        # (before, every worker held a claim while it waited for its slot: 6 of 1,140 people
        # in the province round got nothing)
        assert all(r.status == "mengirim" for r in rows if r.chat_id in unsent)
        assert len(per_chat) >= recipients - IN_FLIGHT, unsent
        await two.handled(asked)
        for u in ASKERS:
            # one answer each; the weekly digest (its job also ran, in one process) at most once
            said = _answers(fake, u)
            digests = [a for a in said if "Peringatan dini" in a]
            assert len(said) - len(digests) == 1 and len(digests) <= 1, said
        assert fake.rate_limited == 0
        await two.client.aclose()
    finally:
        for p in procs:
            p.stop()
        engine.dispose()
    # the survivor took over from the plan: it did not work out again what was due
    assert "putaran yang terputus" in procs[1].stderr()


async def test_second_monev_run_on_one_sqlite_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ("DATABASE_URL", "MONEV_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    async with FakeBotAPI() as f:
        env = {k: v for k, v in _env(f).items() if k != "DATABASE_URL"}
        first = subprocess.Popen(
            [sys.executable, "-m", "bot.cli.main", "run"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            await _until(lambda: first.poll() is not None or _commands(f) >= 1)
            # run beside the fake's loop: a bot that got past the check would talk to it
            second = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli.main",
                "run",
                cwd=tmp_path,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            _, err = await asyncio.wait_for(second.communicate(), 60)
            assert second.returncode != 0
            assert "SQLite hanya untuk satu proses" in err.decode(), err.decode()[-2000:]
            assert first.poll() is None  # the first one runs on
        finally:
            first.send_signal(signal.SIGTERM)
            first.wait(timeout=30)


@PG
def test_budget_slots_of_two_connections_never_come_closer_than_the_interval(
    engine: Engine,
) -> None:
    """The shared budget as two processes use it: each reservation gets its own slot, one
    interval after the previous one, whichever connection asked."""
    interval = timedelta(seconds=1 / 28)
    slots: list[datetime] = []
    read = text("SELECT tat FROM send_budget WHERE name = 'uji:kirim'")
    with engine.connect() as a, engine.connect() as b:
        for conn in (a, b) * 28:
            wait = take_slot(conn, name="uji:kirim", interval=interval)
            assert wait <= 56 * interval.total_seconds()
            slots.append(conn.execute(read).scalar_one() - interval)  # this message's slot
            conn.commit()
    gaps = [later - earlier for earlier, later in itertools.pairwise(slots)]
    assert min(gaps) >= interval * 0.999, min(gaps)
    # 56 messages take two seconds whoever sends them: Telegram's ~30/s is kept
    assert slots[-1] - slots[0] >= 55 * interval * 0.999


async def _ask_through_a_cluster_process(
    seeded: Engine, monkeypatch: pytest.MonkeyPatch, *, answer_delay: float = 0.0
) -> tuple[list[tuple[float, float]], list[float], str]:
    """One question to a ``monev run`` process of a cluster (in this process, polling a local
    fake Bot API): the slot takes of the shared budget (start, end), when the question's
    read turns ended, and the reply."""
    import time

    import bot.cluster as cluster_module
    import bot.context as context_module
    from benchmarks.latency import file_url_for
    from bot.app import build_application, prepare
    from bot.cluster import get as cluster_of
    from tests.bot_harness import KEPALA, add_users

    add_users(seeded)
    takes: list[tuple[float, float]] = []
    reads: list[float] = []
    measuring: list[bool] = []
    take, read = cluster_module._take, context_module._read

    def recorded_take(*args: Any) -> float:
        started = time.perf_counter()
        try:
            return take(*args)
        finally:
            takes.append((started, time.perf_counter()))

    def recorded_read(*args: Any) -> Any:
        try:
            return read(*args)
        finally:
            if measuring:  # the measured question's turn (not the warm-up's)
                time.sleep(answer_delay)
            reads.append(time.perf_counter())

    monkeypatch.setattr(cluster_module, "_take", recorded_take)
    monkeypatch.setattr(context_module, "_read", recorded_read)
    async with FakeBotAPI() as fake:
        settings = Settings(  # type: ignore[call-arg]
            TELEGRAM_BOT_TOKEN="123456:TEST",
            DATABASE_URL="",
            TELEGRAM_API_BASE_URL=fake.base_url,
            TELEGRAM_API_BASE_FILE_URL=file_url_for(fake.base_url),
        )
        app = build_application(settings, seeded, rate_limiter=True, inbox=True, cluster=True)
        prepare(app)
        await app.initialize()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=10)
        await app.start()
        try:
            # the first answer loads the office-year: measured is the next one
            await fake.wait_reply(fake.push_text(KEPALA, "serapan dinas tw2 2022"), timeout=30)
            takes.clear()
            reads.clear()
            measuring.append(True)
            await fake.wait_reply(fake.push_text(KEPALA, "serapan dinas tw1 2022"), timeout=30)
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()
            cluster = cluster_of(app)
            if cluster is not None:
                await cluster.stop()
        return takes, reads, _answers(fake, KEPALA)[-1]


@PG
async def test_a_reply_takes_its_budget_slot_while_the_question_is_answered(
    seeded: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 29: in a cluster every message reserves a slot of the shared budget in
    PostgreSQL; for the reply to a person's question that round trip starts when the
    question arrives and overlaps the answer's work, instead of following it. One slot per
    message still: the reply takes no other."""
    takes, reads, reply = await _ask_through_a_cluster_process(seeded, monkeypatch)
    assert "Seluruh dinas" in reply or "dinas" in reply.lower()
    assert len(takes) == 1, takes
    assert takes[0][0] < reads[0], "the slot was taken only after the answer was made"


@PG
async def test_a_slot_taken_ahead_is_not_used_long_after_its_time(
    seeded: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reply ready more than AHEAD_USE_WITHIN after the slot taken ahead takes a fresh one:
    sent that late on an old slot, messages of several processes could crowd a second
    beyond Telegram's limit."""
    from bot.cluster import AHEAD_USE_WITHIN

    takes, reads, _ = await _ask_through_a_cluster_process(
        seeded, monkeypatch, answer_delay=AHEAD_USE_WITHIN + 0.2
    )
    assert len(takes) == 2, takes
    assert takes[0][0] < reads[0] < takes[1][0]


class _CountedBudget:
    """A SharedRateLimiter whose slot takes are counted, and a send that only records."""

    def __init__(self, seeded: Engine, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
        from bot import cluster as cluster_module
        from bot.cluster import SharedRateLimiter

        self.takes: list[object] = []
        self.sent: list[int] = []
        take = cluster_module._take

        def counted(*args: Any) -> float:
            self.takes.append(args)
            return take(*args)

        monkeypatch.setattr(cluster_module, "_take", counted)
        self.limiter = SharedRateLimiter(seeded, name, max_retries=0)

    async def _send(self, chat_id: int) -> bool:
        self.sent.append(chat_id)
        return True

    async def send(self, chat_id: int) -> None:
        """A sendMessage to ``chat_id`` through the limiter."""
        data = {"chat_id": chat_id}
        await self.limiter.process_request(self._send, (), data, "sendMessage", data, None)


@PG
async def test_a_reminder_claimed_too_slowly_takes_a_fresh_slot(
    seeded: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broadcast claims each message once :meth:`reserve` has waited for its slot. A claim
    slower than AHEAD_USE_WITHIN (a busy database) would send late on that slot, bunched with
    the sends of the slots after it, and meet a 429: it takes a fresh slot. A claim in time
    spends the reserved one, and a request after it (a retry) never does."""
    from bot.cluster import AHEAD_USE_WITHIN

    budget = _CountedBudget(seeded, monkeypatch, "fresh-slot-test")

    async def reminder(chat_id: int, claim_s: float, requests: int = 1) -> None:
        await budget.limiter.reserve(chat_id)
        await asyncio.sleep(claim_s)  # the claim's statement
        for _ in range(requests):
            await budget.send(chat_id)

    await asyncio.create_task(reminder(1, 0.0, requests=2))  # own context, as a worker's
    assert len(budget.takes) == 2, "in time: the reserved slot, then a fresh one for the retry"
    budget.takes.clear()
    await asyncio.create_task(reminder(2, AHEAD_USE_WITHIN + 0.15))
    assert len(budget.takes) == 2, "too late for the reserved slot: a fresh one"
    assert budget.sent == [1, 1, 2]


@PG
async def test_after_a_429_sends_take_their_slots_only_once_the_wait_is_over(
    seeded: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a 429 every request of the process waits for its retry_after. A slot taken before
    that wait would be stale after it, and every waiting send would go out at once, meet the
    next 429 and wait again, round after round: the slots are taken after the wait."""
    budget = _CountedBudget(seeded, monkeypatch, "after-429-test")
    budget.limiter._retry_after_event.clear()  # as AIORateLimiter does on a 429
    waiting = [asyncio.create_task(budget.send(c)) for c in (1, 2, 3)]
    await asyncio.sleep(0.3)
    assert not budget.takes and not budget.sent
    budget.limiter._retry_after_event.set()
    await asyncio.gather(*waiting)
    assert len(budget.takes) == 3 and sorted(budget.sent) == [1, 2, 3]
