"""The REFI-QDA import tests share the hand-built project of the REFI-QDA export tests."""

from __future__ import annotations

from refi_project import ANNA, BEN, CORPUS, snapshot, tiny_pdf  # noqa: F401  (fixtures and data)
