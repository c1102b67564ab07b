"""The Mini App's API through the real Application, on both databases: the form writes the chat's
draft under the chat's rules, refuses forged or stale initData, other bidang and offices, and a
save onto a draft the chat changed; Kirim ends in the chat's own verification card."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.views import webapp as views
from bot.webapp.routes import MAX_BODY
from storage.data.db import read_scope, session_scope
from storage.data.models import Bidang, Draft, DraftStatus, Pelaporan, StatusLaporan
from storage.services.submission import load
from tests.bot_harness import KEPALA, OPERATOR_KOP, Bot
from tests.conftest import Templates, clone_database
from tests.webapp_harness import OPERATOR_SEK, WEBAPP_URL, WebClient, init_data, webapp_bot


@pytest.fixture
async def wbot(seeded: Engine) -> AsyncIterator[Bot]:
    async with webapp_bot(seeded) as b:
        yield b


@pytest.fixture
async def sek(wbot: Bot) -> AsyncIterator[WebClient]:
    client = WebClient(wbot, OPERATOR_SEK)
    yield client
    await client.aclose()


def _drafts(engine: Engine) -> list[Draft]:
    with read_scope(engine) as s:
        return list(s.exec(select(Draft).where(Draft.status == DraftStatus.AKTIF)).all())


def _draft_data(engine: Engine, telegram_id: int = OPERATOR_SEK) -> tuple[int, dict, str]:
    from storage.services.users import get_user

    with read_scope(engine) as s:
        user = get_user(s, telegram_id=telegram_id)
        assert user is not None
        d = s.exec(
            select(Draft).where(Draft.user_id == user.id, Draft.status == DraftStatus.AKTIF)
        ).one()
        return d.revision, load(d), d.step


def _sub_key(form: dict, i: int, kind: str = "anggaran") -> str:
    return f"{kind}:{form['subs'][i]['id']}"


# --- the setting: buttons only when MONEV_WEBAPP_URL is set -----------------------------------


def _raw_keyboard(bot: Bot, user_id: int) -> list[dict]:
    for call in reversed(bot.api.sent(user_id)):
        markup = call.params.get("reply_markup")
        if markup:
            data = json.loads(markup) if isinstance(markup, str) else markup
            return [b for row in data.get("inline_keyboard", []) for b in row]
    return []


async def test_without_the_setting_no_button_and_no_menu(bot: Bot) -> None:
    await bot.say(OPERATOR_KOP, "/lapor")
    assert _raw_keyboard(bot, OPERATOR_KOP)
    assert not any("web_app" in b for b in _raw_keyboard(bot, OPERATOR_KOP))
    await bot.say(KEPALA, "/start")
    assert not any("web_app" in b for b in _raw_keyboard(bot, KEPALA))
    assert not bot.api.calls_of("setChatMenuButton")
    assert "webapp_server" not in bot.app.bot_data


async def test_with_the_setting_lapor_start_and_menu_open_the_mini_app(wbot: Bot) -> None:
    await wbot.say(OPERATOR_KOP, "/lapor")
    web = [b for b in _raw_keyboard(wbot, OPERATOR_KOP) if "web_app" in b]
    assert web == [{"text": views.FORM_BUTTON, "web_app": {"url": f"{WEBAPP_URL}/lapor"}}]
    # The chat's own choices are still there, unchanged.
    assert any(label.startswith("Isi TW") for label, _ in wbot.buttons(OPERATOR_KOP))
    await wbot.say(KEPALA, "/start")
    assert any(
        b.get("web_app") == {"url": f"{WEBAPP_URL}/dasbor"} for b in _raw_keyboard(wbot, KEPALA)
    )
    [menu] = wbot.api.calls_of("setChatMenuButton")
    button = menu.params["menu_button"]
    button = json.loads(button) if isinstance(button, str) else button
    assert button["type"] == "web_app" and button["web_app"]["url"] == f"{WEBAPP_URL}/"


# --- who may: initData, role, bidang, office ---------------------------------------------------


async def test_forged_stale_or_missing_init_data_is_refused_and_nothing_changes(
    wbot: Bot,
) -> None:
    cases = [
        (init_data(wbot, OPERATOR_SEK, token="999:OTHER"), "tidak ditandatangani Telegram"),
        (init_data(wbot, OPERATOR_SEK, age=13 * 3600), "kedaluwarsa"),
        ("", "di luar Telegram"),
    ]
    for raw, words in cases:
        client = WebClient(wbot, OPERATOR_SEK, raw=raw)
        try:
            for path in ("lapor", "lapor/simpan", "lapor/kirim", "dasbor", "siapa"):
                status, body = await client.post(path, {"revisi": 0, "isian": {}})
                assert status == 401, path
                assert body["status"] == "ditolak" and words in body["pesan"]
        finally:
            await client.aclose()
    assert _drafts(wbot.engine) == []  # not even a draft begun


async def test_roles_each_get_their_page_and_only_theirs(wbot: Bot, sek: WebClient) -> None:
    assert (await sek.post("siapa"))[1]["halaman"] == "lapor"
    kepala = WebClient(wbot, KEPALA)
    stranger = WebClient(wbot, 9100)
    try:
        assert (await kepala.post("siapa"))[1]["halaman"] == "dasbor"
        status, body = await kepala.post("lapor/simpan", {"revisi": 0, "isian": {}})
        assert status == 403 and "operator bidang" in body["pesan"]
        status, body = await sek.post("dasbor")
        assert status == 403 and "kepala dinas" in body["pesan"]
        status, body = await stranger.post("lapor")
        assert status == 403 and "belum terdaftar" in body["pesan"]
    finally:
        await kepala.aclose()
        await stranger.aclose()


async def test_an_operator_of_another_bidang_cannot_touch_sekretariat(
    wbot: Bot, sek: WebClient
) -> None:
    _, opened = await sek.post("lapor")
    form = opened["form"]
    rev, before, _ = _draft_data(wbot.engine)
    kop = WebClient(wbot, OPERATOR_KOP)
    try:
        _, own = await kop.post("lapor")
        assert own["form"]["judul"] == "Laporan TW IV 2022 — Koperasi"
        theirs = {_sub_key(form, i): {"teks": "1.000.000"} for i in range(3)}
        status, body = await kop.post(
            "lapor/simpan", {"revisi": own["form"]["revisi"], "isian": theirs}
        )
        assert status == 200 and body["disimpan"] == []
        assert set(body["galat"]) == set(theirs)
        assert all(v == views.UNKNOWN_FIELD for v in body["galat"].values())
        status, body = await kop.post("lapor/periksa", {"isian": _sub_key(form, 0), "teks": "1"})
        assert body["galat"] == views.UNKNOWN_FIELD
    finally:
        await kop.aclose()
    assert _draft_data(wbot.engine) == (rev, before, _draft_data(wbot.engine)[2])


# --- the form: the chat's checks and drop confirmation, the same draft ---------------------------


async def test_the_form_checks_as_the_chat_does_and_asks_before_a_drop(
    wbot: Bot, sek: WebClient
) -> None:
    _, opened = await sek.post("lapor")
    form = opened["form"]
    assert form["judul"] == "Laporan TW IV 2022 — Sekretariat" and len(form["subs"]) == 18
    first = form["subs"][0]
    assert first["lalu"] == "TW lalu: Rp 5.527.500 · fisik 64,12%"
    assert first["pagu"] == "Rp 8.619.950" and first["lalu_anggaran"] == "5.527.500"
    key = _sub_key(form, 0)
    _, checked = await sek.post("lapor/periksa", {"isian": key, "teks": "banyak sekali"})
    assert "bukan jumlah rupiah" in checked["galat"]
    _, checked = await sek.post("lapor/periksa", {"isian": key, "teks": "6,5 jt"})
    assert checked["nilai"] == "Rp 6.500.000" and not checked["galat"]
    for typed, shown in [("Rp 6.000.000,-", "Rp 6.000.000"), ("Rp. 6.100.000,00", "Rp 6.100.000"),
                         ("6 juta rupiah", "Rp 6.000.000"), ("6jt", "Rp 6.000.000")]:  # fmt: skip
        _, checked = await sek.post("lapor/periksa", {"isian": key, "teks": typed})
        assert checked["nilai"] == shown and not checked["galat"], typed
    _, checked = await sek.post("lapor/periksa", {"isian": key, "teks": "6.000,5"})
    assert "meragukan" in checked["galat"] and "Rp 6.000.500" in checked["galat"]
    _, checked = await sek.post("lapor/periksa", {"isian": key, "teks": "9 jt"})
    assert "melebihi pagu" in checked["galat"]
    rev = form["revisi"]
    answers = {
        key: {"teks": "5 jt"},  # below last quarter's 5.527.500: asks first
        _sub_key(form, 0, "fisik"): {"teks": "70"},
        _sub_key(form, 1): {"teks": ""},  # a figure cannot be left empty
        _sub_key(form, 0, "ket"): {"teks": "rapat\x00 koordinasi"},
    }
    status, body = await sek.post("lapor/simpan", {"revisi": rev, "isian": answers})
    assert status == 200
    assert body["disimpan"] == [_sub_key(form, 0, "fisik"), _sub_key(form, 0, "ket")]
    assert "lebih kecil daripada triwulan lalu" in body["konfirmasi"][key]
    assert body["galat"][_sub_key(form, 1)] == views.EMPTY_FIGURE
    new_rev, data, step = _draft_data(wbot.engine)
    item = data["items"][str(first["id"])]
    assert new_rev == body["form"]["revisi"] != rev
    assert item.get("anggaran") is None and item["fisik"] == 70.0
    assert item["ket"] == "rapat koordinasi"  # the chat's clean_text
    assert step == "anggaran:0"  # the chat carries on at the first open question
    # Confirmed: stored and remembered as a finding, like "Ya, benar" in the chat.
    status, body = await sek.post(
        "lapor/simpan", {"revisi": new_rev, "isian": {key: {"teks": "5 jt", "ya": True}}}
    )
    assert body["disimpan"] == [key]
    _, data, step = _draft_data(wbot.engine)
    assert data["items"][str(first["id"])]["anggaran"] == 5_000_000
    assert first["id"] in data["turun"] and step == "anggaran:1"
    assert any("turun" in n for n in body["form"]["catatan"])


async def test_a_change_made_in_the_chat_is_shown_never_overwritten(
    wbot: Bot, sek: WebClient
) -> None:
    _, opened = await sek.post("lapor")
    form = opened["form"]
    key = _sub_key(form, 0)
    # Meanwhile in the chat: /lapor, "Lanjutkan", and the first answer typed.
    await wbot.say(OPERATOR_SEK, "/lapor")
    resume = next(d for label, d in wbot.buttons(OPERATOR_SEK) if label == "Lanjutkan")
    await wbot.press(OPERATOR_SEK, resume)
    assert "fisik" in await wbot.say(OPERATOR_SEK, "6 jt")
    rev, chat_data, _ = _draft_data(wbot.engine)
    # The page still shows the draft as it was: its save is refused, nothing written.
    status, body = await sek.post(
        "lapor/simpan", {"revisi": form["revisi"], "isian": {key: {"teks": "7 jt"}}}
    )
    assert status == 409 and body["status"] == "berubah" and body["pesan"] == views.CHANGED
    assert body["form"]["subs"][0]["anggaran"] == "6.000.000"  # the chat's value, shown
    assert _draft_data(wbot.engine)[:2] == (rev, chat_data)
    status, body = await sek.post("lapor/kirim", {"revisi": form["revisi"]})
    assert status == 409 and body["status"] == "berubah"
    # Seen: saved onto the current revision.
    status, body = await sek.post(
        "lapor/simpan",
        {
            "revisi": body["form"]["revisi"],
            "isian": {key: {"teks": "7 jt"}, _sub_key(form, 0, "fisik"): {"teks": "75"}},
        },
    )
    assert status == 200 and len(body["disimpan"]) == 2
    _, data, _ = _draft_data(wbot.engine)
    assert data["items"][str(form["subs"][0]["id"])]["anggaran"] == 7_000_000
    # The chat's button of the question the form answered now acts on nothing.
    same = next(d for label, d in wbot.buttons(OPERATOR_SEK) if label.startswith("Sama dengan"))
    shown = await wbot.press(OPERATOR_SEK, same)
    assert "langkah yang sudah lewat" in shown
    assert _draft_data(wbot.engine)[1]["items"][str(form["subs"][0]["id"])]["fisik"] == 75.0


# --- Kirim: the chat's submission, the chat's verifier card ------------------------------------


def _answers_for_all(form: dict) -> dict[str, dict]:
    answers: dict[str, dict] = {}
    for s in form["subs"]:
        answers[f"anggaran:{s['id']}"] = {"teks": s["lalu_anggaran"] or "1.000"}
        answers[f"fisik:{s['id']}"] = {"teks": s["lalu_fisik"] or "10"}
    for i in form["indikator"]:
        answers[f"ind:{i['id']}"] = {"teks": i["lalu"] or "50"}
    for sas in form["sasaran"]:
        for x in sas["isian"]:
            answers[f"{x['kind']}:{sas['id']}"] = {"teks": f"{x['label']} dari formulir"}
    return answers


async def _submit_from_form(bot: Bot, user_id: int) -> dict:
    client = WebClient(bot, user_id)
    try:
        _, opened = await client.post("lapor")
        form = opened["form"]
        _, saved = await client.post(
            "lapor/simpan", {"revisi": form["revisi"], "isian": _answers_for_all(form)}
        )
        assert not saved["galat"] and not saved["konfirmasi"], saved
        status, sent = await client.post("lapor/kirim", {"revisi": saved["form"]["revisi"]})
        assert status == 200, sent
        return sent
    finally:
        await client.aclose()


async def _submit_in_chat(bot: Bot, user_id: int, form: dict) -> None:
    """The same answers typed into the chat, one question at a time."""
    await bot.say(user_id, "/lapor")
    await bot.press(
        user_id, next(d for label, d in bot.buttons(user_id) if label.startswith("Isi"))
    )
    for s in form["subs"]:
        await bot.say(user_id, s["lalu_anggaran"] or "1.000")
        await bot.say(user_id, s["lalu_fisik"] or "10")
        await bot.press(user_id, next(d for label, d in bot.buttons(user_id) if label == "Lewati"))
    for i in form["indikator"]:
        await bot.say(user_id, i["lalu"] or "50")
    for sas in form["sasaran"]:
        for x in sas["isian"]:
            await bot.say(user_id, f"{x['label']} dari formulir")
    await bot.press(user_id, next(d for label, d in bot.buttons(user_id) if "Kirim" in label))


async def test_kirim_from_the_form_sends_the_chats_card_and_the_kepala_approves(
    wbot: Bot,
) -> None:
    sent = await _submit_from_form(wbot, OPERATOR_KOP)
    assert sent["status"] == "terkirim" and "terkirim" in sent["pesan"]
    # In the chat: the operator's confirmation, and the kepala's card with its buttons.
    assert "terkirim" in wbot.api.sent(OPERATOR_KOP)[-1].text
    card = [c for c in wbot.api.sent(KEPALA) if c.text and "Koperasi" in c.text]
    assert card and "Bidang Koperasi" in (card[-1].text or "")
    approve = next(d for label, d in wbot.buttons(KEPALA) if label == "✅ Setujui")
    await wbot.press(KEPALA, approve)
    with read_scope(wbot.engine) as s:
        kop = s.exec(select(Bidang).where(Bidang.kode == "koperasi")).one()
        p = s.exec(
            select(Pelaporan).where(Pelaporan.bidang_id == kop.id, Pelaporan.triwulan == 4)
        ).one()
        assert p.status == StatusLaporan.DISETUJUI
    assert "disetujui" in (wbot.api.sent(OPERATOR_KOP)[-1].text or "")


async def test_the_forms_card_is_the_chats_card(
    seeded: Engine, backend: str, tmp_path: Path, templates: Templates
) -> None:
    """Koperasi's quarter sent from the form in one database and typed into the chat in
    another: the kepala receives the same card, word for word."""
    async with webapp_bot(seeded) as web_side:
        client = WebClient(web_side, OPERATOR_KOP)
        form = (await client.post("lapor"))[1]["form"]
        await client.aclose()
        await _submit_from_form(web_side, OPERATOR_KOP)
        from_form = [c.text for c in web_side.api.sent(KEPALA)]
    (tmp_path / "chat").mkdir()
    other, schema = clone_database(backend, tmp_path / "chat", templates, seeded=True)
    try:
        async with webapp_bot(other) as chat_side:
            await _submit_in_chat(chat_side, OPERATOR_KOP, form)
            from_chat = [c.text for c in chat_side.api.sent(KEPALA)]
            buttons = chat_side.buttons(KEPALA)
    finally:
        other.dispose()
        if schema:
            from tests.conftest import _drop_pg_schema

            _drop_pg_schema(schema)
    assert from_form == from_chat and from_form
    assert buttons == web_side.buttons(KEPALA)


async def test_kirim_refuses_an_incomplete_draft_without_changing_it(
    wbot: Bot, sek: WebClient
) -> None:
    _, opened = await sek.post("lapor")
    status, body = await sek.post("lapor/kirim", {"revisi": opened["form"]["revisi"]})
    assert status == 200 and body["status"] == "ditolak"
    assert "tanpa realisasi anggaran" in body["pesan"]
    rev, _, step = _draft_data(wbot.engine)
    assert (rev, step) == (opened["form"]["revisi"], "anggaran:0")


# --- the dashboard: the chat's figures, each office its own -------------------------------------


async def test_the_dashboard_shows_the_chats_figures(wbot: Bot) -> None:
    kepala = WebClient(wbot, KEPALA)
    try:
        status, body = await kepala.post("dasbor")
        assert status == 200
        html = body["html"]
        answer = await wbot.say(KEPALA, "serapan anggaran tw3")
        for figure in ("45,22%", "64,70%", "74,81%", "14,20%", "17,69%", "33,48%"):
            assert figure in html and figure in answer
        assert "Peringatan dini TW III 2022" in html and "Status pelaporan TW III 2022" in html
        assert "Sedang dilaporkan: TW IV 2022 (0 dari 5 bidang sudah lapor)" in html
        _, body = await kepala.post("dasbor", {"tahun": 2022, "tw": 2})
        assert "Serapan TW II 2022" in body["html"]
        assert "40,92%" in body["html"]  # Koperasi TW II, as the chat's first example says
        status, _ = await kepala.post("dasbor", {"tw": 7})
        assert status == 400
    finally:
        await kepala.aclose()


async def test_names_are_escaped_in_the_dashboard(wbot: Bot) -> None:
    with session_scope(wbot.engine) as s:
        b = s.exec(select(Bidang).where(Bidang.kode == "umkm")).one()
        b.nama = '<img src=x onerror="alert(1)">'
        s.add(b)
    kepala = WebClient(wbot, KEPALA)
    try:
        html = (await kepala.post("dasbor"))[1]["html"]
    finally:
        await kepala.aclose()
    assert "<img" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


# --- the web layer itself: headers, sizes, paths -------------------------------------------------


async def test_pages_are_shells_under_a_strict_policy(wbot: Bot, sek: WebClient) -> None:
    for page in ("", "lapor", "dasbor"):
        r = await sek.get(page)
        assert r.status_code == 200
        assert r.headers["content-security-policy"] == views.CSP
        assert "script-src 'self'" in views.CSP and "unsafe" not in views.CSP
        assert r.headers["x-content-type-options"] == "nosniff"
        # No inline code: scripts by src, and one JSON data block of texts.
        scripts = r.text.split("<script")[1:]
        assert all(' src="/webapp/static/' in s or 'type="application/json"' in s for s in scripts)
        assert "style=" not in r.text and "onclick" not in r.text
    js = await sek.get("static/lapor.js")
    assert js.headers["content-type"].startswith("text/javascript")
    assert "innerHTML" not in js.text  # the form puts every text in as text
    assert (await sek.get("static/../auth.py")).status_code == 404
    assert (await sek.get("nope")).status_code == 404


async def test_request_bodies_are_bounded_and_must_be_json(wbot: Bot, sek: WebClient) -> None:
    headers = {"Authorization": f"tma {sek.raw}", "Content-Type": "application/json"}
    big = b'{"x":"' + b"a" * MAX_BODY + b'"}'
    r = await sek.http.post("/webapp/api/lapor/simpan", content=big, headers=headers)
    assert r.status_code == 413 and r.json()["pesan"] == views.TOO_LARGE
    r = await sek.http.post("/webapp/api/lapor/simpan", content=b"{nope", headers=headers)
    assert r.status_code == 400
    r = await sek.http.post("/webapp/api/lapor/simpan", content=b"[" * 100_000, headers=headers)
    assert r.status_code == 400
    status, _ = await sek.post("lapor/simpan", {"revisi": "1", "isian": {}})
    assert status == 400
    status, _ = await sek.post("lapor/simpan", {"revisi": 1, "isian": {"a": "b"}})
    assert status == 400
    assert _drafts(wbot.engine) == []


# --- several offices: each person their own office; the kabupaten roles every office -----------


async def test_a_person_of_another_office_is_refused(seeded: Engine, tmp_path: Path) -> None:
    from tests.test_kabupaten import KEP_A, KEP_B, OP_B, PEMANTAU, people, second_office

    async with webapp_bot(seeded) as b:
        office_b = second_office(seeded, tmp_path)
        people(seeded, office_b)
        kep_b, pemantau, op_b = WebClient(b, KEP_B), WebClient(b, PEMANTAU), WebClient(b, OP_B)
        try:
            status, body = await kep_b.post("dasbor", {"opd": 1})
            assert status == 403 and "perangkat daerah lain" in body["pesan"]
            assert "Diskoperindag" not in body["pesan"] and "%" not in body["pesan"]
            _, own = await kep_b.post("dasbor")
            assert "Dinas Kesehatan" in own["html"] and "Diskoperindag" not in own["html"]
            # The pemantau: every office, then one office by its button.
            _, kab = await pemantau.post("dasbor")
            assert "Kabupaten — semua OPD" in kab["html"]
            assert "Dinas Kesehatan" in kab["html"] and "Diskoperindag" in kab["html"]
            _, one = await pemantau.post("dasbor", {"opd": 1})
            assert "Diskoperindag" in one["html"] and "Semua OPD" in one["html"]
            # An operator of office B gets B's Koperasi, and cannot write office A's fields.
            kep_a = WebClient(b, KEP_A)
            sek = WebClient(b, OPERATOR_SEK)
            try:
                form_a = (await sek.post("lapor"))[1]["form"]
                _, form_b = await op_b.post("lapor")
                assert form_b["form"]["judul"] == "Laporan TW IV 2022 — Koperasi"
                assert {s["id"] for s in form_b["form"]["subs"]}.isdisjoint(
                    {s["id"] for s in form_a["subs"]}
                )
                rev, before, step = _draft_data(b.engine)
                _, body = await op_b.post(
                    "lapor/simpan",
                    {
                        "revisi": form_b["form"]["revisi"],
                        "isian": {_sub_key(form_a, 0): {"teks": "1 jt"}},
                    },
                )
                assert body["disimpan"] == [] and body["galat"] == {
                    _sub_key(form_a, 0): views.UNKNOWN_FIELD
                }
                assert _draft_data(b.engine) == (rev, before, step)
                status, _ = await kep_a.post("dasbor", {"opd": office_b})
                assert status == 403
            finally:
                await kep_a.aclose()
                await sek.aclose()
        finally:
            for c in (kep_b, pemantau, op_b):
                await c.aclose()


# --- served by the bot's own process: polling mode, webhook mode, the console ----------------


async def test_polling_mode_serves_the_mini_app_and_stops_with_the_bot(seeded: Engine) -> None:
    import httpx

    from bot.app import build_application, post_init, post_shutdown
    from bot.offline.api import OfflineBotAPI
    from tests.webapp_harness import webapp_settings

    api = OfflineBotAPI()
    app = build_application(
        webapp_settings(MONEV_WEBAPP_PORT=0), seeded, request=api, get_updates_request=api,
        rate_limiter=False,
    )  # fmt: skip
    app.bot_data["serving"] = True  # as run_polling sets it
    await app.initialize()
    await post_init(app)
    server = app.bot_data["webapp_server"]
    try:
        async with httpx.AsyncClient() as c:
            r = await c.get(server.url + "lapor")
            assert r.status_code == 200 and "lapor.js" in r.text
            r = await c.post(server.url + "api/siapa", headers={"Authorization": "tma x"})
            assert r.status_code == 401
    finally:
        await app.shutdown()
        await post_shutdown(app)
    assert "webapp_server" not in app.bot_data and server.server.should_exit


async def test_webhook_mode_serves_it_beside_the_webhook(seeded: Engine) -> None:
    import asyncio

    import httpx

    from bot.offline.http import serve_in_thread
    from bot.webhook import WebhookSettings, run_webhook
    from tests.test_health import TOKEN
    from tests.test_webhook import _free_port, _methods, _until
    from tests.webapp_harness import webapp_settings

    port = _free_port()
    with serve_in_thread() as fake:
        settings = webapp_settings(
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=fake.base_url,
            TELEGRAM_API_BASE_FILE_URL=fake.base_file_url,
        )
        ws = WebhookSettings(
            webhook_url="https://bot.example.go.id/telegram", webhook_port=port, webhook_secret=""
        )
        stop = asyncio.Event()
        task = asyncio.create_task(run_webhook(settings, seeded, webhook=ws, stop=stop))
        try:
            await _until(lambda: "setWebhook" in _methods(fake) or task.done())
            assert not task.done()
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as c:
                page = await c.get("/webapp/dasbor")
                assert page.status_code == 200 and "dasbor.js" in page.text
                assert (await c.get("/healthz")).status_code == 200
            assert "setChatMenuButton" in _methods(fake)
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)


def test_the_console_prints_a_local_url_a_browser_can_open(tmp_path: Path) -> None:
    from urllib.parse import unquote, urlsplit

    from bot.app import OFFLINE_TOKEN
    from bot.console import console_user_id
    from bot.webapp.auth import validate
    from tests.test_console import _console

    proc = _console(tmp_path, ["/peran kepala"], "--role", "operator", "--bidang", "koperasi")
    assert proc.returncode == 0, proc.stderr
    urls = [
        line.split(": ", 1)[1] for line in proc.stdout.splitlines() if line.startswith("Mini App")
    ]
    assert len(urls) == 2  # at start, and again as the other person
    for url, user in zip(urls, (console_user_id("operator"), None), strict=True):
        parts = urlsplit(url)
        assert parts.scheme == "http" and parts.hostname == "127.0.0.1"
        assert parts.path == "/webapp/"
        raw = unquote(parts.fragment.removeprefix("tgWebAppData="))
        who = validate(raw, token=OFFLINE_TOKEN, max_age=600)
        assert user is None or who.id == user
