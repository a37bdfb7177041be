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


def test_a_new_message_goes_to_the_catalogue_citing_its_file_else_the_innermost_package(monkeypatch, tmp_path):
    monkeypatch.setattr(catalogues, "PACKAGE", tmp_path / "coop")
    forum = tmp_path / "coop" / "forum" / "translations"
    requesting = tmp_path / "coop" / "marketplace" / "requesting" / "translations"
    packages = {"forum": forum, "requesting": requesting}
    known = {"templates/payments/list.html": requesting}
    assert catalogues.owner("forum/pages.py", packages, known) == forum
    assert catalogues.owner("marketplace/requesting/pages.py", packages, known) == requesting
    assert catalogues.owner("templates/requesting/new.html", packages, known) == requesting
    assert catalogues.owner("templates/payments/list.html", packages, known) == requesting
    assert catalogues.owner("templates/base.html", packages, known) is None
    assert catalogues.owner("marketplace/services/work.py", packages, known) is None
    assert catalogues.owner("errors.py", packages, known) is None


def test_the_current_code_needs_no_new_french(copy):
    assert catalogues.update_all() == []


def test_a_new_domain_catalogue_takes_new_messages_and_french_known_elsewhere(copy):
    # A domain that has no catalogue yet.
    (copy / "studio" / "translations").mkdir(parents=True)
    (copy / "studio" / "extra.py").write_text(
        "from flask_babel import lazy_gettext as _l\n\n"
        'X = _l("A brand new text")\nY = _l("This batch belongs to another requester.")\n'
    )

    missing = catalogues.update_all()

    assert missing == ["coop/studio/translations: 'A brand new text'"]
    studio = _po(copy / "studio" / "translations")
    assert studio.get("A brand new text").string == ""
    # Known already: it stays where it is and gives its French to nobody else's loss.
    shared = _po(copy / "translations")
    assert shared.get("This batch belongs to another requester.").string == "Ce lot appartient à un autre demandeur."
    assert shared.get("Only the author of a post can %(doing)s it.").string
    with open(catalogues.po_path(copy / "studio" / "translations").with_suffix(".mo"), "rb") as fileobj:
        assert [m.id for m in read_mo(fileobj) if m.id] == []


def test_the_command_lists_what_needs_french(copy, capsys):
    (copy / "extra.py").write_text('from flask_babel import gettext as _\n\n\ndef f():\n    return _("Untranslated")\n')
    assert catalogues.main() == 0
    output = capsys.readouterr().out
    assert "no French yet: coop/translations: 'Untranslated'" in output
    assert "1 message(s) still need French." in output
