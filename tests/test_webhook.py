"""Webhook mode: the Starlette endpoint in front of the Application, and the whole server."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from telegram import Update
from telegram.ext import Application

from bot.app import build_application
from bot.offline.http import FakeBotAPI, serve_in_thread
from bot.offline.updates import message_dict
from bot.settings import Settings
from bot.webhook import (
    SECRET_HEADER,
    WebhookSettings,
    create_webhook_app,
    run_webhook,
    webhook_secret,
)
from storage.data import db
from tests.test_health import TOKEN

SECRET = "rahasia_webhook-UJI_123"
MAX_BODY = 10_000


def _update(update_id: int, user_id: int = 777, text: str = "/start") -> dict[str, Any]:
    message = message_dict(text, user_id=user_id, message_id=update_id, first_name="Uji")
    return {"update_id": update_id, "message": message}


@pytest.fixture
def application(engine: Engine) -> Application:  # type: ignore[type-arg]
    return build_application(Settings(), engine)


@pytest.fixture
def web(application: Application, engine: Engine) -> Starlette:  # type: ignore[type-arg]
    return create_webhook_app(application, secret=SECRET, engine=engine, max_body=MAX_BODY)


@pytest.fixture
async def client(web: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://webhook.test") as c:
        yield c


def _queued(application: Application) -> list[Any]:  # type: ignore[type-arg]
    items = []
    while not application.update_queue.empty():
        items.append(application.update_queue.get_nowait())
    return items


async def test_good_secret_enqueues_the_update(
    client: httpx.AsyncClient,
    application: Application,  # type: ignore[type-arg]
) -> None:
    r = await client.post("/telegram", json=_update(41), headers={SECRET_HEADER: SECRET})
    assert r.status_code == 200
    [update] = _queued(application)
    assert isinstance(update, Update)
    assert update.update_id == 41
    assert update.effective_user is not None and update.effective_user.id == 777
    assert update.message is not None and update.message.text == "/start"


@pytest.mark.parametrize(
    "headers",
    [{}, {SECRET_HEADER: ""}, {SECRET_HEADER: "salah"}, {SECRET_HEADER: SECRET + "x"}],
    ids=["missing", "empty", "wrong", "longer"],
)
async def test_wrong_or_missing_secret_is_refused(
    client: httpx.AsyncClient,
    application: Application,  # type: ignore[type-arg]
    headers: dict[str, str],
) -> None:
    r = await client.post("/telegram", json=_update(1), headers=headers)
    assert r.status_code == 403
    assert application.update_queue.empty()


async def test_non_ascii_secret_header_is_refused_not_crashing(
    client: httpx.AsyncClient,
    application: Application,  # type: ignore[type-arg]
) -> None:
    headers = [(SECRET_HEADER.encode(), "rahasiä".encode("latin-1"))]
    r = await client.post("/telegram", json=_update(1), headers=headers)
    assert r.status_code == 403
    assert application.update_queue.empty()


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe",
        b"[1, 2]",
        b'"update"',
        b"{}",
        b'{"update_id": "1"}',
        b"",
        # Nesting past the parser's recursion limit (issue 13): a 400, not a 500.
        b'{"update_id": 1, "message": ' + b"[" * 4_000 + b"]" * 4_000 + b"}",
    ],
    ids=["broken", "binary", "list", "string", "empty-object", "string-id", "empty", "nested"],
)
async def test_malformed_or_non_update_json_is_400(
    client: httpx.AsyncClient,
    application: Application,  # type: ignore[type-arg]
    body: bytes,
) -> None:
    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    r = await client.post("/telegram", content=body, headers=headers)
    assert r.status_code == 400
    assert application.update_queue.empty()


async def test_update_that_does_not_parse_is_400(
    client: httpx.AsyncClient,
    application: Application,  # type: ignore[type-arg]
) -> None:
    bad = {"update_id": 5, "message": {"message_id": "x", "chat": "bukan objek"}}
    r = await client.post("/telegram", json=bad, headers={SECRET_HEADER: SECRET})
    assert r.status_code == 400
    assert application.update_queue.empty()


async def test_oversized_body_by_content_length_is_413(
    client: httpx.AsyncClient,
    application: Application,  # type: ignore[type-arg]
) -> None:
    big = _update(2, text="x" * (MAX_BODY + 1))
    r = await client.post("/telegram", json=big, headers={SECRET_HEADER: SECRET})
    assert r.status_code == 413
    assert application.update_queue.empty()


async def test_oversized_body_without_content_length_is_413(
    client: httpx.AsyncClient,
    application: Application,  # type: ignore[type-arg]
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        # A streamed (chunked) body carries no Content-Length: only counting catches it.
        for _ in range(20):
            yield b" " * 1000

    r = await client.post("/telegram", content=chunks(), headers={SECRET_HEADER: SECRET})
    assert r.request.headers.get("content-length") is None
    assert r.status_code == 413
    assert application.update_queue.empty()


async def test_lying_content_length_is_caught_by_the_read_size(
    web: Starlette,
    application: Application,  # type: ignore[type-arg]
) -> None:
    # Straight ASGI, because HTTP clients refuse to send a wrong Content-Length.
    body = json.dumps(_update(3, text="x" * (MAX_BODY * 2))).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/telegram",
        "raw_path": b"/telegram",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"webhook.test"),
            (b"content-length", b"100"),
            (SECRET_HEADER.lower().encode(), SECRET.encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("webhook.test", 80),
    }
    pieces = [body[i : i + 4096] for i in range(0, len(body), 4096)]
    messages = [
        {"type": "http.request", "body": p, "more_body": i < len(pieces) - 1}
        for i, p in enumerate(pieces)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await web(scope, receive, send)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 413
    assert application.update_queue.empty()


async def test_body_at_the_limit_is_accepted(
    client: httpx.AsyncClient,
    application: Application,  # type: ignore[type-arg]
) -> None:
    body = json.dumps(_update(4)).encode()
    body += b" " * (MAX_BODY - len(body))
    assert len(body) == MAX_BODY
    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    r = await client.post("/telegram", content=body, headers=headers)
    assert r.status_code == 200
    assert [u.update_id for u in _queued(application)] == [4]


async def test_burst_of_200_updates_all_enqueued(
    client: httpx.AsyncClient,
    application: Application,  # type: ignore[type-arg]
) -> None:
    headers = {SECRET_HEADER: SECRET}
    responses = await asyncio.gather(
        *(
            client.post("/telegram", json=_update(i, user_id=1000 + i % 17), headers=headers)
            for i in range(200)
        )
    )
    assert [r.status_code for r in responses] == [200] * 200
    assert sorted(u.update_id for u in _queued(application)) == list(range(200))


async def test_only_post_on_the_webhook_path(client: httpx.AsyncClient) -> None:
    assert (await client.get("/telegram")).status_code == 405
    assert (await client.post("/lain", json=_update(1))).status_code == 404


async def test_healthz_ok(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


async def test_healthz_503_when_the_database_is_unreachable(engine: Engine) -> None:
    dead = db.make_engine("postgresql://monev@127.0.0.1:1/monev")
    app = build_application(Settings(), dead)
    web = create_webhook_app(app, secret=SECRET, engine=dead)
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://webhook.test") as c:
        r = await c.get("/healthz")
    dead.dispose()
    assert r.status_code == 503
    assert r.json()["status"] == "error"


def test_empty_secret_is_rejected(engine: Engine) -> None:
    app = build_application(Settings(), engine)
    with pytest.raises(ValueError):
        create_webhook_app(app, secret="", engine=engine)


# --- secret and settings ------------------------------------------------------------------


def test_secret_is_derived_from_the_token_when_not_configured() -> None:
    derived = webhook_secret(TOKEN)
    assert derived == hashlib.sha256(TOKEN.encode()).hexdigest()[:32]
    assert derived == webhook_secret(TOKEN, "")  # stable across restarts
    assert TOKEN not in derived
    assert webhook_secret(TOKEN, "Milik_Kami-1") == "Milik_Kami-1"
    for bad in ("ada spasi", "titik.koma;", "x" * 257):
        with pytest.raises(ValueError, match="WEBHOOK_SECRET"):
            webhook_secret(TOKEN, bad)
    with pytest.raises(ValueError, match="TELEGRAM_BOT_TOKEN"):
        webhook_secret("", "")


def test_webhook_settings_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    for name in ("WEBHOOK_URL", "WEBHOOK_SECRET", "WEBHOOK_LISTEN", "WEBHOOK_PORT"):
        monkeypatch.delenv(name, raising=False)
    ws = WebhookSettings()
    assert (ws.webhook_url, ws.webhook_listen, ws.webhook_port) == ("", "127.0.0.1", 8443)
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.go.id/telegram/")
    monkeypatch.setenv("WEBHOOK_PORT", "")
    monkeypatch.setenv("WEBHOOK_LISTEN", "0.0.0.0")
    ws = WebhookSettings()
    assert ws.path == "/telegram" and ws.webhook_port == 8443 and ws.webhook_listen == "0.0.0.0"


def test_maybe_run_webhook_returns_false_without_url(
    monkeypatch: pytest.MonkeyPatch, engine: Engine, tmp_path: Any
) -> None:
    from bot.cli.ops import maybe_run_webhook

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WEBHOOK_URL", raising=False)
    assert maybe_run_webhook(Settings(), engine) is False


# --- the whole server ---------------------------------------------------------------------


@pytest.fixture
def fake_api() -> Iterator[FakeBotAPI]:
    # In a thread of its own: the server under test may block its event loop while starting.
    with serve_in_thread() as fake:
        yield fake


def _methods(fake: FakeBotAPI) -> list[str]:
    return [c.method for c in fake.api.calls]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _until(predicate: Any, timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


async def test_run_webhook_end_to_end(seeded: Engine, fake_api: FakeBotAPI) -> None:
    """uvicorn + PTB against a fake Bot API: setWebhook, an update in, a reply out, a clean stop."""
    port = _free_port()
    settings = Settings(
        telegram_bot_token=TOKEN,
        telegram_api_base_url=fake_api.base_url,
        telegram_api_base_file_url=fake_api.base_file_url,
        admin_ids=[],
    )
    ws = WebhookSettings(
        webhook_url="https://bot.example.go.id/telegram",
        webhook_secret="",
        webhook_listen="127.0.0.1",
        webhook_port=port,
    )
    stop = asyncio.Event()
    server = asyncio.create_task(run_webhook(settings, seeded, webhook=ws, stop=stop))
    try:
        await _until(lambda: "setWebhook" in _methods(fake_api) or server.done())
        assert not server.done(), server.exception()
        params = fake_api.api.calls_of("setWebhook")[-1].params
        assert params["url"] == "https://bot.example.go.id/telegram"
        assert params["secret_token"] == webhook_secret(TOKEN)
        assert set(params["allowed_updates"]) == set(Update.ALL_TYPES)
        assert "setMyCommands" in _methods(fake_api)  # post_init ran

        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=10) as c:
            assert (await c.get("/healthz")).json() == {"status": "ok"}
            denied = await c.post("/telegram", json=_update(1, user_id=555))
            assert denied.status_code == 403
            headers = {SECRET_HEADER: webhook_secret(TOKEN)}
            r = await c.post("/telegram", json=_update(2, user_id=777), headers=headers)
            assert r.status_code == 200

        def replied_to(chat_id: int) -> bool:
            return any(c.chat_id == chat_id for c in fake_api.api.calls_of("sendMessage"))

        await _until(lambda: replied_to(777))
        assert not replied_to(555)
    finally:
        stop.set()
        await asyncio.wait_for(server, 20)
    # The port is free again: the server really stopped.
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))


async def test_run_webhook_refuses_a_busy_port(seeded: Engine, fake_api: FakeBotAPI) -> None:
    settings = Settings(telegram_bot_token=TOKEN, telegram_api_base_url=fake_api.base_url)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        ws = WebhookSettings(webhook_url="https://bot.example.go.id/telegram", webhook_port=port)
        with pytest.raises(OSError, match="WEBHOOK_PORT"):
            await run_webhook(settings, seeded, webhook=ws)
    assert "setWebhook" not in _methods(fake_api)
