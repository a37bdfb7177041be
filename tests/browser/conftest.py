"""A real browser (Debian's chromium, driven by Playwright) against the app served on a free port.

The served app has its own database (a fresh SQLite file, or a throwaway PostgreSQL database
when the suite runs on PostgreSQL), built by the migrations and founded like production, so
what the browser does is committed for real. Skipped when chromium is not installed; CI
installs it (.ci/run).
"""

import os
import shutil
import socket
import threading
import uuid

import pytest
from werkzeug.serving import make_server

from coop.extensions import db
from tests.conftest import PASSWORD, founded_app, fresh_database

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.browser


def pytest_collection_modifyitems(config, items):
    if CHROMIUM:
        return
    skip = pytest.mark.skip(reason="needs Debian's chromium (apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def served_database_url():
    with fresh_database("coop_browser") as url:
        yield url


@pytest.fixture(scope="session")
def served_app(served_database_url):
    app = founded_app(served_database_url)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(served_app):
    """The app answering HTTP on 127.0.0.1:<free port>, in a thread; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = make_server("127.0.0.1", port, served_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser tab (its own cookies) at phone-ish desktop size; `page.goto("/path")` is relative."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1024, "height": 768})
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def phone(browser, live_server):
    """A fresh tab 360 × 740 pixels wide, as on a cheap phone, asking for French."""
    context = browser.new_context(
        base_url=live_server,
        viewport={"width": 360, "height": 740},
        locale="fr-FR",
        extra_http_headers={"Accept-Language": "fr"},
    )
    tab = context.new_page()
    yield tab
    context.close()


class People:
    """Makes accounts in the served app's database, committed, through the real services."""

    def __init__(self, app):
        self.app = app

    def _name(self, prefix):
        return f"{prefix}{uuid.uuid4().hex[:6]}"

    def _make(self, build):
        from tests.conftest import Factory

        with self.app.app_context():
            user = build(Factory(self.app))
            db.session.commit()
            user_id, email, name = user.id, user.email, user.display_name
            db.session.remove()
        return Account(user_id, email, name)

    def worker(self):
        return self._make(lambda f: f.worker(self._name("worker")))

    def member(self):
        return self._make(lambda f: f.member(self._name("member")))

    def coordinator(self):
        return self._make(lambda f: f.coordinator(self._name("coord")))

    def requester(self):
        return self._make(lambda f: f.requester(self._name("requester")))

    def api(self, account, method: str, url: str, json=None):
        """Call the served app's API as `account` (setting things up the way a requester's script would)."""
        from coop.accounts.models import User
        from tests.conftest import ApiClient

        with self.app.app_context():
            client = ApiClient(self.app, db.session.get(User, account.id))
            db.session.commit()
            response = client.open(method, url, json=json)
            db.session.remove()
        assert response.status_code < 400, response.get_json()
        return response.get_json()

    def fund(self, requester, cents: int) -> None:
        """Money in a requester's available funds, as a confirmed deposit puts it."""
        from coop import ledger

        with self.app.app_context():
            ledger.move(ledger.EXTERNAL, ledger.requester_available(requester.id), cents, "browser test deposit")
            db.session.commit()
            db.session.remove()


class Account:
    def __init__(self, id, email, name, password=PASSWORD):
        self.id, self.email, self.display_name = id, email, name
        self.password = password


@pytest.fixture
def people(served_app):
    return People(served_app)


def sign_in(page, account) -> None:
    """Sign in through the sign-in page as a person would."""
    page.goto("/sign-in")
    # By the inputs' ids, so the same steps sign in whatever the page's language.
    page.locator("#email").fill(account.email)
    page.locator("#password").fill(account.password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def fits_the_screen(page) -> bool:
    """Nothing on the page is wider than the viewport (no sideways scrolling on a phone).

    Measured once the page has a document that has finished parsing, so a check right
    after a click that navigates never reads the page in between.
    """
    page.wait_for_load_state()
    measured = page.wait_for_function(
        """() => {
            const root = document.documentElement;
            if (!root || document.readyState === "loading") return null;  // keep waiting
            return {wide: root.scrollWidth > window.innerWidth};
        }"""
    )
    return not measured.json_value()["wide"]


def serious_violations(page) -> list[dict]:
    """axe-core's serious and critical accessibility violations on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    page.wait_for_load_state()
    results = Axe().run(page)
    return [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
