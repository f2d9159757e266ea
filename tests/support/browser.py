"""Headless Chromium (Debian's chromium and chromedriver) driven by selenium.

``python -m tests.support.browser URL PATH`` saves a screenshot of a page: the picture
of the status page in docs/operations.md is taken this way, by the same code the
browser test uses.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless=new",
    "--no-sandbox",  # tests run as root in a container
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # This machine has no network beyond localhost: no background calls home.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1100,900",
)


def available() -> bool:
    """Whether Chromium and its driver are installed."""
    return all(shutil.which(path) for path in (CHROMIUM, CHROMEDRIVER))


@contextmanager
def chromium(profile: Path) -> Iterator[webdriver.Chrome]:
    """A headless browser with a fresh profile, closed afterwards."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    browser = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield browser
    finally:
        browser.quit()


def screenshot(url: str, path: Path, profile: Path) -> None:
    """Load a page and save what it looks like."""
    with chromium(profile) as browser:
        browser.get(url)
        browser.save_screenshot(str(path))


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        screenshot(sys.argv[1], Path(sys.argv[2]), Path(folder))
