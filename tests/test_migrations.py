"""Models and Alembic migrations agree, on both databases, and downgrade cleanly."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from storage.data import db


def test_migrations_build_exactly_the_models(engine: Engine) -> None:
    assert db.current_revision(engine) == db.head_revision(engine)
    assert db.schema_diff(engine) == []


def test_schema_diff_sees_a_model_change(engine: Engine) -> None:
    db.downgrade(engine, "-1")
    assert db.schema_diff(engine), "a missing migration must show up as a difference"
    db.upgrade(engine)
    assert db.schema_diff(engine) == []
