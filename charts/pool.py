"""Drawing charts in a process of their own.

matplotlib's Agg renderer holds the GIL through long C calls, so a chart drawn in a thread
would stall every other user's reply for its whole duration. The bot hands chart plans to
one long-lived worker process (``python -m charts.worker``, run at a lower CPU priority)
and awaits the PNG without blocking the event loop. A crashed worker is started again on
the next chart. The worker starts when somebody asks a question whose answer offers a chart
(``warm``: in the background, so it is ready by the time they tap the chart button) or on the
first chart asked for, and stops after ``idle_seconds`` without either
(``MONEV_CHART_IDLE_SECONDS``): matplotlib's ~100 MiB are held only while people are asking.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pickle
import sys
from pathlib import Path

from charts.answers import ChartPlan
from charts.spec import NoData
from charts.worker import HEADER
from storage.domain.errors import MonevError

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 60.0
DRAW_TIMEOUT = 60.0


class ChartWorkerError(MonevError, RuntimeError):
    """The worker failed to draw (other than 'no data'); the bot answers with its error text."""


class RenderPool:
    def __init__(self, *, idle_seconds: float | None = None, warm_up: bool = True) -> None:
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()  # one chart at a time through the one worker
        self.idle_seconds = idle_seconds  # None: keep the worker until aclose()
        self._idle: asyncio.TimerHandle | None = None
        self._stopping: asyncio.Task[None] | None = None
        self._warming: asyncio.Task[None] | None = None
        self.warm_up = warm_up  # False: the worker starts on the first chart only

    async def _spawn(self) -> asyncio.subprocess.Process:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "charts.worker",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=ROOT,
            # Out of the terminal's process group: Ctrl+C stops the bot, and the bot stops
            # the worker (closing its stdin), even while it is still importing matplotlib.
            start_new_session=True,
        )
        assert proc.stdout is not None
        try:
            await asyncio.wait_for(proc.stdout.readexactly(HEADER.size), START_TIMEOUT)
        except BaseException:
            # Not ready (or the bot is stopping meanwhile): never leave a worker behind.
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(proc.wait(), 5)
            raise
        return proc

    async def _worker(self) -> asyncio.subprocess.Process:
        if self._proc is None or self._proc.returncode is not None:
            self._proc = await self._spawn()
        return self._proc

    async def start(self) -> None:
        """Start the worker (and load matplotlib in it) before the first chart needs it."""
        async with self._lock:
            try:
                await self._worker()
            except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
                # Only a warm-up: the first chart starts a worker again and reports failure.
                self._discard()
                log.warning("chart worker did not start (%s)", type(exc).__name__)

    def warm(self) -> None:
        """Activity (a question whose answer offers a chart): start the worker in the
        background, or, when it runs, give it its idle time again. Never waits; a chart asked
        for meanwhile waits for the worker being started rather than starting another."""
        if not self.warm_up:
            return
        if self._proc is not None and self._proc.returncode is None:
            if not self._lock.locked():
                self._arm()
            return
        if self._warming is not None and not self._warming.done():
            return
        self._warming = asyncio.ensure_future(self._warm_up())

    async def _warm_up(self) -> None:
        await self.start()
        if not self._lock.locked():
            self._arm()  # started but never used: stopped again when idle

    @property
    def stopping(self) -> asyncio.Task[None] | None:
        """The idle stop under way, if any (tests wait for the process to be gone)."""
        return self._stopping if self._stopping is not None and not self._stopping.done() else None

    @property
    def warming(self) -> asyncio.Task[None] | None:
        """The background start under way, if any (tests and benchmarks wait for it)."""
        return self._warming if self._warming is not None and not self._warming.done() else None

    async def draw(self, plan: ChartPlan) -> bytes:
        body = pickle.dumps(plan, protocol=pickle.HIGHEST_PROTOCOL)
        self._disarm()
        try:
            return await self._draw(body)
        finally:
            self._arm()

    def _disarm(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None

    def _arm(self) -> None:
        """(Re)start the idle clock after a chart."""
        self._disarm()
        if self.idle_seconds is not None and self._proc is not None:
            loop = asyncio.get_running_loop()
            self._idle = loop.call_later(self.idle_seconds, self._idle_stop)

    def _idle_stop(self) -> None:
        self._idle = None
        if self._lock.locked():
            return  # a chart is being drawn; it re-arms the clock when done
        log.info("chart worker idle for %ss; stopping it", self.idle_seconds)
        self._stopping = asyncio.ensure_future(self.aclose())

    async def _draw(self, body: bytes) -> bytes:
        async with self._lock:
            for attempt in (1, 2):
                # A worker found dead is replaced and the chart asked again: drawing twice
                # does no harm, a chart lost to a crash would.
                try:
                    reply = await self._exchange(body)
                    break
                except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
                    self._discard()
                    if attempt == 2:
                        raise ChartWorkerError(
                            detail=f"proses grafik berhenti ({type(exc).__name__})"
                        ) from exc
                    log.warning("chart worker lost (%s); starting a new one", type(exc).__name__)
        ok, value = pickle.loads(reply)
        if ok:
            return value
        kind, message = value
        if kind == "NoData":
            raise NoData(message)
        raise ChartWorkerError(detail=f"{kind}: {message}")

    async def _exchange(self, body: bytes) -> bytes:
        proc = await self._worker()
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(HEADER.pack(len(body)) + body)
        await proc.stdin.drain()
        head = await asyncio.wait_for(proc.stdout.readexactly(HEADER.size), DRAW_TIMEOUT)
        size = HEADER.unpack(head)[0]
        return await asyncio.wait_for(proc.stdout.readexactly(size), DRAW_TIMEOUT)

    def _discard(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()

    def worker_pids(self) -> list[int]:
        return [self._proc.pid] if self._proc is not None and self._proc.returncode is None else []

    async def aclose(self) -> None:
        self._disarm()
        warming, self._warming = self._warming, None
        if warming is not None and not warming.done():
            # Let a start under way finish (a second at most), then stop that worker: a start
            # cancelled half-way can leave a process or its pipes behind.
            with contextlib.suppress(Exception):
                await warming
            self._disarm()
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            proc.kill()
            await proc.wait()
