"""The console in a real browser (Debian's chromium driven by Playwright) against running workers.

Log in; find a subscriber by IMSI, MSISDN and NAI; watch the balance fall after a Diameter Ro
session run by the test; top up as admin; the read-only user sees no action buttons and the API
refuses its top-up.  A screenshot of each screen is kept under the test's temporary directory
(``$CONSOLE_SCREENSHOTS`` overrides it, e.g. to refresh docs/console/).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import requests

from tests.rest.conftest import ADMIN, READER

from .conftest import IMSI, MSISDN, NAI, ro_session

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 15_000


def _browser_or_skip():
    if not os.path.exists(CHROMIUM) or shutil.which("chromium") is None:
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is not installed (.ci/run must install chromium)")
        pytest.skip(f"{CHROMIUM} not installed: the console's browser tests did not run")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("playwright is not installed (the test extra must carry it)")
        pytest.skip("playwright not installed: the console's browser tests did not run")
    return sync_playwright


@pytest.fixture(scope="module")
def browser():
    sync_playwright = _browser_or_skip()
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("CONSOLE_SCREENSHOTS") or tmp_path_factory.mktemp("console-screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _page(browser, appliance):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(appliance.url + "/console")
    return context, page, errors


def _login(page, who: tuple[str, str]) -> None:
    page.fill("#login-user", who[0])
    page.fill("#login-password", who[1])
    page.click("#login-submit")
    page.wait_for_selector("#who", state="visible")
    assert page.inner_text("#who").startswith(who[0])


def _search(page, identity: str) -> None:
    page.fill("#search-identity", identity)
    page.click("#search-submit")
    page.wait_for_selector("#sub-id")


def _money(page) -> str:
    return page.inner_text("#balance tr[data-units='USD'] .balance-amount")


def test_wrong_password_is_refused(browser, appliance):
    context, page, errors = _page(browser, appliance)
    try:
        page.fill("#login-user", ADMIN[0])
        page.fill("#login-password", "not-the-password")
        page.click("#login-submit")
        page.wait_for_selector("#login-error", state="visible")
        assert not page.is_visible("#who")
        assert errors == []
    finally:
        context.close()


def test_admin_finds_subscriber_sees_a_diameter_session_and_tops_up(browser, appliance, shots):
    context, page, errors = _page(browser, appliance)
    try:
        page.screenshot(path=str(shots / "login.png"))
        _login(page, ADMIN)
        for identity in (MSISDN, NAI, IMSI):
            _search(page, identity)
            assert page.inner_text("#sub-id") == IMSI
        before = _money(page)
        assert page.is_visible("#topup-submit") and page.is_visible("#adjust-submit")

        # 1,500,000 octets = 2 started MB at 0.02 USD each (tests/conftest.py DATA_OFFER)
        assert ro_session(appliance.doc["diameter"]["port"]) == [2001, 2001, 2001]
        _search(page, IMSI)
        page.wait_for_function(f"document.querySelector(\"#balance tr[data-units='USD'] .balance-amount\")"
                               f".textContent !== {before!r}")
        after = _money(page)
        assert round(float(before) - float(after), 6) == 0.04
        page.wait_for_selector("#transactions tbody tr")
        page.screenshot(path=str(shots / "subscriber.png"), full_page=True)

        page.fill("#topup-amount", "5")
        page.click("#topup-submit")
        page.wait_for_function("document.querySelector('#action-result').textContent.includes('done')")
        assert round(float(_money(page)) - float(after), 6) == 5.0

        page.click("button[data-screen='dashboard']")
        page.wait_for_selector("#chart .uplot", timeout=TIMEOUT_MS)
        assert page.inner_text(".card[data-rate='ccr'] .total") == "total 3"
        page.wait_for_timeout(2_500)
        assert ro_session(appliance.doc["diameter"]["port"]) == [2001, 2001, 2001]   # live: the next poll sees it
        page.wait_for_function("document.querySelector(\".card[data-rate='ccr'] .total\").textContent === 'total 6'")
        page.wait_for_timeout(2_500)          # one more poll, so the chart shows the rate
        page.screenshot(path=str(shots / "dashboard.png"), full_page=True)

        page.click("button[data-screen='catalog']")
        page.wait_for_selector("#offers tbody tr")
        assert "data" in page.inner_text("#offers")
        page.screenshot(path=str(shots / "catalog.png"), full_page=True)

        page.click("button[data-screen='configuration']")
        page.wait_for_selector("#config:not(:empty)")
        config = page.inner_text("#config")
        assert "testing123" not in config and "••••••" in config
        page.screenshot(path=str(shots / "configuration.png"), full_page=True)
        assert errors == []
    finally:
        context.close()


def test_readonly_user_sees_no_actions_and_the_api_refuses_its_top_up(browser, appliance, shots):
    context, page, errors = _page(browser, appliance)
    try:
        _login(page, READER)
        _search(page, IMSI)
        before = _money(page)
        assert not page.is_visible("#actions")
        assert not page.is_visible("#topup-submit")
        page.screenshot(path=str(shots / "subscriber-readonly.png"), full_page=True)
        token = page.evaluate("sessionStorage.getItem('appliance.console.token')")
        status = page.evaluate("""async (token) => (await fetch('/tmf-api/prepayBalanceManagement/v4/balanceTopup', {
            method: 'POST', headers: {'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json'},
            body: JSON.stringify({product: {id: 'p1'}, amount: {amount: '5', units: 'USD'}})})).status""", token)
        assert status == 403
        r = requests.post(appliance.url + "/tmf-api/prepayBalanceManagement/v4/balanceAdjustment", auth=READER,
                          json={"product": {"id": "p1"}, "amount": {"amount": "5", "units": "USD"}}, timeout=30)
        assert r.status_code == 403
        _search(page, IMSI)
        assert _money(page) == before
        assert errors == []
    finally:
        context.close()
