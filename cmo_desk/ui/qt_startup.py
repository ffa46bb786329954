"""What the desk does once, as Qt's Python bindings load, to start sooner.

PySide6 asks of every module imported after it whether its source names PySide6 (modules that
do may switch on its opt-in ``__feature__`` options). It answers by reading the module's source
through :mod:`inspect` (tokenising, line cache), several milliseconds for each of the hundreds of
modules the desk and its database library import. :func:`load_qt` answers the same question
from the file's bytes; modules without a plain source file are left to PySide6's own answer.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

_MARK = "_cmo_desk_quick"


def _quick_scan(original: Any) -> Any:
    def uses_pyside(module: ModuleType) -> bool:
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or not path.endswith(".py"):
            return bool(original(module))
        try:
            with open(path, "rb") as source:
                return b"PySide6" in source.read()
        except OSError:
            return bool(original(module))

    setattr(uses_pyside, _MARK, True)
    return uses_pyside


def load_qt() -> None:
    """Load the Qt bindings (once) and make their per-import check read files directly."""
    import PySide6  # noqa: F401  (loads shiboken and its import hook)

    feature = sys.modules.get("shibokensupport.feature")
    original = getattr(feature, "_mod_uses_pyside", None)
    if original is None or getattr(original, _MARK, False):
        return
    feature._mod_uses_pyside = _quick_scan(original)  # type: ignore[union-attr]
