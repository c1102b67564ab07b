"""Building a large file in memory without the cyclic collector's repeated full passes.

A report at a large office's size is some 200,000 cells, each a small tracked object inside
XlsxWriter until the file is written, besides the office-year's rows. While they pile up, the
cyclic garbage collector runs its full pass over the whole process again and again (a third of
the time of a 3,300-sub-kegiatan export) and finds nothing to free: the objects are alive
until the file is done, and reference counting frees them afterwards. So it is paused for
that stretch only.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0  # builds under way in any thread
_resume = False  # whether the collector was on when the first of them began


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector until this block ends (reference counting goes on).

    Nested and concurrent blocks share one pause: the collector resumes when the last of them
    ends, and only if it was on when the first began.
    """
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _resume:
                gc.enable()
