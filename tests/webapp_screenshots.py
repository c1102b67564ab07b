"""Screenshots of the Mini App at 360×740 for docs/: the /lapor form (a few fields filled, one
refused as typed) and the kepala's dashboard, on the demo data, in headless Chromium.

Run: .venv/bin/python -m tests.webapp_screenshots [-o docs]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path
from typing import Any

from bot.console import open_offline
from bot.webapp.server import WebAppServer
from storage.data import db
from storage.files.demo import SEED_FILE
from storage.files.importer import import_file
from tests import browser
from tests.bot_harness import KEPALA, add_users
from tests.webapp_harness import OPERATOR_SEK, add_sekretariat_operator, webapp_settings

FILES = {"form": "webapp-formulir.png", "dashboard": "webapp-dasbor.png"}


def _shoot(server: WebAppServer, out: Path) -> list[Path]:
    with browser.chromium(scale=1) as driver:
        f = browser.Fingers(driver)
        driver.get(server.signed_url(OPERATOR_SEK, "lapor"))
        f.wait_text("main", "Laporan TW IV 2022")
        first = driver.find_elements("css selector", "input[name^='anggaran:']")[0]
        key = first.get_attribute("name").split(":")[1]
        f.type(f"anggaran:{key}", "7,5 jt")
        f.type(f"fisik:{key}", "120")  # refused as typed: shows the chat's own message
        f.type(f"ket:{key}", "Dokumen Renja selesai")
        f.wait_text(".fnote", "di luar 0–100%")
        driver.execute_script("window.scrollTo(0, 0)")
        form = out / FILES["form"]
        driver.save_screenshot(str(form))
        driver.get(server.signed_url(KEPALA, "dasbor"))
        f.wait_text("main", "Peringatan dini")
        driver.execute_script("window.scrollTo(0, 0)")
        dashboard = out / FILES["dashboard"]
        driver.save_screenshot(str(dashboard))
    return [form, dashboard]


async def make(out: Path) -> list[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = db.make_engine(f"sqlite:///{Path(tmp) / 'monev.db'}")
        db.upgrade(engine)
        import_file(engine, SEED_FILE, actor="demo")
        add_users(engine)
        add_sekretariat_operator(engine)
        app, _ = await open_offline(webapp_settings(), engine)
        server = WebAppServer(app, "127.0.0.1", 0)
        await server.start()
        try:
            return await asyncio.to_thread(_shoot, server, out)
        finally:
            await server.stop()
            await app.stop()
            await app.shutdown()
            engine.dispose()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-o", "--out", type=Path, default=Path("docs"))
    args: Any = ap.parse_args(argv)
    reason = browser.missing()
    if reason:
        print(f"Tidak bisa membuat tangkapan layar: {reason}")
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    for path in asyncio.run(make(args.out)):
        print(f"ditulis: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
