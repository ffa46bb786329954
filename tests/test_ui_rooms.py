"""No desk window parks objects on another's private attributes (sizes and complexity of every
room: tests/test_package_shape.py)."""

from __future__ import annotations

import re
from pathlib import Path

UI = Path(__file__).resolve().parents[1] / "cmo_desk" / "ui"


def test_desk_windows_are_held_by_name_not_on_private_attributes() -> None:
    # the flows the desk owns hold what they open with window.keep_open(name, view)
    for name in ("agreement_view", "backups_view", "duplicates_view", "reconcile_view",
                 "retrieval_view", "synthesis_view", "export_dialog", "import_flow", "hub_flow",
                 "recognition_flow", "assign_dialog"):
        text = (UI / f"{name}.py").read_text(encoding="utf-8")
        assert not re.search(r"\bwindow\._[a-z]\w* =", text), name
        assert "window: Any" not in text, name
