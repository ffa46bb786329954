"""Reading full texts ahead of an import, while the rest of the program loads.

The command line names its files before the project is even open: the reading children are
given them at once, so the PDF engine works while the database library loads and the project
opens. ``import_paths`` then takes the texts from the same reader (files it reads that were not
named ahead are read as usual; files named ahead that it does not import are simply not used).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from cmo_desk.importers.sandbox import SafeReader

#: Kinds of file worth starting early: their reading is the long part of an import.
READ_AHEAD_SUFFIXES = (".pdf", ".docx", ".odt")


def _files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    found: list[Path] = []
    for given in (Path(p) for p in paths):
        if given.is_dir():
            for root, dirs, files in os.walk(given):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(Path(root) / n for n in sorted(files) if not n.startswith("."))
        elif given.is_file():
            found.append(given)
    return [p for p in found if p.suffix.lower() in READ_AHEAD_SUFFIXES]


def read_ahead(paths: Iterable[str | os.PathLike[str]], password: str | None = None) -> SafeReader:
    """A reader already reading the full texts among ``paths`` (pass it to ``import_paths``;
    close it, or use it as a context manager, if the import does not happen)."""
    reader = SafeReader()
    reader.plan((path, password) for path in _files(paths))
    return reader
