"""The console in a real browser (Debian's chromium driven by Playwright) against running workers.

Log in; find a subscriber by IMSI, MSISDN and NAI; watch the balance fall after a Diameter Ro
session run by the test; top up as admin; the read-only user sees no action buttons and the API
refuses its top-up.  Sessions (Disconnect to a NAS on loopback, Gx re-auth), peers up while the
test holds a Diameter connection, dashboard panels, logs and an IPDR export downloaded, a live
trace of a Ro session, catalog edit (a refused change stores nothing).  A screenshot of each
screen is kept under the test's temporary directory (``$CONSOLE_SCREENSHOTS`` overrides it, e.g.
to refresh docs/console/).
"""
from __future__ import annotations

import concurrent.futures
import json
import os
import shutil
import threading
from pathlib import Path

import pytest
import requests

from appliance.config import load
from appliance.diameter.apps import aaa
from appliance.logs.ipdr import FIELDS
from appliance.pcrf import tables
from appliance.radius import packet as rp
from appliance.radius.acct import SESSION_KIND
from appliance.store import open_store
from tests.radius.helpers import radclient
from tests.radius.test_accounting import NasListener
from tests.rest.conftest import ADMIN, READER

from .conftest import IMSI, MSISDN, NAI, ro_session
from .test_screens_api import _hold_peer

CAT = "/tmf-api/productCatalogManagement/v4"

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


def _screen(page, name: str) -> None:
    page.click(f"button[data-screen='{name}']")
    page.wait_for_selector(f"#screen-{name}", state="visible")


