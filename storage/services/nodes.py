"""Finding the node (program, kegiatan, sub kegiatan) a person means by a name.

One matching order for every place that looks a node up by what someone typed (the CLI's
``--node``, ``/riwayat``):

1. an id (digits only);
2. the exact name, compared normalised (``domain.text.normalise_name``: no level prefix,
   case or punctuation);
3. names that begin with the text, else names that contain it;
4. names whose rapidfuzz ``partial_ratio`` with the text is at least ``FUZZY_MIN``, best
   first (typos: "Koodinasi", "PROGAM"), and that hold every word typed, spelled alike.

The first stage that finds anything decides; ``NodeMatch`` says whether the result is
unique, ambiguous or empty. The question parser scores names inside free-text questions
its own way, but normalises with the same function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz import fuzz
from sqlmodel import Session, col, select

from storage.data.models import Node
from storage.domain.periods import default_year
from storage.domain.text import normalise_name
from storage.services.queries import years_with_data

FUZZY_MIN = 80

How = Literal["id", "exact", "prefix", "contains", "fuzzy", "none"]


@dataclass(frozen=True)
class NodeMatch:
    how: How
    nodes: list[Node] = field(default_factory=list)  # best first

    @property
    def unique(self) -> bool:
        return len(self.nodes) == 1

    @property
    def ambiguous(self) -> bool:
        return len(self.nodes) > 1

    @property
    def best(self) -> Node | None:
        return self.nodes[0] if self.nodes else None

    @property
    def sure(self) -> Node | None:
        """The node meant, when the words name one only (or one by its whole name); None
        when they fit several, which the asker must choose between (never a nearby one)."""
        if self.unique or (self.how in ("exact", "id") and self.nodes):
            return self.nodes[0]
        return None


def find_node(session: Session, *, opd_id: int, text: str, tahun: int | None = None) -> NodeMatch:
    """The nodes of the office's year ``tahun`` (default: the latest with a plan) that
    ``text`` names, by the matching order above. An id names a node of this office only."""
    text = text.strip()
    if text.isdecimal():
        node = session.get(Node, int(text))
        if node is not None and node.opd_id == opd_id:
            return NodeMatch("id", [node])
        return NodeMatch("none")
    key = normalise_name(text)
    if not key:
        return NodeMatch("none")
    tahun = default_year(tahun, years_with_data(session, opd_id)) if tahun is None else tahun
    if tahun is None:
        return NodeMatch("none")
    nodes = session.exec(
        select(Node).where(Node.opd_id == opd_id, Node.tahun == tahun).order_by(col(Node.id))
    ).all()
    names = [(n, normalise_name(n.nama)) for n in nodes]
    stages: tuple[tuple[How, Callable[[str], bool]], ...] = (
        ("exact", lambda name: name == key),
        ("prefix", lambda name: name.startswith(key)),
        ("contains", lambda name: key in name),
    )
    for how, matches in stages:
        found = [n for n, name in names if matches(name)]
        if found:
            return NodeMatch(how, found)
    # Every word typed must be in the name, misspelled at most: "pembangunan pasar" is not
    # "Pembangunan Sarana dan Prasarana Industri" because one word of it ("pembangunan") is.
    words = [w for w in key.split() if len(w) >= 3]
    scored = [
        (fuzz.partial_ratio(key, name), n)
        for n, name in names
        if all(any(fuzz.ratio(w, x) >= FUZZY_MIN for x in name.split()) for w in words)
    ]
    fuzzy = [n for score, n in sorted(scored, key=lambda x: -x[0]) if score >= FUZZY_MIN]
    return NodeMatch("fuzzy", fuzzy) if fuzzy else NodeMatch("none")
