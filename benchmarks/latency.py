"""Reply latency of a PTB application, measured through the local fake Bot API.

A bot's latency is only meaningful next to a baseline measured the same way on the same machine,
so :func:`compare` runs a minimal PTB echo bot and the candidate against one fake server in one
run. ``python -m benchmarks.latency`` compares the echo bot with itself: the ratio should be ~1,
which shows how much noise a comparison carries.

Latency = time from the fake queuing an update to the bot's first send* request for that chat
arriving at the fake: long-poll delivery, PTB dispatch, the handler and the reply's HTTP request.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import itertools
import math
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.offline.api import TEST_TOKEN
from bot.offline.http import FakeBotAPI
from charts.pool import RenderPool

__all__ = [
    "AppFactory",
    "Comparison",
    "Stats",
    "compare",
    "echo_app_factory",
    "file_url_for",
    "main",
    "measure",
]

AppFactory = Callable[[str], Application | Awaitable[Application]]

# User ids for pushed messages, unique for the whole process so that measurements sharing one
# fake never attribute a late reply of one run to the next; far from ids tests pick by hand.
_user_ids = itertools.count(700_000)


@dataclass(frozen=True, slots=True)
class Stats:
    """Latencies in milliseconds over ``n`` answered messages (``timeouts`` went unanswered)."""

    n: int
    median: float
    p95: float
    max: float
    mean: float = 0.0
    min: float = 0.0
    timeouts: int = 0

    @classmethod
    def from_ms(cls, latencies_ms: list[float], timeouts: int = 0) -> Stats:
        if not latencies_ms:
            nan = math.nan
            return cls(0, nan, nan, nan, nan, nan, timeouts)
        ordered = sorted(latencies_ms)
        # Nearest-rank percentile: an observed value, no interpolation between samples.
        p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
        return cls(
            n=len(ordered),
            median=statistics.median(ordered),
            p95=p95,
            max=ordered[-1],
            mean=statistics.fmean(ordered),
            min=ordered[0],
            timeouts=timeouts,
        )

    def __str__(self) -> str:
        return (
            f"n={self.n} median={self.median:.2f}ms p95={self.p95:.2f}ms "
            f"max={self.max:.2f}ms timeouts={self.timeouts}"
        )


@dataclass(frozen=True, slots=True)
class Comparison:
    baseline: Stats
    candidate: Stats

    @property
    def median_ratio(self) -> float:
        return self.candidate.median / self.baseline.median

    @property
    def p95_ratio(self) -> float:
        return self.candidate.p95 / self.baseline.p95


def spread(values: list[float], unit: str = "×", fmt: str = ".2f") -> str:
    """ "median [min–max]" of per-round values, as every table row shows them."""
    m, lo, hi = statistics.median(values), min(values), max(values)
    return f"{m:{fmt}}{unit} [{lo:{fmt}}–{hi:{fmt}}]"


def ratio_row(
    label: str, ratios: list[float], detail: str, limit: float = 3.0
) -> tuple[str, str, str, str]:
    """A table row for per-round bot/echo ratios against ``limit`` (median decides)."""
    target = f"≤ {limit:g}×"
    ok = statistics.median(ratios) <= limit
    return label, f"{spread(ratios)} ({detail})", target, "✅" if ok else "❌"


def file_url_for(base_url: str) -> str:
    """``http://host:port/bot`` -> ``http://host:port/file/bot`` (the fake's file URL)."""
    head, sep, _ = base_url.rpartition("/bot")
    return f"{head}/file/bot" if sep else base_url


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.message and update.message.text:
        await update.message.reply_text(update.message.text)


def echo_app_factory(base_url: str) -> Application:
    """The baseline: a default-configured PTB application that echoes text."""
    app = (
        ApplicationBuilder()
        .token(TEST_TOKEN)
        .base_url(base_url)
        .base_file_url(file_url_for(base_url))
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, _echo))
    return app


def steady(app: Application) -> Application:
    """The bot as it answers once running: its chart worker is not warmed up on the first
    chart button. A process does that once (``bench_chart_warmup`` measures it); the harness
    builds an Application per measurement, and a worker importing matplotlib in the middle
    of each one, on two cores, is noise in every latency row that only offers a chart."""
    app.bot_data["render_pool"] = RenderPool(warm_up=False)
    return app


async def _build(app_factory: AppFactory, base_url: str) -> Application:
    app = app_factory(base_url)
    if inspect.isawaitable(app):
        app = await app
    return app


async def _stop(app: Application) -> None:
    # Each step may be skipped if start-up failed half way; shutdown must still run.
    with contextlib.suppress(RuntimeError):
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
    with contextlib.suppress(RuntimeError):
        if app.running:
            await app.stop()
    await app.shutdown()