def test_admin_sessions_peers_logs_export_trace_and_catalog_edit(browser, appliance, shots):
    nas = NasListener(ignore=0)
    key = "127.0.0.1|br-1"
    store = open_store(load(str(appliance.conf)))
    try:
        store.transact(lambda l: (
            l.put_doc(SESSION_KIND, key, {"nas": "127.0.0.1", "sid": "br-1", "addr": "127.0.0.1", "coa_port": nas.port,
                                          "user": NAI, "nas_ip": "127.0.0.1", "framed_ip": "10.0.0.21",
                                          "subscriber": NAI, "start": 1_796_000_000, "octets": 1_200_000,
                                          "seconds": 300, "csid": "radius:" + key}),
            l.put_doc(tables.KIND_SESSION, "pcef.browser;1", {
                "session_id": "pcef.browser;1", "peer": "pcef.browser", "realm": "r", "service": IMSI,
                "product": "p1", "installed": {"default": "x"}, "apn": "internet", "ip": "10.1.2.9",
                "created": 1_796_000_000, "updated": 1_796_000_000}),
            l.put_doc(aaa.SESSION_KIND, "epdg.browser;1", {
                "app": aaa.SWM, "imsi": IMSI, "user_name": f"0{IMSI}@wlan.test", "peer_host": "epdg.browser",
                "peer_realm": "r", "state": "open", "owner": 0, "node": "nobody.test", "apn": "ims",
                "created": 1_796_000_000})))
    finally:
        store.close()
    context, page, errors = _page(browser, appliance)
    opened, release = threading.Event(), threading.Event()
    pool = concurrent.futures.ThreadPoolExecutor(1)
    held = pool.submit(_hold_peer, appliance.doc["diameter"]["port"], opened, release)
    try:
        _login(page, ADMIN)

        # sessions: from the subscriber's page; the RADIUS session disconnected from its row, the Gx
        # session re-authorized
        _search(page, MSISDN)
        page.click("#sub-sessions")
        page.wait_for_selector("#screen-sessions", state="visible")
        row = page.wait_for_selector(f"#sessions tr[data-key='{key}']")
        assert page.input_value("#sessions-subscriber") == IMSI
        assert "10.0.0.21" in row.inner_text()
        page.screenshot(path=str(shots / "sessions.png"), full_page=True)
        row.query_selector("button.disconnect").click()
        page.wait_for_function("document.querySelector('#session-result').textContent.includes('ack')")
        assert nas.received and nas.received[-1].text(rp.ACCT_SESSION_ID) == "br-1"
        page.select_option("#sessions-kind", "gx")
        page.wait_for_selector("#sessions tr[data-key='pcef.browser;1'] button.reauth").click()
        page.wait_for_function("document.querySelector('#session-result').textContent.includes('queued')")
        # an AAA (SWm) session: its Abort-Session-Request queued for the worker that owns it
        page.select_option("#sessions-kind", "aaa")
        page.wait_for_selector("#sessions tr[data-key='epdg.browser;1'] button.abort").click()
        page.wait_for_function(
            "document.querySelector('#session-result').textContent.includes('abort epdg.browser;1: queued')")
        assert "abort requested" in page.inner_text("#sessions tr[data-key='epdg.browser;1']")
        page.screenshot(path=str(shots / "sessions-aaa.png"), full_page=True)
        store = open_store(load(str(appliance.conf)))
        try:
            asked = store.transact(lambda l: l.get_doc(aaa.SESSION_KIND, "epdg.browser;1"))["abort_requested"]
        finally:
            store.close()
        assert asked["reason"] == "operator abort (console, admin)"

        # peers and clients: the peer this test holds open is up
        assert opened.wait(30)
        _screen(page, "peers")
        page.wait_for_function("(() => { const c = document.querySelector(\"#peers tr[data-peer='gw.test'] .state\");"
                               " return c && c.textContent === 'up'; })()", timeout=20_000)
        assert "nas-lo" in page.inner_text("#radius-clients")
        page.screenshot(path=str(shots / "peers.png"), full_page=True)

        # dashboard panels: peers up, open sessions, store and ledger health
        _screen(page, "dashboard")
        page.wait_for_function("document.querySelector('#store-health').textContent === 'ok'")
        assert int(page.inner_text("#peers-up")) >= 1
        assert page.inner_text("#ledger-health") == "ok"
        page.wait_for_function("parseInt(document.querySelector('#sessions-total').textContent) >= 2",
                               timeout=20_000)
        page.wait_for_selector("#chart .uplot")
        page.wait_for_timeout(2_500)          # a few rate points in the chart
        page.screenshot(path=str(shots / "dashboard.png"), full_page=True)

        # logs: the subscriber's transactions, and an IPDR export downloaded
        assert ro_session(appliance.doc["diameter"]["port"]) == [2001, 2001, 2001]
        _screen(page, "logs")
        page.fill("#logs-subscriber", IMSI)
        page.click("#logs-submit")
        page.wait_for_selector("#log-records tbody tr")
        assert "diameter" in page.inner_text("#log-records")
        page.click("#export-submit")
        page.wait_for_function("document.querySelector('#export-state').textContent.startsWith('done 100%')")
        page.screenshot(path=str(shots / "logs.png"), full_page=True)
        with page.expect_download() as got:
            page.click("#export-download")
        csv = Path(got.value.path()).read_text().splitlines()
        assert csv[0] == ",".join(FIELDS["wlan"]) and len(csv) >= 2       # at least the Ro session above

        # trace: a live Ro session of the subscriber, its three requests and answers
        _screen(page, "trace")
        page.fill("#trace-identity", MSISDN)
        page.click("#trace-start")
        page.wait_for_function("document.querySelector('#trace-state').textContent.startsWith('tracing')")
        page.wait_for_timeout(1_500)                 # workers look at the trace folder once a second
        assert ro_session(appliance.doc["diameter"]["port"]) == [2001, 2001, 2001]
        page.wait_for_function("document.querySelectorAll('#trace-events tbody tr').length >= 6", timeout=20_000)
        assert page.inner_text("#trace-events").count("2001") >= 3
        # and the subscriber's RADIUS accounting, traced by the RADIUS worker
        out = radclient(appliance.doc["radius"]["acct_port"], "acct",
                        f'Acct-Status-Type = Start\nAcct-Session-Id = "tr-1"\nUser-Name = "{NAI}"\n'
                        'NAS-IP-Address = 127.0.0.1\n')
        assert "Received Accounting-Response" in out
        page.wait_for_function("document.querySelectorAll('#trace-events tbody tr').length >= 8", timeout=20_000)
        text = page.inner_text("#trace-events")
        assert "Accounting-Response" in text and f"User-Name={NAI}" in text and "Acct-Session-Id=tr-1" in text
        page.screenshot(path=str(shots / "trace.png"), full_page=True)
        page.click("#trace-stop")

        # catalog edit: a new price, a refused change (nothing stored), an accepted one, deleted
        _screen(page, "catalog")
        page.wait_for_selector("#offers tbody tr")
        page.select_option("#edit-kind", "productOfferingPrice")
        page.click("#edit-new")
        body = {"id": "console-price", "name": "console-price", "priceType": "usage",
                "price": {"taxIncludedAmount": {"unit": "USD", "value": "0.05"}},
                "unitOfMeasure": {"amount": 1_000_000, "units": "octets"}}
        page.fill("#edit-body", json.dumps(body))
        page.click("#edit-create")
        page.wait_for_selector("#prices tr[data-price='console-price']")
        page.click("#prices tr[data-price='console-price'] button.edit")
        page.fill("#edit-body", json.dumps({**body, "priceType": "weekly"}))
        page.click("#edit-save")
        page.wait_for_function("document.querySelector('#error').textContent.includes('refused')")
        stored = appliance.get(CAT + "/productOfferingPrice/console-price", auth=READER).json()
        assert stored["priceType"] == "usage"
        page.screenshot(path=str(shots / "catalog-edit.png"), full_page=True)
        page.fill("#edit-body", json.dumps({"price": {"taxIncludedAmount": {"unit": "USD", "value": "0.07"}}}))
        page.click("#edit-save")
        page.wait_for_function("document.querySelector('#edit-result').textContent === 'update done'")
        stored = appliance.get(CAT + "/productOfferingPrice/console-price", auth=READER).json()
        assert stored["price"]["taxIncludedAmount"]["value"] in ("0.07", "0.070000")
        page.click("#edit-delete")
        page.wait_for_function("document.querySelector('#edit-result').textContent === 'delete done'")
        assert appliance.get(CAT + "/productOfferingPrice/console-price", auth=READER).status_code == 404
        # a tariff table (TMF639 resource) through the same editor
        page.select_option("#edit-kind", "resource")
        page.click("#edit-new")
        page.fill("#edit-body", json.dumps({"name": "console-tariff", "resourceSpecification": {"id": "TariffTable"},
                                            "resourceCharacteristic": [{"name": "rates",
                                                                        "value": {"44": "0.10", "1": "0.05"}}]}))
        page.click("#edit-create")
        page.wait_for_selector("#tables tr[data-table='console-tariff']")
        assert "2 prefixes" in page.inner_text("#tables tr[data-table='console-tariff']")
        page.click("#edit-delete")
        page.wait_for_function("!document.querySelector(\"#tables tr[data-table='console-tariff']\")")
        assert errors == []
    finally:
        release.set()
        held.result(60)
        pool.shutdown()
        nas.close()
        context.close()


