"""The importers stay readable: no module over 700 lines, no function whose cyclomatic
complexity is over 30 (the longest readers are pipelines of named steps)."""

from __future__ import annotations

from pathlib import Path

import pytest

IMPORTERS = Path(__file__).resolve().parents[2] / "cmo_desk" / "importers"
MAX_LINES = 700
MAX_COMPLEXITY = 30


def test_no_importer_module_is_over_700_lines() -> None:
    long = {str(p.relative_to(IMPORTERS)): n for p in sorted(IMPORTERS.rglob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_no_importer_function_is_over_complexity_30() -> None:
    radon = pytest.importorskip("radon.complexity")
    tangled = {}
    for path in sorted(IMPORTERS.rglob("*.py")):
        for block in radon.cc_visit(path.read_text(encoding="utf-8")):
            for item in [block, *getattr(block, "methods", [])]:
                if item.complexity > MAX_COMPLEXITY:
                    tangled[f"{path.relative_to(IMPORTERS)}:{item.name}"] = item.complexity
    assert tangled == {}
