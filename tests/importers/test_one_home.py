"""Rules the importers share live in one place: stopping a cancelled import, and how much text an
excerpt keeps on either side of its quote."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "cmo_desk"


def _modules(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def test_importers_stop_a_cancelled_import_through_the_domain_rule() -> None:
    copies = []
    for path in _modules(PACKAGE / "importers"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and node.value.startswith("Import cancelled")):
                copies.append(str(path.relative_to(PACKAGE)))
    assert copies == []


def test_the_excerpt_context_length_is_defined_once() -> None:
    homes = []
    for path in _modules(PACKAGE):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = (node.targets if isinstance(node, ast.Assign)
                       else [node.target] if isinstance(node, ast.AnnAssign) else [])
            if any(isinstance(t, ast.Name) and t.id.endswith("CONTEXT_CHARS") for t in targets):
                homes.append(str(path.relative_to(PACKAGE)))
    assert homes == ["domain/anchoring.py"]
