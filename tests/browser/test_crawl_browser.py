"""axe-core on every page a demo account reaches: no serious or critical accessibility violation anywhere."""

import re

import pytest

from coop.demo import DEMO_PASSWORD, seed
from coop.extensions import db
from tests.browser.conftest import Account, fits_the_screen, serious_violations, sign_in

PUBLIC = ["/", "/sign-in", "/register", "/password-reset", "/terms", "/terms/history", "/rules", "/forum"]
MEMBER = [
    "/dashboard",
    "/tasks",
    "/tasks/preferences",
    "/work",
    "/proposals",
    "/proposals?show=closed",
    "/proposals/new",
    "/delegation",
    "/forum",
    "/forum/moderation",
    "/notifications",
    "/notifications/preferences",
    "/account",
    "/account/password",
    "/coordination/proposals",
    "/coordination/flags",
    "/coordination/appeals",
    "/coordination/payments",
]
REQUESTER = ["/requester", "/requester/deposits", "/requester/batches/new", "/dashboard", "/notifications"]
# Pages reached by following the first link of each kind from the pages above.
FOLLOW = [
    r"^/proposals/\d+$",
    r"^/proposals/\d+/results$",
    r"^/proposals/\d+/amend$",
    r"^/forum/boards/[\w-]+$",
    r"^/forum/threads/\d+$",
    r"^/forum/posts/\d+/history$",
    r"^/forum/posts/\d+/flag$",
    r"^/forum/posts/\d+/moderate$",
    r"^/coordination/appeals/\d+$",
    r"^/tasks/\d+$",
    r"^/work/\d+/appeal$",
    r"^/requester/batches/\d+$",
    r"^/requester/batches/\d+/review$",
    r"^/rules/[\w-]+$",
]


@pytest.fixture(scope="module")
def demo(served_app):
    with served_app.app_context():
        seed()
        db.session.commit()
        db.session.remove()


def crawl(page, paths: list[str]) -> dict[str, list]:
    """Visit `paths`, then the first link matching each FOLLOW pattern found on them; axe's findings by page."""
    found: dict[str, list] = {}
    wanted = list(FOLLOW)
    queue = list(paths)
    while queue:
        path = queue.pop(0)
        if path in found:
            continue
        response = page.goto(path)
        assert response is not None and response.status < 400, (path, response and response.status)
        found[path] = serious_violations(page)
        assert fits_the_screen(page), path
        hrefs = page.eval_on_selector_all("main a[href^='/']", "links => links.map(a => a.getAttribute('href'))")
        for pattern in list(wanted):
            match = next((h.split("#")[0] for h in hrefs if re.match(pattern, h.split("#")[0])), None)
            if match:
                wanted.remove(pattern)
                queue.append(match)
    return found


def test_every_public_page_passes_axe(phone, demo):
    assert {path: v for path, v in crawl(phone, PUBLIC).items() if v} == {}


def test_every_page_of_a_coordinator_passes_axe_in_french_on_a_phone(phone, demo):
    sign_in(phone, Account(None, "amara@demo.coop", "Amara", DEMO_PASSWORD))
    visited = crawl(phone, MEMBER)
    assert {path: v for path, v in visited.items() if v} == {}
    assert len(visited) >= len(MEMBER) + 6  # the followed pages were reached too


def test_every_page_of_a_worker_and_a_requester_passes_axe(page, demo):
    sign_in(page, Account(None, "esi@demo.coop", "Esi", DEMO_PASSWORD))
    assert {path: v for path, v in crawl(page, ["/dashboard", "/tasks", "/work"]).items() if v} == {}
    page.context.clear_cookies()
    sign_in(page, Account(None, "lab@demo.coop", "Northwind Data Lab", DEMO_PASSWORD))
    assert {path: v for path, v in crawl(page, REQUESTER).items() if v} == {}
