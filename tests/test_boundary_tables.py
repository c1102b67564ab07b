"""Every table is classified for the office boundary: office-owned tables get the boundary's
criteria (``storage.data.boundary.OFFICE_OWNED``); every other table is listed here with the
reason it holds no office's data. A table added later fails this test until someone decides
which it is."""

from __future__ import annotations

from sqlmodel import SQLModel

import storage.data.models  # noqa: F401  (registers every table on the metadata)
from storage.data.boundary import OFFICE_OWNED

NOT_OFFICE_DATA: dict[str, str] = {
    "perangkat_daerah": "the directory of offices, shown to anyone choosing where to register",
    "bidang": "the directory of each office's bidang, shown by /daftar",
    "audit_log": "read only through a node resolved inside the scope first (submission.history)",
    "setting": "deployment settings (benchmarks, tolerances, kabupaten deadlines)",
    "sent_reminder": "per-person bookkeeping of the jobs, which are system sessions",
    "reminder_plan": "a reminder round's work list, read and claimed only by the job",
    "user_pref": "one person's own preferences, keyed by their Telegram id",
    "chat_state": "one person's own conversation state, keyed by their Telegram id",
    "update_inbox": "the transport's record of Telegram updates",
    "send_budget": "the bot's outgoing message budget shared by its processes",
    "answer_pages": "one person's own answer pages, read only by their owner (kept_page)",
    "reg_message": "the admin messages of a registration request, read by the request's id",
}


def test_every_table_is_classified_for_the_office_boundary() -> None:
    owned = {entity.__tablename__ for entity in OFFICE_OWNED}  # type: ignore[attr-defined]
    tables = set(SQLModel.metadata.tables)
    assert not owned & set(NOT_OFFICE_DATA), "a table cannot be both"
    unclassified = tables - owned - set(NOT_OFFICE_DATA)
    assert not unclassified, f"classify these tables for the office boundary: {unclassified}"
    assert not (set(NOT_OFFICE_DATA) - tables), "a listed table no longer exists"
