"""Reading a project file without changing it, wherever it lies: a folder of one's own, a
write-protected USB stick, a disk that is full.

SQLite opens a file in WAL mode by creating its ``-shm`` (and ``-wal``) beside it. Where that is
impossible (a read-only medium, a full disk) and the file has no saved changes waiting in a
``-wal``, the main file alone is the whole project, and it is read as immutable instead.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from cmo_desk.domain.errors import ProjectError
from cmo_desk.domain.i18n import tr

__all__ = ["attach_name", "connect_read_only", "wal_pending"]


def _uri(path: Path, extra: str = "") -> str:
    # as_uri() escapes what SQLite would read as the start of options ("?", "#", "%")
    return f"{Path(path).absolute().as_uri()}?mode=ro{extra}"


def wal_pending(path: Path) -> bool:
    """Whether ``path`` has a ``-wal`` file with content (saved changes the main file may lack)."""
    try:
        return Path(str(path) + "-wal").stat().st_size > 0
    except OSError:
        return False


def attach_name(path: str | os.PathLike[str]) -> str:
    """What to ATTACH to read ``path``: its name, or an immutable URI when (as on a read-only
    medium) SQLite could not open it the usual way."""
    con = connect_read_only(path)
    try:
        immutable = isinstance(con, _ImmutableConnection)
    finally:
        con.close()
    return _uri(Path(path), "&immutable=1") if immutable else str(Path(path).resolve())


def connect_read_only(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """A read-only connection to a project file that never writes beside it when it need not.

    Raises ``sqlite3.DatabaseError`` when the file cannot be read, and ProjectError when saved
    changes wait in a ``-wal`` file that cannot be opened (a read-only copy of an open project).
    """
    path = Path(path)
    con = sqlite3.connect(_uri(path), uri=True, check_same_thread=False)
    try:
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return con
    except sqlite3.OperationalError as err:
        con.close()
        text = str(err).lower()
        if "unable to open" not in text and "i/o error" not in text and "readonly" not in text:
            raise
        if wal_pending(path):
            raise ProjectError(tr(
                "{name} cannot be read here: saved changes wait in {wal}, and this disk cannot be "
                "written. Copy {name} together with {wal} to a folder of your own and open the "
                "copy.").format(name=path.name, wal=path.name + "-wal")) from None
    # Nothing waits in a -wal: the main file is the whole project and nobody is writing it
    # (a writer would have made its -shm), so it can be read as an unchanging file.
    con = _ImmutableConnection(_uri(path, "&immutable=1"), uri=True, check_same_thread=False)
    con.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return con


class _ImmutableConnection(sqlite3.Connection):
    """A connection that reads the file as unchanging (no -shm, no -wal)."""
