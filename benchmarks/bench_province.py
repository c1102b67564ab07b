"""A province in one deployment: several ``monev run`` processes on one PostgreSQL.

One command builds a province-sized database (``--offices`` offices × ``--years`` years of
demo-shaped data, ``--users-per-office`` people each: 800 × 3 and 20, i.e. ~16,000 users, by
default) in a fresh PostgreSQL database next to ``--pg``, then measures through the local fake
Bot API over HTTP, with ``monev run`` as shipped:

- **question latency under a burst**, one process vs two (webhook mode behind a round-robin
  proxy, as deploy/docker-compose.cluster.yml runs it), against a PTB echo bot served the same
  way, interleaved (echo, one, two, echo, one, two…): ``--burst`` questions from kepala of
  every office arriving at ``--rate`` per second (below Telegram's 30/s, so the budget does not
  set the pace), one of them a fast typist sending ten in a row. Ratio = median / echo median.
- **memory per process** (RSS, after the burst).
- **a reminder round at the Telegram limit** (the fake answers 429 above 30/s): H-7 to every
  operator of the first ``--round-offices`` offices, two processes, the one sending killed
  halfway; the other resumes it. Exactly once: nobody twice; claims the killed process had in
  flight are not sent again (at-most-once) and counted.
- **start to first answer** of one ``monev run`` (polling, the province database) vs the
  echo bot, interleaved, with bytecode compiled as installed (a warm-up start writes it).

Run: .venv/bin/python -m benchmarks.bench_province --pg postgresql://postgres@127.0.0.1:5432/test
     [--offices 800] [--years 3] [--users-per-office 20] [--burst 200] [--rate 20] [--rounds 3]
     [--only-round] [--keep-db NAME]

Building the province takes minutes: ``--keep-db NAME`` builds it once in the database NAME
(beside ``--pg``'s), keeps it, and reuses it on the next run with the same sizes (the reminder
round's rows of an earlier run are removed first). Drop it with ``DROP DATABASE NAME``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import Engine, make_url

from benchmarks.bench_startup import rss_mib
from benchmarks.generate import empty_database, many_offices
from benchmarks.latency import spread
from bot.offline.http import FakeBotAPI
from bot.offline.updates import message_dict
from bot.settings import WIB
from storage.data import db
from storage.data.models import AppUser, Jadwal, Role, UserStatus
from storage.files.demo import SEED_FILE
from storage.files.importer import import_file

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef012345"
SECRET = "rahasia-tolok-ukur"
FIRST_USER = 2_000_000
WARM_S = 8.0
# The reminder round is given up when nothing new arrives for this long (a bound on a hang:
# the process taking over sends the round's planned rest within seconds).
STALL_S = 240.0
QUESTIONS = [
    "serapan anggaran Q2 koperasi",
    "serapan anggaran tw3 2022",
    "realisasi fisik Q1 umkm",
    "serapan anggaran Q3 perdagangan",
]

_ECHO_WEBHOOK = """
import asyncio, json, os, sys
import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
from telegram import Update
from benchmarks.latency import echo_app_factory

async def main():
    app = echo_app_factory(os.environ["TELEGRAM_API_BASE_URL"])
    async def hook(request):
        data = json.loads(await request.body())
        await app.update_queue.put(Update.de_json(data, app.bot))
        return Response(status_code=200)
    async def health(request):
        return Response(status_code=200)
    web = Starlette(routes=[Route("/telegram", hook, methods=["POST"]),
                            Route("/healthz", health, methods=["GET"])])
    server = uvicorn.Server(uvicorn.Config(web, host="127.0.0.1",
                            port=int(os.environ["WEBHOOK_PORT"]), log_config=None,
                            access_log=False, lifespan="off"))
    async with app:
        await app.start()
        await server.serve()
        await app.stop()

asyncio.run(main())
"""

_ECHO_POLLING = """
from benchmarks.latency import echo_app_factory
import os
echo_app_factory(os.environ["TELEGRAM_API_BASE_URL"]).run_polling(poll_interval=0)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the province ---------------------------------------------------------------------------


@dataclass
class Province:
    offices: int
    years: int
    users: int = 0
    kepala: list[int] = field(default_factory=list)  # one per office, in office order
    operators: dict[int, list[int]] = field(default_factory=dict)  # office -> telegram ids
    build_s: float = 0.0


