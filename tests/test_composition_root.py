"""One composition root: every handler of the bot is registered in ``bot/app.py``, in the
order its comments give, and nowhere else (a registration hidden in a job or a handler module
is an update route nobody reading app.py knows of). Checked on the source (``ast``)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "storage", "charts")
REGISTERING = {"add_handler", "add_handlers", "add_error_handler"}


def _registrations() -> dict[str, list[int]]:
    """Per source file (relative path), the lines that register a handler."""
    found: dict[str, list[int]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            lines = [
                node.lineno
                for node in ast.walk(tree)
                if isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in REGISTERING
            ]
            if lines:
                found[path.relative_to(ROOT).as_posix()] = lines
    return found


def test_every_handler_is_registered_in_app_py() -> None:
    found = _registrations()
    # Guards the check against passing because the scan found nothing.
    assert len(found.get("bot/app.py", [])) > 30
    elsewhere = {path: lines for path, lines in found.items() if path != "bot/app.py"}
    assert not elsewhere, f"handlers registered outside bot/app.py: {elsewhere}"


def test_app_py_registers_the_reminder_commands_itself() -> None:
    """/jadwal, /pengingat and /grupkantor (once registered from bot/jobs) are app.py's."""
    from bot.app import build_application
    from bot.handlers import reminders
    from bot.offline.api import OfflineBotAPI
    from bot.settings import Settings

    settings = Settings(DATABASE_URL="", TELEGRAM_BOT_TOKEN="", MONEV_ADMIN_IDS="")
    app = build_application(settings, engine=None, request=OfflineBotAPI())  # type: ignore[arg-type]
    callbacks = {h.callback for group in app.handlers.values() for h in group}
    for handler in (
        reminders.jadwal,
        reminders.jadwal_pick,
        reminders.jadwal_close,
        reminders.pengingat,
        reminders.pengingat_toggle,
        reminders.grupkantor,
        reminders.digest_toggle,
        reminders.unblock_on_contact,
    ):
        assert handler in callbacks, handler.__name__
