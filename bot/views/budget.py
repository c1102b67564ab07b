"""One message budget: how much a Telegram message or caption holds, and the two ways of
keeping within it.

Telegram counts what a person sees: the text after its HTML is parsed (tags do not count,
``&amp;`` is one character), in UTF-16 code units (an emoji outside the BMP is two). The limits
are PTB's (``telegram.constants.MessageLimit``), not numbers of our own with a margin: a text is
measured exactly as Telegram measures it.

- ``fit`` keeps one message: whole lines dropped from the end, a "more" line saying so, and a
  tail (a footer, a note on unapproved figures) always kept.
- ``split_html`` cuts a long text into several messages at paragraph or line boundaries (a
  longer line between words), never inside a tag or an entity; a tag open at a cut is closed at
  the end of the part and opened again at the start of the next.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from telegram.constants import MessageLimit

TEXT = int(MessageLimit.MAX_TEXT_LENGTH)  # 4096: a message
CAPTION = int(MessageLimit.CAPTION_LENGTH)  # 1024: a photo's or a document's caption
MORE = "…"

# A tag of Telegram's HTML, an entity, or a run of plain text.
_TOKEN = re.compile(r"<(/?)([a-zA-Z][\w-]*)[^>]*>|&#?\w+;|[^<&]+|[<&]")


def units(text: str) -> int:
    """UTF-16 code units of plain text."""
    return len(text.encode("utf-16-le")) // 2


def visible(html_text: str) -> str:
    """What a person reads of an HTML message: tags left out, entities decoded."""
    if "<" not in html_text and "&" not in html_text:
        return html_text  # plain text: what the tokens below would give back (most rows)
    out: list[str] = []
    for m in _TOKEN.finditer(html_text):
        token = m.group(0)
        if m.group(2):
            continue
        out.append(html.unescape(token) if token.startswith("&") and len(token) > 1 else token)
    return "".join(out)


def length(html_text: str) -> int:
    """How long Telegram counts an HTML message (visible UTF-16 code units)."""
    return units(visible(html_text))


def fits(html_text: str, limit: int = TEXT) -> bool:
    return length(html_text) <= limit


def _open_tags(html_text: str) -> list[tuple[str, str]]:
    """The tags still open at the end of ``html_text``, outermost first: (name, opening tag)."""
    stack: list[tuple[str, str]] = []
    for m in _TOKEN.finditer(html_text):
        name = m.group(2)
        if not name:
            continue
        name = name.lower()
        if m.group(1):
            for i in range(len(stack) - 1, -1, -1):
                if stack[i][0] == name:
                    del stack[i:]
                    break
        else:
            stack.append((name, m.group(0)))
    return stack


def _closed(html_text: str) -> str:
    """``html_text`` with every tag still open closed at its end."""
    return html_text + "".join(f"</{name}>" for name, _ in reversed(_open_tags(html_text)))


def fit(
    text: str,
    limit: int = TEXT,
    *,
    tail: str = "",
    more: str | Callable[[int], str] = MORE,
) -> str:
    """``text + tail`` within ``limit``. When it does not fit, whole lines of ``text`` are
    dropped from its end and ``more`` (or ``more(lines dropped)``) is put on a line after
    what is kept; ``tail`` (which carries its own leading newlines) is always kept. A first
    line longer than everything is cut between words, never inside a tag."""
    if fits(text + tail, limit):
        return text + tail
    lines = text.split("\n")
    sizes = [length(line) + 1 for line in lines]  # + the newline before the next line
    used = sum(sizes)
    for keep in range(len(lines) - 1, 0, -1):
        used -= sizes[keep]
        marker = more(len(lines) - keep) if callable(more) else more
        if used - 1 + length("\n" + marker + tail) <= limit:
            return _closed("\n".join(lines[:keep])) + "\n" + marker + tail
    marker = more(len(lines)) if callable(more) else more
    room = limit - length("\n" + marker + tail)
    if room <= 0:  # the tail alone is too long: show as much of everything as fits
        return split_html(text + tail, limit)[0]
    return split_html(lines[0], room)[0] + "\n" + marker + tail


def split_html(text: str, limit: int = TEXT) -> list[str]:
    """``text`` as messages of at most ``limit`` visible UTF-16 units each. Cut at a blank
    line (a paragraph) when one falls in the second half of a part, else at a line break,
    else between words, else (one word longer than a message) between characters; never
    inside a tag or an entity. A tag open at a cut is closed there and opened again at the
    start of the next part. The separator a cut falls on (and blank lines at the edges of a
    part) is left out; nothing else is."""
    if fits(text, limit):
        return [text]
    # (raw, visible units) per token; a tag is worth 0, an entity 1 (or 2), text char by char.
    tokens: list[tuple[str, int]] = []
    for m in _TOKEN.finditer(text):
        token = m.group(0)
        if m.group(2):
            tokens.append((token, 0))
        elif token.startswith("&") and len(token) > 1:
            tokens.append((token, units(html.unescape(token))))
        else:
            tokens.extend((ch, units(ch)) for ch in token)
    parts: list[str] = []
    reopen = ""
    start = 0
    while start < len(tokens):
        used = 0
        end = start
        while end < len(tokens) and used + tokens[end][1] <= limit:
            used += tokens[end][1]
            end += 1
        if end == start:  # a limit below one character: still move on
            end = start + 1
        if end == len(tokens):
            cut, resume = end, end
        else:
            cut = _best_cut(tokens, start, end, limit)
            resume = cut + 1 if tokens[cut][0] in ("\n", " ") else cut
        raw = "".join(t for t, _ in tokens[start:cut])
        opened = _open_tags(reopen + raw)
        part = reopen + raw.strip("\n") + "".join(f"</{n}>" for n, _ in reversed(opened))
        if visible(part).strip():
            parts.append(part)
        reopen = "".join(tag for _, tag in opened)
        start = resume
    return parts or [""]


def _best_cut(tokens: list[tuple[str, int]], start: int, end: int, limit: int) -> int:
    """Where a part from ``start`` ends (exclusive) when ``tokens[start:end]`` is all that
    fits: a paragraph break in its second half, else a line break, else a space."""
    half = start + (end - start) // 2
    newline = space = -1
    for i in range(end, start, -1):
        raw = tokens[i][0] if i < len(tokens) else ""
        if raw == "\n":
            if i > half and tokens[i - 1][0] == "\n":
                return i - 1
            newline = i if newline < 0 else newline
        elif raw == " " and space < 0:
            space = i
    if newline > start:
        return newline
    if space > start:
        return space
    return end
