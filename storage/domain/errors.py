"""The one base of the product's exceptions.

Every exception the product raises on purpose derives from :class:`MonevError`, and carries
``user_message``: what a person may be told about it (Indonesian, plain text, not yet
escaped for HTML). A handler that catches one to answer shows ``user_message``; the class
says what happened, the message says it to the person. Classes whose message is only for
the log (a lost lock, a worker that died) keep the class default, which tells the person
nothing went through.
"""

from __future__ import annotations


class MonevError(Exception):
    """A refusal or failure the product knows; ``user_message`` is for the person."""

    # What a person is told when the raiser gave no message of its own.
    default_message = "Maaf, permintaan itu tidak dapat diproses saat ini. Coba lagi nanti."

    def __init__(self, user_message: str | None = None, *, detail: str | None = None) -> None:
        """``detail``: what ``str()`` gives for the log when it is not the person's message
        (an id, an English cause); without it ``str()`` is ``user_message``."""
        message = self.default_message if user_message is None else user_message
        super().__init__(message if detail is None else detail)
        self.user_message: str = message


class ExportError(MonevError, ValueError):
    """A report, recap or archive that cannot be made for what was asked (no data for the
    period, a quarter out of range, an unknown format)."""
