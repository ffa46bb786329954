"""Rooms a newcomer can read, for the whole package: no module over 700 lines (migrations aside),
no function of cyclomatic complexity over 30 (radon's count; a long use case becomes a pipeline
of named steps), and no module reaching into another's private helpers (a helper another module
needs is part of its module's interface, under a public name), and no class name meaning two
things. Checks of one room's own shape live beside that room's tests."""

from __future__ import annotations

import ast
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


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_from(path: Path, node: ast.ImportFrom) -> str:
    """The absolute module an ``from ... import`` statement in ``path`` names."""
    if not node.level:
        return node.module or ""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _is_module(dotted: str) -> bool:
    where = PACKAGE.parent.joinpath(*dotted.split("."))
    return where.with_suffix(".py").is_file() or (where / "__init__.py").is_file()


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _reaching(path: Path, text: str | None = None) -> list[str]:
    """Private names the module at ``path`` (of text ``text``, its own by default) takes from other
    cmo_desk modules: imported by name, or read as an attribute of a cmo_desk module it imported."""
    found = []
    modules: dict[str, str] = {}  # local name -> cmo_desk module it is bound to
    tree = ast.parse(path.read_text(encoding="utf-8") if text is None else text)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = _imported_from(path, node)
            if source.split(".")[0] != "cmo_desk":
                continue
            for alias in node.names:
                if _private(alias.name) and source != _module_name(path):
                    found.append(f"{source}.{alias.name}")
                elif _is_module(f"{source}.{alias.name}"):
                    modules[alias.asname or alias.name] = f"{source}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "cmo_desk":
                    if any(_private(part) for part in alias.name.split(".")):
                        found.append(alias.name)
                    if alias.asname:
                        modules[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and _private(node.attr)
                and isinstance(node.value, ast.Name) and node.value.id in modules):
            found.append(f"{modules[node.value.id]}.{node.attr}")
    return found


def test_no_module_imports_a_private_name_of_another() -> None:
    reaching = {p.relative_to(PACKAGE).as_posix(): names
                for p in sorted(PACKAGE.rglob("*.py")) if (names := _reaching(p))}
    assert reaching == {}


def test_the_private_import_check_sees_every_way_of_reaching_in() -> None:
    """The check above would pass on a package that reached in, if it missed a form of import."""
    room = PACKAGE / "importers" / "references" / "ris.py"
    samples = {
        "from cmo_desk.importers.references.studies import _capped": "cmo_desk.importers.references.studies._capped",
        "from .studies import _capped as capped": "cmo_desk.importers.references.studies._capped",
        "from . import studies\nstudies._capped('x', 'title', [])": "cmo_desk.importers.references.studies._capped",
        "from .. import textnorm as t\nt._hidden": "cmo_desk.importers.textnorm._hidden",
        "import cmo_desk.store._private": "cmo_desk.store._private",
        "import cmo_desk.importers.textnorm as t\nt._hidden": "cmo_desk.importers.textnorm._hidden",
    }
    for text, expected in samples.items():
        assert _reaching(room, text) == [expected], text
    own = "from __future__ import annotations\nfrom .ris import _own\nfrom . import studies\nstudies.__name__"
    assert _reaching(room, own) == []


def test_no_class_name_means_two_things() -> None:
    """A name like ``StudyRow`` is one thing across the package (the store's table row), not also a
    line of the desk's list or a CMOC read from a spreadsheet."""
    homes: dict[str, list[str]] = {}
    for path in _modules():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef) and not _private(node.name):
                homes.setdefault(node.name, []).append(path.relative_to(PACKAGE).as_posix())
    assert {name: where for name, where in homes.items() if len(where) > 1} == {}
