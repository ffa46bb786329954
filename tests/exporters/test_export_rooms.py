"""The export code stays readable: no module a newcomer must read whole is over 700 lines, and no
function is a maze of more than 30 paths (cyclomatic complexity, as radon counts it)."""

from __future__ import annotations

from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "cmo_desk"
EXPORT_CODE = sorted(
    [*(PACKAGE / "exporters").rglob("*.py"),
     PACKAGE / "services" / "exporting.py", PACKAGE / "services" / "refi_exchange.py"]
)
MAX_LINES = 700
MAX_COMPLEXITY = 30


def test_the_export_code_is_where_it_is_expected() -> None:
    names = {p.relative_to(PACKAGE).as_posix() for p in EXPORT_CODE}
    assert {"exporters/tables/__init__.py", "exporters/refi.py", "exporters/word.py",
            "services/exporting.py", "services/refi_exchange.py"} <= names


@pytest.mark.parametrize("path", EXPORT_CODE, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_no_export_module_is_over_700_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.name} has {lines} lines: split it into rooms of its own"


def test_no_export_function_is_over_complexity_30() -> None:
    cc = pytest.importorskip("radon.complexity")
    too_complex = [
        f"{path.relative_to(PACKAGE).as_posix()}:{block.lineno} {block.fullname} ({block.complexity})"
        for path in EXPORT_CODE
        for block in cc.cc_visit(path.read_text(encoding="utf-8"))
        if block.complexity > MAX_COMPLEXITY
    ]
    assert not too_complex, "make these pipelines of named steps: " + "; ".join(too_complex)
