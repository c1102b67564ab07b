"""Reply latency of /lapor conversation steps (typed realisasi, fisik and keterangan) against
the echo-bot floor, interleaved round by round (echo, bot, echo, bot…) through the same
local fake HTTP Bot API.

Every round measures the echo bot, then the bot as ``monev run`` ships it (rate limiter and
update inbox on) with a fresh batch of operators, each typing the three answers of the first
sub kegiatan of a TW IV 2022 draft; the first operator of every round is a warm-up. Each
round gives, per step, the ratio of its median to that round's echo median; the table shows
the median ratio and its [min-max] over rounds, so a load change during the run shows as
spread instead of flipping a verdict.

Run: .venv/bin/python -m benchmarks.bench_lapor [--pg URL] [--rounds 5] [--users 8]
Target (issue #4): each step's median within 3x the echo bot's median.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import select

from benchmarks.bench_rounds import _factory
from benchmarks.generate import demo_database
from benchmarks.latency import echo_app_factory, measure, ratio_row, spread
from bot.offline.http import FakeBotAPI
from storage.data import db
from storage.data.models import AppUser, Bidang, Role
from storage.services import conversation
from storage.services.conversation import Flow
from storage.services.submission import start_draft
from storage.services.users import set_user

FIRST_OPERATOR = 800_000
STEPS = [("anggaran", "21.000.000"), ("fisik", "93"), ("ket", "Sesuai jadwal")]


def add_operators(engine: Engine, users: int) -> None:
    """``users`` Koperasi operators, each with a TW IV 2022 draft begun and their typing
    attached to it (as after pressing "Isi TW IV 2022"): typed text answers the draft."""
    with db.session_scope(engine) as s:
        kop = s.exec(select(Bidang).where(Bidang.kode == "koperasi")).one()
        for i in range(users):
            set_user(
                s,
                telegram_id=FIRST_OPERATOR + i,
                role=Role.OPERATOR,
                bidang_id=kop.id,
                actor="bench",
            )
        s.flush()
        for i in range(users):
            u = s.exec(select(AppUser).where(AppUser.telegram_id == FIRST_OPERATOR + i)).one()
            draft = start_draft(s, user=u, tahun=2022, tw=4)
            conversation.start(
                s,
                telegram_id=FIRST_OPERATOR + i,
                flow=Flow.LAPOR,
                payload={"draft_id": draft.id},
            )


@dataclass
class LaporRounds:
    echo: list[float] = field(default_factory=list)
    steps: dict[str, list[float]] = field(default_factory=lambda: {n: [] for n, _ in STEPS})

    def ratios(self, step: str) -> list[float]:
        return [b / e for b, e in zip(self.steps[step], self.echo, strict=True)]


async def _bot_round(engine: Engine, fake: FakeBotAPI, operators: range) -> dict[str, float]:
    """Median latency per step over ``operators`` (the first one is a warm-up)."""
    app = _factory(engine, rate_limiter=True, inbox=True)(fake.base_url)
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=10)
    await app.start()
    per_step: dict[str, list[float]] = {name: [] for name, _ in STEPS}
    try:
        for k, uid in enumerate(operators):
            for name, text in STEPS:
                latency = await fake.wait_reply(fake.push_text(uid, text), timeout=30)
                if k > 0:
                    per_step[name].append(latency * 1000)
                elif name == "anggaran" and "fisik" not in (fake.api.last(uid).text or ""):
                    # The answer must be the draft's next question, not a reply to a question.
                    raise RuntimeError("typed /lapor answers do not reach the draft")
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    return {name: statistics.median(v) for name, v in per_step.items()}


async def run_rounds(engine: Engine, rounds: int, users: int) -> LaporRounds:
    out = LaporRounds()
    per_round = users + 1  # one warm-up operator per round
    echo_texts = [text for _, text in STEPS]
    async with FakeBotAPI() as fake:
        for r in range(rounds):
            echo = await measure(echo_app_factory, echo_texts, n=3 * users, fake=fake)
            first = FIRST_OPERATOR + r * per_round
            steps = await _bot_round(engine, fake, range(first, first + per_round))
            out.echo.append(echo.median)
            for name, value in steps.items():
                out.steps[name].append(value)
    return out


def run(pg: str | None = None, rounds: int = 5, users: int = 8) -> dict[str, LaporRounds]:
    results = {}
    for backend, url in (("SQLite", None), ("PostgreSQL", pg)):
        if backend == "PostgreSQL" and not pg:
            continue
        with tempfile.TemporaryDirectory() as d, demo_database(Path(d), url) as engine:
            add_operators(engine, rounds * (users + 1))
            results[backend] = asyncio.run(run_rounds(engine, rounds, users))
    return results


def rows(results: dict[str, LaporRounds]) -> list[tuple[str, str, str, str]]:
    out = []
    for backend, r in results.items():
        echo_label = f"Bot gema (patokan, langkah /lapor), {backend}, {len(r.echo)} putaran"
        out.append((echo_label, spread(r.echo, " ms"), "", ""))
        for name, _ in STEPS:
            out.append(
                ratio_row(
                    f"Langkah /lapor ({name}), `monev run` apa adanya, vs bot gema, {backend}",
                    r.ratios(name),
                    f"median {spread(r.steps[name], ' ms')}",
                )
            )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pg")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--users", type=int, default=8, help="operators per round")
    args = ap.parse_args()
    for row in rows(run(args.pg, args.rounds, args.users)):
        print(" | ".join(row))


if __name__ == "__main__":
    main()
