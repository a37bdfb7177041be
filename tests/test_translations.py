"""Every message in French: each text of the code and templates has a French translation, compiled, with its placeholders."""

import functools
import io
import pathlib
import re

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from coop.i18n import catalogue_directories

ROOT = pathlib.Path(__file__).parent.parent
PACKAGE = ROOT / "coop"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdifr]")


# Extracting and parsing are the slow part; the tests only read what they return.
@functools.cache
def _source_messages() -> dict[str, str]:
    """Every msgid of the package's Python files and templates, with where it was first found."""
    with open(ROOT / "babel.cfg") as fileobj:
        method_map, options_map = parse_mapping_cfg(fileobj)
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(PACKAGE), method_map, options_map, keywords=KEYWORDS
    ):
        for msgid in message if isinstance(message, tuple) else (message,):
            if msgid:
                found.setdefault(msgid if context is None else f"{context}\x04{msgid}", f"coop/{filename}:{lineno}")
    return found


def _po_files() -> list[pathlib.Path]:
    return [pathlib.Path(d) / "fr" / "LC_MESSAGES" / "messages.po" for d in catalogue_directories()]


@functools.cache
def _catalogues() -> tuple:
    found = []
    for path in _po_files():
        if path.exists():
            with open(path, "rb") as fileobj:
                found.append((path, read_po(fileobj, locale="fr")))
    return tuple(found)


def _translated(string) -> bool:
    return all(string) if isinstance(string, (tuple, list)) else bool(string)


def _french() -> dict[str, object]:
    """Every translated msgid of every catalogue (plural forms listed under each of their ids)."""
    french: dict[str, object] = {}
    for _path, catalog in _catalogues():
        for message in catalog:
            if not message.id or "fuzzy" in message.flags or not _translated(message.string):
                continue
            for msgid in message.id if isinstance(message.id, tuple) else (message.id,):
                key = msgid if message.context is None else f"{message.context}\x04{msgid}"
                french.setdefault(key, message.string)
    return french


def test_the_templates_and_the_code_hold_messages_to_check():
    # Guards the test itself: a mapping that matched nothing would make the next test pass vacuously.
    found = _source_messages()
    sources = {place.split(":")[0] for place in found.values()}
    assert any(s.startswith("coop/templates/") for s in sources)
    assert any(s.endswith("errors.py") for s in sources)
    assert "Sign in" in found and "This batch belongs to another requester." in found


def test_every_message_has_a_french_translation():
    french = _french()
    missing = [f"{place}: {msgid!r}" for msgid, place in sorted(_source_messages().items()) if msgid not in french]
    assert not missing, (
        f"{len(missing)} message(s) without French (run `make translations`, then translate):\n" + "\n".join(missing)
    )


def test_no_catalogue_keeps_a_fuzzy_or_empty_entry():
    # A fuzzy entry is not used at run time; an empty one shows English: both hide a missing translation.
    unfinished = [
        f"{path.relative_to(ROOT)}: {message.id!r}"
        for path, catalog in _catalogues()
        for message in catalog
        if message.id and ("fuzzy" in message.flags or not _translated(message.string))
    ]
    assert not unfinished, "Unfinished entries:\n" + "\n".join(unfinished)


@pytest.mark.parametrize("po", _po_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_each_compiled_catalogue_matches_its_source(po):
    assert po.exists(), f"{po} is missing"
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run `make translations`"
    with open(po, "rb") as fileobj:
        source = read_po(fileobj, locale="fr")
    compiled = io.BytesIO()
    write_mo(compiled, source)
    compiled.seek(0)
    with open(mo, "rb") as fileobj:
        on_disk = read_mo(fileobj)
    expected = {_hashable(m.id, m.context): _hashable(m.string) for m in read_mo(compiled) if m.id}
    actual = {_hashable(m.id, m.context): _hashable(m.string) for m in on_disk if m.id}
    assert actual == expected, f"{mo} is out of date with {po.name}: run `make translations`"


def _hashable(*values):
    # Plural entries come back as lists of forms.
    return tuple(tuple(v) if isinstance(v, list) else v for v in values)


def test_french_keeps_the_placeholders_of_each_message():
    wrong = []
    for path, catalog in _catalogues():
        for message in catalog:
            if not message.id or not _translated(message.string):
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
            expected = set(PLACEHOLDER.findall(ids[0])) | set().union(*(PLACEHOLDER.findall(i) for i in ids))
            for string in strings:
                # With placeholders the text is %-formatted, so a lone % (not %%) would break it at run time.
                lone_percent = bool(expected) and "%" in PLACEHOLDER.sub("", string).replace("%%", "")
                if set(PLACEHOLDER.findall(string)) != expected or lone_percent:
                    wrong.append(f"{path.relative_to(ROOT)}: {message.id!r} -> {string!r}")
    assert not wrong, "Placeholders differ:\n" + "\n".join(wrong)
