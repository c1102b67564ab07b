"""What one update costs the database, counted (not timed): a question from somebody in no
flow is one read session besides the inbox's two writes, and a typed /lapor answer reads its
draft's plan from the figure cache."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from telegram.ext import Application

import bot.context
from bot.inbox import record
from bot.offline.api import OfflineBotAPI
from bot.offline.updates import make_callback_update, make_message_update
from tests.bot_harness import inbox_app
from tests.test_lapor import KEPALA as KEPALA_LAPOR
from tests.test_lapor import OP1, _users


async def _app(engine: Engine, api: OfflineBotAPI):  # type: ignore[no-untyped-def]
    return await inbox_app(engine, api, rate_limiter=True)


async def _send(app: Application, user_id: int, text: str) -> None:
    update = make_message_update(app.bot, text, user_id=user_id)
    await record(app, [update.to_dict()])  # as polling does, before PTB sees it
    await app.process_update(update)


async def _first_answer(app: Application, api: OfflineBotAPI) -> None:
    """The Koperasi operator starts TW III and types the first sub kegiatan's anggaran."""
    await _send(app, OP1, "/lapor")
    isi = next(d for row in api.buttons(api.last(OP1)) for label, d in row if "Isi TW" in label)
    await app.process_update(make_callback_update(app.bot, isi, user_id=OP1))
    await _send(app, OP1, "22 jt")


