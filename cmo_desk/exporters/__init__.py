"""Evidence tables out of a project snapshot: Word (.docx), Excel (.xlsx) and CSV.

``tables.build_table(snapshot, options)`` makes the table model once; ``word.write_docx``,
``spreadsheet.write_xlsx`` and ``spreadsheet.write_csv`` write it. ``write_table`` picks the writer
from the file's extension. Heavy libraries (python-docx, openpyxl) are imported only when writing.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from cmo_desk.domain.atomic import replace_durably
from cmo_desk.domain.errors import ExportFailed, ValidationError
from cmo_desk.domain.i18n import tr

if TYPE_CHECKING:
    from cmo_desk.exporters.tables import Table

FORMATS: tuple[str, ...] = (".docx", ".xlsx", ".csv")

__all__ = ["FORMATS", "ExportFailed", "atomic_target", "write_table"]


@contextlib.contextmanager
def atomic_target(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one step.

    A crash, a cancel or a power cut mid-write leaves the old file (or none), never half a file.
    """
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise ExportFailed(
            tr("Cannot write {path}: the folder does not exist. Choose an existing folder.").format(
                path=target
            )
        )
    # os.open with 0o666 lets the umask decide permissions, as for any file the user saves.
    tmp = folder / f".{target.name}.{uuid.uuid4().hex[:8]}.part"
    try:
        os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    except OSError as err:
        raise ExportFailed(
            tr("Cannot write in {folder}: {reason}. Choose a folder you can write to.").format(
                folder=folder, reason=err.strerror or err
            )
        ) from err
    try:
        try:
            yield tmp
        except OSError as err:  # the disk filled up, was unplugged or is read-only
            raise ExportFailed(
                tr(
                    "Cannot write {path}: {reason}. Free some space or choose another disk, then "
                    "export again; any earlier file of that name is untouched."
                ).format(path=target, reason=err.strerror or err)
            ) from err
        try:
            # After a power cut the file is either the old one or complete, and still there.
            replace_durably(tmp, target)
        except OSError as err:
            raise ExportFailed(
                tr(
                    "Cannot replace {path}: {reason}. Close the file if it is open in another "
                    "program, then export again."
                ).format(path=target, reason=err.strerror or err)
            ) from err
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def write_table(
    table: Table,
    path: str | os.PathLike[str],
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Path:
    """Write ``table`` in the format named by the file's extension (.docx, .xlsx or .csv)."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix == ".docx":
        from cmo_desk.exporters.word import write_docx

        write_docx(table, target, progress=progress, cancel=cancel)
    elif suffix == ".xlsx":
        from cmo_desk.exporters.spreadsheet import write_xlsx

        write_xlsx(table, target)
    elif suffix == ".csv":
        from cmo_desk.exporters.spreadsheet import write_csv

        write_csv(table, target)
    else:
        raise ValidationError(
            tr("Cannot export to {name}: choose a file name ending in .docx, .xlsx or .csv.").format(
                name=target.name
            )
        )
    return target
