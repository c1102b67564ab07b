"""`monev db upgrade` then `monev db check` on a fresh SQLite file and a fresh PostgreSQL schema.

Exits non-zero when the migrations do not build exactly what the models describe.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from storage.data import db

MONEV = str(Path(sys.executable).with_name("monev"))


def run(env: dict[str, str], cwd: str) -> None:
    for action in ("upgrade", "check"):
        subprocess.run([MONEV, "db", action], env=env, cwd=cwd, check=True)


def main() -> None:
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "MONEV_DATA_DIR"}}
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite:", flush=True)
        run(base, tmp)
        pg = os.environ.get("TEST_DATABASE_URL", "")
        if not pg:
            print("PostgreSQL: skipped (TEST_DATABASE_URL is not set)")
            return
        print("PostgreSQL:", flush=True)
        schema = f"ci_{uuid.uuid4().hex[:10]}"
        admin = create_engine(db.normalise_url(pg))
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            sep = "&" if "?" in pg else "?"
            run({**base, "DATABASE_URL": f"{pg}{sep}options=-csearch_path%3D{schema}"}, tmp)
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
