"""The export code is where a newcomer looks for it (sizes and complexity: tests/test_package_shape.py)."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "cmo_desk"
EXPORT_CODE = sorted(
    [*(PACKAGE / "exporters").rglob("*.py"),
     PACKAGE / "services" / "exporting.py", PACKAGE / "services" / "refi_exchange.py"]
)


def test_the_export_code_is_where_it_is_expected() -> None:
    names = {p.relative_to(PACKAGE).as_posix() for p in EXPORT_CODE}
    assert {"exporters/tables/__init__.py", "exporters/refi.py", "exporters/word.py",
            "services/exporting.py", "services/refi_exchange.py"} <= names
