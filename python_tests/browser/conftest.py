"""Browser tests: a real headless Chromium (Debian's chromium + chromium-driver) driven by
Selenium, against the dbt docs site and the KPI dashboard built from a small lakehouse.

Fixtures (all session-scoped):
  chromium_installed  runs local_stack/browser/ensure_chromium.sh (apt-get install when missing)
  stage_a             (python_tests/conftest.py) STAGE_A ingested, built by one full `dbt build`,
                      `dbt docs generate --static` and `python -m dashboard`, once a run
  browser             one Chromium with a fresh profile, killed (with its driver) at the end
Screenshots go to artifacts/ (git-ignored). LAKEHOUSE_BROWSER_TESTS=0 skips these tests.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from local_stack.processes import free_port, stop_process_group
from python_tests.conftest import REPO_ROOT, Lakehouse

CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")
ARTIFACTS = REPO_ROOT / "artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
]


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives a headless Chromium")


def pytest_collection_modifyitems(config, items):
    """LAKEHOUSE_BROWSER_TESTS=0 skips the tests that need Chromium or the built lakehouse."""
    if os.environ.get("LAKEHOUSE_BROWSER_TESTS", "1") == "0":
        skip = pytest.mark.skip(reason="LAKEHOUSE_BROWSER_TESTS=0")
        here = Path(__file__).parent
        for item in items:
            if item.path.is_relative_to(here) and {"browser", "stage_a"} & set(item.fixturenames):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def chromium_installed() -> None:
    result = subprocess.run(["bash", str(REPO_ROOT / "local_stack" / "browser" / "ensure_chromium.sh")],
                            capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        pytest.fail(f"{result.stderr.strip()} (skip the browser tests with LAKEHOUSE_BROWSER_TESTS=0)",
                    pytrace=False)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def docs_url(stage_a: Lakehouse) -> Iterator[str]:
    """`dbt docs serve` on a free loopback port, stopped at the end (also on failure)."""
    port = free_port()
    log = stage_a.path("docs-serve.log")
    with open(log, "w") as out:
        server = subprocess.Popen(
            [str(REPO_ROOT / ".venv" / "bin" / "dbt"), "docs", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--no-browser"],
            env=stage_a.env, cwd=stage_a.root, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(url + "manifest.json", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"dbt docs serve did not answer on {url}:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        stop_process_group(server)


@pytest.fixture(scope="session")
def browser(chromium_installed, tmp_path_factory) -> Iterator[object]:
    """One headless Chromium (fresh profile) for the session; it and its driver are killed at the end."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.add_argument("--window-size=1400,1000")
    # the driver (and the browser it starts) in a process group of their own, to kill them all
    service = Service(executable_path=CHROMEDRIVER, popen_kw={"start_new_session": True})
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        try:
            driver.quit()
        finally:
            if service.process is not None:
                stop_process_group(service.process)


def save_screenshot(driver, path: Path, full_page: bool = False) -> Path:
    """A PNG of the viewport, or of the whole page (`full_page`, through the DevTools protocol)."""
    if full_page:
        size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        })
        path.write_bytes(base64.b64decode(shot["data"]))
    else:
        driver.save_screenshot(str(path))
    assert path.stat().st_size > 10_000, f"{path} looks empty"
    return path


@pytest.fixture(scope="session")
def dashboard_file(stage_a: Lakehouse, artifacts: Path) -> Path:
    page = stage_a.path("dashboard", "index.html")
    assert page.is_file(), "make dashboard wrote no page"
    shutil.copyfile(page, artifacts / "dashboard.html")
    return page
