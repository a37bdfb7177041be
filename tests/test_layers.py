"""How the domains depend on each other: the marketplace builds on governance, never the reverse."""

import ast
from pathlib import Path

import coop

GOVERNANCE = Path(coop.__file__).parent / "governance"


def _imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_governance_never_imports_the_marketplace():
    # Patronage reads pay for work from the ledger, so governance stands without the marketplace.
    offenders = {
        path.name: sorted(m for m in _imported_modules(path) if m.startswith("coop.marketplace"))
        for path in GOVERNANCE.rglob("*.py")
    }
    assert {name: found for name, found in offenders.items() if found} == {}
