"""Case 8 of issue 12: an update fetched but not handled when the process died is handled
after the restart, and an update id seen twice is handled once."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.app import build_application
from bot.inbox import TRACKED, record, replay
from bot.offline.api import OfflineBotAPI
from bot.offline.updates import make_callback_update, make_message_update
from bot.settings import Settings
from storage.data.db import read_scope
from storage.data.models import Draft, DraftStatus, InboxStatus, UpdateInbox
from tests.bot_harness import ADMIN
from tests.test_lapor import OP1, _users

SETTINGS = dict(MONEV_ADMIN_IDS=str(ADMIN), DATABASE_URL="", TELEGRAM_BOT_TOKEN="")


async def _app(engine: Engine, api: OfflineBotAPI):  # type: ignore[no-untyped-def]
    app = build_application(
        Settings(**SETTINGS),  # type: ignore[arg-type]
        engine,
        request=api,
        get_updates_request=api,
        rate_limiter=False,
        inbox=True,
    )
    await app.initialize()
    from bot.app import post_init

    await post_init(app)
    return app


async def test_update_fetched_before_a_crash_is_handled_after_restart(seeded: Engine) -> None:
    _users(seeded)
    api = OfflineBotAPI()
    app = await _app(seeded, api)
    await app.process_update(make_message_update(app.bot, "/lapor", user_id=OP1))
    isi = next(d for row in api.buttons(api.last(OP1)) for label, d in row if "Isi TW" in label)
    await app.process_update(make_callback_update(app.bot, isi, user_id=OP1))
    # "22 jt" is fetched (getUpdates answered, so Telegram will not send it again) …
    typed = make_message_update(app.bot, "22 jt", user_id=OP1)
    api.push_update(typed.to_dict())
    fetched = await app.bot.get_updates(timeout=0)
    assert [u.update_id for u in fetched] == [typed.update_id]
    # … and the process dies before handling it (kill -9: nothing else runs).
    await app.shutdown()
    with read_scope(seeded) as s:
        row = s.get(UpdateInbox, typed.update_id)
        assert row is not None and row.status == InboxStatus.BARU
    before = len(api.sent(OP1))
    # The restart handles it: the operator is answered and the figure is in the draft.
    app = await _app(seeded, api)
    app.bot_data["serving"] = True
    assert await replay(app) == 1
    update = await app.update_queue.get()
    await app.process_update(update)
    shown = "\n".join(c.text or "" for c in api.sent(OP1)[before:])
    assert "realisasi fisik" in shown.lower()
    with read_scope(seeded) as s:
        d = s.exec(select(Draft).where(Draft.status == DraftStatus.AKTIF)).one()
        assert '"anggaran": 22000000' in d.data
        assert s.get(UpdateInbox, typed.update_id).status == InboxStatus.SELESAI  # type: ignore[union-attr]
    # The same update id again (a webhook retry, a re-fetch): written nowhere new, and the
    # application skips it even when it reaches process_update.
    after = len(api.sent(OP1))
    assert await record(app, [typed.to_dict()]) == []
    app.bot_data[TRACKED].add(typed.update_id)
    await app.process_update(typed)
    assert len(api.sent(OP1)) == after
    assert await replay(app) == 0
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
                update_id=1,
                payload="{}",
                status=InboxStatus.SELESAI,
                received_at=now - timedelta(days=8),
                done_at=now - timedelta(days=8),
            )
        )
        s.add(
            UpdateInbox(
                update_id=2,
                payload="{}",
                status=InboxStatus.SELESAI,
                received_at=now,
                done_at=now - timedelta(hours=1),
            )
        )
        s.add(UpdateInbox(update_id=3, payload="{}", status=InboxStatus.BARU,
                          received_at=now - timedelta(days=30)))  # fmt: skip
    assert app.job_queue is not None
    [job] = app.job_queue.get_jobs_by_name(PRUNE_JOB)
    await job.run(app)
    with read_scope(seeded) as s:
        assert sorted(r.update_id for r in s.exec(select(UpdateInbox))) == [2, 3]
    await app.shutdown()
