"""The dashboard in a real headless browser: a recorded run's chain and its alert are visible.

``switchboard dashboard`` runs as its own process on 127.0.0.1, over the
telemetry of a real (scripted-model) run; Debian's chromium, driven by
selenium through chromium-driver, clicks from the front page to the run's
chain and to the alerts. Chromium is a system package (``.ci/run`` installs
it): when it is missing the test fails and says how to install it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from switchboard.agents.health import HealthRegistry
from switchboard.runs import health_path
from tests.monitoring.conftest import RecordedReturn

CHROMIUM = "/usr/bin/chromium"
DRIVER = "/usr/bin/chromedriver"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def dashboard(recorded_return: RecordedReturn, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "SWITCHBOARD_TELEMETRY_DB": str(recorded_return.database),
        "SWITCHBOARD_HOME": str(recorded_return.database.parent / "home"),
        "SWITCHBOARD_CHECKPOINT_DB": recorded_return.settings.checkpoint_target,  # health.sqlite is beside it
    }
    log = (tmp_path / "dashboard.log").open("w")
    command = [sys.executable, "-m", "switchboard.cli", "dashboard", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail(f"the dashboard did not start: {(tmp_path / 'dashboard.log').read_text()[-2000:]}")
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    if not (shutil.which(CHROMIUM) and shutil.which(DRIVER)):
        pytest.fail(
            "the dashboard test needs Debian's chromium and chromium-driver: "
            "apt-get install -y chromium chromium-driver (.ci/run does this)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=DRIVER))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def test_the_dashboard_shows_the_runs_chain_and_its_alert(
    dashboard: str, browser: Any, recorded_return: RecordedReturn
) -> None:
    from selenium.webdriver.common.by import By

    health = HealthRegistry(health_path(recorded_return.settings))
    for _ in range(3):
        health.record("finance", ok=False)  # three failures in a row open finance's breaker
    health.close()

    browser.get(dashboard + "/")
    assert "Switchboard monitoring" in browser.title
    browser.find_element(By.LINK_TEXT, "Runs").click()
    runs = browser.find_element(By.TAG_NAME, "body").text
    assert "return everything" in runs and "paused" in runs and "completed" in runs

    browser.find_elements(By.LINK_TEXT, "ret-1")[0].click()  # drill down to the thread's chain
    assert "/chain?thread=ret-1" in browser.current_url
    chain = browser.find_element(By.TAG_NAME, "body").text
    for seen in ("decision", "finance", "scripted", "quote_return_refund", "return_delivered_order_items"):
        assert seen in chain, seen
    assert "large-refund" in chain and "waiting" in chain and "approved" in chain
    assert "Return requested." in chain and "resolved" in chain

    browser.get(dashboard + "/")
    browser.find_element(By.LINK_TEXT, "Alerts").click()
    alerts = browser.find_element(By.TAG_NAME, "body").text
    assert "budget" in alerts and "critical" in alerts and "run_tokens spent" in alerts

    browser.get(dashboard + "/")
    browser.find_element(By.LINK_TEXT, "Agents").click()
    rows = [row.text for row in browser.find_elements(By.CSS_SELECTOR, "table.rows-and-columns tbody tr")]
    assert next(row for row in rows if row.startswith("finance")).endswith("open")  # live, from health.sqlite
    assert next(row for row in rows if row.startswith("supervisor")).endswith("closed")
