"""The Mini App beside the chat, in one process as ``monev run`` ships it (rate limiter and update
inbox on, MONEV_WEBAPP_URL set, so the bot's own process serves the Mini App), all over
loopback HTTP, round by round:

- a question answered in the chat (a kepala's, through the local fake HTTP Bot API: from the
  update queued to the reply sent) — the yardstick;
- the form's page ready: its HTML and its data (``GET /webapp/lapor`` + ``POST api/lapor``,
  the Sekretariat operator's draft of 18 sub kegiatan); stylesheet and scripts are cached by
  the browser after the first visit (``immutable``) and are counted in the weight instead;
- a save round trip: one changed field (``POST api/lapor/simpan``) and its answer;
- the dashboard ready (``GET /webapp/dasbor`` + ``POST api/dasbor``).

Each round gives the ratio of each median to that round's question median; the table shows the
median ratio and its [min–max] over rounds. Page weight: what a first visit downloads.

Run: .venv/bin/python -m benchmarks.bench_webapp [--pg URL] [--rounds 5] [--n 10]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import select

from benchmarks.bench_questions import QUESTIONS
from benchmarks.generate import demo_database
from benchmarks.latency import file_url_for, spread
from bot.app import build_application, post_init, post_shutdown
from bot.offline.http import FakeBotAPI
from bot.settings import Settings
from bot.webapp import auth
from storage.data import db
from storage.data.models import Bidang, Role
from storage.services.users import set_user

TOKEN = "123456:TEST"
OPERATOR = 810_000
FIRST_KEPALA = 811_000


def add_people(engine: Engine, kepala: int) -> None:
    with db.session_scope(engine) as s:
        sek = s.exec(select(Bidang).where(Bidang.kode == "sekretariat")).one()
        set_user(s, telegram_id=OPERATOR, role=Role.OPERATOR, bidang_id=sek.id, actor="bench")
        for i in range(kepala):
            set_user(s, telegram_id=FIRST_KEPALA + i, role=Role.KEPALA, actor="bench")


@dataclass
class Rounds:
    question: list[float] = field(default_factory=list)
    page: list[float] = field(default_factory=list)
    save: list[float] = field(default_factory=list)
    dashboard: list[float] = field(default_factory=list)
    weight: dict[str, tuple[int, int]] = field(default_factory=dict)  # page: (raw, gzip)

    def ratios(self, name: str) -> list[float]:
        values: list[float] = getattr(self, name)
        return [v / q for v, q in zip(values, self.question, strict=True)]


def _weight(parts: list[bytes]) -> tuple[int, int]:
    return sum(len(p) for p in parts), sum(len(gzip.compress(p)) for p in parts)


async def _timed(coro) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    await coro
    return (time.perf_counter() - t) * 1000


async def run_rounds(engine: Engine, rounds: int, n: int) -> Rounds:
    out = Rounds()
    async with FakeBotAPI() as fake:
        settings = Settings(
            TELEGRAM_BOT_TOKEN=TOKEN,
            DATABASE_URL="",
            TELEGRAM_API_BASE_URL=fake.base_url,
            TELEGRAM_API_BASE_FILE_URL=file_url_for(fake.base_url),
            MONEV_WEBAPP_URL="https://bench.example/webapp",
            MONEV_WEBAPP_PORT=0,
        )  # type: ignore[call-arg]
        app = build_application(settings, engine, rate_limiter=True, inbox=True)
        app.bot_data["serving"] = True  # as run_polling sets it: post_init serves the Mini App
        await app.initialize()
        await post_init(app)
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=10)
        await app.start()
        base = app.bot_data["webapp_server"].url
        op = {"Authorization": "tma " + auth.sign(OPERATOR, token=TOKEN)}
        kep = {"Authorization": "tma " + auth.sign(FIRST_KEPALA, token=TOKEN)}
        try:
            async with httpx.AsyncClient(base_url=base, timeout=30) as web:

                async def page() -> dict:
                    html = await web.get("lapor")
                    data = await web.post("api/lapor", json={}, headers=op)
                    assert html.status_code == 200 and data.status_code == 200, data.text
                    return dict(data.json()["form"])

                async def dashboard() -> None:
                    html = await web.get("dasbor")
                    data = await web.post("api/dasbor", json={}, headers=kep)
                    assert html.status_code == 200 and data.status_code == 200, data.text

                form = await page()
                key = f"anggaran:{form['subs'][0]['id']}"
                revision = [form["revisi"]]

                async def save(i: int) -> None:
                    body = {"revisi": revision[0], "isian": {key: {"teks": f"{6 + i % 2} jt"}}}
                    r = await web.post("api/lapor/simpan", json=body, headers=op)
                    assert r.status_code == 200, r.text
                    revision[0] = r.json()["form"]["revisi"]

                # First visit: what the browser downloads, HTML, CSS, scripts and data.
                for name, script, api, headers in (
                    ("lapor", "lapor.js", "api/lapor", op),
                    ("dasbor", "dasbor.js", "api/dasbor", kep),
                ):
                    html = (await web.get(name)).content
                    static = [
                        (await web.get(f"static/{f}")).content
                        for f in ("app.css", "common.js", script)
                    ]
                    data = (await web.post(api, json={}, headers=headers)).content
                    out.weight[name] = _weight([html, *static, data])

                user = 0
                for _ in range(rounds):
                    q, p, s, d = [], [], [], []
                    for i in range(n + 1):  # the first of each kind is a warm-up
                        text = QUESTIONS[i % len(QUESTIONS)]
                        uid = FIRST_KEPALA + user % 50
                        user += 1
                        lat = await fake.wait_reply(fake.push_text(uid, text), timeout=30)
                        pt = await _timed(page())
                        st = await _timed(save(i))
                        dt = await _timed(dashboard())
                        if i:
                            q.append(lat * 1000)
                            p.append(pt)
                            s.append(st)
                            d.append(dt)
                    out.question.append(statistics.median(q))
                    out.page.append(statistics.median(p))
                    out.save.append(statistics.median(s))
                    out.dashboard.append(statistics.median(d))
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()
            await post_shutdown(app)
    return out


def run(pg: str | None = None, rounds: int = 5, n: int = 10) -> dict[str, Rounds]:
    results = {}
    for backend, url in (("SQLite", None), ("PostgreSQL", pg)):
        if backend == "PostgreSQL" and not pg:
            continue
        with tempfile.TemporaryDirectory() as d, demo_database(Path(d), url) as engine:
            add_people(engine, 50)
            results[backend] = asyncio.run(run_rounds(engine, rounds, n))
    return results


def rows(results: dict[str, Rounds]) -> list[tuple[str, str, str, str]]:
    out = []
    for backend, r in results.items():
        out.append(
            (
                f"Mini App: pertanyaan di chat (patokan), `monev run` apa adanya, {backend}, "
                f"{len(r.question)} putaran",
                spread(r.question, " ms"),
                "",
                "",
            )
        )
        for name, label in (
            ("page", "formulir /lapor siap (HTML + data draf 18 sub kegiatan)"),
            ("save", "simpan satu isian formulir (pulang-pergi)"),
            ("dashboard", "dasbor siap (HTML + data)"),
        ):
            out.append(
                (
                    f"Mini App: {label} vs pertanyaan di chat, {backend}",
                    f"{spread(r.ratios(name))} (median {spread(getattr(r, name), ' ms')})",
                    "—",
                    "",
                )
            )
    if results:
        r = next(iter(results.values()))
        for name, label in (("lapor", "formulir"), ("dasbor", "dasbor")):
            raw, packed = r.weight[name]
            out.append(
                (
                    f"Mini App: berat halaman {label}, kunjungan pertama (HTML, CSS, skrip, data)",
                    f"{raw / 1024:.1f} KB ({packed / 1024:.1f} KB gzip)",
                    "—",
                    "",
                )
            )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pg")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--n", type=int, default=10, help="requests of each kind per round")
    args = ap.parse_args()
    for row in rows(run(args.pg, args.rounds, args.n)):
        print(" | ".join(row))


if __name__ == "__main__":
    main()
