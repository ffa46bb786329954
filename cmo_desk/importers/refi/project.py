"""Reading a REFI-QDA project or codebook, step by step: the project's own fields, its users and
codebook, its notes, cases and sources, CMOCs, what CMO Desk's own export carries beside it, and a
line for each part that has no place in CMO Desk."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

from cmo_desk.domain.errors import ImportFailed
from cmo_desk.domain.i18n import tr
from cmo_desk.importers.refi.archive import NoArchive, QdpxArchive, find_qde, is_zip, sniff_refi
from cmo_desk.importers.refi.codes import read_codes, read_users
from cmo_desk.importers.refi.extension import apply_extension, read_extension
from cmo_desk.importers.refi.model import KIND_SET_PREFIX, RefiImport, RefiReader
from cmo_desk.importers.refi.notes import add_memos, cmoc_codes_of_sets, make_cmocs, read_notes
from cmo_desk.importers.refi.sources import SourceReader
from cmo_desk.importers.refi.xmltree import (
    MAX_XML_BYTES,
    child_named,
    child_text,
    children_named,
    local_name,
    parse_xml,
)
from cmo_desk.importers.safezip import DEFAULT_LIMITS, MiB, SafeZip, ZipLimits


def _read_bare_qde(path: Path, label: str) -> RefiImport:
    try:
        if path.stat().st_size > MAX_XML_BYTES:
            raise ImportFailed(
                tr("{file} is larger than any project file ({size} MiB); it is not imported.").format(
                    file=label, size=path.stat().st_size // MiB
                )
            )
        data = path.read_bytes()
    except OSError as err:
        raise ImportFailed(
            tr("Cannot read {file}: {reason}. Check that the file is readable.").format(
                file=label, reason=err.strerror or err
            )
        ) from err
    root = parse_xml(data, label)
    if local_name(root.tag) != "Project":
        raise ImportFailed(
            tr(
                "{file} is XML but not a REFI-QDA project (its top element is {tag}). Choose a .qdpx "
                "exported by a qualitative analysis program."
            ).format(file=label, tag=local_name(root.tag) or "?")
        )
    return _read_project(root, NoArchive(), label)  # type: ignore[arg-type]


def read_qdpx(path: str | os.PathLike[str], limits: ZipLimits = DEFAULT_LIMITS) -> RefiImport:
    """Read a REFI-QDA project (``.qdpx``, the same zip under any name, or a bare ``.qde``: its
    codebook, users and notes come in, and every source is listed as missing)."""
    label = Path(path).name
    if sniff_refi(path) == "project" and not is_zip(path):
        return _read_bare_qde(Path(path), label)
    with SafeZip(path, limits) as safezip:
        qde_name = find_qde(safezip, label)
        data = safezip.read(qde_name, MAX_XML_BYTES)
        root = parse_xml(data, f"{qde_name} ({label})")
        if local_name(root.tag) != "Project":
            raise ImportFailed(
                tr(
                    "{file} is XML but not a REFI-QDA project (its top element is {tag}). Choose a .qdpx "
                    "exported by a qualitative analysis program."
                ).format(
                    file=label, tag=local_name(root.tag) or "?"
                )
            )
        return _read_project(root, QdpxArchive(safezip), label)


def read_qdc(path: str | os.PathLike[str]) -> RefiImport:
    """Read a REFI-QDA codebook (``.qdc``): codes only."""
    target = Path(path)
    label = target.name
    try:
        size = target.stat().st_size
        if size > MAX_XML_BYTES:
            raise ImportFailed(
                tr("{file} is larger than any codebook ({size} MiB); it is not imported.").format(
                    file=label, size=size // MiB
                )
            )
        data = target.read_bytes()
    except FileNotFoundError as err:
        raise ImportFailed(tr("{file} does not exist. Check the file name.").format(file=label)) from err
    except OSError as err:
        raise ImportFailed(
            tr("Cannot read {file}: {reason}. Check that the file is readable.").format(
                file=label, reason=err.strerror or err
            )
        ) from err
    if data.startswith(b"PK\x03\x04"):
        raise ImportFailed(
            tr("{file} is a zip archive, not a codebook; import it as a REFI-QDA project (.qdpx).").format(
                file=label
            )
        )
    root = parse_xml(data, label)
    if local_name(root.tag) == "Project":
        raise ImportFailed(
            tr("{file} is a REFI-QDA project file, not a codebook; import the .qdpx project instead.").format(
                file=label
            )
        )
    if local_name(root.tag) != "CodeBook":
        raise ImportFailed(
            tr(
                "{file} is XML but not a REFI-QDA codebook (its top element is {tag}). Choose a .qdc "
                "exported by a qualitative analysis program."
            ).format(
                file=label, tag=local_name(root.tag) or "?"
            )
        )
    reader = RefiReader(label)
    reader.result.origin = root.get("origin")
    sets = _sets(root)
    read_codes(reader, child_named(root, "Codes"), sets, ("guid", "targetGUID"))
    other_sets = [s for s in sets if not (s.get("name") or "").strip().casefold().startswith(KIND_SET_PREFIX)]
    if other_sets:
        reader.skip(
            tr("{count} code sets were not imported (CMO Desk has no code sets): {names}.").format(
                count=len(other_sets), names=", ".join(sorted((s.get("name") or "?") for s in other_sets))
            )
        )
    reader.flush_counts()
    return reader.result




def _sets(root: ET.Element) -> list[ET.Element]:
    sets_el = child_named(root, "Sets")
    return children_named(sets_el, "Set") if sets_el is not None else []


def _read_project(root: ET.Element, archive: QdpxArchive, label: str) -> RefiImport:
    reader = RefiReader(label)
    result = reader.result
    result.project_name = root.get("name")
    result.project_description = child_text(root, "Description")
    result.origin = root.get("origin")
    from_cmo_desk = (result.origin or "").startswith("CMO Desk")

    read_users(reader, root)
    sets = _sets(root)
    codebook = child_named(root, "CodeBook")
    read_codes(reader, child_named(codebook, "Codes") if codebook is not None else None, sets, ("targetGUID", "guid"))
    # Notes first: CMOC notes decide what a selection's NoteRef means.
    notes = read_notes(root, archive)
    sources = SourceReader(reader, archive, notes, from_cmo_desk)
    sources.read_cases(root)
    sources.read_sources(root)
    make_cmocs(reader, notes, cmoc_codes_of_sets(reader, sets, notes))
    extension = read_extension(archive) if from_cmo_desk else None
    if extension is not None:
        reader.refs.update(reader.codes)
        reader.refs.update(reader.users)
        notes.used |= apply_extension(result, extension, reader.refs)
    add_memos(reader, notes)
    _report_other_parts(reader, root, variables_kept=extension is not None)
    reader.flush_counts()
    return result


def _report_other_parts(reader: RefiReader, root: ET.Element, variables_kept: bool) -> None:
    """Variables, links and network diagrams have no place in CMO Desk (the variables of its own
    files come back through the extension)."""
    for what, tag in (("Variables", "Variables"), ("Links", "Links"), ("Graphs", "Graphs")):
        el = child_named(root, tag)
        n = len(list(el)) if el is not None else 0
        if n and not (tag == "Variables" and variables_kept):
            reader.skip(
                {
                    "Variables": tr("{count} variables were not imported (CMO Desk has no variables)."),
                    "Links": tr("{count} links between objects were not imported."),
                    "Graphs": tr("{count} network diagrams were not imported."),
                }[what].format(count=n)
            )
