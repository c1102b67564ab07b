"""Which of several reported values of one quarter stands.

A quarter's figures can arrive more than once: through the bot (an entry) and in each
imported report from that quarter on, since every report repeats the earlier quarters'
columns and sometimes restates them (Sekretariat TW I: 15,64% in the TW I report, 15,46%
in the later ones). The rule, in this order:

1. a value entered through the bot for the quarter: it is how the quarter is reported
   now, and the importer never overwrites one;
2. the value in the quarter's own report (the TW I report for TW I);
3. otherwise the latest report's value (the highest report id).

Pure: callers pass ``(report_id, value)`` pairs, ``report_id`` None for an entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


def quarter_value(
    candidates: Iterable[tuple[int | None, T]], own_report_id: int | None
) -> T | None:
    """The value that stands for the quarter, None when there is none."""
    pairs = list(candidates)
    for rid, value in pairs:
        if rid is None:
            return value
    if own_report_id is not None:
        for rid, value in pairs:
            if rid == own_report_id:
                return value
    if not pairs:
        return None
    return max(pairs, key=lambda p: p[0] or 0)[1]
