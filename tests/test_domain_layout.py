"""The service contract's import rule: a domain's schemas and services never import each other."""

import ast
from pathlib import Path

import pytest

import coop

DOMAINS = ("accounts", "governance", "forum")
ROOT = Path(coop.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function, as dotted names."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


@pytest.mark.parametrize("domain", DOMAINS)
def test_services_do_not_import_schemas(domain):
    assert f"coop.{domain}.schemas" not in _imported_modules(ROOT / domain / "services.py")


@pytest.mark.parametrize("domain", DOMAINS)
def test_schemas_do_not_import_services(domain):
    assert f"coop.{domain}.services" not in _imported_modules(ROOT / domain / "schemas.py")
