"""The Mini App's web routes: page shells, static files and the JSON API, in one Starlette app.

The caller mounts it under ``Settings.webapp_path`` into the web server of webhook mode, or
serves it alone (polling mode, the console, tests: ``bot.webapp.server``). It runs in the
bot's own event loop and reaches the database through the same worker-thread helpers as the
handlers (``MonevContext.read`` / ``write``), and the same services: what the page sends is
checked by the chat's rules, and Kirim ends in the chat's own messages.

Every API request carries Telegram's ``initData`` (``Authorization: tma …``), validated each
time (``bot.webapp.auth``); the Telegram user it names is mapped to role and office exactly
as an update's sender is (``load_actor``, ``policy.may_see_office``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from telegram.error import TelegramError
from telegram.ext import Application

from bot.context import Actor, MonevContext, NoOfficeChosen, load_actor
from bot.handlers.lapor import announce_sent
from bot.settings import Settings
from bot.views import webapp as views
from bot.webapp.auth import InitDataError, validate
from storage.data.boundary import OutOfScope
from storage.domain.errors import MonevError
from storage.domain.periods import today_wib
from storage.domain.policy import DECIDING_ROLES, KABUPATEN_ROLES, Denied, Role
from storage.services import dashboard, lapor_form
from storage.services import lapor_flow as flow
from storage.services.kabupaten import office_label

log = logging.getLogger(__name__)

MAX_BODY = 256 * 1024  # a whole form of a large bidang is a few tens of KB
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
SECURITY_HEADERS = {
    "Content-Security-Policy": views.CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class HttpRefused(MonevError):
    """The request is answered with ``status`` and ``user_message`` and nothing is done."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _static() -> dict[str, bytes]:
    folder = resources.files("bot.webapp") / "static"
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name.endswith((".css", ".js"))}


def _secure(response: Response, *, cache: str = "no-store") -> Response:
    response.headers.update(SECURITY_HEADERS)
    response.headers["Cache-Control"] = cache
    return response


def _json(data: dict, status: int = HTTPStatus.OK) -> Response:
    return _secure(JSONResponse(data, status_code=status))


