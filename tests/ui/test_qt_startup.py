"""The desk's quicker answer to PySide6's per-import question gives PySide6's own answers."""

from __future__ import annotations

import sys
import types

import pytest

from cmo_desk.ui.qt_startup import _quick_scan, load_qt


def _slow_answer() -> object:
    feature = sys.modules.get("shibokensupport.feature")
    if feature is None:
        pytest.skip("this PySide6 has no per-import feature check")
    return feature._mod_uses_pyside  # type: ignore[attr-defined]


def test_quick_scan_gives_pysides_answers(tmp_path):
    load_qt()
    original = _slow_answer()
    inner = getattr(original, "__closure__", None)
    reference = inner[0].cell_contents if inner else original  # PySide6's own function
    quick = _quick_scan(reference)
    import cmo_desk.domain.records as plain  # names no Qt
    import cmo_desk.ui.theme as qt_user  # imports PySide6

    emoji = tmp_path / "emoji_module.py"
    emoji.write_text('"""\U0001f600 not Qt"""\nX = "PySide6 named in a string"\n', encoding="utf-8")
    by_file = types.ModuleType("emoji_module")
    by_file.__file__ = str(emoji)
    gone = types.ModuleType("gone_module")
    gone.__file__ = str(tmp_path / "gone.py")  # its file was removed
    for module in (plain, qt_user, sys, by_file):
        assert quick(module) == reference(module), module.__name__
    assert quick(plain) is False and quick(qt_user) is True and quick(sys) is False
    assert quick(by_file) is True
    assert quick(gone) is False


def test_load_qt_installs_once():
    load_qt()
    first = _slow_answer()
    load_qt()
    assert _slow_answer() is first
    assert getattr(first, "_cmo_desk_quick", False)
