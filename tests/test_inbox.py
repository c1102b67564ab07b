"""Case 8 of issue 12: an update fetched but not handled when the process died is handled
after the restart, and an update id seen twice is handled once."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.app import OFFLINE_TOKEN
from bot.inbox import TRACKED, record, replay
from bot.offline.api import OfflineBotAPI
from bot.offline.updates import make_callback_update, make_message_update
from storage.data.db import read_scope, session_scope
from storage.data.models import Draft, DraftStatus, InboxStatus, UpdateInbox
from tests.bot_harness import inbox_app
from tests.test_lapor import OP1, _users

BOT = int(OFFLINE_TOKEN.partition(":")[0])  # the bot the harness's app is


async def _app(engine: Engine, api: OfflineBotAPI):  # type: ignore[no-untyped-def]
    return await inbox_app(engine, api, rate_limiter=False)


async def _to_the_amount_step(app, api: OfflineBotAPI) -> None:  # type: ignore[no-untyped-def]
    await app.process_update(make_message_update(app.bot, "/lapor", user_id=OP1))
    isi = next(d for row in api.buttons(api.last(OP1)) for label, d in row if "Isi TW" in label)
    await app.process_update(make_callback_update(app.bot, isi, user_id=OP1))


async def _typing(seeded: Engine):  # type: ignore[no-untyped-def]
    """An operator at the amount step has typed "22 jt": Telegram holds it for getUpdates."""
    _users(seeded)
    api = OfflineBotAPI()
    app = await _app(seeded, api)
    await _to_the_amount_step(app, api)
    typed = make_message_update(app.bot, "22 jt", user_id=OP1)
    api.push_update(typed.to_dict())
    return api, app, typed


async def _restart(seeded: Engine, api: OfflineBotAPI):  # type: ignore[no-untyped-def]
    app = await _app(seeded, api)
    app.bot_data["serving"] = True
    return app


async def _fetched_again(seeded: Engine, api: OfflineBotAPI):  # type: ignore[no-untyped-def]
    """After a crash before the confirming getUpdates: a new process fetches the update
    Telegram still holds, and handles it (or not); returns it and the replies before."""
    assert api.pending_updates == 1
    before = len(api.sent(OP1))
    app = await _restart(seeded, api)
    assert await replay(app) == 0
    [again] = await app.bot.get_updates(timeout=0)
    await app.process_update(again)
    return app, before


def _draft_amount(engine: Engine) -> str:
    with read_scope(engine) as s:
        return s.exec(select(Draft).where(Draft.status == DraftStatus.AKTIF)).one().data


async def test_update_confirmed_to_telegram_before_a_crash_is_handled_after_restart(
    seeded: Engine,
) -> None:
    api, app, typed = await _typing(seeded)
    # "22 jt" is fetched, and the next getUpdates confirms it to Telegram (which forgets it)
    # while it is still waiting to be handled …
    fetched = await app.bot.get_updates(timeout=0)
    assert [u.update_id for u in fetched] == [typed.update_id]
    assert await app.bot.get_updates(offset=typed.update_id + 1, timeout=0) == ()
    assert api.pending_updates == 0
    # … and the process dies before handling it (kill -9: nothing else runs).
    await app.shutdown()
    with read_scope(seeded) as s:
        row = s.get(UpdateInbox, (BOT, typed.update_id))
        assert row is not None and row.status == InboxStatus.BARU
    before = len(api.sent(OP1))
    # The restart handles it: the operator is answered and the figure is in the draft.
    app = await _restart(seeded, api)
    assert await replay(app) == 1
    update = await app.update_queue.get()
    await app.process_update(update)
    shown = "\n".join(c.text or "" for c in api.sent(OP1)[before:])
    assert "realisasi fisik" in shown.lower()
    assert '"anggaran": 22000000' in _draft_amount(seeded)
    with read_scope(seeded) as s:
        assert s.get(UpdateInbox, (BOT, typed.update_id)).status == InboxStatus.SELESAI  # type: ignore[union-attr]
    # The same update id again (a webhook retry, a re-fetch): written nowhere new, and the
    # application skips it even when it reaches process_update.
    after = len(api.sent(OP1))
    assert await record(app, [typed.to_dict()]) == []
    app.bot_data[TRACKED][typed.update_id] = typed.to_dict()
    await app.process_update(typed)
    assert len(api.sent(OP1)) == after
    assert await replay(app) == 0
    await app.shutdown()


async def test_update_fetched_but_not_confirmed_is_sent_again_and_handled_once(
    seeded: Engine,
) -> None:
    api, app, typed = await _typing(seeded)
    assert len(await app.bot.get_updates(timeout=0)) == 1
    # The process dies before its next getUpdates: Telegram was never told, so it keeps
    # the update; nothing needed to be written yet.
    await app.shutdown()
    with read_scope(seeded) as s:
        assert s.get(UpdateInbox, (BOT, typed.update_id)) is None
    app, before = await _fetched_again(seeded, api)
    assert "realisasi fisik" in "\n".join(c.text or "" for c in api.sent(OP1)[before:]).lower()
    assert '"anggaran": 22000000' in _draft_amount(seeded)
    # Handled before its receipt was written: the "done" mark wrote it, done, and the
    # receipt that the next getUpdates writes leaves it done.
    with read_scope(seeded) as s:
        assert s.get(UpdateInbox, (BOT, typed.update_id)).status == InboxStatus.SELESAI  # type: ignore[union-attr]
    assert await app.bot.get_updates(offset=typed.update_id + 1, timeout=0) == ()
    with read_scope(seeded) as s:
        assert s.get(UpdateInbox, (BOT, typed.update_id)).status == InboxStatus.SELESAI  # type: ignore[union-attr]
    await app.shutdown()


async def test_a_restart_remembers_what_was_done_so_a_resent_update_is_skipped(
    seeded: Engine,
) -> None:
    api, app, _ = await _typing(seeded)
    [fetched] = await app.bot.get_updates(timeout=0)
    await app.process_update(fetched)
    # Handled and marked done, then the process dies before confirming it to Telegram.
    await app.shutdown()
    app, after = await _fetched_again(seeded, api)
    assert len(api.sent(OP1)) == after  # not answered twice
    assert '"anggaran": 22000000' in _draft_amount(seeded)
    await app.shutdown()


async def test_handled_updates_are_pruned_by_a_job_after_the_kept_days(seeded: Engine) -> None:
    from datetime import timedelta

    from bot.jobs.housekeeping import PRUNE_JOB
    from storage.data.db import session_scope
    from storage.data.models import utcnow

    api = OfflineBotAPI()
    app = await _app(seeded, api)
    now = utcnow()
    with session_scope(seeded) as s:
        # handled 8 days ago, handled an hour ago, and one never handled from 30 days ago
        s.add(
            UpdateInbox(
                bot_id=BOT,
                update_id=1,
                payload="{}",
                status=InboxStatus.SELESAI,
                received_at=now - timedelta(days=8),
                done_at=now - timedelta(days=8),
            )
        )
        s.add(
            UpdateInbox(
                bot_id=BOT,
                update_id=2,
                payload="{}",
                status=InboxStatus.SELESAI,
                received_at=now,
                done_at=now - timedelta(hours=1),
            )
        )
        s.add(UpdateInbox(bot_id=BOT, update_id=3, payload="{}", status=InboxStatus.BARU,
                          received_at=now - timedelta(days=30)))  # fmt: skip
    assert app.job_queue is not None
    [job] = app.job_queue.get_jobs_by_name(PRUNE_JOB)
    await job.run(app)
    with read_scope(seeded) as s:
        assert sorted(r.update_id for r in s.exec(select(UpdateInbox))) == [2, 3]
    await app.shutdown()


async def test_a_typed_answer_and_its_done_mark_commit_together(
    seeded: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A text carries no version: were it applied and the process died before the update was
    marked done, Telegram would send it again and it would be taken as the answer to the
    next question. Marked in the step's own transaction, it is skipped."""
    import bot.handlers.lapor
    import bot.inbox

    api, app, _ = await _typing(seeded)
    [fetched] = await app.bot.get_updates(timeout=0)

    def killed(*_a: object, **_k: object) -> None:
        raise RuntimeError("the process died here")

    # The step commits, then the process dies: before answering, before any later mark.
    with monkeypatch.context() as m:
        m.setattr(bot.handlers.lapor, "_after", killed)
        m.setattr(bot.inbox, "_done", killed)
        await app.process_update(fetched)
    await app.shutdown()
    saved = _draft_amount(seeded)
    assert '"anggaran": 22000000' in saved
    # Telegram sends it again: not taken as the fisik answer, not answered ("bukan persentase").
    app, before = await _fetched_again(seeded, api)
    assert len(api.sent(OP1)) == before
    assert _draft_amount(seeded) == saved
    await app.shutdown()


