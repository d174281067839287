"""Every `extensions.code` the server answers is one docs/api.md documents."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
API_DOC = ROOT / "docs" / "api.md"
# A code written where an error is made: `"code": "X"`, `code="X"`, or a named constant.
CODE = re.compile(r'"code": "([A-Z_]+)"|\bcode="([A-Z_]+)"|^[A-Z_]+ = "(GRAPHQL_[A-Z_]+)"', re.M)


def codes_in_source() -> set[str]:
    found = set()
    for folder in ("graphql", "infra", "services"):
        for path in (ROOT / folder).rglob("*.py"):
            for match in CODE.finditer(path.read_text(encoding="utf-8")):
                found.add(next(group for group in match.groups() if group))
    return found


def test_every_error_code_the_server_answers_is_documented_in_docs_api_md() -> None:
    documented = set(re.findall(r"`([A-Z_]+)`", API_DOC.read_text(encoding="utf-8")))
    found = codes_in_source()

    assert "VALIDATION" in found and "BAD_REQUEST" in found  # the pattern still finds codes
    assert not found - documented, f"undocumented codes: {sorted(found - documented)}"
