"""One exception base: every exception class of the product derives from ``MonevError``
and carries the message a person may be shown (``user_message``)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

from storage.domain.errors import MonevError

# The fake Bot API answers as Telegram would: its errors are Telegram's, not the product's.
_NOT_PRODUCT = ("bot.offline",)


def _modules() -> list[str]:
    found = []
    for package in ("bot", "storage", "charts"):
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            if ".migrations" in info.name or info.name.startswith(_NOT_PRODUCT):
                continue
            if info.name.endswith("__main__"):
                continue
            found.append(info.name)
    return found


def _exception_classes() -> dict[str, list[type[BaseException]]]:
    by_name: dict[str, list[type[BaseException]]] = {}
    for name in _modules():
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseException) and cls.__module__ == name:
                by_name.setdefault(cls.__name__, []).append(cls)
    return by_name


CLASSES = _exception_classes()


def test_the_scan_finds_the_exceptions() -> None:
    # Guards the checks below against passing because nothing was found.
    assert {"SubmissionError", "OutOfScope", "NoYearData", "BadFileError"} <= set(CLASSES)
    assert len(CLASSES) > 20


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_every_exception_derives_from_the_one_base(name: str) -> None:
    for cls in CLASSES[name]:
        assert issubclass(cls, MonevError), f"{cls.__module__}.{name} is not a MonevError"


def test_no_two_exceptions_share_a_name() -> None:
    shared = {n: [c.__module__ for c in cs] for n, cs in CLASSES.items() if len(cs) > 1}
    assert not shared


def test_the_message_is_the_persons_and_str_may_be_the_logs() -> None:
    from storage.data.boundary import OutOfScope
    from storage.services.queries import NoYearData
    from storage.services.submission import SubmissionError

    told = SubmissionError("Draf ini sudah dikirim atau dibatalkan.")
    assert told.user_message == str(told) == "Draf ini sudah dikirim atau dibatalkan."
    refused = OutOfScope(7)
    assert "perangkat daerah lain" in refused.user_message
    assert "office 7" in str(refused)  # the log's detail, never shown
    assert NoYearData().user_message.startswith("Belum ada rencana")
    assert isinstance(refused, PermissionError) and isinstance(NoYearData(), LookupError)