async def _body(request: Request) -> dict:
    """The request's JSON object, refused beyond ``MAX_BODY`` whatever Content-Length says."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdecimal() or int(declared) > MAX_BODY):
        raise HttpRefused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, views.TOO_LARGE)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise HttpRefused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, views.TOO_LARGE)
    try:
        data = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        raise HttpRefused(HTTPStatus.BAD_REQUEST, views.BAD_REQUEST) from None
    if not isinstance(data, dict):
        raise HttpRefused(HTTPStatus.BAD_REQUEST, views.BAD_REQUEST)
    return data


def _int(data: dict, key: str, *, default: int | None = None) -> int | None:
    value = data.get(key, default)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise HttpRefused(HTTPStatus.BAD_REQUEST, views.BAD_REQUEST)


def create_webapp(application: Application) -> Starlette:
    """The Mini App of ``application`` (its settings, engine, bot token and handlers)."""
    settings: Settings = application.bot_data["settings"]
    base = settings.webapp_path
    static = _static()
    version = hashlib.sha256(b"".join(static[k] for k in sorted(static))).hexdigest()[:12]

    def chat_link() -> str:
        """The bot's chat, where evidence is sent (known once the bot is initialised)."""
        try:
            return f"https://t.me/{application.bot.username}"
        except RuntimeError:
            return ""

    async def who(request: Request) -> MonevContext:
        """The sender of an API request, from its initData (checked on every request)."""
        auth = request.headers.get("authorization", "")
        scheme, _, raw = auth.partition(" ")
        try:
            if scheme.lower() != "tma":
                raw = ""
            user = validate(
                raw.strip(), token=application.bot.token, max_age=settings.webapp_max_age
            )
        except InitDataError as exc:
            log.info("webapp: initData refused (%s)", exc.reason.value)
            raise HttpRefused(HTTPStatus.UNAUTHORIZED, views.REFUSED[exc.reason]) from None
        context = MonevContext(application)
        context.actor = await context.read(load_actor, user.id)
        if not context.actor.active:
            raise HttpRefused(HTTPStatus.FORBIDDEN, views.plain(views.texts.NOT_REGISTERED))
        return context

    def operator(context: MonevContext) -> Actor:
        actor = context.actor
        assert actor is not None
        if not actor.has(Role.OPERATOR):
            raise HttpRefused(HTTPStatus.FORBIDDEN, views.ONLY_OPERATOR)
        return actor

    def api(
        handler: Callable[[Request, MonevContext, dict], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                data = await _body(request)
                context = await who(request)
                return await handler(request, context, data)
            except HttpRefused as exc:
                return _json({"status": "ditolak", "pesan": exc.user_message}, exc.status)
            except NoOfficeChosen:
                return _json(
                    {"status": "ditolak", "pesan": views.plain(views.texts.KAB_NO_OFFICE)},
                    HTTPStatus.FORBIDDEN,
                )
            except OutOfScope:
                # The office boundary refused a read of another office (nothing was read).
                text = views.plain(views.texts.denied(Denied.NOT_THEIR_OFFICE))
                return _json({"status": "ditolak", "pesan": text}, HTTPStatus.FORBIDDEN)

        return endpoint

    # --- pages -------------------------------------------------------------------------------

    def shell(title: str, script: str) -> Callable[[Request], Awaitable[Response]]:
        html = views.page(base=base, title=title, script=script, version=version)

        async def serve(_: Request) -> Response:
            return _secure(HTMLResponse(html), cache="no-cache")

        return serve

    async def static_file(request: Request) -> Response:
        name = request.path_params["name"]
        content = static.get(name)
        if content is None:
            return _secure(Response(views.NOT_FOUND, status_code=HTTPStatus.NOT_FOUND))
        kind = STATIC_TYPES[name[name.rfind(".") :]]
        return _secure(
            Response(content, media_type=kind), cache="public, max-age=31536000, immutable"
        )

    # --- API: who, form, dashboard ----------------------------------------------------------------

    async def api_who(_: Request, context: MonevContext, __: dict) -> Response:
        actor = context.actor
        assert actor is not None
        if actor.has(Role.OPERATOR):
            return _json({"status": "ok", "halaman": "lapor"})
        if actor.role in DECIDING_ROLES | KABUPATEN_ROLES:
            return _json({"status": "ok", "halaman": "dasbor"})
        return _json({"status": "ok", "halaman": "", "pesan": views.INDEX_NONE})

    async def api_form(_: Request, context: MonevContext, __: dict) -> Response:
        actor = operator(context)
        opened = await context.write(
            lapor_form.open_form,
            telegram_id=actor.telegram_id,
            opd_id=context.opd_id,
            today=today_wib(),
        )
        if not isinstance(opened, lapor_form.Form):
            return _json({"status": "pesan", "pesan": views.opened_message(opened)})
        return _json({"status": "ok", "form": views.form_json(opened, chat_link=chat_link())})

    async def api_check(_: Request, context: MonevContext, data: dict) -> Response:
        actor = operator(context)
        key, text = data.get("isian"), data.get("teks")
        if not isinstance(key, str) or not isinstance(text, str) or len(key) > 64:
            raise HttpRefused(HTTPStatus.BAD_REQUEST, views.BAD_REQUEST)
        checked = await context.read(
            lapor_form.check_field, telegram_id=actor.telegram_id, key=key, text=text
        )
        if isinstance(checked, lapor_form.NoDraft):
            return _json({"status": "tanpa_draf", "pesan": views.NO_DRAFT}, HTTPStatus.CONFLICT)
        return _json(views.checked_json(key, checked))

    async def api_save(_: Request, context: MonevContext, data: dict) -> Response:
        actor = operator(context)
        revision = _int(data, "revisi")
        raw = data.get("isian")
        if revision is None or not isinstance(raw, dict) or len(raw) > lapor_form.MAX_ANSWERS:
            raise HttpRefused(HTTPStatus.BAD_REQUEST, views.BAD_REQUEST)
        answers: dict[str, lapor_form.Answer] = {}
        for key, value in raw.items():
            if not isinstance(value, dict) or not isinstance(value.get("teks"), str):
                raise HttpRefused(HTTPStatus.BAD_REQUEST, views.BAD_REQUEST)
            answers[key[:64]] = lapor_form.Answer(value["teks"], value.get("ya") is True)
        result = await context.write_cached(
            lapor_form.save_form,
            telegram_id=actor.telegram_id,
            revision=revision,
            answers=answers,
        )
        if isinstance(result, lapor_form.NoDraft):
            return _json({"status": "tanpa_draf", "pesan": views.NO_DRAFT}, HTTPStatus.CONFLICT)
        if isinstance(result, lapor_form.Changed):
            return _json(views.changed_json(result, chat_link=chat_link()), HTTPStatus.CONFLICT)
        log.info("webapp: form saved (%d fields)", len(result.stored))
        return _json(views.saved_json(result, chat_link=chat_link()))

    async def api_send(_: Request, context: MonevContext, data: dict) -> Response:
        actor = operator(context)
        revision = _int(data, "revisi")
        over = _int(data, "menimpa")
        discard = data.get("buang") is True
        if revision is None:
            raise HttpRefused(HTTPStatus.BAD_REQUEST, views.BAD_REQUEST)
        result = await context.write_cached(
            lapor_form.send_form,
            telegram_id=actor.telegram_id,
            revision=revision,
            over=over,
            discard=discard,
            bukti_wajib=settings.bukti_wajib,
        )
        if isinstance(result, lapor_form.NoDraft):
            return _json({"status": "tanpa_draf", "pesan": views.NO_DRAFT}, HTTPStatus.CONFLICT)
        if isinstance(result, lapor_form.Changed):
            return _json(views.changed_json(result, chat_link=chat_link()), HTTPStatus.CONFLICT)
        if isinstance(result, flow.Sent):
            log.info("webapp: report sent from the form")
            try:
                await announce_sent(context, actor.telegram_id, result)
            except TelegramError as exc:
                # Sent and stored; only the chat's confirmation did not go out.
                log.warning("webapp: could not confirm in the chat (%s)", type(exc).__name__)
        return _json(views.sent_json(result, chat_link=chat_link()))

    async def api_dashboard(_: Request, context: MonevContext, data: dict) -> Response:
        actor = context.actor
        assert actor is not None
        if actor.role not in DECIDING_ROLES | KABUPATEN_ROLES:
            raise HttpRefused(HTTPStatus.FORBIDDEN, views.DASHBOARD_ONLY)
        tahun, tw, opd = _int(data, "tahun"), _int(data, "tw"), _int(data, "opd")
        if tw is not None and not 1 <= tw <= 4:
            raise HttpRefused(HTTPStatus.BAD_REQUEST, views.BAD_REQUEST)
        kabupaten = actor.role in KABUPATEN_ROLES and await context.read(dashboard.several_offices)
        if kabupaten and not opd:
            board = await context.read(dashboard.kabupaten_dashboard, tahun=tahun, tw=tw)
            return _json({"status": "ok", "html": views.kabupaten_html(board)})
        office = opd or context.opd_id
        if not context.may_see(office):
            raise HttpRefused(HTTPStatus.FORBIDDEN, views.denied_message(Denied.NOT_THEIR_OFFICE))
        d = await context.read(
            dashboard.office_dashboard,
            office,
            tahun=tahun,
            tw=tw,
            today=today_wib(),
        )
        label = await context.read(office_label, office)
        return _json({"status": "ok", "html": views.office_html(d, office=label, back=kabupaten)})

    async def not_found(_: Request) -> Response:
        return _secure(Response(views.NOT_FOUND, status_code=HTTPStatus.NOT_FOUND))

    routes: list[Any] = [
        Route("/", shell(views.TITLE_INDEX, "index")),
        Route("/lapor", shell(views.TITLE_FORM, "lapor")),
        Route("/dasbor", shell(views.TITLE_DASHBOARD, "dasbor")),
        Route("/static/{name}", static_file),
        Route("/api/siapa", api(api_who), methods=["POST"]),
        Route("/api/lapor", api(api_form), methods=["POST"]),
        Route("/api/lapor/periksa", api(api_check), methods=["POST"]),
        Route("/api/lapor/simpan", api(api_save), methods=["POST"]),
        Route("/api/lapor/kirim", api(api_send), methods=["POST"]),
        Route("/api/dasbor", api(api_dashboard), methods=["POST"]),
        Route("/{rest:path}", not_found),
    ]
    return Starlette(routes=routes)