def reuse(engine: Engine, offices: int, years: int, per_office: int) -> Province | None:
    """The province an earlier run built in this database (``--keep-db``), if it has these
    sizes; its reminder round's rows are removed, so the round starts again from nobody."""
    with engine.begin() as c:
        if not c.execute(text("SELECT to_regclass('app_user')")).scalar():
            return None
        n_offices = c.execute(text("SELECT count(*) FROM perangkat_daerah")).scalar()
        n_years = c.execute(text("SELECT count(DISTINCT tahun) FROM node")).scalar()
        users = c.execute(
            text(
                "SELECT telegram_id, role, opd_id FROM app_user WHERE telegram_id >= :lo "
                "ORDER BY telegram_id"
            ),
            {"lo": FIRST_USER},
        ).all()
        if not n_offices:
            return None
        if (n_offices, n_years, len(users)) != (offices, years, offices * per_office):
            raise SystemExit(
                f"the kept database holds {n_offices} offices × {n_years} years and "
                f"{len(users)} people, not these sizes: drop it or name another (--keep-db)"
            )
        c.execute(text("DELETE FROM sent_reminder"))
        c.execute(text("DELETE FROM reminder_plan"))
        c.execute(text("DELETE FROM jadwal WHERE updated_by = 'bench'"))
    p = Province(offices, years, users=len(users))
    for tg, role, opd in users:
        if role == Role.KEPALA.value:
            p.kepala.append(tg)
        else:
            p.operators.setdefault(opd, []).append(tg)
    return p


@contextlib.contextmanager
def kept_database(pg_url: str, name: str) -> Iterator[Engine]:
    """The database ``name`` beside ``pg_url``'s, made (and migrated) if missing, never
    dropped."""
    url = make_url(db.normalise_url(pg_url))
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = db.make_engine(url.set(database=name).render_as_string(hide_password=False))
    try:
        db.upgrade(engine)
        yield engine
    finally:
        engine.dispose()


def build(engine: Engine, offices: int, years: int, per_office: int) -> Province:
    """The demo office, ``offices`` offices × ``years`` years, and ``per_office`` people each
    (one kepala, the rest operators spread over the office's bidang)."""
    t0 = time.perf_counter()
    import_file(engine, SEED_FILE, actor="bench")
    many_offices(engine, offices=offices, years=years)
    p = Province(offices, years)
    with engine.begin() as c:
        bidang: dict[int, list[int]] = {}
        for b_id, opd in c.execute(text("SELECT id, opd_id FROM bidang ORDER BY id")):
            bidang.setdefault(opd, []).append(b_id)
        rows: list[dict[str, Any]] = []
        tg = FIRST_USER
        for opd in sorted(bidang):
            for i in range(per_office):
                role = Role.KEPALA if i == 0 else Role.OPERATOR
                rows.append(
                    {
                        "telegram_id": tg,
                        "nama": f"Pegawai {tg}",
                        "nip": "",
                        "role": role.value,
                        "status": UserStatus.ACTIVE.value,
                        "opd_id": opd,
                        "bidang_id": None if i == 0 else bidang[opd][i % len(bidang[opd])],
                        "request_version": 0,
                    }
                )
                if i == 0:
                    p.kepala.append(tg)
                else:
                    p.operators.setdefault(opd, []).append(tg)
                tg += 1
        for i in range(0, len(rows), 5000):
            c.execute(insert(AppUser), rows[i : i + 5000])
        p.users = len(rows)
    p.build_s = time.perf_counter() - t0
    return p


# --- processes ------------------------------------------------------------------------------


def _env(fake: FakeBotAPI, url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK", "DATABASE_URL"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode compiled
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=fake.base_url,
        TELEGRAM_API_BASE_FILE_URL=fake.base_file_url,
        PYTHONPATH=str(ROOT),
        DATABASE_URL=url,
        MONEV_DEMO_DATA="false",
        MONEV_LOG_LEVEL="WARNING",
        MONEV_CHART_IDLE_SECONDS="0",
    )
    env.update(extra)
    return env


def _webhook_env(port: int) -> dict[str, str]:
    return {
        "WEBHOOK_URL": "https://bot.example.go.id/telegram",
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_PORT": str(port),
    }


