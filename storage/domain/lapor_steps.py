"""The id of a /lapor step, written and read in one place.

A draft remembers where the conversation is as a short string: ``"kind:arg"`` — the kind of
question and which item it asks about (``"anggaran:0"``, ``"ind:2"``, ``"hambatan:1"``, the
plan step's ``"rencana:3"`` and ``"rencana:tawar"``) — or ``"review"``. The string is stored
(``Draft.step``) and travels in buttons, so its format stays as it is; this module is the
only code that knows it.
"""

from __future__ import annotations

from dataclasses import dataclass

REVIEW = "review"


@dataclass(frozen=True)
class StepId:
    """A parsed step id: its kind and its argument ("" for the review)."""

    kind: str
    arg: str = ""

    @classmethod
    def parse(cls, step: str) -> StepId:
        kind, _, arg = step.partition(":")
        return cls(kind, arg)

    @property
    def index(self) -> int | None:
        """The item's position in its list (sub kegiatan, indicator, sasaran); None when the
        argument is not a number (the review, "rencana:tawar", a malformed id)."""
        return int(self.arg) if self.arg.isdecimal() else None

    def __str__(self) -> str:
        return f"{self.kind}:{self.arg}" if self.arg else self.kind


def step_id(kind: str, arg: int | str) -> str:
    """The stored form of a step: ``step_id("anggaran", 0) == "anggaran:0"``."""
    return str(StepId(kind, str(arg)))
