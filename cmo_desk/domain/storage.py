"""What a storage failure means for the user: one wording per kind, for the desk and the CLI.

SQLite and the operating system report a full disk, a read-only medium or a failing USB stick in
many ways (error codes, errno values, messages); this module turns each into one plain sentence
that says nothing was saved and what to do.
"""

from __future__ import annotations

import errno
import os

from cmo_desk.domain.errors import StorageError
from cmo_desk.domain.i18n import tr

__all__ = ["KINDS", "busy_message", "classify", "storage_error", "storage_message"]

KINDS = ("full", "read-only", "io", "damaged", "locked")

# SQLite primary result codes (the low byte of an extended code).
_SQLITE_CODES = {13: "full", 8: "read-only", 10: "io", 11: "damaged", 26: "damaged",
                 5: "locked", 6: "locked", 14: "io"}
_SQLITE_TEXT = (
    ("database or disk is full", "full"),
    ("disk is full", "full"),
    ("readonly database", "read-only"),
    ("read-only", "read-only"),
    ("disk i/o error", "io"),
    ("unable to open database file", "io"),
    ("malformed", "damaged"),
    ("file is not a database", "damaged"),
    ("database is locked", "locked"),
    ("database table is locked", "locked"),
)
_ERRNOS = {
    errno.ENOSPC: "full",
    getattr(errno, "EDQUOT", errno.ENOSPC): "full",
    errno.EFBIG: "full",
    errno.EROFS: "read-only",
    errno.EACCES: "read-only",
    errno.EPERM: "read-only",
    errno.EIO: "io",
    getattr(errno, "ENXIO", errno.EIO): "io",
}


def classify(err: BaseException) -> str | None:
    """The kind of storage failure ``err`` is (one of KINDS), or None if it is something else."""
    if isinstance(err, StorageError):
        return err.kind
    if isinstance(err, OSError) and not type(err).__module__.startswith("sqlite3"):
        return _ERRNOS.get(err.errno or -1)
    code = getattr(err, "sqlite_errorcode", None)
    if isinstance(code, int) and (code & 0xFF) in _SQLITE_CODES:
        return _SQLITE_CODES[code & 0xFF]
    text = str(err).lower()
    for needle, kind in _SQLITE_TEXT:
        if needle in text:
            return kind
    return None


def storage_message(kind: str, name: str, detail: str = "") -> str:
    """One plain sentence: what happened to ``name``, that it was not saved, and what to do."""
    if kind == "full":
        return tr("The disk holding {name} is full, so the last change was not saved. Free some "
                  "space on it (move or delete files you do not need); everything saved before "
                  "is kept.").format(name=name)
    if kind == "read-only":
        return tr("{name} is on a disk or in a folder that cannot be written to, so the last "
                  "change was not saved. Copy the project to a folder of your own and open the "
                  "copy.").format(name=name)
    if kind == "damaged":
        return tr("{name} is damaged ({detail}), so the last change was not saved. Close it and "
                  "run 'cmo-desk check' on it; restore the latest good backup if it says so."
                  ).format(name=name, detail=detail)
    if kind == "locked":
        return tr("{name} is busy in another program ({detail}), so the last change was not "
                  "saved. Wait a moment and try again, or close the other program.").format(
            name=name, detail=detail)
    return tr("The disk holding {name} reported a read or write error ({detail}), so the last "
              "change was not saved. Check that the disk or USB stick is still connected, then "
              "try again.").format(name=name, detail=detail)


def busy_message(name: str, detail: str) -> str:
    """A file another program holds locked, when it is to be read: not damage, and nothing lost."""
    return tr("{name} is held by another program ({detail}), so it could not be read; it was "
              "not changed. Close the other program, or wait for it to finish, then try again."
              ).format(name=name, detail=detail)


def storage_error(err: BaseException, path: str | os.PathLike[str] | None = None) -> StorageError | None:
    """A StorageError in plain words for ``err``, or None when ``err`` is not a storage failure."""
    kind = classify(err)
    if kind is None:
        return None
    if isinstance(err, StorageError):
        return err
    target = path or getattr(err, "filename", None) or ""
    name = os.path.basename(os.fspath(target)) or tr("the project")
    detail = getattr(err, "strerror", None) or str(err)
    return StorageError(storage_message(kind, name, detail), kind)
