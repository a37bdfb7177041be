"""Which language a request is answered in, and how money is written in it."""

import pytest
from flask_babel import get_locale
from flask_login import login_user

from coop.extensions import db
from coop.i18n import format_money, select_locale


def _locale_for(app, path="/", headers=None, user=None, session_lang=None):
    with app.test_request_context(path, headers=headers or {}):
        from flask import session

        if session_lang:
            session["lang"] = session_lang
        if user is not None:
            login_user(user)
        return select_locale()


def test_the_browser_language_is_used_when_nothing_else_is_set(app):
    assert _locale_for(app, headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}) == "fr"
    assert _locale_for(app, headers={"Accept-Language": "de-DE"}) == "en"


def test_lang_parameter_wins_over_the_browser_and_is_remembered(app):
    with app.test_request_context("/?lang=fr", headers={"Accept-Language": "en"}):
        from flask import session

        assert select_locale() == "fr"
        assert session["lang"] == "fr"
    assert _locale_for(app, headers={"Accept-Language": "en"}, session_lang="fr") == "fr"
    assert _locale_for(app, "/?lang=xx", headers={"Accept-Language": "en"}) == "en"


def test_the_members_own_setting_wins(app, make):
    user = make.member()
    user.locale = "fr"
    db.session.flush()
    assert _locale_for(app, "/?lang=en", headers={"Accept-Language": "en"}, user=user) == "fr"


@pytest.mark.parametrize(("lang", "written"), [("fr", "12,00\xa0€"), ("en", "€12.00")])
def test_money_is_written_as_the_language_writes_it(app, lang, written):
    with app.test_request_context(f"/?lang={lang}"):
        assert str(get_locale()) == lang
        assert format_money(1200) == written
