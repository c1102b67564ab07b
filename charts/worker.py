"""The chart-drawing process: reads chart plans on stdin, writes PNG bytes on stdout.

Run by charts.pool as ``python -m charts.worker``. Frames are a 4-byte big-endian length
followed by a pickle; a reply is ``(ok, png_bytes | (exception class name, message))``.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
from typing import BinaryIO

HEADER = struct.Struct(">I")


def _read_exact(stream: BinaryIO, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _first_draw() -> None:
    """Draw one small chart before saying ready: the first drawing loads the fonts and
    builds matplotlib's text caches (a few hundred ms), which a worker started ahead of
    need (``RenderPool.warm``) should not leave to the person's first chart."""
    from charts import render

    meta = render.ChartMeta("Siap", "")
    try:
        render.serapan_per_bidang([render.Bar("Bidang", 50.0)], 60.0, meta)
    except Exception:  # only a warm-up: a real chart reports its own error
        return


def serve() -> None:
    # Ctrl+C in a terminal reaches the whole process group; the bot decides when this worker
    # ends (by closing its stdin), so the worker neither dies mid-chart nor prints a trace.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Drawing is background work: the bot's own process must win the CPU when both want it.
    os.nice(10)
    from charts.answers import draw
    from charts.spec import NoData

    _first_draw()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    stdout.write(HEADER.pack(0))  # ready: matplotlib is loaded, its fonts found
    stdout.flush()
    while True:
        head = _read_exact(stdin, HEADER.size)
        if head is None:
            return
        body = _read_exact(stdin, HEADER.unpack(head)[0])
        if body is None:
            return
        try:
            reply: tuple = (True, draw(pickle.loads(body)))
        except NoData as exc:
            reply = (False, ("NoData", str(exc)))
        except Exception as exc:  # reported to the bot, which logs it
            reply = (False, (type(exc).__name__, str(exc)))
        out = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        stdout.write(HEADER.pack(len(out)) + out)
        stdout.flush()


if __name__ == "__main__":
    try:
        serve()
    except BrokenPipeError:
        # The bot went away while a chart was being sent back: nothing left to do.
        sys.exit(0)
