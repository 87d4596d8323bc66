"""Opens report.html in headless Chromium and checks it as a reader sees it:
no console errors, no network request, a CJK font, every chart drawn. Saves
a full-page screenshot. Used by scripts/test-report.sh.

    python scripts/check_report_page.py REPORT.html SCREENSHOT.png
"""

import os
import sys
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

os.environ.setdefault("SE_OFFLINE", "true")  # never let selenium fetch a driver


def main(page: Path, screenshot: Path) -> None:
    profile = tempfile.mkdtemp(prefix="drg-report-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--hide-scrollbars", f"--user-data-dir={profile}", "--window-size=1300,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    failures = []

    def check(ok: bool, what: str) -> None:
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    try:
        driver.get(page.resolve().as_uri())
        count = lambda css: len(driver.find_elements(By.CSS_SELECTOR, css))  # noqa: E731
        errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        check(not errors, f"no console errors {errors}")
        resources = driver.execute_script("return performance.getEntriesByType('resource').map(r => r.name)")
        check(resources == [], f"no network request {resources}")
        check(driver.execute_script("return document.fonts.check('16px \"Noto Sans CJK SC\"', '医院')"),
              "a CJK font for the Chinese labels (Noto Sans CJK SC)")
        check(count("svg#chart-cmi-cost g.hospital-point circle") == 8, "CMI × cost index: one point per hospital (8)")
        labels = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "svg#chart-cmi-cost .quadrant-label")]
        check(sorted(labels) == sorted(["技术难度低 · 费用偏高", "技术难度高 · 费用偏高", "技术难度低 · 费用偏低", "技术难度高 · 费用偏低"]),
              f"the four quadrants labelled {labels}")
        check(count("svg#chart-cmi-cost line.ref") == 2, "quadrants divided at CMI = 1 and cost index = 1")
        check(count("svg#chart-group-rate g.rate-point circle") == 8, "group rate: one dot per hospital")
        check(count("svg#chart-low-risk g.bar rect") == 8, "low-risk mortality: one bar per hospital")
        check(count("svg#chart-cv g.cv-bin rect") == 21, "cost CV histogram: 21 bins")
        check(count("table#worst-cv tbody tr") == 15, "worst DRGs by CV: 15 rows")
        check(count("table#hospitals tbody tr") == 8, "hospitals table: 8 rows")
        check(count("table#scheme tbody tr") == 1, "scheme table: 1 row")
        check(count("table#drgs tbody tr") == 628, "DRG table: 628 rows")
        box = driver.execute_script(
            "const r = document.querySelector('#chart-cmi-cost').getBoundingClientRect(); return [r.width, r.height]")
        check(box[0] > 600 and box[1] > 300, f"the CMI chart is drawn at a readable size {box}")
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1300, height + 100)
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(screenshot))
        print(f"screenshot: {screenshot}")
    finally:
        driver.quit()
    if failures:
        sys.exit(f"report.html: {len(failures)} checks failed")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
