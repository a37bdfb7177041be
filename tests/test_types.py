"""Column types shared by every domain: JSON read back exactly as written, on both databases."""

import json

import pytest

from coop import clock
from coop.governance.models import TermsVersion
from coop.types import read_json

VALUE = {"tâche": ["étiquette", "Straße", "日本語", 1.5, None, True], "nested": {"emoji": "🙂", "n": -3}}


@pytest.mark.parametrize("text", [json.dumps(VALUE), json.dumps(VALUE, ensure_ascii=False)])
def test_read_json_gives_what_json_loads_gives_from_text_and_utf8(text):
    assert read_json(text) == json.loads(text) == VALUE
    assert read_json(text.encode()) == VALUE


def test_read_json_refuses_what_is_not_json():
    with pytest.raises(json.JSONDecodeError):
        read_json(b"{not json")


def test_a_json_column_reads_back_what_was_written(session):
    terms = TermsVersion(version=999, params=VALUE, effective_at=clock.now())
    session.add(terms)
    session.flush()
    session.expire(terms)
    assert terms.params == VALUE
