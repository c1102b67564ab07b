"""What the office boundary (storage/data/boundary.py) costs on the hot path: CPU time per
update of a question and of a typed /lapor step, with the boundary on and off, in the same
process, rounds interleaved (on, off, on, off…), through the real Application and the offline
Bot API.

CPU time of this process, not wall time, so a machine busy with other work changes both sides
alike; "off" is the same bot with the session scope not entered (what every ORM statement and
plain-row read would then skip).

Run: .venv/bin/python -m benchmarks.bench_boundary [--pg URL] [--rounds 6] [--n 60]
Target (issue 23): no measurable change (the two medians within the rounds' own spread).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import Engine

from benchmarks.bench_lapor import FIRST_OPERATOR, add_operators
from benchmarks.bench_questions import QUESTIONS
from benchmarks.generate import demo_database
from bot import context as bot_context
from bot.console import open_offline
from bot.offline.updates import make_message_update
from bot.settings import Settings
from storage.data import db
from storage.data.models import Role
from storage.services.users import set_user

KEPALA = 900_001
LAPOR_STEPS = ("21.000.000", "93", "Sesuai jadwal")


@contextmanager
def boundary_off() -> Iterator[None]:
    """The same bot, its sessions never entering the sender's scope."""
    real = bot_context.boundary.enter
    bot_context.boundary.enter = lambda session, scope: None  # type: ignore[assignment]
    try:
        yield
    finally:
        bot_context.boundary.enter = real  # type: ignore[assignment]


async def _cpu_per_update(app, texts: list[tuple[int, str]]) -> float:  # type: ignore[no-untyped-def]
    start = time.process_time()
    for user, text in texts:
        await app.process_update(make_message_update(app.bot, text, user_id=user))
    return (time.process_time() - start) / len(texts) * 1000


async def _measure(engine: Engine, rounds: int, n: int) -> dict[str, dict[str, list[float]]]:
    settings = Settings(DATABASE_URL="", TELEGRAM_BOT_TOKEN="")  # type: ignore[call-arg]
    app, _ = await open_offline(settings, engine)
    for job in app.job_queue.jobs():  # type: ignore[union-attr]
        job.schedule_removal()
    out: dict[str, dict[str, list[float]]] = {
        kind: {"on": [], "off": []} for kind in ("pertanyaan", "langkah /lapor")
    }
    operator = FIRST_OPERATOR
    try:
        questions = [(KEPALA, QUESTIONS[i % len(QUESTIONS)]) for i in range(n)]
        await _cpu_per_update(app, questions[: len(QUESTIONS)])  # warm-up: caches, statements
        for r in range(rounds):
            # The order alternates, so neither side always runs first (warmer or colder).
            for mode in ("on", "off") if r % 2 == 0 else ("off", "on"):
                ctx = boundary_off() if mode == "off" else contextmanager(lambda: iter([None]))()
                with ctx:
                    out["pertanyaan"][mode].append(await _cpu_per_update(app, questions))
                    # a fresh operator per round and mode: the first sub kegiatan's three steps
                    steps: list[tuple[int, str]] = []
                    for _k in range(max(1, n // len(LAPOR_STEPS))):
                        steps += [(operator, t) for t in LAPOR_STEPS]
                        operator += 1
                    out["langkah /lapor"][mode].append(await _cpu_per_update(app, steps))
    finally:
        await app.stop()
        await app.shutdown()
    return out


def run(pg: str | None, rounds: int, n: int) -> list[tuple[str, str]]:
    rows = []
    operators = rounds * 2 * max(1, n // len(LAPOR_STEPS))
    for backend, url in (("SQLite", None), ("PostgreSQL", pg)):
        if backend == "PostgreSQL" and not pg:
            continue
        with tempfile.TemporaryDirectory() as d, demo_database(Path(d), url) as engine:
            add_operators(engine, operators)
            with db.session_scope(engine) as s:
                set_user(s, telegram_id=KEPALA, role=Role.KEPALA, nama="Bench", actor="bench")
            result = asyncio.run(_measure(engine, rounds, n))
        for kind, modes in result.items():
            on, off = statistics.median(modes["on"]), statistics.median(modes["off"])
            spread = max(modes["off"]) - min(modes["off"])
            rows.append(
                (
                    f"{kind}, {backend}: CPU per update, batas kantor aktif / tanpa batas "
                    f"({rounds} putaran)",
                    f"{on:.2f} ms / {off:.2f} ms ({(on - off) / off * 100:+.1f}%; sebaran "
                    f"putaran tanpa batas {spread:.2f} ms)",
                )
            )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pg")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--n", type=int, default=60, help="updates per round and kind")
    args = ap.parse_args()
    for label, value in run(args.pg, args.rounds, args.n):
        print(f"{label} | {value}")


if __name__ == "__main__":
    main()
