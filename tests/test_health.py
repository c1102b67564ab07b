"""``monev check``: what it reports for a good installation and for each way to break one."""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from bot.health import check
from bot.offline.api import OfflineBotAPI
from bot.offline.http import FakeBotAPI, serve_in_thread
from bot.settings import Settings
from storage.data import db
from storage.ops.health import CheckResult

TOKEN = "123456789:AAH-fake_token_for_tests_0123456789ab"


@pytest.fixture
def fake_api() -> Iterator[FakeBotAPI]:
    """The offline Bot API on 127.0.0.1, as the bot named by TOKEN."""
    with serve_in_thread(api=OfflineBotAPI(bot_id=123456789, bot_username="monev_uji_bot")) as fake:
        yield fake


def _settings(tmp_path: Path, api: FakeBotAPI | None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_bot_token": TOKEN,
        "telegram_api_base_url": api.base_url if api else "http://127.0.0.1:9/bot",
        "database_url": f"sqlite:///{tmp_path / 'data' / 'monev.db'}",
        "data_dir": tmp_path / "data",
    }
    values.update(overrides)
    return Settings(**values)


def _by_name(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.name: r for r in results}


def _no_token(results: list[CheckResult]) -> None:
    for r in results:
        assert TOKEN not in r.detail
        assert TOKEN.split(":")[1] not in r.detail


def _sqlite_engine(tmp_path: Path) -> Engine:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'data' / 'monev.db'}")
    db.upgrade(engine)
    return engine


def test_good_configuration_passes_every_check(tmp_path: Path, fake_api: FakeBotAPI) -> None:
    engine = _sqlite_engine(tmp_path)
    results = check(_settings(tmp_path, fake_api), engine)
    engine.dispose()
    assert all(r.ok for r in results), results
    names = _by_name(results)
    assert set(names) == {
        "Token bot",
        "DATABASE_URL",
        "Folder data",
        "Basis data",
        "Migrasi",
        "Bot API",
    }
    assert "@monev_uji_bot" in names["Bot API"].detail
    assert "bot id 123456789" in names["Token bot"].detail
    assert [c.method for c in fake_api.api.calls] == ["getMe"]
    _no_token(results)


def test_without_an_engine_the_check_builds_its_own(tmp_path: Path, fake_api: FakeBotAPI) -> None:
    _sqlite_engine(tmp_path).dispose()
    results = check(_settings(tmp_path, fake_api), None)
    assert all(r.ok for r in results), results


def test_quick_stays_off_the_network(tmp_path: Path, fake_api: FakeBotAPI) -> None:
    engine = _sqlite_engine(tmp_path)
    results = check(_settings(tmp_path, fake_api), engine, bot_api=False)
    engine.dispose()
    assert all(r.ok for r in results)
    assert "Bot API" not in _by_name(results)
    assert fake_api.api.calls == []


@pytest.mark.parametrize(
    "token", ["", "123456789", "abc:AAH-fake_token_for_tests_0123456789ab", f"{TOKEN} ", "1:short"]
)
def test_bad_token_shape(tmp_path: Path, fake_api: FakeBotAPI, token: str) -> None:
    engine = _sqlite_engine(tmp_path)
    results = _by_name(check(_settings(tmp_path, fake_api, telegram_bot_token=token), engine))
    engine.dispose()
    assert not results["Token bot"].ok
    assert "TELEGRAM_BOT_TOKEN" in results["Token bot"].detail
    assert not results["Bot API"].ok and "tidak diperiksa" in results["Bot API"].detail
    assert fake_api.api.calls == []  # a malformed token is never sent anywhere
    assert results["Basis data"].ok


def test_token_refused_by_telegram(tmp_path: Path, fake_api: FakeBotAPI) -> None:
    fake_api.api.fail_next("getMe", status=401, description="Unauthorized")
    engine = _sqlite_engine(tmp_path)
    results = check(_settings(tmp_path, fake_api), engine)
    engine.dispose()
    api = _by_name(results)["Bot API"]
    assert not api.ok
    assert "Unauthorized" in api.detail and "@BotFather" in api.detail
    _no_token(results)


def test_bot_api_unreachable(tmp_path: Path) -> None:
    engine = _sqlite_engine(tmp_path)
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    results = check(_settings(tmp_path, None), engine)
    engine.dispose()
    api = _by_name(results)["Bot API"]
    assert not api.ok and "tidak bisa dihubungi" in api.detail
    _no_token(results)


