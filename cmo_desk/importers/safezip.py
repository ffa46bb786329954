"""Reading untrusted zip archives (.qdpx, .docx) without letting them escape or explode.

A zip's header sizes are claims, not facts: every member is read through a byte cap, and the
running total across members is capped too. Names that could escape a folder if anyone ever
extracted them (``../x``, ``/etc/x``, ``C:\\x``) make the whole archive refused, because an archive
that carries one was made by mistake or with intent, and neither deserves a partial import.
"""

from __future__ import annotations

import os
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from cmo_desk.domain.errors import ImportFailed
from cmo_desk.domain.i18n import tr

MiB = 1024 * 1024


@dataclass(frozen=True)
class ZipLimits:
    max_members: int = 20_000
    max_member_bytes: int = 512 * MiB
    max_total_bytes: int = 2048 * MiB
    #: Uncompressed / compressed size above which a large member is taken for a zip bomb. Text
    #: compresses about 3-10 times; a run of zeros about 1000 times.
    max_ratio: float = 200.0
    #: Members smaller than this are never refused for their ratio (tiny files compress oddly).
    ratio_floor_bytes: int = 4 * MiB


DEFAULT_LIMITS = ZipLimits()

_DRIVE_RE = re.compile(r"^[A-Za-z]:")
_CHUNK = 1024 * 1024


def _size(n: int) -> str:
    return f"{n / MiB:.0f} MiB" if n >= MiB else f"{n} bytes"


def check_member_name(name: str, archive: str) -> None:
    """Refuse a member name that is absolute or climbs out of the archive's folder."""
    unified = name.replace("\\", "/")
    if not unified.strip("/"):
        raise ImportFailed(
            tr("{archive} contains a file without a name; it is damaged and was not imported. Export it again.").format(
                archive=archive
            )
        )
    if unified.startswith("/") or _DRIVE_RE.match(unified):
        raise ImportFailed(
            tr("{archive} contains a file with an absolute path ({name}); such archives are unsafe and are not imported. Ask for a fresh export.").format(
                archive=archive, name=name
            )
        )
    if ".." in unified.split("/"):
        raise ImportFailed(
            tr("{archive} contains a file whose path leaves the archive ({name}); such archives are unsafe and are not imported. Ask for a fresh export.").format(
                archive=archive, name=name
            )
        )


class SafeZip:
    """An open zip whose names and declared sizes were checked; read members with ``read``."""

    def __init__(self, path: str | os.PathLike[str], limits: ZipLimits = DEFAULT_LIMITS) -> None:
        self.path = Path(path)
        self.limits = limits
        self._label = self.path.name
        self._read_total = 0
        try:
            self._zip = zipfile.ZipFile(self.path)
        except FileNotFoundError as err:
            raise ImportFailed(
                tr("{archive} does not exist. Check the file name.").format(archive=self._label)
            ) from err
        except (
            zipfile.BadZipFile,
            zipfile.LargeZipFile,
            ValueError,
            EOFError,
            IndexError,
            struct.error,
            NotImplementedError,  # an impossible "zip version" in a damaged header
        ) as err:
            raise ImportFailed(
                tr("{archive} is not a zip archive (or it is damaged). Export the file again from the program that made it.").format(
                    archive=self._label
                )
            ) from err
        except OSError as err:
            raise ImportFailed(
                tr("Cannot read {archive}: {reason}. Check that the file is readable.").format(
                    archive=self._label, reason=err.strerror or err
                )
            ) from err
        try:
            self._check_members()
        except BaseException:
            self._zip.close()
            raise

    def _check_members(self) -> None:
        infos = self._zip.infolist()
        if len(infos) > self.limits.max_members:
            raise ImportFailed(
                tr("{archive} holds {count} files, more than the {limit} allowed; it is not imported.").format(
                    archive=self._label, count=len(infos), limit=self.limits.max_members
                )
            )
        seen: set[str] = set()
        declared_total = 0
        for info in infos:
            check_member_name(info.filename, self._label)
            key = info.filename.replace("\\", "/").rstrip("/")
            if key in seen:
                raise ImportFailed(
                    tr("{archive} contains {name} twice, so it is unclear which one to use; it is not imported.").format(
                        archive=self._label, name=info.filename
                    )
                )
            seen.add(key)
            if info.file_size > self.limits.max_member_bytes:
                raise ImportFailed(
                    tr("{name} in {archive} is {size} uncompressed, more than the {limit} allowed; it is not imported.").format(
                        name=info.filename,
                        archive=self._label,
                        size=_size(info.file_size),
                        limit=_size(self.limits.max_member_bytes),
                    )
                )
            if info.file_size >= self.limits.ratio_floor_bytes and info.file_size > self.limits.max_ratio * max(
                info.compress_size, 1
            ):
                raise ImportFailed(
                    tr("{name} in {archive} expands {ratio:.0f} times when unpacked, which only a zip bomb does; it is not imported.").format(
                        name=info.filename,
                        archive=self._label,
                        ratio=info.file_size / max(info.compress_size, 1),
                    )
                )
            declared_total += info.file_size
        if declared_total > self.limits.max_total_bytes:
            raise ImportFailed(
                tr("{archive} unpacks to {size}, more than the {limit} allowed; it is not imported.").format(
                    archive=self._label,
                    size=_size(declared_total),
                    limit=_size(self.limits.max_total_bytes),
                )
            )

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()

    def names(self) -> list[str]:
        """Member names (files only, not folders), as stored."""
        return [i.filename for i in self._zip.infolist() if not i.is_dir()]

    def read(self, name: str, max_bytes: int | None = None) -> bytes:
        """The member's bytes, read through a cap whatever its header claims."""
        cap = self.limits.max_member_bytes if max_bytes is None else min(max_bytes, self.limits.max_member_bytes)
        budget = self.limits.max_total_bytes - self._read_total
        chunks: list[bytes] = []
        got = 0
        try:
            with self._zip.open(name) as member:
                while True:
                    chunk = member.read(_CHUNK)
                    if not chunk:
                        break
                    got += len(chunk)
                    if got > cap:
                        raise ImportFailed(
                            tr("{name} in {archive} is larger than the {limit} allowed; it is not imported.").format(
                                name=name, archive=self._label, limit=_size(cap)
                            )
                        )
                    if got > budget:
                        raise ImportFailed(
                            tr("{archive} unpacks to more than the {limit} allowed; it is not imported.").format(
                                archive=self._label, limit=_size(self.limits.max_total_bytes)
                            )
                        )
                    chunks.append(chunk)
        except ImportFailed:
            raise
        except KeyError as err:
            raise ImportFailed(
                tr("{archive} has no file named {name}.").format(archive=self._label, name=name)
            ) from err
        except RuntimeError as err:
            # zipfile raises RuntimeError for encrypted members.
            raise ImportFailed(
                tr("{name} in {archive} is password-protected; export it again without a password.").format(
                    name=name, archive=self._label
                )
            ) from err
        except NotImplementedError as err:
            raise ImportFailed(
                tr("{name} in {archive} uses a compression method that cannot be read; export it again with ordinary (deflate) compression.").format(
                    name=name, archive=self._label
                )
            ) from err
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError) as err:
            raise ImportFailed(
                tr("{name} in {archive} is damaged and cannot be unpacked. Export the file again.").format(
                    name=name, archive=self._label
                )
            ) from err
        self._read_total += got
        return b"".join(chunks)