async def measure(
    app_factory: AppFactory,
    questions: list[str],
    *,
    n: int,
    concurrency: int = 1,
    distinct_users: bool = True,
    warmup: int = 2,
    reply_timeout: float = 10.0,
    deadline: float = 300.0,
    fake: FakeBotAPI | None = None,
    pace: float = 0.0,
) -> Stats:
    """Send ``n`` messages (cycling through ``questions``) to the app built by
    ``app_factory(base_url)`` and collect push-to-reply latencies.

    ``concurrency`` workers each keep one message in flight. With ``distinct_users`` every
    message comes from a new user id (so attribution of replies is exact); otherwise all come
    from one user. ``warmup`` messages are sent first, one at a time, and not counted. Pass
    ``fake`` to share a running server between measurements; otherwise one is started.
    ``pace``: each worker's next message no sooner than this many seconds after its last.
    """
    if not questions:
        raise ValueError("questions must not be empty")
    if n < 1 or concurrency < 1:
        raise ValueError("n and concurrency must be >= 1")
    async with contextlib.AsyncExitStack() as stack:
        if fake is None:
            fake = await stack.enter_async_context(FakeBotAPI())
        app = await _build(app_factory, fake.base_url)
        stack.push_async_callback(_stop, app)
        await app.initialize()
        assert app.updater is not None, "the application needs an Updater to poll the fake"
        await app.updater.start_polling(poll_interval=0, timeout=10)
        await app.start()
        async with asyncio.timeout(deadline):
            stats = await _drive(
                fake, questions, n, concurrency, distinct_users, warmup, reply_timeout, pace
            )
    return stats


async def _drive(
    fake: FakeBotAPI,
    questions: list[str],
    n: int,
    concurrency: int,
    distinct_users: bool,
    warmup: int,
    reply_timeout: float,
    pace: float = 0.0,
) -> Stats:
    same_user = next(_user_ids)
    latencies: list[float] = []
    timeouts = 0

    async def one(i: int, counted: bool) -> None:
        nonlocal timeouts
        uid = next(_user_ids) if distinct_users else same_user
        started = time.perf_counter()
        update_id = fake.push_text(uid, questions[i % len(questions)])
        try:
            latency = await fake.wait_reply(update_id, timeout=reply_timeout)
        except TimeoutError:
            timeouts += counted
            return
        if counted:
            latencies.append(latency * 1000)
        if pace:  # the next question no sooner than ``pace`` after this one
            await asyncio.sleep(max(0.0, started + pace - time.perf_counter()))

    for i in range(warmup):
        await one(i, counted=False)

    indexes = iter(range(n))  # shared by workers: bounded total count

    async def worker() -> None:
        for i in indexes:
            await one(warmup + i, counted=True)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Stats.from_ms(latencies, timeouts)


async def compare(
    candidate_factory: AppFactory,
    questions: list[str],
    *,
    n: int,
    concurrency: int = 1,
    baseline_factory: AppFactory = echo_app_factory,
    baseline_questions: list[str] | None = None,
    **kwargs: object,
) -> Comparison:
    """Measure the baseline (echo) bot, then the candidate, through one fake server."""
    async with FakeBotAPI() as fake:
        baseline = await measure(
            baseline_factory,
            baseline_questions or questions,
            n=n,
            concurrency=concurrency,
            fake=fake,
            **kwargs,  # type: ignore[arg-type]
        )
        candidate = await measure(
            candidate_factory,
            questions,
            n=n,
            concurrency=concurrency,
            fake=fake,
            **kwargs,  # type: ignore[arg-type]
        )
    return Comparison(baseline, candidate)


DEFAULT_QUESTIONS = [
    "serapan anggaran Q2 koperasi",
    "realisasi fisik triwulan 3 2022",
    "pagu dinas 2022",
]


async def _main_async(n: int, concurrency: int) -> Comparison:
    started = time.perf_counter()
    result = await compare(echo_app_factory, DEFAULT_QUESTIONS, n=n, concurrency=concurrency)
    elapsed = time.perf_counter() - started
    print(f"echo A (baseline):  {result.baseline}")
    print(f"echo B (candidate): {result.candidate}")
    print(
        f"ratio B/A: median {result.median_ratio:.2f}, p95 {result.p95_ratio:.2f} "
        f"(n={n}, concurrency={concurrency}, {elapsed:.1f}s)"
    )
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Echo-vs-echo latency sanity check.")
    parser.add_argument("-n", type=int, default=200, help="messages per bot (default 200)")
    parser.add_argument("-c", "--concurrency", type=int, default=1)
    args = parser.parse_args(argv)
    asyncio.run(_main_async(args.n, args.concurrency))


if __name__ == "__main__":
    main()
