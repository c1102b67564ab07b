"""How one file writes its numbers: ``812.440.100`` and ``98,47`` (Indonesian) or
``812,440,100`` and ``98.47`` (English), decided once per file.

Most cells decide themselves: two separators, a repeated one, or a single one followed by
other than three digits. Only a single separator followed by exactly three digits
(``1.250``, ``1,250``) can be read both ways; such a cell is read by the file's convention,
which the unambiguous cells establish. When they disagree, or there are none, the file is
ambiguous and the cells that cannot be read are named. Pure: no files, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum


class Style(StrEnum):
    """A file's number convention."""

    ID = "id"  # 1.234.567,89
    EN = "en"  # 1,234,567.89

    @property
    def example(self) -> str:
        return "812.440.100 dan 98,47" if self is Style.ID else "812,440,100 dan 98.47"


_NUMBER_RE = re.compile(
    r"^(?P<open>\()?\s*(?P<minus>-)?\s*(?:rp\.?|idr)?\s*(?P<minus2>-)?\s*"
    r"(?P<num>\d[\d.,\s]*\d|\d)\s*(?P<pct>%)?\s*\)?$",
    re.IGNORECASE,
)
_DASHES = {"-", "–", "—", "rp -", "rp.-", "rp. -", "rp-", "nihil"}


@dataclass(frozen=True)
class Number:
    """A cell that holds a number, as written: its digits and separators, and its sign."""

    core: str  # digits and separators only, e.g. "1.250.000,50"
    negative: bool = False
    percent: bool = False

    @property
    def style(self) -> Style | None:
        """The convention this cell alone proves, None when it proves none (``1250``,
        ``1.250``)."""
        dots, commas = self.core.count("."), self.core.count(",")
        if dots and commas:
            return Style.ID if self.core.rfind(",") > self.core.rfind(".") else Style.EN
        if dots > 1:
            return Style.ID
        if commas > 1:
            return Style.EN
        sep = "." if dots else "," if commas else ""
        if not sep:
            return None
        head, tail = self.core.split(sep)
        if len(tail) == 3 and head != "0":
            return None  # thousands or decimals: the file decides
        return Style.EN if sep == "." else Style.ID

    @property
    def ambiguous(self) -> bool:
        return self.style is None and ("." in self.core or "," in self.core)

    def value(self, style: Style) -> Decimal:
        """The number read by ``style``; raises ValueError when its groups are irregular."""
        group, decimal = (".", ",") if style is Style.ID else (",", ".")
        core = self.core.replace(" ", "")
        whole, _, frac = core.partition(decimal)
        if decimal in frac:
            raise ValueError(core)
        if group in whole and not re.fullmatch(rf"\d{{1,3}}(\{group}\d{{3}})+", whole):
            raise ValueError(core)
        try:
            out = Decimal(whole.replace(group, "") + ("." + frac if frac else ""))
        except InvalidOperation:
            raise ValueError(core) from None
        return -out if self.negative else out


def number_of(text: str) -> Number | None:
    """The number ``text`` holds (``Rp 1.250.000``, ``(5.000)``, ``98,4 %``), else None."""
    t = (text or "").strip()
    if not t or len(t) > 40:
        return None
    m = _NUMBER_RE.match(t)
    if m is None:
        return None
    core = m.group("num").replace(" ", "")
    if not re.fullmatch(r"\d[\d.,]*", core) or ".." in core or ",," in core:
        return None
    negative = bool(m.group("minus") or m.group("minus2") or (m.group("open") and t.endswith(")")))
    return Number(core, negative, bool(m.group("pct")))


def is_dash(text: str) -> bool:
    """``-`` or ``Rp -``: nothing (zero) written as a dash."""
    return " ".join((text or "").lower().split()) in _DASHES


@dataclass
class StyleVote:
    """The cells of a file that prove a convention, and those only a convention can read."""

    proofs: dict[Style, list[str]] = field(default_factory=lambda: {Style.ID: [], Style.EN: []})
    ambiguous: list[str] = field(default_factory=list)  # where, e.g. "F7 '1,250'"

    def add(self, number: Number, where: str) -> None:
        style = number.style
        if style is not None:
            self.proofs[style].append(f"{where} '{number.core}'")
        elif number.ambiguous:
            self.ambiguous.append(f"{where} '{number.core}'")

    def decide(self, given: Style | None = None) -> Style | str:
        """The file's convention, or an Indonesian sentence saying why it cannot be told."""
        if given is not None:
            return given
        ids, ens = self.proofs[Style.ID], self.proofs[Style.EN]
        if ids and not ens:
            return Style.ID
        if ens and not ids:
            return Style.EN
        if not self.ambiguous:
            # Every cell reads alike either way (or each proves itself): nothing to decide.
            return Style.ID if len(ids) >= len(ens) else Style.EN
        cells = ", ".join(self.ambiguous[:3])
        if ids and ens:
            why = (
                f"berkas ini memakai dua cara menulis angka (mis. {ids[0]} dan {ens[0]}), "
                f"sehingga {cells} tidak bisa dipastikan"
            )
        else:
            why = (
                f"{cells} bisa dibaca sebagai ribuan atau desimal, dan tidak ada angka lain "
                "yang memastikannya"
            )
        return (
            f"Cara menulis angka tidak pasti: {why}. Sebutkan dengan --angka id (812.440.100 "
            "dan 98,47) atau --angka en (812,440,100 dan 98.47)."
        )
