"""Telegram's reading of an HTML-formatted message: the text a person sees and its entities.

The offline Bot API stores a message as Telegram returns it (``text`` plus ``entities``, with
offsets in UTF-16 code units), not as the bot sent it; a handler that reads
``message.text_html`` back (to edit a message in place) then gets what it would get from
Telegram, not the HTML escaped a second time.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
    "blockquote": "blockquote",
}


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.offset = 0
        self.open: list[tuple[str, int, dict[str, Any]]] = []
        self.entities: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        extra: dict[str, Any] = {}
        kind = _SIMPLE.get(tag)
        if tag == "a":
            kind, extra = "text_link", {"url": dict(attrs).get("href") or ""}
        elif tag == "span" and ("class", "tg-spoiler") in attrs:
            kind = "spoiler"
        if kind is not None:
            self.open.append((tag, self.offset, {"type": kind, **extra}))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i][0] == tag or (tag == "span" and self.open[i][2]["type"] == "spoiler"):
                _, start, entity = self.open.pop(i)
                if self.offset > start:
                    self.entities.append({**entity, "offset": start, "length": self.offset - start})
                return

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.offset += _units(data)


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """(visible text, entities) of ``text`` in Telegram's HTML parse mode."""
    reader = _Reader()
    reader.feed(text)
    reader.close()
    entities = sorted(reader.entities, key=lambda e: (e["offset"], -e["length"]))
    return "".join(reader.parts), entities