class Fleet:
    """Processes behind a round-robin proxy (the test's stand-in for nginx)."""

    def __init__(self, procs: list[subprocess.Popen[bytes]], ports: list[int]) -> None:
        self.procs, self.ports = procs, ports
        self.turn = 0
        self.client = httpx.AsyncClient(timeout=30)

    async def up(self, timeout: float = 120) -> None:
        end = time.monotonic() + timeout
        for port in self.ports:
            while True:
                try:
                    r = await self.client.get(f"http://127.0.0.1:{port}/healthz")
                    if r.status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                for p in self.procs:
                    if p.poll() is not None:
                        raise RuntimeError(p.stderr.read().decode() if p.stderr else "exited")
                if time.monotonic() > end:
                    raise TimeoutError("processes never came up")
                await asyncio.sleep(0.1)

    async def post(self, update: dict[str, Any]) -> None:
        for attempt in range(len(self.ports) * 3):
            port = self.ports[(self.turn + attempt) % len(self.ports)]
            try:
                r = await self.client.post(
                    f"http://127.0.0.1:{port}/telegram",
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                )
            except httpx.TransportError:
                continue
            if r.status_code == 200:
                self.turn += 1
                return
        raise RuntimeError("no process took the update")

    async def stop(self) -> None:
        await self.client.aclose()
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            await _ended(p)


async def _ended(proc: subprocess.Popen[bytes]) -> None:
    """Wait for ``proc`` without blocking the fake's loop (a stopping bot still talks to it)."""
    try:
        await asyncio.to_thread(proc.wait, 30)
    except subprocess.TimeoutExpired:
        proc.kill()
        await asyncio.to_thread(proc.wait)


