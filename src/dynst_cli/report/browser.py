"""Open a report in a real headless Chromium (Debian's `chromium` + `chromium-driver`, selenium).

Used by the tests (no JavaScript errors, one marker or cell per sensor, popups with the right
numbers), by the benchmark of the page's load time and by the README screenshot, so that all
three see the page the same way. selenium is a development dependency, imported here only.

The browser runs with a fresh profile and everything that would reach the network switched off,
so a page that loads here loads from disk on a machine without a network.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
DRIVER_PATHS = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
WINDOW = (1280, 1600)  # CSS pixels of the headless window (and of screenshots)


def find_chromium() -> tuple[str, str] | None:
    """(browser, driver) paths of the system's Chromium and chromedriver, or None."""
    browser = next((p for p in CHROMIUM_PATHS if os.access(p, os.X_OK)), None)
    driver = next((p for p in DRIVER_PATHS if os.access(p, os.X_OK)), shutil.which("chromedriver"))
    return (browser, driver) if browser and driver else None


@contextlib.contextmanager
def headless_chromium(window: tuple[int, int] = WINDOW) -> Iterator:
    """A selenium Chrome driver on the system Chromium, headless, with a throw-away profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    found = find_chromium()
    if found is None:
        raise RuntimeError("chromium and chromedriver are not installed (apt-get install ...)")
    browser, driver_path = found
    profile = tempfile.mkdtemp(prefix="dynst-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        f"--window-size={window[0]},{window[1]}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_report(driver, path: str | os.PathLike) -> float:
    """Load the report at `path` and wait until its map is drawn; returns the seconds it took.

    The time runs from the request to the moment the page's `load` event has fired and the map
    script has put its sensors on the page (`window.dynstShapes`).
    """
    url = Path(path).resolve().as_uri()
    started = time.perf_counter()
    driver.get(url)  # returns after the load event
    deadline = started + 30
    while time.perf_counter() < deadline:
        if driver.execute_script("return !!window.dynstShapes"):
            break
        time.sleep(0.01)
    return time.perf_counter() - started


def severe_log_entries(driver) -> list[str]:
    """Messages of the browser console at level SEVERE (JavaScript errors, failed loads)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
