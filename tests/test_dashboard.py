"""The dashboard in a real headless Chromium (Debian's chromium + chromedriver, driven by
selenium). The test asserts on the page; no screenshots are taken or kept."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from server_helpers import TOKEN, Server

pytestmark = pytest.mark.real

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-dev-shm-usage")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("dashboard-server")).start()
    yield srv
    assert srv.stop() == 0


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not Path(CHROMIUM).exists() or not Path(CHROMEDRIVER).exists():
        pytest.skip("chromium and chromium-driver are not installed (scripts/setup.sh installs "
                    "them: apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed "
                                    "(pip install -e '.[server]')")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def wait_for(browser: Any, check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout, poll_frequency=0.2).until(
        lambda _d: check(), message=f"timed out waiting for {what}")


def css(browser: Any, selector: str) -> Any:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.CSS_SELECTOR, selector)


def all_css(browser: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(browser.find_elements(By.CSS_SELECTOR, selector))


def test_sign_in_then_watch_a_turn_happen(server: Server, browser: Any) -> None:
    browser.get(server.url + "/")
    assert browser.current_url.endswith("/login")  # no token, no dashboard
    css(browser, "#login-token").send_keys("not-the-token")
    css(browser, "#login-form button").click()
    wait_for(browser, lambda: css(browser, "#login-error").is_displayed(), "the error")
    assert css(browser, "#login-error").text == "Wrong token."
    css(browser, "#login-token").clear()
    css(browser, "#login-token").send_keys(TOKEN)
    css(browser, "#login-form button").click()
    wait_for(browser, lambda: browser.execute_script("return document.body.dataset.ready"),
             "the dashboard")
    wait_for(browser, lambda: css(browser, "#stream-status").text == "live", "the event stream")

    kitchen = 'tr[data-entity="light.kitchen"]'
    assert css(browser, kitchen).get_attribute("data-state") == "off"
    assert len(all_css(browser, "#home-table tbody tr")) >= 18
    assert css(browser, "#latency-chart").get_attribute("data-points") == "0"
    assert {li.get_attribute("data-satellite") for li in all_css(browser, "#satellites li")} == {
        "kitchen", "bedroom", "office"}
    assert css(browser, "#audit-empty").is_displayed()

    css(browser, "#ask-text").send_keys("turn on the kitchen light")
    css(browser, "#ask-form button").click()
    wait_for(browser, lambda: all_css(browser, '#events li[data-type="action"]'), "the action")
    wait_for(browser, lambda: css(browser, kitchen).get_attribute("data-state") == "on",
             "the home table to update")
    wait_for(browser, lambda: css(browser, "#latency-chart").get_attribute("data-points") == "1",
             "the latency chart")
    # the answer to the POST may come after the event stream has shown the turn
    wait_for(browser, lambda: "Kitchen Light" in css(browser, "#ask-result").text, "the reply")
    assert server.entity_state("light.kitchen") == "on"
    action = css(browser, '#events li[data-type="action"]').text
    assert "light.turn_on light.kitchen" in action and "api" in action
    stages = {tr.get_attribute("data-stage") for tr in all_css(browser, "#latency-last tr")}
    assert stages == {"understand", "act"}
    painted = browser.execute_script("""
        const c = document.getElementById('latency-chart');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
        return n;""")
    assert painted > 500  # axes, labels and the turn's points are drawn

    # everything the page loaded came from this server
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources and all(r.startswith(server.url) for r in resources), resources
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"
              and "/login" not in e["message"] and "401" not in e["message"]]
    assert severe == []


def test_privacy_mode_switch_asks_for_confirmation(server: Server, browser: Any) -> None:
    from selenium.webdriver.support.ui import Select

    browser.get(server.url + "/")
    wait_for(browser, lambda: browser.execute_script("return document.body.dataset.ready"),
             "the dashboard")
    initial = server.json("GET", "/api/privacy")["mode"]
    assert css(browser, "#privacy-current").text == initial
    target = "allow" if initial != "allow" else "local_only"

    Select(css(browser, "#privacy-mode")).select_by_value(target)
    css(browser, "#privacy-apply").click()
    dialog = css(browser, "#privacy-dialog")
    wait_for(browser, dialog.is_displayed, "the confirmation")
    assert target in css(browser, "#privacy-question").text
    css(browser, "#privacy-cancel").click()
    wait_for(browser, lambda: not dialog.is_displayed(), "the dialog to close")
    assert server.json("GET", "/api/privacy")["mode"] == initial  # cancelled: nothing changed
    wait_for(browser, lambda: css(browser, "#privacy-mode").get_attribute("value") == initial,
             "the selector to reset")

    Select(css(browser, "#privacy-mode")).select_by_value(target)
    css(browser, "#privacy-apply").click()
    wait_for(browser, dialog.is_displayed, "the confirmation")
    css(browser, "#privacy-confirm").click()
    wait_for(browser, lambda: css(browser, "#privacy-current").text == target, "the new mode")
    assert server.json("GET", "/api/privacy")["mode"] == target
    wait_for(browser, lambda: all_css(browser, '#events li[data-type="privacy_mode"]'),
             "the switch in the event list")
