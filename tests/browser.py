"""Headless Chromium (Debian's ``chromium`` and ``chromium-driver``) driven through Selenium, for
the Mini App's browser tests and its screenshots. No browser is downloaded: the system's
Chromium and ChromeDriver are named explicitly, so Selenium Manager never runs."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PHONE = (360, 740)


def missing() -> str | None:
    """Why no browser test can run here (None: it can)."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -c requirements.lock -e '.[test]')"
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not path.exists():
            return f"{path} is missing (apt-get install -y {package}; .ci/run installs it)"
    return None


@contextlib.contextmanager
def chromium(size: tuple[int, int] = PHONE, scale: float = 2) -> Iterator[Any]:
    """A fresh headless Chromium (own profile) with a phone-sized viewport."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    reason = missing()
    if reason:
        raise RuntimeError(reason)
    profile = tempfile.mkdtemp(prefix="monev-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [*FLAGS, f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": size[0], "height": size[1], "deviceScaleFactor": scale, "mobile": True},
        )
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@dataclass
class Fingers:
    """A person's taps and typed fields on a page, counted as they are made."""

    driver: Any
    taps: int = 0
    typed: int = 0
    log: list[str] = field(default_factory=list)

    def _find(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        el = self.driver.find_element(By.CSS_SELECTOR, css)
        # The form's footer is fixed at the bottom: bring the element to the middle first.
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
        return el

    def tap(self, css: str) -> None:
        self._find(css).click()
        self.taps += 1
        self.log.append(f"tap {css}")

    def type(self, name: str, text: str) -> None:
        """Tap a field, type into it (a field typed is one tap and one typed field)."""
        el = self._find(f'[name="{name}"]')
        el.click()
        el.clear()
        el.send_keys(text)
        self.taps += 1
        self.typed += 1
        self.log.append(f"type {name}")

    def wait_text(self, css: str, words: str, timeout: float = 45) -> str:
        """The text of ``css`` once it holds ``words``. The bound is generous because CI
        shares two cores with Chromium; on a timeout the error says what was shown instead."""
        from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        seen = [""]

        def has(d: Any) -> str | bool:
            found = d.find_elements(By.CSS_SELECTOR, css)
            seen[0] = text = " ".join(e.text for e in found)
            return text if words in text else False

        try:
            # A page that sends itself elsewhere (the menu button's index) replaces the
            # element between finding it and reading it: that is "not yet", not a failure.
            wait = WebDriverWait(
                self.driver, timeout, ignored_exceptions=(StaleElementReferenceException,)
            )
            return str(wait.until(has))
        except TimeoutException as exc:
            raise AssertionError(
                f"{words!r} not shown in {css!r} within {timeout} s; shown: {seen[0]!r}"
            ) from exc