def test_unreachable_database(tmp_path: Path, fake_api: FakeBotAPI) -> None:
    settings = _settings(
        tmp_path, fake_api, database_url="postgresql://monev:rahasia@127.0.0.1:1/monev"
    )
    started = time.monotonic()
    results = _by_name(check(settings, None, bot_api=False))
    assert time.monotonic() - started < 10
    assert results["DATABASE_URL"].ok
    assert "rahasia" not in results["DATABASE_URL"].detail  # password hidden
    assert not results["Basis data"].ok and "tidak bisa dihubungi" in results["Basis data"].detail
    assert not results["Migrasi"].ok and "tidak diperiksa" in results["Migrasi"].detail


def test_unparseable_database_url(tmp_path: Path) -> None:
    results = _by_name(
        check(_settings(tmp_path, None, database_url="ini bukan url"), bot_api=False)
    )
    assert not results["DATABASE_URL"].ok
    assert not results["Basis data"].ok


def test_unwritable_data_dir(tmp_path: Path) -> None:
    # A file where the folder should be: fails for root too, unlike a chmod.
    blocker = tmp_path / "blocker"
    blocker.write_text("bukan folder")
    settings = _settings(tmp_path, None, database_url="", data_dir=blocker / "data")
    results = _by_name(check(settings, None, bot_api=False))
    assert not results["Folder data"].ok
    assert "MONEV_DATA_DIR" in results["Folder data"].detail
    assert not results["Basis data"].ok


def test_read_only_data_dir(tmp_path: Path) -> None:
    import os

    if os.geteuid() == 0:
        pytest.skip("root may write into a read-only folder; covered by test_unwritable_data_dir")
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o500)
    try:
        results = _by_name(check(_settings(tmp_path, None, database_url=""), bot_api=False))
    finally:
        data.chmod(0o700)
    assert not results["Folder data"].ok


def test_missing_sqlite_file_is_reported_not_created(tmp_path: Path) -> None:
    results = _by_name(check(_settings(tmp_path, None), None, bot_api=False))
    assert results["Folder data"].ok
    assert not results["Basis data"].ok and "monev db upgrade" in results["Basis data"].detail
    assert not (tmp_path / "data" / "monev.db").exists()


def test_migrations_behind(engine: Engine, tmp_path: Path) -> None:
    db.downgrade(engine, "base")
    url = engine.url.render_as_string(hide_password=False)
    results = _by_name(check(_settings(tmp_path, None, database_url=url), engine, bot_api=False))
    assert results["Basis data"].ok
    assert not results["Migrasi"].ok
    assert "monev db upgrade" in results["Migrasi"].detail
    db.upgrade(engine)
    results = _by_name(check(_settings(tmp_path, None, database_url=url), engine, bot_api=False))
    assert results["Migrasi"].ok


def test_webhook_info_is_checked_when_webhook_url_is_set(
    tmp_path: Path, fake_api: FakeBotAPI
) -> None:
    engine = _sqlite_engine(tmp_path)
    settings = _settings(tmp_path, fake_api)
    url = "https://bot.example.go.id/telegram"
    results = _by_name(check(settings, engine, webhook_url=url))
    assert not results["Webhook"].ok and "belum terdaftar" in results["Webhook"].detail
    fake_api.api.webhook_url = url
    results = _by_name(check(settings, engine, webhook_url=url))
    engine.dispose()
    assert results["Webhook"].ok


# --- the command ----------------------------------------------------------------------------


def _run_cli(argv: list[str]) -> int:
    from bot.cli.ops import add_ops_commands

    parser = argparse.ArgumentParser(prog="monev")
    add_ops_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args, Settings())


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_api: FakeBotAPI) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "WEBHOOK_URL", "MONEV_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake_api.base_url)
    return tmp_path


def test_monev_check_prints_marks_and_exit_code(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run_cli(["check"]) == 1  # no database yet
    out = capsys.readouterr()
    assert "✘ Basis data" in out.out and "✔ Token bot" in out.out
    assert TOKEN not in out.out + out.err

    _sqlite_engine(env).dispose()
    assert _run_cli(["check"]) == 0
    out = capsys.readouterr()
    assert "✘" not in out.out and "✔ Bot API" in out.out
    assert TOKEN not in out.out + out.err


def test_monev_check_quick(
    env: Path, fake_api: FakeBotAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    _sqlite_engine(env).dispose()
    assert _run_cli(["check", "--quick"]) == 0
    assert "Bot API" not in capsys.readouterr().out
    assert fake_api.api.calls == []
