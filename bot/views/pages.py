"""One phone screen per answer: a long answer cut into pages at whole rows.

A page holds at most ``MAX_LINES`` lines and ``MAX_CHARS`` visible characters (tags not
counted), the answer's first line (what was answered, for which scope and period) heads every
page, and the answer's foot (the note that figures are not approved yet) closes every page, so
no page shows unapproved figures unmarked. Rows of several lines (an item and its indented
figures) stay together; a section heading never ends a page; blank lines never start one.
Pure: the handlers keep the pages and send them.
"""

from __future__ import annotations

from bot.views.budget import visible

MAX_LINES = 15
MAX_CHARS = 1000
MORE = "Selengkapnya ({n}/{total}) ›"
BACK = "‹ Sebelumnya"
CONTINUED = " · <i>lanjutan</i>"
GONE = (
    "Lanjutan jawaban ini sudah tidak tersimpan (jawaban lebih dari 30 hari lalu). "
    "Ketik ulang pertanyaannya."
)
NOT_YOURS = "Tombol ini milik jawaban untuk pengguna lain."


def measure(text: str) -> tuple[int, int]:
    """(lines, visible characters) of a message."""
    shown = visible(text)
    return len(shown.splitlines()), len(shown)


def _units(lines: list[str]) -> list[list[str]]:
    """Lines grouped into rows: an indented line belongs to the row above it."""
    units: list[list[str]] = []
    for line in lines:
        if units and line.startswith((" ", "\u00a0")) and line.strip():
            units[-1].append(line)
        else:
            units.append([line])
    return units


def _is_heading(unit: list[str]) -> bool:
    text = visible("\n".join(unit)).strip()
    return len(unit) == 1 and (text.endswith(":") or (unit[0].startswith("<b>") and
                                                        unit[0].endswith("</b>")))  # fmt: skip


def _fits(lines: list[str], max_lines: int, max_chars: int) -> bool:
    n, chars = measure("\n".join(lines))
    return n <= max_lines and chars <= max_chars


class _Lines:
    """Each line's visible text, made once: pagination measures every candidate page, and a
    long answer (every program of a bidang at 100x the demo office) has a few dozen of them.
    Exact when no tag can span a line break: every "<" of a line has a ">" after it on that
    line (a tag ends at its first ">"; an entity has no line break). Else each page is
    measured whole, as ``measure`` does."""

    def __init__(self, text: str) -> None:
        self._seen: dict[str, str] = {}
        self.exact = all(
            "<" not in line or line.rfind("<") < line.rfind(">") for line in text.split("\n")
        )

    def _visible(self, line: str) -> str:
        shown = self._seen.get(line)
        if shown is None:
            shown = self._seen[line] = visible(line)
        return shown

    def fit(self, lines: list[str], max_lines: int, max_chars: int) -> bool:
        if not self.exact:
            return _fits(lines, max_lines, max_chars)
        shown = "\n".join(self._visible(line) for line in lines)
        return len(shown) <= max_chars and len(shown.splitlines()) <= max_lines


def _blocks(lines: list[str]) -> list[list[str]]:
    """Paragraphs: runs of lines between blank lines."""
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def paginate(
    text: str, foot: str = "", *, max_lines: int = MAX_LINES, max_chars: int = MAX_CHARS
) -> list[str]:
    """``text`` (without ``foot``) as pages of one screen each, ``foot`` closing every page.
    A text that fits is one page, unchanged. Paragraphs stay whole when they fit a page;
    a longer one is cut between rows, never after its heading."""
    whole = text + foot
    lines = text.split("\n")
    head, body = lines[0], lines[1:]
    measured = _Lines(whole + "\n" + head + CONTINUED)
    if measured.fit(whole.split("\n"), max_lines, max_chars):
        return [whole]
    foot_lines = foot.split("\n") if foot else []
    pages: list[list[str]] = []
    current: list[str] = [head]

    def fits(candidate: list[str]) -> bool:
        return measured.fit(candidate + foot_lines, max_lines, max_chars)

    def turn(carry: list[str]) -> list[str]:
        pages.append(current)
        return [head + CONTINUED, *carry]

    for block in _blocks(body):
        sep = [""] if len(current) > 1 else []
        if fits(current + sep + block):
            current += sep + block
            continue
        if len(current) > 1 and fits([head + CONTINUED, *block]):
            current = turn(block)
            continue
        # A paragraph longer than a page: cut between its rows.
        for i, unit in enumerate(_units(block)):
            sep = [""] if i == 0 and len(current) > 1 else []
            if len(current) > 1 and not fits(current + sep + unit):
                carry: list[str] = []
                while len(current) > 2 and _is_heading([current[-1]]):
                    carry.insert(0, current.pop())
                while len(current) > 1 and not current[-1].strip():
                    current.pop()
                current = turn(carry)
                sep = []
            current += sep + unit
    if len(current) > 1 or not pages:
        pages.append(current)
    return ["\n".join(page) + foot for page in pages]
