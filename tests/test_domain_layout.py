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


def _service_files(domain: str) -> list[Path]:
    """A domain's services: one services.py, or a services/ package with a file per story."""
    single = ROOT / domain / "services.py"
    files = [single] if single.exists() else sorted((ROOT / domain / "services").glob("*.py"))
    assert files, f"coop.{domain} has no services"
    return files


@pytest.mark.parametrize("domain", DOMAINS)
def test_services_do_not_import_schemas(domain):
    for path in _service_files(domain):
        assert f"coop.{domain}.schemas" not in _imported_modules(path), path.name


@pytest.mark.parametrize("domain", DOMAINS)
def test_schemas_do_not_import_services(domain):
    imported = _imported_modules(ROOT / domain / "schemas.py")
    assert not {name for name in imported if name.split(".")[:3] == ["coop", domain, "services"]}
