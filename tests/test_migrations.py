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


def test_user_status_values_become_indonesian_and_back(engine: Engine) -> None:
    from sqlalchemy import text

    db.downgrade(engine, "0004")
    with engine.begin() as c:
        for i, status in enumerate(("pending", "active", "rejected"), 1):
            c.execute(
                text(
                    "INSERT INTO app_user (telegram_id, nama, nip, status, created_at) "
                    "VALUES (:t, 'x', '', :s, CURRENT_TIMESTAMP)"
                ),
                {"t": 70000 + i, "s": status},
            )
    db.upgrade(engine)
    query = text("SELECT telegram_id, status FROM app_user WHERE telegram_id > 70000 ORDER BY 1")
    with engine.connect() as c:
        assert [r[1] for r in c.execute(query)] == ["menunggu", "aktif", "ditolak"]
    with engine.begin() as c:
        c.execute(text("UPDATE app_user SET status = 'diblokir' WHERE telegram_id = 70003"))
    db.downgrade(engine, "0004")
    with engine.connect() as c:
        assert [r[1] for r in c.execute(query)] == ["pending", "active", "rejected"]
    db.upgrade(engine)


def test_0011_binds_existing_users_to_the_only_office(engine: Engine) -> None:
    """A one-office database upgraded to the kabupaten schema keeps its people in that office."""
    from sqlalchemy import text

    db.downgrade(engine, "0008")
    with engine.begin() as c:
        c.execute(
            text(
                "DELETE FROM perangkat_daerah "
                "WHERE id NOT IN (SELECT MIN(id) FROM perangkat_daerah)"
            )
        )
        if c.execute(text("SELECT COUNT(*) FROM perangkat_daerah")).scalar() == 0:
            c.execute(
                text(
                    "INSERT INTO perangkat_daerah (nama, nama_kepala, nip_kepala, tempat) "
                    "VALUES ('Dinas X', '', '', '')"
                )
            )
        for i, role in enumerate(("admin", "kepala", None), 1):
            c.execute(
                text(
                    "INSERT INTO app_user (telegram_id, nama, nip, role, status, created_at, "
                    "request_version) VALUES (:t, 'x', '', :r, 'aktif', CURRENT_TIMESTAMP, 0)"
                ),
                {"t": 81000 + i, "r": role},
            )
    db.upgrade(engine)
    with engine.connect() as c:
        office = c.execute(text("SELECT MIN(id) FROM perangkat_daerah")).scalar()
        bound = c.execute(
            text("SELECT opd_id FROM app_user WHERE telegram_id > 81000 ORDER BY telegram_id")
        ).all()
    assert [r[0] for r in bound] == [office, office, office]
    assert db.schema_diff(engine) == []
