"""Webhook fixtures: a real HTTP receiver, a requester with a batch, and no jobs left over from other tests."""

import pytest

from coop import jobs
from tests.webhooks.helpers import Receiver, Shop


@pytest.fixture
def receiver():
    server = Receiver()
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


@pytest.fixture(autouse=True)
def _no_jobs_left_over(session):
    # Jobs another test committed and never ran are not this test's to run.
    jobs._committed.clear()
    yield
    jobs._committed.clear()


@pytest.fixture
def shop(make):
    return Shop(make)
