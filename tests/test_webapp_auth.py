"""Telegram Mini App initData, checked as Telegram's WebApp spec says (no database)."""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import parse_qsl, urlencode

import pytest

from bot.webapp.auth import InitDataError, Refusal, sign, validate

TOKEN = "123456:TEST-token"


def _refused(raw: str, *, token: str = TOKEN, max_age: int = 3600) -> Refusal:
    with pytest.raises(InitDataError) as exc:
        validate(raw, token=token, max_age=max_age)
    return exc.value.reason


def test_a_signed_init_data_names_its_user() -> None:
    raw = sign(4242, token=TOKEN, first_name="Siti")
    user = validate(raw, token=TOKEN, max_age=60)
    assert (user.id, user.first_name) == (4242, "Siti")


def test_the_hash_is_telegrams_hmac_of_the_sorted_fields() -> None:
    # Built by hand from the spec, not by ``sign``: the two must agree.
    fields = {
        "auth_date": str(int(time.time())),
        "query_id": "AAE",
        "user": '{"id":7,"first_name":"A"}',
    }
    check = "\n".join(f"{k}={fields[k]}" for k in sorted(fields))
    secret = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    assert validate(urlencode(fields), token=TOKEN, max_age=60).id == 7


def test_forged_init_data_is_refused() -> None:
    raw = sign(4242, token=TOKEN)
    # Signed with another bot's token.
    assert _refused(sign(4242, token="999:OTHER")) is Refusal.FORGED
    # Another user put in place of the signed one.
    fields = dict(parse_qsl(raw))
    fields["user"] = fields["user"].replace("4242", "4243")
    assert _refused(urlencode(fields)) is Refusal.FORGED
    # A made-up hash.
    fields = dict(parse_qsl(raw))
    fields["hash"] = "0" * 64
    assert _refused(urlencode(fields)) is Refusal.FORGED


def test_stale_init_data_is_refused() -> None:
    old = sign(4242, token=TOKEN, auth_date=int(time.time()) - 3601)
    assert _refused(old, max_age=3600) is Refusal.STALE
    future = sign(4242, token=TOKEN, auth_date=int(time.time()) + 3600)
    assert _refused(future) is Refusal.STALE
    assert validate(sign(4242, token=TOKEN, auth_date=int(time.time()) - 3500), token=TOKEN,
                    max_age=3600).id == 4242  # fmt: skip


def test_missing_or_malformed_init_data_is_refused() -> None:
    assert _refused("") is Refusal.MISSING
    assert _refused("x" * 5000) is Refusal.MALFORMED
    assert _refused("no-equals-sign") is Refusal.MALFORMED
    assert _refused("user=1&auth_date=2") is Refusal.MALFORMED  # no hash
    raw = sign(4242, token=TOKEN)
    assert _refused(raw + "&auth_date=1") is Refusal.MALFORMED  # a key twice
    # Validly signed, but the user is not an object with an integer id.
    fields = {"auth_date": str(int(time.time())), "user": '{"id":"7"}'}
    check = "\n".join(f"{k}={fields[k]}" for k in sorted(fields))
    secret = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    assert _refused(urlencode(fields)) is Refusal.MALFORMED
