"""Who is asking: Telegram Mini App ``initData``, validated as Telegram's WebApp spec says.

Telegram hands the Mini App a query string (``query_id=…&user=…&auth_date=…&hash=…``) signed
with the bot's token: ``secret = HMAC_SHA256(key="WebAppData", msg=token)``, then
``hash = hex(HMAC_SHA256(key=secret, msg=data_check_string))`` where the data-check-string is
every other field as ``key=value``, sorted by key, joined with newlines. Only the bot (and
Telegram) can make it, so a valid one names the Telegram user as surely as an update does.
``auth_date`` bounds how long one stays good. There is no other login.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qsl, urlencode

from storage.domain.errors import MonevError

# Telegram's initData is a few hundred bytes; anything far longer is not from Telegram.
MAX_INIT_DATA = 4096
# A clock a little ahead of Telegram's must not refuse a fresh one.
CLOCK_SKEW_S = 60


class Refusal(StrEnum):
    """Why initData was refused (the view words each one)."""

    MISSING = "missing"
    MALFORMED = "malformed"
    FORGED = "forged"  # the hash does not match: not signed with this bot's token
    STALE = "stale"  # auth_date too old (or in the future)


class InitDataError(MonevError, ValueError):
    def __init__(self, reason: Refusal) -> None:
        super().__init__(detail=reason.value)
        self.reason = reason


@dataclass(frozen=True)
class WebAppUser:
    """The Telegram user the initData names."""

    id: int
    first_name: str
    auth_date: int


def _secret(token: str) -> bytes:
    return hmac.new(b"WebAppData", token.encode("utf-8"), hashlib.sha256).digest()


def _check_string(fields: dict[str, str]) -> bytes:
    return "\n".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "hash").encode("utf-8")


def validate(raw: str, *, token: str, max_age: int, now: float | None = None) -> WebAppUser:
    """The user of ``raw`` initData signed with ``token`` within ``max_age`` seconds; raises
    :class:`InitDataError` saying why not."""
    if not raw:
        raise InitDataError(Refusal.MISSING)
    if len(raw) > MAX_INIT_DATA:
        raise InitDataError(Refusal.MALFORMED)
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise InitDataError(Refusal.MALFORMED) from None
    fields = dict(pairs)
    if len(fields) != len(pairs) or "hash" not in fields:
        raise InitDataError(Refusal.MALFORMED)  # a repeated key could hide a second value
    expected = hmac.new(_secret(token), _check_string(fields), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), fields["hash"].encode("utf-8", "replace")):
        raise InitDataError(Refusal.FORGED)
    try:
        auth_date = int(fields.get("auth_date", ""))
        user = json.loads(fields.get("user", ""))
        user_id = user["id"]
    except (ValueError, TypeError, KeyError, RecursionError):
        raise InitDataError(Refusal.MALFORMED) from None
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        raise InitDataError(Refusal.MALFORMED)
    age = (time.time() if now is None else now) - auth_date
    if age > max_age or age < -CLOCK_SKEW_S:
        raise InitDataError(Refusal.STALE)
    name = user.get("first_name") if isinstance(user, dict) else ""
    return WebAppUser(user_id, name if isinstance(name, str) else "", auth_date)


def sign(user_id: int, *, token: str, first_name: str = "", auth_date: int | None = None) -> str:
    """initData for ``user_id`` as Telegram would make it: for ``monev console`` (whose URL a
    desktop browser opens without Telegram) and tests."""
    fields = {
        "auth_date": str(int(time.time()) if auth_date is None else auth_date),
        "query_id": f"monev{user_id}",
        "user": json.dumps(
            {"id": user_id, "first_name": first_name or "Pengguna", "language_code": "id"},
            separators=(",", ":"),
        ),
    }
    fields["hash"] = hmac.new(_secret(token), _check_string(fields), hashlib.sha256).hexdigest()
    return urlencode(fields)
