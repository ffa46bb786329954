"""Rooms a newcomer can read, for the whole package: no module over 700 lines (migrations aside)
and no function of cyclomatic complexity over 30 (radon's count; a long use case becomes a pipeline
of named steps). Checks of one room's own shape live beside that room's tests."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cmo_desk"
MAX_LINES = 700
MAX_COMPLEXITY = 30


def _modules() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py")) if "migrations" not in p.parts]


def test_the_package_is_found() -> None:
    names = {p.relative_to(PACKAGE).as_posix() for p in _modules()}
    assert {"store/project_store.py", "ui/main_window.py", "services/importing.py"} <= names


def test_no_module_is_over_700_lines() -> None:
    long = {p.relative_to(PACKAGE).as_posix(): n for p in _modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_no_function_is_over_complexity_30() -> None:
    if importlib.util.find_spec("radon") is None:
        pytest.skip("radon is not installed (it is part of the test extra)")
    from radon.complexity import cc_visit

    def blocks(found: list[Any]) -> Iterator[Any]:  # functions, methods and closures
        for block in found:
            yield block
            yield from blocks([*getattr(block, "methods", []), *getattr(block, "closures", [])])

    tangled = {f"{p.relative_to(PACKAGE).as_posix()}:{block.fullname}": block.complexity
               for p in _modules()
               for block in blocks(cc_visit(p.read_text(encoding="utf-8")))
               if block.complexity > MAX_COMPLEXITY}
    assert tangled == {}
