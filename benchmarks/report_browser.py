"""The METR-LA demo report in headless Chromium: its size, its load time, and a screenshot.

Targets: the HTML is under 5 MB and opens (load event and every sensor drawn) in under 2 s.
The same browser set-up as the tests (`dynst_cli.report.browser`): Debian's chromium and
chromedriver, headless, a fresh profile, no network. The target applies to the first load (a
fresh profile, nothing cached); the median of --repeat loads in the same browser is reported too.

Writes benchmarks/results/report_browser.json and .md (folded into RESULTS.md by run_all.py).

Usage:
    python benchmarks/report_browser.py demo-output/metr-la-report.html \
        [--screenshot docs/report-metr-la.png] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import stamp, stamp_lines  # noqa: E402
from _measure import RESULTS  # noqa: E402
from dynst_cli.report.browser import headless_chromium, open_report, severe_log_entries  # noqa: E402

SIZE_TARGET_MB = 5.0
LOAD_TARGET_S = 2.0
SCREENSHOT_WINDOW = (1280, 1100)  # CSS pixels: the summary and the map in one picture


def measure(path: Path, repeat: int) -> dict:
    """Size in MB, first and median load seconds, sensors drawn, console errors."""
    with headless_chromium() as driver:
        loads = [open_report(driver, path) for _ in range(repeat)]
        shapes = len(driver.find_elements("css selector", "path.dynst-sensor"))
        errors = severe_log_entries(driver)
    return {
        "report": str(path),
        "size_mb": round(path.stat().st_size / 1e6, 3),
        "first_load_s": round(loads[0], 3),
        "median_load_s": round(statistics.median(loads), 3),
        "repeat": repeat,
        "sensors_drawn": shapes,
        "console_errors": errors,
    }


def screenshot(path: Path, target: Path) -> None:
    """A PNG of the page's top: summary and map."""
    with headless_chromium(SCREENSHOT_WINDOW) as driver:
        open_report(driver, path)
        driver.save_screenshot(str(target))


def markdown(result: dict, record: dict) -> str:
    """The result as the Markdown section RESULTS.md folds in."""
    lines = [
        "# Report in headless Chromium",
        "",
        *stamp_lines(record),
        "",
        "| figure | measured | target |",
        "| --- | ---: | ---: |",
        f"| HTML size of the METR-LA demo report | {result['size_mb']:.2f} MB "
        f"| < {SIZE_TARGET_MB} MB |",
        f"| load time, first load (fresh profile, cold cache) | {result['first_load_s']:.2f} s "
        f"| < {LOAD_TARGET_S} s |",
        f"| load time, median of {result['repeat']} loads (warm cache) "
        f"| {result['median_load_s']:.2f} s | |",
        f"| sensors drawn on the map | {result['sensors_drawn']} | 207 |",
        f"| console errors | {len(result['console_errors'])} | 0 |",
        "",
        "Load time: from the request to the load event with every sensor drawn "
        "(`window.dynstShapes` set), Debian chromium headless, a fresh profile, no network.",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--screenshot", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    result = measure(args.report, args.repeat)
    result["meets_targets"] = (
        result["size_mb"] < SIZE_TARGET_MB and result["first_load_s"] < LOAD_TARGET_S
    )
    print(json.dumps(result, indent=2))
    record = stamp("python benchmarks/report_browser.py " + " ".join(sys.argv[1:]))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "report_browser.json").write_text(
        json.dumps({"stamp": record, "result": result}, indent=2) + "\n"
    )
    (RESULTS / "report_browser.md").write_text(markdown(result, record))
    if args.screenshot:
        screenshot(args.report, args.screenshot)
        print(f"screenshot written to {args.screenshot}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