def test_readonly_user_sees_the_screens_without_actions(browser, appliance, shots):
    context, page, errors = _page(browser, appliance)
    try:
        _login(page, READER)
        _screen(page, "sessions")
        page.wait_for_selector("#sessions tbody tr")
        assert page.query_selector_all("#sessions button.disconnect") == [] or \
            not any(b.is_visible() for b in page.query_selector_all("#sessions button"))
        # an AAA session: no Abort button, and the API refuses the page's own token
        store = open_store(load(str(appliance.conf)))
        try:
            store.transact(lambda l: l.put_doc(aaa.SESSION_KIND, "epdg.readonly;1", {
                "app": aaa.STA, "imsi": IMSI, "peer_host": "epdg.readonly", "peer_realm": "r", "state": "open",
                "owner": 0, "node": "nobody.test", "created": 1_796_000_000}))
        finally:
            store.close()
        page.select_option("#sessions-kind", "aaa")
        page.wait_for_selector("#sessions tr[data-key='epdg.readonly;1']")
        assert not any(b.is_visible() for b in page.query_selector_all("#sessions button.abort"))
        token = page.evaluate("sessionStorage.getItem('appliance.console.token')")
        status = page.evaluate("""async (token) => (await fetch('/console/api/sessions/aaa/abort', {
            method: 'POST', headers: {'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json'},
            body: JSON.stringify({key: 'epdg.readonly;1'})})).status""", token)
        assert status == 403
        _screen(page, "catalog")
        page.wait_for_selector("#offers tbody tr")
        assert not page.is_visible("#catalog-editor")
        assert not any(b.is_visible() for b in page.query_selector_all("#offers button.edit"))
        _screen(page, "trace")
        assert not page.is_visible("#trace-start")
        _screen(page, "peers")
        page.wait_for_selector("#peers tbody tr")
        page.screenshot(path=str(shots / "sessions-readonly.png"), full_page=True)
        assert errors == []
    finally:
        context.close()
