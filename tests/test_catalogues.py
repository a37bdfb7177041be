"""`make translations`: every catalogue updated from the code, French carried along when a message moves."""

import shutil

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from coop import catalogues


@pytest.fixture
def copy(tmp_path, monkeypatch):
    """A copy of the package to update, so the real catalogues are never rewritten by a test."""
    shutil.copytree(catalogues.PACKAGE, tmp_path / "coop", ignore=shutil.ignore_patterns("__pycache__", "static"))
    shutil.copy(catalogues.ROOT / "babel.cfg", tmp_path / "babel.cfg")
    monkeypatch.setattr(catalogues, "PACKAGE", tmp_path / "coop")
    monkeypatch.setattr(catalogues, "ROOT", tmp_path)
    return tmp_path / "coop"


def _po(directory):
    with open(catalogues.po_path(directory), "rb") as fileobj:
        return read_po(fileobj, locale="fr")


def test_pages_and_templates_of_a_domain_with_its_own_catalogue_belong_to_it():
    domains = {"forum"}
    assert catalogues.owner("forum/pages.py", domains) == "forum"
    assert catalogues.owner("templates/forum/thread.html", domains) == "forum"
    assert catalogues.owner("templates/base.html", domains) is None
    assert catalogues.owner("governance/services/ballots.py", domains) is None
    assert catalogues.owner("errors.py", domains) is None


def test_the_current_code_needs_no_new_french(copy):
    assert catalogues.update_all() == []


def test_a_message_moving_to_a_new_domain_catalogue_keeps_its_french_and_a_new_one_is_listed(copy):
    (copy / "forum" / "translations").mkdir()
    (copy / "forum" / "extra.py").write_text(
        'from flask_babel import lazy_gettext as _l\n\nX = _l("A brand new text")\n'
    )

    missing = catalogues.update_all()

    assert missing == ["coop/forum/translations: 'A brand new text'"]
    forum = _po(copy / "forum" / "translations")
    moved = forum.get("Only the author of a post can %(doing)s it.")
    assert moved is not None and moved.string == "Seul l'auteur d'un message peut %(doing)s."
    assert forum.get("A brand new text").string == ""
    # The shared catalogue no longer holds what the forum's now owns, and keeps the rest.
    shared = _po(copy / "translations")
    assert shared.get("Only the author of a post can %(doing)s it.") is None
    assert shared.get("This batch belongs to another requester.").string
    with open(catalogues.po_path(copy / "forum" / "translations").with_suffix(".mo"), "rb") as fileobj:
        compiled = {m.id: m.string for m in read_mo(fileobj) if m.id}
    assert compiled["Only the author of a post can %(doing)s it."] == "Seul l'auteur d'un message peut %(doing)s."


def test_the_command_lists_what_needs_french(copy, capsys):
    (copy / "extra.py").write_text('from flask_babel import gettext as _\n\n\ndef f():\n    return _("Untranslated")\n')
    assert catalogues.main() == 0
    output = capsys.readouterr().out
    assert "no French yet: coop/translations: 'Untranslated'" in output
    assert "1 message(s) still need French." in output
