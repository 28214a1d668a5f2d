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


@dataclass
class Visit:
    url: str  # where the browser ended (after redirects)
    title: str
    errors: list[str]  # the console's errors (uncaught exceptions, failed loads) since the last
    server_errors: list[str]  # "STATUS URL" of every HTTP answer >= 500 since the last visit


class Browser:
    """Headless Chromium on a web application served over HTTP (``with Browser(url) as b``):
    it reaches only the application's host (any other request fails, and shows as a console
    error), keeps its cookies between pages, and reports per visit the console's errors and
    every HTTP answer >= 500 (from Chromium's network log)."""

    def __init__(self, base_url: str, width: int = 1400, height: int = 1200) -> None:
        self.base_url = base_url.rstrip("/")
        self.width, self.height = width, height
        self.driver: Any = None
        self._scratch: Any = None

    def __enter__(self) -> Browser:
        import os
        import tempfile
        from urllib.parse import urlsplit

        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self._scratch = tempfile.TemporaryDirectory(prefix="chromium-")
        scratch = Path(self._scratch.name)
        host = urlsplit(self.base_url).hostname or ""
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    f"--window-size={self.width},{self.height}",
                    f"--user-data-dir={scratch / 'profile'}",
                    # Only the application's host: anything else goes to a dead proxy.
                    "--proxy-server=127.0.0.1:9", f"--proxy-bypass-list={host}"):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        env = {**os.environ, "TMPDIR": str(scratch)}
        try:
            self.driver = webdriver.Chrome(
                service=Service(executable_path=str(CHROMEDRIVER), env=env), options=options)
        except Exception:
            self._scratch.cleanup()
            raise
        self.driver.set_page_load_timeout(120)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self.driver is not None:
                self.driver.quit()
        finally:
            if self._scratch is not None:
                self._scratch.cleanup()

    def visit(self, path: str, wait_for: str | None = None, timeout: float = 60) -> Visit:
        """Open ``path`` (relative to the base URL), wait until the page is loaded, no
        jQuery or Angular request is pending and, with ``wait_for``, until that text shows."""
        self.driver.get(self.base_url + path)
        self.wait_idle(wait_for, timeout)
        return self.report()

    def wait_idle(self, wait_for: str | None = None, timeout: float = 60) -> None:
        import time

        idle = ("return document.readyState === 'complete'"
                " && (!window.jQuery || jQuery.active === 0)"
                " && (!window.angular || !document.querySelector('.ng-scope')"
                "     || angular.element(document.body).injector() === undefined"
                "     || angular.element(document.body).injector()"
                "          .get('$http').pendingRequests.length === 0)")
        deadline = time.monotonic() + timeout
        while True:
            text = self.driver.find_element("tag name", "body").text if wait_for else ""
            if self.driver.execute_script(idle) and (not wait_for or wait_for in text):
                return
            if time.monotonic() > deadline:
                missing = f" (no {wait_for!r} in the page)" if wait_for else ""
                raise TimeoutError(f"{self.driver.current_url} not loaded after {timeout:.0f} s"
                                   f"{missing}")
            time.sleep(0.25)

    def report(self) -> Visit:
        """What happened since the last report: console errors and HTTP answers >= 500."""
        import json

        logs: list[dict[str, Any]] = self.driver.get_log("browser")
        errors = [str(e.get("message")) for e in logs if e.get("level") == "SEVERE"]
        server: list[str] = []
        for entry in self.driver.get_log("performance"):
            try:
                message = json.loads(entry["message"])["message"]
            except (KeyError, ValueError):
                continue
            if message.get("method") == "Network.responseReceived":
                response = message["params"]["response"]
                if int(response.get("status") or 0) >= 500:
                    server.append(f"{response['status']} {response.get('url')}")
        return Visit(self.driver.current_url, self.driver.title, errors, server)

    def fill(self, fields: dict[str, str], submit: str) -> None:
        """Type into the inputs named ``fields`` (CSS selectors), then click ``submit``."""
        for selector, value in fields.items():
            element = self.driver.find_element("css selector", selector)
            element.clear()
            element.send_keys(value)
        self.driver.find_element("css selector", submit).click()

    def text(self) -> str:
        return str(self.driver.find_element("tag name", "body").text)

    def screenshot(self, path: Path) -> None:
        self.driver.save_screenshot(str(path))
