"""Browser fixtures: the app served on 127.0.0.1 in a thread, Debian's Chromium through
Playwright, and an axe-core check (WCAG 2.2 AA rules) that any test can call.

Chromium is launched with ``--proxy-server=127.0.0.1:9`` (loopback is never proxied), so
it reaches our server and nothing else.
"""

import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from blueprints.account.services import create_staff
from extensions import db
from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


BROWSER_GROUPS = 2  # CI has two cores: two workers, each with one Chromium


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    modules = sorted({item.path.name for item in items if here in item.path.parents})
    for item in items:
        if here in item.path.parents:  # the hook sees every test of the run, not only ours
            item.add_marker(pytest.mark.browser)
            # Under pytest-xdist (--dist loadgroup) the browser tests of a module stay on
            # one worker, and the modules are dealt out to two groups, so each of the two
            # workers runs one Chromium and half the browser tests beside the rest.
            group = modules.index(item.path.name) % BROWSER_GROUPS
            item.add_marker(pytest.mark.xdist_group(f"browser-{group}"))


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--proxy-server=127.0.0.1:9",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


class LiveServer:
    def __init__(self, app):
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._thread.join(timeout=5)


@pytest.fixture
def live_server(app):
    app.config["SITE_URL"] = "http://127.0.0.1"  # replaced below once the port is known
    server = LiveServer(app).start()
    app.config["SITE_URL"] = server.url
    yield server
    server.stop()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, locale="en-US", timezone_id="America/New_York"
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def axe_violations(page):
    """Run axe-core on the current page with the WCAG 2.0-2.2 A/AA rules.

    Only the violations come back in full (``resultTypes``): axe otherwise lists every
    element of every rule that passed too, 100-300 kB a page to build and send over, and
    the check reads only the violations."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    return Axe().run(page, options=options).response["violations"]


def assert_accessible(page):
    violations = axe_violations(page)
    summary = "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']][:5]}"
        for v in violations
    )
    assert not violations, f"axe found violations on {page.url}:\n{summary}"


@pytest.fixture
def staff_account(app):
    """Dr. Brown's staff account, committed for the live server's threads."""
    create_staff(STAFF_EMAIL, STAFF_PASSWORD, name="Susan Brown")
    db.session.commit()
    db.session.close()  # the live server's threads use their own sessions


def sign_in_staff(page):
    """Sign in on the staff sign-in page and wait for the dashboard."""
    page.goto("/admin/login")
    page.get_by_role("main").get_by_label("Email address").fill(STAFF_EMAIL)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin/")
