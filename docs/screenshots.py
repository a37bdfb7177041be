"""Take the README's phone-width screenshots: the demo coop served on a free port, Debian's chromium at 360 × 740.

    .venv/bin/python docs/screenshots.py

Builds a throwaway SQLite database with `flask coop init` and `seed-demo`, signs in as the demo
member Amara and saves PNGs to docs/screenshots/.
"""

import os
import pathlib
import shutil
import socket
import sys
import tempfile
import threading

from flask_migrate import upgrade
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from coop import create_app
from coop.demo import DEMO_PASSWORD, seed
from coop.extensions import db
from coop.forum.services import ensure_default_boards
from coop.governance.services import found

OUT = pathlib.Path(__file__).parent / "screenshots"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["COOP_INSTANCE_PATH"] = tmp
        app = create_app({"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/demo.sqlite3"})
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory, revision="heads")
            found()
            ensure_default_boards()
            seed()
            db.session.commit()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = make_server("127.0.0.1", port, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{port}"
        with sync_playwright() as playwright:
            args = ["--no-sandbox"] if os.geteuid() == 0 else []
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), headless=True, args=args)
            for lang in ("fr", "en"):
                context = browser.new_context(
                    base_url=base, viewport={"width": 360, "height": 740}, extra_http_headers={"Accept-Language": lang}
                )
                page = context.new_page()
                page.goto("/sign-in")
                page.locator("#email").fill("amara@demo.coop")
                page.locator("#password").fill(DEMO_PASSWORD)
                page.locator("main form button[type=submit]").click()
                page.wait_for_load_state()
                shots = {"fr": [("proposals", "/proposals")], "en": [("tasks", "/tasks")]}[lang]
                for name, path in shots:
                    page.goto(path)
                    page.screenshot(path=str(OUT / f"{name}-{lang}-360.png"), full_page=False)
                context.close()
            browser.close()
        server.shutdown()


if __name__ == "__main__":
    main()
