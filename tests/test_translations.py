"""Every user-visible string wrapped in tr() has a Simplified Chinese translation."""

from __future__ import annotations

import ast
from pathlib import Path

from cmo_desk.domain.i18n import catalogue, tr

PACKAGE = Path(__file__).resolve().parents[1] / "cmo_desk"


def _tr_literals() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "tr" and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                found[node.args[0].value] = str(path.relative_to(PACKAGE.parent))
    return found


def test_every_tr_string_has_chinese() -> None:
    zh = catalogue("zh_CN")
    missing = {s: where for s, where in _tr_literals().items() if s not in zh}
    assert not missing, f"{len(missing)} strings lack zh_CN: " + "; ".join(
        f"{w}: {s!r}" for s, w in list(missing.items())[:15])


def test_placeholders_survive_translation() -> None:
    import string

    zh = catalogue("zh_CN")
    fmt = string.Formatter()
    for source, target in zh.items():
        a = sorted(f for _, f, _, _ in fmt.parse(source) if f is not None)
        try:
            b = sorted(f for _, f, _, _ in fmt.parse(target) if f is not None)
        except ValueError:
            raise AssertionError(f"bad braces in translation of {source!r}") from None
        assert a == b, (source, target)


def test_tr_switches_language() -> None:
    assert tr("A code needs a name.", "en") == "A code needs a name."
    assert tr("A code needs a name.", "zh_CN") != "A code needs a name."


def test_one_translation_per_string_across_areas() -> None:
    """Each area of the program has its own file; a string shared by two must read the same."""
    import json

    from cmo_desk.domain.resources import resource_path

    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for path in sorted(resource_path("i18n", "zh_CN").glob("*.json")):
        for source, target in json.loads(path.read_text(encoding="utf-8")).items():
            if source in seen and seen[source][1] != target:
                clashes.append((source, seen[source], (path.name, target)))
            seen.setdefault(source, (path.name, target))
    assert not clashes, clashes
