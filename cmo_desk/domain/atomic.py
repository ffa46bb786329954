"""Replacing a file in one step that survives a crash and a power cut.

The one way every part of CMO Desk swaps a finished file into place: the new content is flushed to
disk under a temporary name, moved over the target with ``os.replace`` (atomic), and the folder is
flushed too, because until the folder's entry is on disk a power cut can bring back the old file,
or no file at all, after the program has said "saved".
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["replace_durably"]


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open a folder; there the rename itself is flushed by the system
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems (network shares) refuse to flush a folder
    finally:
        os.close(fd)


def replace_durably(tmp: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Flush ``tmp`` to disk, move it over ``target`` and flush the folder.

    Raises ``OSError`` when the content cannot be flushed or moved; ``tmp`` is then left for the
    caller to remove, and ``target`` is untouched.
    """
    tmp, target = Path(tmp), Path(target)
    _fsync_file(tmp)
    os.replace(tmp, target)
    _fsync_folder(target.parent if str(target.parent) else Path("."))
