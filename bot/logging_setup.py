"""Logging for a server: one line per event, rotation, and no bot token in any line.

The Bot API URL carries the token (``https://api.telegram.org/bot<TOKEN>/getMe``), so any
library that logs a URL or an exception text can leak it. Redaction therefore happens in
a handler filter (handler filters see propagated records; logger filters would not) and
once more on the formatted line, which also covers tracebacks.

Handlers must never log what users write; that is their policy, this module only makes
sure that whatever is logged is safe to keep in a file.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.domain.periods import WIB

TOKEN_PATTERN = re.compile(r"\d{6,}:[A-Za-z0-9_-]{30,}")
REDACTED = "<TOKEN-DISEMBUNYIKAN>"

MAX_BYTES = 5 * 1024 * 1024
BACKUP_COUNT = 5


# Loggers that put a request URL (and with it the token) into their INFO lines, or that
# chatter at INFO about every scheduled job.
QUIET_LOGGERS = ("httpx", "httpcore", "apscheduler", "uvicorn.access", "alembic")

# Attributes every LogRecord has; anything else came in through ``extra=`` and is printed.
_STANDARD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's ANSI-coloured duplicate of msg
}

# Marks handlers installed here, so a second setup_logging() replaces rather than doubles.
_OWN_HANDLER = "_monev_handler"


def redact(text: str) -> str:
    """``text`` with everything shaped like a bot token replaced."""
    return TOKEN_PATTERN.sub(REDACTED, text)


class RedactTokenFilter(logging.Filter):
    """Removes bot tokens from a record's message, arguments and exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the event
            message = f"{record.msg!r} {record.args!r}"
        # Freezing the formatted message drops the args, so nothing downstream can format
        # the raw (token-carrying) arguments again.
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _value(value: object) -> str:
    text = str(value)
    if text and not any(c in text for c in ' "=\n\r\t\\'):
        return text
    return json.dumps(text, ensure_ascii=False)


class KeyValueFormatter(logging.Formatter):
    """``ts=… level=… logger=… msg="…"`` on a single line, tracebacks included."""

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, WIB).isoformat(timespec="milliseconds")
        parts = [
            f"ts={ts}",
            f"level={record.levelname}",
            f"logger={record.name}",
            f"msg={_value(record.getMessage())}",
        ]
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                parts.append(f"{key}={_value(value)}")
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            parts.append(f"exc={_value(record.exc_text)}")
        if record.stack_info:
            parts.append(f"stack={_value(record.stack_info)}")
        return redact(" ".join(parts))


def _level(level: str | int) -> int:
    if isinstance(level, int):
        return level
    mapping = logging.getLevelNamesMapping()
    name = level.strip().upper()
    if name not in mapping:
        raise ValueError(
            f"Tingkat log '{level}' tidak dikenal. Pilih DEBUG, INFO, WARNING, ERROR atau CRITICAL."
        )
    return mapping[name]


def setup_logging(level: str | int = "INFO", log_file: Path | None = None) -> None:
    """Configure the root logger: stderr always, plus a rotating file when ``log_file`` is set."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _OWN_HANDLER, False):
            root.removeHandler(handler)
            handler.close()

    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        log_file = Path(log_file)
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(
            RotatingFileHandler(
                log_file, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
            )
        )
    formatter = KeyValueFormatter()
    redactor = RedactTokenFilter()
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(redactor)
        setattr(handler, _OWN_HANDLER, True)
        root.addHandler(handler)
    root.setLevel(_level(level))
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


class LogSettings(BaseSettings):
    """MONEV_LOG_LEVEL and MONEV_LOG_FILE (not part of bot.settings.Settings)."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    log_level: str = Field(default="INFO", alias="MONEV_LOG_LEVEL")
    log_file: Path | None = Field(default=None, alias="MONEV_LOG_FILE")

    @field_validator("log_file", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        # "MONEV_LOG_FILE=" in .env.example means "no file", not the current folder.
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _empty_is_default(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return "INFO"
        return value


def setup_logging_from_env() -> None:
    """setup_logging() with MONEV_LOG_LEVEL and MONEV_LOG_FILE from the environment or .env."""
    s = LogSettings()
    setup_logging(s.log_level, s.log_file)