async def test_a_question_is_one_read_session_besides_the_inbox(
    seeded: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _users(seeded)
    api = OfflineBotAPI()
    app = await _app(seeded, api)
    reads: list[str] = []
    real_read = bot.context._read

    def counting_read(engine, cache, fn, args, kwargs):  # type: ignore[no-untyped-def]
        reads.append(fn.__name__)
        return real_read(engine, cache, fn, args, kwargs)

    monkeypatch.setattr(bot.context, "_read", counting_read)
    try:
        await _send(app, KEPALA_LAPOR, "serapan anggaran tw 3 2022 koperasi")
        await _send(app, KEPALA_LAPOR, "serapan anggaran tw 3 2022 koperasi")
        assert reads == ["take_turn", "take_turn"]
        shown = api.sent(KEPALA_LAPOR)[-1].text or ""
        assert "Koperasi" in shown and "TW III 2022" in shown
    finally:
        await app.shutdown()


async def test_a_typed_lapor_answer_reads_the_plan_from_the_figure_cache(seeded: Engine) -> None:
    _users(seeded)
    api = OfflineBotAPI()
    app = await _app(seeded, api)
    try:
        await _send(app, OP1, "/lapor")
        isi = next(d for row in api.buttons(api.last(OP1)) for label, d in row if "Isi TW" in label)
        await app.process_update(make_callback_update(app.bot, isi, user_id=OP1))
        await _send(app, OP1, "22 jt")  # the first typed answer fills the cache
        statements: list[str] = []

        def count(_c, _cur, statement, *_a):  # type: ignore[no-untyped-def]
            statements.append(statement.lstrip().split()[0].upper())

        event.listen(seeded, "before_cursor_execute", count)
        try:
            await _send(app, OP1, "95")
        finally:
            event.remove(seeded, "before_cursor_execute", count)
        assert "keterangan" in (api.last(OP1).text or "").lower()  # on to the next question
        # selects: the inbox 1, the actor and the flow 2, the cache version 1, the draft 1;
        # no plan, indicator or narrative reads (SQLite; PostgreSQL the same)
        assert statements.count("SELECT") <= 5, statements
    finally:
        await app.shutdown()


async def test_a_typed_lapor_answer_is_one_write_transaction_and_no_read(
    seeded: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone typing into their draft: the actor, the flow and the step in one transaction
    (one worker-thread trip); once they leave the flow, their text is a question again."""
    _users(seeded)
    api = OfflineBotAPI()
    app = await _app(seeded, api)
    trips: list[str] = []
    real_read, real_write = bot.context._read, bot.context._write_cached

    def counting_read(engine, cache, fn, args, kwargs):  # type: ignore[no-untyped-def]
        trips.append("read:" + fn.__name__)
        return real_read(engine, cache, fn, args, kwargs)

    def counting_write(engine, cache, fn, args, kwargs):  # type: ignore[no-untyped-def]
        trips.append("write:" + fn.__name__)
        return real_write(engine, cache, fn, args, kwargs)

    monkeypatch.setattr(bot.context, "_read", counting_read)
    monkeypatch.setattr(bot.context, "_write_cached", counting_write)
    try:
        await _first_answer(app, api)
        trips.clear()
        await _send(app, OP1, "95")
        assert trips == ["write:take_turn"]
        assert "keterangan" in (api.last(OP1).text or "").lower()
        await _send(app, OP1, "/batal")
        trips.clear()
        await _send(app, OP1, "serapan anggaran tw 3 2022 koperasi")
        assert "Koperasi" in (api.last(OP1).text or "")  # answered as a question
        # The hint is still set, once: the turn is a write, and answers the question in it …
        assert trips == ["write:take_turn"]
        trips.clear()
        await _send(app, OP1, "serapan anggaran tw 3 2022 koperasi")
        assert trips == ["read:take_turn"]  # … then forgotten
    finally:
        await app.shutdown()


async def test_a_first_typed_answer_after_a_restart_reads_the_sender_once(seeded: Engine) -> None:
    """A process that never saw the operator typing (a restart, another process) reads
    their turn first and finds a draft; the write that applies the answer takes the sender
    and their flow from that read instead of selecting them again."""
    _users(seeded)
    api = OfflineBotAPI()
    app = await _app(seeded, api)
    try:
        await _first_answer(app, api)
    finally:
        await app.shutdown()
    api2 = OfflineBotAPI()
    fresh = await _app(seeded, api2)  # knows nothing of who was typing
    statements: list[str] = []

    def count(_c, _cur, statement, *_a):  # type: ignore[no-untyped-def]
        statements.append(" ".join(statement.split()))

    event.listen(seeded, "before_cursor_execute", count)
    try:
        await _send(fresh, OP1, "95")
        assert "keterangan" in (api2.last(OP1).text or "").lower()  # applied to the draft
        # the sender and their flow: one statement reads both (actor.load_actor_and_flow)
        people = [s for s in statements if s.startswith("SELECT") and " app_user" in s]
        flows = [s for s in statements if s.startswith("SELECT") and " chat_state" in s]
        assert len(people) == 1 and len(flows) == 1 and people == flows, (people, flows)
    finally:
        event.remove(seeded, "before_cursor_execute", count)
        await fresh.shutdown()


async def test_a_cached_question_is_one_statement_and_the_first_after_a_write_too(
    seeded: Engine,
) -> None:
    """Who asked, the flow they are in and the figure cache's look at the audit trail come in
    one statement (``FigureCache.one_along``): a question whose figures are cached costs one
    round trip besides the inbox. The first question after a pagu revision finds it in that
    look, which reads the plan rows of the node it changed too (``rows_along``): one
    statement still (three before, issue 29)."""
    from benchmarks.bench_sizes import _program, _revise

    _users(seeded)
    api = OfflineBotAPI()
    app = await _app(seeded, api)
    question = "serapan anggaran tw 1 2022"
    statements: list[str] = []

    def count(_c, _cur, statement, *_a):  # type: ignore[no-untyped-def]
        if statement.lstrip().startswith("SELECT") and "update_inbox" not in statement:
            statements.append(" ".join(statement.split()))

    try:
        await _send(app, KEPALA_LAPOR, question)
        before = api.sent(KEPALA_LAPOR)[-1].text or ""
        event.listen(seeded, "before_cursor_execute", count)
        await _send(app, KEPALA_LAPOR, question)
        assert (api.sent(KEPALA_LAPOR)[-1].text or "") == before
        assert len(statements) == 1, statements
        assert " app_user" in statements[0] and " audit_log" in statements[0]

        _revise(seeded, _program(seeded, 2022), 2022, 1_000_000)  # a pagu revision from TW I
        statements.clear()
        await _send(app, KEPALA_LAPOR, question)
        after = api.sent(KEPALA_LAPOR)[-1].text or ""
        assert after != before and "TW I 2022" in after
        assert len(statements) == 1, statements
        assert " app_user" in statements[0] and " audit_log" in statements[0]
        assert " node_plan" in statements[0]
    finally:
        event.remove(seeded, "before_cursor_execute", count)
        await app.shutdown()
