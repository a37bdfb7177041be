"""Languages: French and English, chosen per request, with Babel's formats for dates, numbers and money."""

from flask import Flask, has_request_context, request, session
from flask_babel import Babel, format_currency, get_locale, refresh
from flask_login import current_user

LANGUAGES = ("en", "fr")
DEFAULT_LANGUAGE = "en"

babel = Babel()


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "UTC")
    # Each domain keeps its own French catalogue beside its code (coop/<domain>[/<part>]/translations),
    # merged with the shared one (coop/translations) for every request.
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", ";".join(catalogue_directories()))
    babel.init_app(app, locale_selector=select_locale)
    # The chosen language is cached on the app context, which a request shares with an enclosing
    # one (a CLI command, a test); each request chooses afresh.
    app.before_request(refresh)
    app.jinja_env.globals.update(
        format_money=format_money, current_locale=lambda: str(get_locale() or DEFAULT_LANGUAGE)
    )


def catalogue_directories(package: str | None = None) -> list[str]:
    """Every translations directory of the package (or of another copy of it): the shared one first, then each domain's."""
    import pathlib

    root = pathlib.Path(package) if package else pathlib.Path(__file__).parent
    found = [root / "translations", *sorted(p for p in root.glob("*/**/translations") if p.is_dir())]
    return [str(p) for p in found if p.is_dir()]


def select_locale() -> str:
    """The member's own setting, then `?lang=` (remembered for the visit), then the browser's languages.

    Outside a request (a CLI command, a job) messages are in the default language.
    """
    if not has_request_context():
        return DEFAULT_LANGUAGE
    user = current_user
    if user and getattr(user, "is_authenticated", False) and user.locale in LANGUAGES:
        return user.locale
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        session["lang"] = asked
        return asked
    remembered = session.get("lang")
    if remembered in LANGUAGES:
        return remembered
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def format_money(cents: int, currency: str = "EUR") -> str:
    """Integer cents as the current language writes money: `12,00 €` in French, `€12.00` in English."""
    return format_currency(cents / 100, currency)
