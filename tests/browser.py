"""A real browser for the tests: Debian's headless Chromium, driven through Selenium and
Debian's chromedriver (installed by scripts/test.sh)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="Debian's chromium and chromium-driver are not installed (scripts/test.sh installs "
           "them)")


@dataclass
class Page:
    errors: list[str]  # the console's errors (uncaught exceptions included)
    screenshot: Path
    counts: dict[str, int] = field(default_factory=dict)  # CSS selector -> elements found
    title: str = ""


def open_page(path: Path, screenshot: Path, selectors: tuple[str, ...] = (),
              width: int = 1400, height: int = 2400) -> Page:
    """Open a local file with no network, take a full screenshot, and read the console."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="chromium-") as scratch:
        # Chromium's profile and its temporary files stay in the scratch directory.
        return _open(path, screenshot, selectors, width, height, Path(scratch))


def _open(path: Path, screenshot: Path, selectors: tuple[str, ...], width: int, height: int,
          scratch: Path) -> Page:
    import os

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}", f"--user-data-dir={scratch / 'profile'}",
                # No network at all: a page that fetches anything shows it as a console error.
                "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    env = {**os.environ, "TMPDIR": str(scratch)}
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER), env=env),
                              options=options)
    try:
        driver.get(path.resolve().as_uri())
        driver.execute_script("return document.readyState")
        driver.save_screenshot(str(screenshot))
        logs: list[dict[str, Any]] = driver.get_log("browser")
        counts = {s: len(driver.find_elements("css selector", s)) for s in selectors}
        title = driver.title
    finally:
        driver.quit()
    errors = [str(entry.get("message")) for entry in logs if entry.get("level") == "SEVERE"]
    return Page(errors, screenshot, counts, title)
