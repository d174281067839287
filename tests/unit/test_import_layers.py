"""The layer arrows import-linter cannot see: graphql/ is a namespace folder, invisible to grimp.

graphql may use services, projections and domain, never infra or a database driver;
nothing below it may import it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BELOW_GRAPHQL = ("domain", "services", "projections")


def imported_modules(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_graphql_imports_neither_infra_nor_database_drivers() -> None:
    offences = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in (ROOT / "graphql").rglob("*.py")
        for module in imported_modules(path)
        if module.startswith(("okrledger.infra", "asyncpg"))
    ]
    assert offences == []


def test_no_inner_layer_imports_graphql() -> None:
    offences = [
        f"{path.relative_to(ROOT)} imports {module}"
        for layer in BELOW_GRAPHQL
        for path in (ROOT / layer).rglob("*.py")
        for module in imported_modules(path)
        if module.startswith(("okrledger.graphql", "strawberry"))
    ]
    assert offences == []


def test_graphql_folder_has_no_init_so_graphql_core_is_not_shadowed() -> None:
    import graphql

    assert not (ROOT / "graphql" / "__init__.py").exists()
    assert "site-packages" in (graphql.__file__ or "")