async def test_a_new_bot_token_never_finds_its_updates_already_handled(seeded: Engine) -> None:
    """Telegram numbers each bot's updates on its own: after a token change (a test bot
    replaced by the production bot, a new bot after a leak) against the same database, the
    new bot's update 1 is not the old bot's update 1."""
    _users(seeded)
    api = OfflineBotAPI()
    old = await inbox_app(seeded, api, rate_limiter=False, token="111111:OLD")
    old.bot_data["serving"] = True
    typed = make_message_update(old.bot, "/start", user_id=OP1).to_dict()
    api.push_update(typed)
    [fetched] = await old.bot.get_updates(timeout=0)
    await old.process_update(fetched)
    await old.bot.get_updates(offset=typed["update_id"] + 1, timeout=0)  # confirmed: done
    assert api.sent(OP1)
    await old.shutdown()

    fresh = OfflineBotAPI()  # the new bot's own Telegram: its numbering starts again
    new = await inbox_app(seeded, fresh, rate_limiter=False, token="222222:NEW")
    new.bot_data["serving"] = True
    assert await replay(new) == 0  # the old bot's rows are not the new bot's to replay
    assert fresh.push_update(typed) == typed["update_id"]  # and it reaches the same id
    [fetched] = await new.bot.get_updates(timeout=0)
    await new.process_update(fetched)
    assert fresh.sent(OP1)  # handled, not skipped as "already handled"
    assert fresh.sent(OP1)[0].text == api.sent(OP1)[0].text
    with read_scope(seeded) as s:
        keys = sorted((r.bot_id, r.update_id) for r in s.exec(select(UpdateInbox)))
    assert keys == [(111111, typed["update_id"]), (222222, typed["update_id"])]
    await new.shutdown()


async def test_rows_from_before_the_inbox_knew_its_bot_are_replayed_by_the_next_bot(
    seeded: Engine,
) -> None:
    """Migration 0014 gives the rows it finds bot 0: an update received but never handled
    before the upgrade is still handled after it."""
    api, app, typed = await _typing(seeded)
    [fetched] = await app.bot.get_updates(timeout=0)
    await record(app, [fetched.to_dict()])  # received, then the process dies
    await app.shutdown()
    with session_scope(seeded) as s:
        row = s.get(UpdateInbox, (BOT, typed.update_id))
        assert row is not None
        s.delete(row)
        s.flush()
        s.add(UpdateInbox(bot_id=0, update_id=typed.update_id, payload=row.payload))
    app = await _restart(seeded, api)
    assert await replay(app) == 1
    await app.process_update(await app.update_queue.get())
    assert '"anggaran": 22000000' in _draft_amount(seeded)
    with read_scope(seeded) as s:
        assert [r.bot_id for r in s.exec(select(UpdateInbox))] == [BOT]
    await app.shutdown()
