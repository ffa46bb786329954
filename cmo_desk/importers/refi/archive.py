"""The files of a REFI-QDA project: the zip and its ``sources/``, a bare ``project.qde``, and
telling a REFI-QDA file by its content whatever its name."""

from __future__ import annotations

import os
import re

from cmo_desk.domain.errors import ImportFailed
from cmo_desk.domain.i18n import tr
from cmo_desk.importers.safezip import MiB, SafeZip

MAX_TEXT_BYTES = 128 * MiB


class QdpxArchive:
    """Files of a .qdpx found case-insensitively under sources/."""

    def __init__(self, safezip: SafeZip) -> None:
        self.zip = safezip
        self.by_key: dict[str, str] = {}
        for name in safezip.names():
            unified = name.replace("\\", "/")
            self.by_key.setdefault(unified.casefold(), name)

    def lookup(self, path: str | None) -> str | None:
        if not path or not path.startswith("internal://"):
            return None
        rel = path[len("internal://") :].lstrip("/")
        if not rel or ".." in rel.replace("\\", "/").split("/"):
            return None
        return self.by_key.get(("sources/" + rel).casefold())

    def read(self, name: str) -> bytes:
        return self.zip.read(name, MAX_TEXT_BYTES)

    def read_original(self, name: str) -> bytes:
        # Scanned PDFs can be far larger than any text; they get the archive's per-member cap.
        return self.zip.read(name)


def find_qde(safezip: SafeZip, label: str) -> str:
    """The one ``.qde`` at the top of a .qdpx; none or several raise ImportFailed."""
    top = [n for n in safezip.names() if "/" not in n.replace("\\", "/") and n.lower().endswith(".qde")]
    if not top:
        raise ImportFailed(
            tr(
                "{file} holds no project.qde, so it is not a REFI-QDA project. Export it again as "
                "a REFI-QDA project (.qdpx)."
            ).format(file=label)
        )
    if len(top) > 1:
        raise ImportFailed(
            tr("{file} holds several project files ({names}), so it is unclear which to import. "
                "Export the project again, or remove the extra .qde file.").format(
                file=label, names=", ".join(sorted(top))
            )
        )
    return top[0]


_SNIFF_BYTES = 4096
#: The top element of a REFI-QDA XML file, after the declaration, comments and any DOCTYPE.
_XML_ROOT_RE = re.compile(
    rb"(?:\s|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)*<(?:[A-Za-z_][\w.-]*:)?(Project|CodeBook)[\s>/]", re.S
)


def sniff_refi(path: str | os.PathLike[str]) -> str | None:
    """"project" or "codebook" when the file is a REFI-QDA one by its content, whatever its name
    (mail systems and MAXQDA users save projects as ``.zip``; a ``project.qde`` may come bare)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError:
        return None
    if head.startswith(b"PK\x03\x04"):
        try:
            import zipfile

            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, IndexError, NotImplementedError):
            return None
        top = [n for n in names if "/" not in n.replace("\\", "/") and n.lower().endswith(".qde")]
        return "project" if top else None
    match = _XML_ROOT_RE.match(head.removeprefix(b"\xef\xbb\xbf"))
    if match is None:
        return None
    return "project" if match.group(1) == b"Project" else "codebook"


class NoArchive:
    """The sources of a bare ``project.qde``: none are in the file."""

    #: No member at all, not even the records CMO Desk's export keeps beside project.qde.
    by_key: dict[str, str] = {}

    def lookup(self, path: str | None) -> str | None:
        return None

    def read(self, name: str) -> bytes:  # pragma: no cover - lookup never finds a member
        raise KeyError(name)

    read_original = read


def is_zip(path: str | os.PathLike[str]) -> bool:
    """Whether the file at ``path`` starts like a zip archive."""
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError:
        return False

