"""The services stay readable: no module over 700 lines, no function over complexity 30 (a long
use case is a pipeline of named steps)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[1] / "cmo_desk" / "services"
MAX_LINES = 700
MAX_COMPLEXITY = 30


def test_no_services_module_is_over_700_lines() -> None:
    long = {p.name: n for p in sorted(SERVICES.glob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_no_services_function_is_over_complexity_30() -> None:
    if importlib.util.find_spec("radon") is None:
        pytest.skip("radon is not installed (it is part of the test extra)")
    from radon.complexity import cc_visit

    tangled = {f"{p.name}:{block.fullname}": block.complexity
               for p in sorted(SERVICES.glob("*.py"))
               for block in cc_visit(p.read_text(encoding="utf-8"))
               if block.complexity > MAX_COMPLEXITY}
    assert tangled == {}
