"""Webhook fixtures: a real HTTP receiver, a requester with a batch, and no jobs left over from other tests."""

import pytest

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


@pytest.fixture
def shop(make):
    return Shop(make)
