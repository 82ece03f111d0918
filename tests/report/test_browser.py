"""The report in a real headless Chromium: loads without errors, one shape per sensor, popups.

Runs wherever Debian's chromium and chromium-driver are installed (`make test` installs them).
Without them the tests are skipped locally, but fail under CI=true: there they must run.
"""

from __future__ import annotations

import os
import re

import pytest
from report_helpers import inputs_for, with_sensor_errors

from dynst_cli.atomic import write_text
from dynst_cli.report.browser import (
    find_chromium,
    headless_chromium,
    open_report,
    severe_log_entries,
)
from dynst_cli.report.page import render

if find_chromium() is None:
    if os.environ.get("CI"):
        pytest.fail("CI needs chromium and chromedriver (run `make test`)", pytrace=False)
    pytest.skip("chromium and chromedriver are not installed", allow_module_level=True)
pytest.importorskip("selenium")
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser():
    with headless_chromium() as driver:
        yield driver


def _open(browser, tmp_path, plan) -> None:
    path = tmp_path / "report.html"
    write_text(path, render(inputs_for(plan)))
    open_report(browser, path)


@pytest.mark.parametrize("plan_name", ["point_plan", "grid_plan"])
def test_page_loads_without_errors_with_one_shape_per_sensor(browser, tmp_path, request, plan_name):
    plan = request.getfixturevalue(plan_name)
    _open(browser, tmp_path, plan)
    assert severe_log_entries(browser) == []
    shapes = browser.find_elements("css selector", "path.dynst-sensor")
    assert len(shapes) == plan["n_sensors"]
    kept = browser.find_elements("css selector", "path.dynst-kept")
    assert len(kept) == plan["n_keep"]


def test_clicking_a_sensor_opens_its_popup_with_its_numbers(browser, tmp_path, point_plan):
    plan = with_sensor_errors(point_plan)
    _open(browser, tmp_path, plan)
    sensor = plan["sensors"][-1]  # dropped, excluded, drawn last: nothing lies on top of it
    browser.execute_script(
        "var m = window.dynstMap, s = window.dynstShapes[arguments[0]];"
        "m.setView(s.getLatLng(), 16, {animate: false});",
        sensor["sensor_id"],
    )
    shape = browser.find_element("css selector", f"path[data-sensor='{sensor['sensor_id']}']")
    shape.click()
    # the popup opens, and fades in, on the click's event turns, which a loaded machine may run
    # late; Selenium reads no text from an element not yet shown
    wait = WebDriverWait(browser, 10, ignored_exceptions=(StaleElementReferenceException,))
    popup = wait.until(_shown_popup_text)
    assert sensor["sensor_id"] in popup
    assert re.search(rf"rank\s+{sensor['rank']}\b", popup)
    assert re.search(rf"test MAE, dense\s+{sensor['mae_dense']:.2f} mph", popup)
    assert re.search(rf"test MAE, reduced\s+{sensor['mae_reduced']:.2f} mph", popup)
    assert re.search(r"reason\s+exclude", popup)
    assert severe_log_entries(browser) == []


def _shown_popup_text(browser) -> str:
    """The text of the open popup, or "" (falsy: keep waiting) while none is shown."""
    popups = browser.find_elements("css selector", ".leaflet-popup-content")
    return popups[0].text if popups else ""


def test_colour_switch_recolours_the_sensors(browser, tmp_path, point_plan):
    plan = with_sensor_errors(point_plan)
    _open(browser, tmp_path, plan)
    first = plan["sensors"][0]["sensor_id"]
    fill = f"return document.querySelector(\"path[data-sensor='{first}']\").getAttribute('fill')"
    before = browser.execute_script(fill)
    browser.find_element("css selector", "input[name=colour][value=rise]").click()
    assert browser.execute_script(fill) != before
    assert browser.find_element("id", "legend-rise").is_displayed()
