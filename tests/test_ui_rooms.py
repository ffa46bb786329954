"""The desk's code stays in rooms a reader can hold in mind: no module of ui/ over 700 lines,
no function over cyclomatic complexity 30, and no window parks objects on another's private
attributes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

UI = Path(__file__).resolve().parents[1] / "cmo_desk" / "ui"
MAX_LINES = 700
MAX_COMPLEXITY = 30


def test_no_ui_module_is_over_700_lines() -> None:
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in UI.glob("*.py")}
    assert sizes and {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def test_no_ui_function_is_over_complexity_30() -> None:
    radon = pytest.importorskip("radon.complexity")
    too_complex = {}
    for path in UI.glob("*.py"):
        for block in radon.cc_visit(path.read_text(encoding="utf-8")):
            for item in [block, *getattr(block, "methods", [])]:
                if item.complexity > MAX_COMPLEXITY:
                    too_complex[f"{path.name}:{item.fullname}"] = item.complexity
    assert too_complex == {}


def test_desk_windows_are_held_by_name_not_on_private_attributes() -> None:
    # the flows the desk owns hold what they open with window.keep_open(name, view)
    for name in ("agreement_view", "backups_view", "duplicates_view", "reconcile_view",
                 "retrieval_view", "synthesis_view", "export_dialog", "import_flow", "hub_flow",
                 "recognition_flow", "assign_dialog"):
        text = (UI / f"{name}.py").read_text(encoding="utf-8")
        assert not re.search(r"\bwindow\._[a-z]\w* =", text), name
        assert "window: Any" not in text, name
