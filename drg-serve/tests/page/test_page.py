"""The coder's page, driven in headless Chromium against a real `drg serve`.

Run by scripts/test-serve.sh: DRG_BIN names the drg binary, SHARED the
reference material, ARTEFACTS the folder for the screenshots.
"""

import csv
import json
import os
import signal
import subprocess
import tempfile
import urllib.request

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

SHARED = os.environ["SHARED"]
PACK = os.path.join(SHARED, "rulepacks", "chs-drg-1.1")
WEIGHTS = os.path.join(SHARED, "testdata", "points", "expected", "weights.csv")
ARTEFACTS = os.environ.get("ARTEFACTS", "target/serve-test")


@pytest.fixture(scope="module")
def server():
    child = subprocess.Popen(
        [os.environ["DRG_BIN"], "serve", "--addr", "127.0.0.1:0", "--pack", PACK, "--weights", WEIGHTS],
        stderr=subprocess.PIPE, text=True, env={k: v for k, v in os.environ.items() if k != "DRG_PACK"},
    )
    line = child.stderr.readline()
    assert "http://" in line, line
    url = line.split("http://")[1].split()[0]
    yield "http://" + url
    child.send_signal(signal.SIGTERM)
    assert child.wait(timeout=20) == 0


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,1100", f"--user-data-dir={tempfile.mkdtemp(prefix='drg-chromium-')}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
    yield driver
    driver.quit()


def api_group(base, case):
    request = urllib.request.Request(base + "/v1/group", data=json.dumps(case).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def pick_case(base):
    """A case of the 1.1 test data with two or three diagnoses and one
    procedure at most, grouped to a DRG that has a weight, whose group changes
    when its first two diagnoses are swapped: all found here, not hard-coded."""
    with open(WEIGHTS, encoding="utf-8") as f:
        weights = {row["drg"]: row for row in csv.DictReader(f)}
    with open(os.path.join(SHARED, "testdata", "chs-drg-1.1", "expected.csv"), encoding="utf-8") as f:
        expected = {row["id"]: row for row in csv.DictReader(f)}
    with open(os.path.join(SHARED, "testdata", "chs-drg-1.1", "cases.csv"), encoding="utf-8") as f:
        for row in csv.DictReader(f):
            dx = row["diagnoses"].split("|")
            px = [p for p in row["procedures"].split("|") if p]
            want = expected[row["id"]]
            if not (2 <= len(dx) <= 3 and len(px) <= 1 and want["status"] == "grouped" and want["drg"] in weights):
                continue
            if not row["age_years"] or row["age_days"] and int(row["age_years"] or 0) < 1:
                continue
            case = {"id": row["id"], "sex": row["sex"], "age_years": row["age_years"], "diagnoses": dx, "procedures": px}
            swapped = dict(case, diagnoses=[dx[1], dx[0]] + dx[2:])
            after = api_group(base, swapped)
            if after["drg"] and after["drg"] != want["drg"]:
                return case, want["drg"], weights[want["drg"]], after
    pytest.fail("no case of the 1.1 test data fits")


def add_code(browser, kind, code):
    box = browser.find_element(By.ID, f"{kind}-search")
    box.clear()
    box.send_keys(code)
    wait = WebDriverWait(browser, 10)
    # Search as you type: the code shows among the suggestions.
    item = wait.until(lambda b: next((li for li in b.find_elements(By.CSS_SELECTOR, f"#{kind}-suggest li")
                                      if li.find_element(By.CLASS_NAME, "code").text == code), None))
    item.click()
    wait.until(lambda b: code in [li.get_attribute("data-code") for li in b.find_elements(By.CSS_SELECTOR, f"#{kind}-list li")])


def test_a_coder_groups_a_case_and_swaps_the_principal_diagnosis(server, browser):
    os.makedirs(ARTEFACTS, exist_ok=True)
    case, drg, weight, swapped = pick_case(server)
    browser.get(server + "/")
    wait = WebDriverWait(browser, 15)
    wait.until(lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true")
    assert "chs-drg-1.1" in Select(browser.find_element(By.ID, "pack")).first_selected_option.text

    browser.find_element(By.ID, "case-id").clear()
    browser.find_element(By.ID, "case-id").send_keys(case["id"])
    Select(browser.find_element(By.ID, "sex")).select_by_value(case["sex"])
    browser.find_element(By.ID, "age").send_keys(case["age_years"])
    for code in case["diagnoses"]:
        add_code(browser, "dx", code)
    for code in case["procedures"]:
        add_code(browser, "px", code)

    wait.until(lambda b: b.find_element(By.ID, "result-drg").text == drg)
    name = browser.find_element(By.ID, "result-name").text
    assert name and name == api_group(server, case)["drg_name"]
    wait.until(lambda b: f"{float(weight['weight']):.4f}" in b.find_element(By.ID, "result-weight").text)
    trail = browser.find_elements(By.CSS_SELECTOR, "#trail li")
    assert any(drg in li.text and li.get_attribute("class") == "held" for li in trail), [li.text for li in trail][:20]
    browser.save_screenshot(os.path.join(ARTEFACTS, "page-grouped.png"))

    # Swap: the second diagnosis becomes the principal one.
    browser.find_element(By.CSS_SELECTOR, "#dx-list li:nth-child(2) .make-principal").click()
    wait.until(lambda b: b.find_element(By.ID, "result-drg").text == swapped["drg"])
    listed = [li.get_attribute("data-code") for li in browser.find_elements(By.CSS_SELECTOR, "#dx-list li")]
    assert listed == [case["diagnoses"][1], case["diagnoses"][0]] + case["diagnoses"][2:]
    previous = browser.find_element(By.ID, "previous")
    assert previous.is_displayed() and drg in previous.text and swapped["drg"] in previous.text, previous.text
    browser.save_screenshot(os.path.join(ARTEFACTS, "page-swapped.png"))
