"""Reading a project file without ever writing beside it (write-protected sticks, shared folders).

SQLite opens a file in WAL mode with a shared-memory file (``-shm``) beside it, even to read.
On a write-protected stick that file cannot be made, and the open fails as if the project were
damaged. A file there cannot be changed by anyone while it is read, so it is opened as
*immutable*: no lock, no ``-shm``. A file with saved edits still in its ``-wal`` file is read
normally (those edits must not be missed).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote


def on_read_only_medium(path: Path) -> bool:
    """Whether nothing can be written in the project's folder (a locked stick, a CD...)."""
    folder = Path(path).resolve().parent
    return not os.access(folder, os.W_OK)


def has_pending_log(path: Path) -> bool:
    wal = Path(str(path) + "-wal")
    try:
        return wal.exists() and wal.stat().st_size > 0
    except OSError:
        return False


def read_uri(path: Path, immutable: bool | None = None) -> str:
    """A read-only SQLite URI for ``path`` (any characters in the name are quoted).

    ``immutable`` defaults to: on a read-only medium with no pending ``-wal`` file.
    """
    path = Path(path)
    if immutable is None:
        immutable = on_read_only_medium(path) and not has_pending_log(path)
    uri = "file:" + quote(str(path.resolve())) + "?mode=ro"
    return uri + "&immutable=1" if immutable else uri