def _spawn(cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


async def _fleet(kind: str, n: int, fake: FakeBotAPI, url: str) -> Fleet:
    ports = [_free_port() for _ in range(n)]
    procs = []
    for port in ports:
        env = _env(fake, url, **_webhook_env(port))
        cmd = (
            [sys.executable, "-c", _ECHO_WEBHOOK]
            if kind == "echo"
            else [sys.executable, "-m", "bot.cli.main", "run"]
        )
        procs.append(_spawn(cmd, env))
    fleet = Fleet(procs, ports)
    await fleet.up()
    return fleet


async def _burst(fleet: Fleet, fake: FakeBotAPI, p: Province, n: int, rate: float) -> list[float]:
    """``n`` questions at ``rate``/s from kepala of every office, one of them typing ten in a
    row; returns each one's latency (push to reply), in seconds."""
    ids: list[int] = []
    typist = p.kepala[len(p.kepala) // 2]
    step = 1.0 / rate
    start = time.perf_counter()
    for i in range(n):
        typing = 10 <= i < 20
        user = typist if typing else p.kepala[(i * 7919) % len(p.kepala)]
        q = QUESTIONS[i % len(QUESTIONS)]
        update = {"message": message_dict(q, user_id=user, api=fake.api)}
        uid = fake.push_update(update, chat_id=user)
        ids.append(uid)
        await fleet.post({**update, "update_id": uid})
        delay = start + (i + 1) * step - time.perf_counter()
        if delay > 0 and not typing:
            await asyncio.sleep(delay)
    lat = []
    for uid in ids:
        lat.append(await fake.wait_reply(uid, timeout=120))
    return lat


async def latency(url: str, p: Province, burst: int, rate: float, rounds: int) -> dict[str, Any]:
    out: dict[str, Any] = {"echo": [], "one": [], "two": [], "rss_one": [], "rss_two": []}
    async with FakeBotAPI() as fake:
        # warm-up: bytecode, the OS file cache, PostgreSQL's buffers
        for kind, n in (("echo", 1), ("monev", 1)):
            f = await _fleet(kind, n, fake, url)
            await _burst(f, fake, p, 20, rate)
            await f.stop()
        for _ in range(rounds):
            for label, kind, n in (("echo", "echo", 1), ("one", "monev", 1), ("two", "monev", 2)):
                f = await _fleet(kind, n, fake, url)
                try:
                    # warm: the first run of the minute jobs (over every office) and a few
                    # answers (each office's data read once) are behind it, as in service
                    await _burst(f, fake, p, 20, rate)
                    await asyncio.sleep(WARM_S)
                    lat = await _burst(f, fake, p, burst, rate)
                    out[label].append(lat)
                    if kind == "monev":
                        out[f"rss_{label}"].append([rss_mib(pr.pid) for pr in f.procs])
                finally:
                    await f.stop()
    return out


# --- the reminder round ---------------------------------------------------------------------


async def reminder_round(engine: Engine, url: str, p: Province, offices: int) -> dict[str, Any]:
    """H-7 to every operator of the first ``offices`` offices, two processes, the sender killed
    halfway. Returns counts and the rate."""
    chosen = sorted(p.operators)[:offices]
    recipients = {tg for o in chosen for tg in p.operators[o]}
    today = datetime.now(WIB).date()
    with engine.begin() as c:
        c.execute(
            insert(Jadwal),
            [
                {
                    "opd_id": o,
                    "tahun": 2022,
                    "triwulan": 4,
                    "buka": date(2023, 1, 1),
                    "tenggat": today + timedelta(days=7),
                    "updated_by": "bench",
                    "updated_at": datetime.now(WIB).astimezone(UTC),
                }
                for o in chosen
            ],
        )
    extra = {"MONEV_REMINDER_TIME": "00:00", "MONEV_JOB_INTERVAL_SECONDS": "5"}
    async with FakeBotAPI(rate_limit_per_s=30) as fake:

        def got() -> list[Any]:
            return [
                r for r in fake.replies if r.method == "sendMessage" and r.chat_id in recipients
            ]

        first = _spawn(
            [sys.executable, "-m", "bot.cli.main", "run"],
            _env(fake, url, **_webhook_env(_free_port()), **extra),
        )
        second: subprocess.Popen[bytes] | None = None
        t0 = time.perf_counter()
        try:
            while len(got()) < 5:
                if first.poll() is not None:
                    raise RuntimeError(first.stderr.read().decode() if first.stderr else "")
                await asyncio.sleep(0.05)
            started = time.perf_counter()
            second = _spawn(
                [sys.executable, "-m", "bot.cli.main", "run"],
                _env(fake, url, **_webhook_env(_free_port()), **extra),
            )
            while len(got()) < len(recipients) // 2:
                await asyncio.sleep(0.05)
            first.kill()
            await _ended(first)
            killed_at = len(got())
            killed_t = time.perf_counter()
            end = time.perf_counter() + 600
            last_change, seen = time.perf_counter(), 0
            while time.perf_counter() < end:
                n = len({r.chat_id for r in got()})
                if n != seen:
                    seen, last_change = n, time.perf_counter()
                if n >= len(recipients) or time.perf_counter() - last_change > STALL_S:
                    break
                await asyncio.sleep(0.2)
            done_at = max(r.at for r in got())
            after = sorted(r.at for r in got())[killed_at:]
            resumed_s = after[0] - killed_t if after else float("nan")
        finally:
            for proc in (first, second):
                if proc is not None and proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                    await _ended(proc)
        per_chat = Counter(r.chat_id for r in got())
        with engine.connect() as c:
            claimed = c.execute(
                text(
                    "SELECT count(*), count(*) FILTER (WHERE status = 'mengirim') "
                    "FROM sent_reminder WHERE chat_id >= :lo"
                ),
                {"lo": FIRST_USER},
            ).one()
        return {
            "recipients": len(recipients),
            "delivered": len(per_chat),
            "twice": sum(1 for v in per_chat.values() if v > 1),
            "claimed": int(claimed[0]),
            "in_flight_lost": int(claimed[1]),
            "killed_after": killed_at,
            "rate": len(got()) / (done_at - started) if done_at > started else 0.0,
            "seconds": done_at - t0,
            "rate_limited": fake.rate_limited,
            "resumed_after_s": resumed_s,
        }


# --- start to first answer ------------------------------------------------------------------


async def startup(url: str, p: Province, rounds: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"echo": [], "monev": []}
    async with FakeBotAPI() as fake:

        async def once(cmd: list[str]) -> float:
            t0 = time.perf_counter()
            proc = _spawn(cmd, _env(fake, url))
            try:
                uid = fake.push_text(p.kepala[0], QUESTIONS[0])
                await fake.wait_reply(uid, timeout=120)
                return time.perf_counter() - t0
            finally:
                proc.send_signal(signal.SIGTERM)
                await _ended(proc)

        monev = [sys.executable, "-m", "bot.cli.main", "run"]
        echo = [sys.executable, "-c", _ECHO_POLLING]
        await once(monev)  # warm-up (bytecode as installed, caches)
        await once(echo)
        for _ in range(rounds):
            out["echo"].append(await once(echo))
            out["monev"].append(await once(monev))
    return out


# --- report ---------------------------------------------------------------------------------


def _median_ratio(rounds: list[list[float]], echo: list[list[float]]) -> list[float]:
    return [statistics.median(r) / statistics.median(e) for r, e in zip(rounds, echo, strict=True)]


def _p90(values: list[float]) -> float:
    return sorted(values)[int(0.9 * (len(values) - 1))]


def report(
    p: Province, lat: dict[str, Any], rr: dict[str, Any], st: dict[str, list[float]], args: Any
) -> list[tuple[str, str, str]]:
    size = f"{p.offices} kantor × {p.years} tahun, {p.users:,} pengguna".replace(",", ".")
    rows = [("basis data provinsi dibuat", f"{size}: {p.build_s:.0f} s", "—")]
    for label, name in (("one", "1 proses"), ("two", "2 proses")):
        ratios = _median_ratio(lat[label], lat["echo"])
        med = [statistics.median(r) * 1000 for r in lat[label]]
        p90 = [_p90(r) * 1000 for r in lat[label]]
        rows.append(
            (
                f"pertanyaan saat {args.burst} pesan datang {args.rate:g}/detik, {name} "
                "(median vs bot gema, per putaran)",
                f"{spread(ratios)} · median {spread(med, ' ms', '.0f')} · p90 "
                f"{spread(p90, ' ms', '.0f')} (bot gema median "
                f"{spread([statistics.median(e) * 1000 for e in lat['echo']], ' ms', '.0f')})",
                "—",
            )
        )
    rss1 = [m for r in lat["rss_one"] for m in r]
    rss2 = [m for r in lat["rss_two"] for m in r]
    rows.append(
        (
            "memori per proses setelah semburan",
            f"1 proses {spread(rss1, ' MiB', '.0f')} · 2 proses {spread(rss2, ' MiB', '.0f')}",
            "—",
        )
    )
    rows.append(
        (
            f"putaran pengingat H-7 ke {rr['recipients']} operator, fake 30/detik, pengirim "
            f"dimatikan setelah {rr['killed_after']}",
            f"{rr['delivered']} terkirim, {rr['twice']} dua kali, "
            f"{rr['recipients'] - rr['delivered']} tidak terkirim (klaim yang sedang dikirim saat "
            f"proses mati: {rr['in_flight_lost']}, tidak diulang), {rr['rate_limited']}× 429; "
            f"{rr['rate']:.1f} pesan/detik termasuk pengambilalihan; proses lain melanjutkan "
            f"{rr['resumed_after_s']:.0f} s setelah pengirim mati",
            "0 dua kali, 0× 429",
        )
    )
    ratio = statistics.median(st["monev"]) / statistics.median(st["echo"])
    rows.append(
        (
            "`monev run` (polling, basis data provinsi): mulai sampai jawaban pertama",
            f"{spread(st['monev'], ' s')} vs bot gema {spread(st['echo'], ' s')}: {ratio:.2f}×",
            "≤ 3×",
        )
    )
    return rows


async def _main(args: Any) -> None:
    with contextlib.ExitStack() as stack:
        if args.keep_db:
            engine = stack.enter_context(kept_database(args.pg, args.keep_db))
        else:
            d = stack.enter_context(tempfile.TemporaryDirectory())
            engine = stack.enter_context(empty_database(Path(d), args.pg))
        await _run(engine, args)


async def _run(engine: Engine, args: Any) -> None:
    url = engine.url.render_as_string(hide_password=False)
    kept = reuse(engine, args.offices, args.years, args.users_per_office)
    if kept is not None:
        p = kept
        print(f"# reused: {p.offices} offices, {p.users} users", flush=True)
    else:
        p = build(engine, args.offices, args.years, args.users_per_office)
        print(f"# built in {p.build_s:.0f}s: {p.offices} offices, {p.users} users", flush=True)
    if args.only_round:
        rr = await reminder_round(engine, url, p, args.round_offices)
        print(rr)
        return
    lat = await latency(url, p, args.burst, args.rate, args.rounds)
    print("# latency done", flush=True)
    st = await startup(url, p, args.rounds)
    print("# startup done", flush=True)
    rr = await reminder_round(engine, url, p, args.round_offices)
    for row in report(p, lat, rr, st, args):
        print(" | ".join(row))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pg", required=True, help="PostgreSQL URL; a database is made beside it")
    ap.add_argument("--offices", type=int, default=800)
    ap.add_argument("--years", type=int, default=3)
    ap.add_argument("--users-per-office", type=int, default=20)
    ap.add_argument("--burst", type=int, default=200)
    ap.add_argument("--rate", type=float, default=20.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--round-offices", type=int, default=60, help="offices in the reminder round")
    ap.add_argument("--only-round", action="store_true", help="the reminder round alone")
    ap.add_argument(
        "--keep-db",
        metavar="NAME",
        help="build the province once in database NAME beside --pg's and reuse it later",
    )
    asyncio.run(_main(ap.parse_args()))


if __name__ == "__main__":
    main()
