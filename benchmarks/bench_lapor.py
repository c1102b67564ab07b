"""Reply latency of /lapor conversation steps (typed realisasi, fisik and keterangan) against
the echo-bot floor, through the same local fake HTTP Bot API in the same run.

Run: .venv/bin/python -m benchmarks.bench_lapor [--users 40]
Target (issue #4): each step's median within 3x the echo bot's median.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from sqlmodel import select

from benchmarks.bench_questions import monev_factory
from benchmarks.latency import Stats, echo_app_factory, measure
from bot.offline.http import FakeBotAPI
from bot.settings import Settings
from storage.data import db
from storage.data.models import AppUser, Bidang, Role
from storage.files.demo import SEED_FILE
from storage.files.importer import import_file
from storage.services.submission import start_draft
from storage.services.users import set_user

FIRST_OPERATOR = 800_000
STEPS = [("anggaran", "21.000.000"), ("fisik", "93"), ("ket", "Sesuai jadwal")]


def prepare(folder: Path, users: int):  # type: ignore[no-untyped-def]
    """Demo data plus ``users`` Koperasi operators, each with a TW IV 2022 draft begun."""
    engine = db.make_engine(f"sqlite:///{folder / 'lapor.db'}")
    db.upgrade(engine)
    import_file(engine, SEED_FILE, actor="bench")
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
            start_draft(s, user=u, tahun=2022, tw=4)
    return engine


async def run(users: int = 40) -> dict[str, Stats]:
    with tempfile.TemporaryDirectory() as d:
        engine = prepare(Path(d), users)
        settings = Settings(TELEGRAM_BOT_TOKEN="123456:TEST", DATABASE_URL="")
        results: dict[str, Stats] = {}
        async with FakeBotAPI() as fake:
            results["echo"] = await measure(
                echo_app_factory, ["21.000.000", "93", "Sesuai jadwal"], n=3 * users, fake=fake
            )
            app = monev_factory(engine, settings)(fake.base_url)
            await app.initialize()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0, timeout=10)
            await app.start()
            per_step: dict[str, list[float]] = {name: [] for name, _ in STEPS}
            try:
                for i in range(users):
                    uid = FIRST_OPERATOR + i
                    for name, text in STEPS:
                        update_id = fake.push_text(uid, text)
                        per_step[name].append(await fake.wait_reply(update_id, timeout=10) * 1000)
            finally:
                await app.updater.stop()
                await app.stop()
                await app.shutdown()
            for name, values in per_step.items():
                results[name] = Stats.from_ms(values, 0)
        engine.dispose()
        return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--users", type=int, default=40)
    args = ap.parse_args()
    res = asyncio.run(run(args.users))
    echo = res.pop("echo")
    print(f"echo       median {echo.median:.2f} ms  p95 {echo.p95:.2f} ms  (n={echo.n})")
    for name, st in res.items():
        print(
            f"{name:<10} median {st.median:.2f} ms  p95 {st.p95:.2f} ms  (n={st.n})  "
            f"ratio {st.median / echo.median:.2f}x"
        )


if __name__ == "__main__":
    main()
