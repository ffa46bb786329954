"""Zip containers (DOCX, ODT): opened only when they unpack to a safe size, their members read
through a cap, their XML parsed without entities or network."""

from __future__ import annotations

import zipfile
import zlib
from typing import Any

from cmo_desk.domain.errors import ImportFailed
from cmo_desk.domain.i18n import tr

#: Zip containers (DOCX, ODT) larger than this once unpacked are refused: real articles are far
#: smaller, and a zip bomb would exhaust an old laptop's memory.
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
#: A member this big that compresses better than MAX_RATIO:1 is treated as a bomb.
BIG_MEMBER_BYTES = 10 * 1024 * 1024
MAX_RATIO = 100



#: What zipfile raises on damaged archives (bad headers, unknown methods, bad CRC, bad deflate data).
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError, zlib.error, KeyError)


def open_zip_checked(data: bytes, filename: str, kind: str) -> zipfile.ZipFile:
    """Open a zip container, refusing archives that would unpack to an unsafe size."""
    import io

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS:
        raise ImportFailed(
            tr("{name} is damaged or is not a real {kind} file. Open it in a word processor and save it again.").format(
                name=filename, kind=kind
            )
        ) from None
    total = 0
    for info in archive.infolist():
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if total > MAX_UNZIPPED_BYTES or (info.file_size > BIG_MEMBER_BYTES and ratio > MAX_RATIO):
            archive.close()
            raise ImportFailed(
                tr("{name} unpacks to an implausibly large size and was refused as unsafe. Re-save it from a word processor.").format(
                    name=filename
                )
            )
    return archive


def read_member(archive: zipfile.ZipFile, name: str, filename: str, kind: str) -> bytes | None:
    """The bytes of member ``name`` (None when the archive has none), read through the unzipped-size
    cap."""
    if name not in archive.NameToInfo:
        return None
    try:
        # Read through a cap rather than trusting the size the archive declares: a crafted
        # header can claim kilobytes for a member that unpacks to gigabytes.
        chunks: list[bytes] = []
        total = 0
        with archive.open(name) as fh:
            while chunk := fh.read(1 << 20):
                total += len(chunk)
                if total > MAX_UNZIPPED_BYTES:
                    raise ImportFailed(
                        tr("{name} unpacks to an implausibly large size and was refused as unsafe. Re-save it from a word processor.").format(
                            name=filename
                        )
                    )
                chunks.append(chunk)
        return b"".join(chunks)
    except _ZIP_ERRORS:
        raise ImportFailed(
            tr("{name} is damaged or is not a real {kind} file. Open it in a word processor and save it again.").format(
                name=filename, kind=kind
            )
        ) from None


def parse_part_xml(raw: bytes, filename: str, kind: str) -> Any:
    """A document part's XML, parsed without entities, DTDs or network; damage raises ImportFailed."""
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True, load_dtd=False
    )
    try:
        return etree.fromstring(raw, parser)
    except etree.XMLSyntaxError:
        raise ImportFailed(
            tr("{name} is damaged or is not a real {kind} file. Open it in a word processor and save it again.").format(
                name=filename, kind=kind
            )
        ) from None


#: The title in DOCX core properties and ODT metadata (Dublin Core).
DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
