"""The French catalogues kept up to date: extract every message, update each catalogue, compile (`make translations`).

A message stays in the catalogues that hold it. A new one goes to the catalogue already citing its
file, else to the innermost package's own catalogue (`coop/<domain>[/<part>]/translations`, with
`coop/templates/<part>/`), else to the shared one (`coop/translations`). A message new to a catalogue
takes the French another catalogue already has for it.
"""

from __future__ import annotations

import io
import pathlib
import sys
from collections.abc import Iterable

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

PACKAGE = pathlib.Path(__file__).parent
ROOT = PACKAGE.parent
LOCALE = "fr"
# Flask-Babel's names as this code imports them (`gettext as _`, `lazy_gettext as _l`).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}


def mapping() -> tuple[list, dict]:
    """The method map and options of the project's babel.cfg."""
    with open(ROOT / "babel.cfg") as fileobj:
        return parse_mapping_cfg(fileobj)


def po_path(directory: pathlib.Path | str) -> pathlib.Path:
    return pathlib.Path(directory) / LOCALE / "LC_MESSAGES" / "messages.po"


def extracted() -> Iterable[tuple[str, int, str | tuple, list[str], str | None]]:
    """Every message in coop: (path relative to coop, line, message, comments, context)."""
    method_map, options_map = mapping()
    yield from extract_from_dir(str(PACKAGE), method_map, options_map, keywords=KEYWORDS)


def owner(relative: str, packages: dict[str, pathlib.Path], known: dict[str, pathlib.Path]) -> pathlib.Path | None:
    """The catalogue for a new message found in `relative` (a path under coop), or None for the shared one.

    The catalogue already citing the file, else the innermost package with a catalogue holding it
    (`templates/<name>/` goes with the package called <name>).
    """
    if relative in known:
        return known[relative]
    parts = relative.split("/")
    if parts[0] == "templates" and len(parts) > 2:
        return packages.get(parts[1])
    holders = [d for d in packages.values() if relative.startswith(f"{d.parent.relative_to(PACKAGE).as_posix()}/")]
    return max(holders, key=lambda d: len(d.parts), default=None)


def templates(existing: dict[pathlib.Path, Catalog]) -> dict[pathlib.Path, Catalog]:
    """A template catalogue for each translations directory, from the code as it is now.

    A message stays in every catalogue that holds it already, so catalogues never lose a translation
    to a rule of ownership; only a new message is placed, by `owner`.
    """
    shared = PACKAGE / "translations"
    packages = {d.parent.name: d for d in existing if d != shared}
    holding: dict[tuple, list[pathlib.Path]] = {}
    cited: dict[str, dict[pathlib.Path, int]] = {}
    for directory, catalog in existing.items():
        for entry in catalog:
            if entry.id:
                holding.setdefault((_key(entry.id), entry.context), []).append(directory)
            for filename, _lineno in entry.locations:
                counts = cited.setdefault(filename.removeprefix("coop/"), {})
                counts[directory] = counts.get(directory, 0) + 1
    known = {name: max(counts, key=lambda d: (d != shared, counts[d])) for name, counts in cited.items()}
    result = {d: Catalog(locale=None, project="Coop", charset="utf-8") for d in existing}
    for relative, lineno, message, comments, context in extracted():
        places = holding.get((_key(message), context)) or [owner(relative, packages, known) or shared]
        for directory in places:
            result[directory].add(
                message, None, [(f"coop/{relative}", lineno)], auto_comments=comments, context=context
            )
    return result


def _key(msgid):
    return msgid[0] if isinstance(msgid, (tuple, list)) else msgid


def update_all() -> list[str]:
    """Update every catalogue from the code, fill each new message already translated elsewhere, and compile.

    Returns the messages still without French, as "directory: msgid" lines.
    """
    from coop.i18n import catalogue_directories

    directories = [pathlib.Path(d) for d in catalogue_directories(str(PACKAGE))]
    existing = {d: _read(po_path(d)) for d in directories}
    fresh = templates(existing)
    memory: dict = {}
    for catalog in existing.values():
        for message in [*catalog, *catalog.obsolete.values()]:
            if message.id and message.string and "fuzzy" not in message.flags:
                memory.setdefault((message.id, message.context), message.string)
    missing = []
    for directory, template in fresh.items():
        catalog = existing[directory]
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        for message in catalog:
            if message.id and not _translated(message.string):
                message.string = memory.get((message.id, message.context), message.string)
                if not _translated(message.string):
                    missing.append(f"{directory.relative_to(ROOT)}: {message.id!r}")
        _write(po_path(directory), catalog)
    return missing


def _write(path: pathlib.Path, catalog: Catalog) -> None:
    """The catalogue and its compiled form; when only the extraction date would change, the files stay as they were."""
    if path.exists() and _undated(path.read_bytes()) == _undated(_po_bytes(catalog)):
        catalog.creation_date = _read(path).creation_date
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_po_bytes(catalog))
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    path.with_suffix(".mo").write_bytes(compiled.getvalue())


def _po_bytes(catalog: Catalog) -> bytes:
    text = io.BytesIO()
    write_po(text, catalog, ignore_obsolete=True, width=120)
    return text.getvalue()


def _undated(po: bytes) -> bytes:
    return b"\n".join(line for line in po.split(b"\n") if not line.startswith(b'"POT-Creation-Date:'))


def _read(path: pathlib.Path) -> Catalog:
    if not path.exists():
        return Catalog(locale=LOCALE, project="Coop", charset="utf-8")
    with open(path, "rb") as fileobj:
        return read_po(fileobj, locale=LOCALE)


def _translated(string) -> bool:
    if isinstance(string, (tuple, list)):
        return all(string)
    return bool(string)


def main() -> int:
    missing = update_all()
    for line in missing:
        print(f"no French yet: {line}")
    print(f"{len(missing)} message(s) still need French." if missing else "Every message has its French.")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
