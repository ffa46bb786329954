"""REFI-QDA 1.0 import: ``.qdpx`` projects and ``.qdc`` codebooks from NVivo, ATLAS.ti, MAXQDA,
QualCoder (and CMO Desk) as new domain records, plus a list of what had no place.

Nothing is written here: ``read_qdpx`` and ``read_qdc`` return a ``RefiImport`` that the import
service writes in one unit of work, after merging codes with the project's codebook.

Rules worth knowing:

- Every source becomes a study (labelled with the source's name) and a document, except in files
  CMO Desk wrote, where the cases are the studies and a study's documents come back together.
- Text sources and the text representation of PDF sources become documents; a PDF without a
  representation has its text read from the PDF. Images, audio, video, PDF page rectangles and
  codings of whole sources have no place and are listed in ``skipped``.
- A code's kind is taken from a code set named "CMO kind: Context" (what CMO Desk exports);
  otherwise from the code's own name or its nearest ancestor's when that is Context, Mechanism,
  Outcome or Intervention (singular or plural, any case); otherwise it is "other".
- Codes under a parent named "CMO role" set the excerpts' role instead of becoming codes.
- Notes that begin "CMOC (CMO Desk)" become CMOCs; other notes referenced by a selection become
  that excerpt's memo, and the rest (consensus CMOCs among them) come back as ``memos``.
- Users become coders with ``coder_id(name)``, so a user with the name of an existing coder is that
  coder.
- Selection positions: CMO Desk writes Unicode code points. Other programs may count UTF-16 code
  units (NVivo); the two differ only after a character outside the Basic Multilingual Plane, and
  the reading whose selections agree with their names and word boundaries is used. Passages that
  fit neither are imported as code points and listed in ``skipped`` for the user to check.

Accepted deviations from the standard: ``Project.qde`` (or any single ``.qde``) at the top of the
archive, ``sources/`` in any case, empty ``<Sets/>`` and similar empty containers, a ``.zip`` name,
no namespace on the XML. Refused: not a zip, no ``.qde`` or several, not REFI XML, any DOCTYPE
(entity definitions can exhaust memory), unsafe or oversized archive members.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as _safe_fromstring

from cmo_desk.domain.anchoring import context_around
from cmo_desk.domain.errors import ImportFailed
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.ids import coder_id, new_id
from cmo_desk.domain.initials import initials_of
from cmo_desk.domain.records import (
    Assignment,
    CmocStatus,
    Cmoc,
    Code,
    CodeKind,
    Coder,
    Consensus,
    Document,
    Excerpt,
    FormValue,
    Role,
    Study,
    Theory,
)
from cmo_desk.importers.safezip import DEFAULT_LIMITS, MiB, SafeZip, ZipLimits

MAX_XML_BYTES = 256 * MiB
MAX_TEXT_BYTES = 128 * MiB

ROLE_GROUP_NAME = "cmo role"
KIND_SET_PREFIX = "cmo kind:"
CMOC_NOTE_HEADER = "CMOC (CMO Desk)"
CONSENSUS_NOTE_HEADER = "Consensus CMOC (CMO Desk)"
#: What CMO Desk's export carries beside project.qde (must match exporters/refi.py).
EXTENSION_ENTRY = "cmodesk/records.json"
EXTENSION_FORMAT = "cmo-desk-refi-extension"
#: Must match the labels the exporter writes (a round-trip test holds them together).
_CMOC_LABELS: dict[str, str] = {
    "intervention": "intervention",
    "actor": "actor",
    "context": "context",
    "mechanism (resource)": "mechanism_resource",
    "mechanism (reasoning)": "mechanism_reasoning",
    "outcome": "outcome",
    "outcome direction": "outcome_direction",
    "outcome intended": "outcome_intended",
    "statement": "statement",
    "confidence": "confidence",
    "status": "status",
    "memo": "memo",
}
_CMOC_LABEL_RE = re.compile(r"^(" + "|".join(re.escape(k) for k in _CMOC_LABELS) + r"):\s?(.*)$", re.IGNORECASE)
_KIND_WORDS = {
    "context": CodeKind.CONTEXT.value,
    "contexts": CodeKind.CONTEXT.value,
    "mechanism": CodeKind.MECHANISM.value,
    "mechanisms": CodeKind.MECHANISM.value,
    "outcome": CodeKind.OUTCOME.value,
    "outcomes": CodeKind.OUTCOME.value,
    "intervention": CodeKind.INTERVENTION.value,
    "interventions": CodeKind.INTERVENTION.value,
}
_ROLE_WORDS = {
    "context": Role.CONTEXT.value,
    "mechanism": Role.MECHANISM.value,
    "outcome": Role.OUTCOME.value,
    "intervention": Role.INTERVENTION.value,
}
_COLOR_RE = re.compile(r"^#([0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})$")
_PDF_MEDIA_TYPE = "application/pdf"
_TEXT_MEDIA_TYPE = "text/plain"


@dataclass(frozen=True)
class RefiMemo:
    """A REFI note that belongs to no excerpt (a project memo, a code memo, a research plan)."""

    id: str
    title: str
    text: str
    owner_id: str | None = None


@dataclass
class RefiImport:
    """New records from a REFI file, not yet written. Ids are fresh except coders'."""

    coders: list[Coder] = field(default_factory=list)
    studies: list[Study] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    codes: list[Code] = field(default_factory=list)
    excerpts: list[Excerpt] = field(default_factory=list)
    cmocs: list[Cmoc] = field(default_factory=list)
    memos: list[RefiMemo] = field(default_factory=list)
    #: sha256 -> original file bytes (PDF sources) to keep beside their documents.
    originals: dict[str, bytes] = field(default_factory=dict)
    #: One line per thing that had no place in CMO Desk, for the import summary.
    skipped: list[str] = field(default_factory=list)
    project_name: str | None = None
    project_description: str | None = None
    origin: str | None = None
    #: Records only CMO Desk's own files carry (``cmodesk/records.json``). Theories, consensus
    #: CMOCs, form values and assignments keep their ids in the exporting project, so importing
    #: the same file twice finds them; their links point at ids of this import.
    theories: list[Theory] = field(default_factory=list)
    consensus: list[Consensus] = field(default_factory=list)
    form_values: list[FormValue] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    #: The exporting project's form template, when the file carries one.
    template: dict | None = None


# --- XML -------------------------------------------------------------------------------------


def _local(tag: object) -> str:
    if not isinstance(tag, str):
        return ""  # comments and processing instructions
    return tag.rsplit("}", 1)[-1]


def _kids(el: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in el if _local(c.tag) == name]


def _kid(el: ET.Element, name: str) -> ET.Element | None:
    for c in el:
        if _local(c.tag) == name:
            return c
    return None


def _kid_text(el: ET.Element, name: str) -> str | None:
    child = _kid(el, name)
    if child is None:
        return None
    return "".join(child.itertext())


def _int(el: ET.Element, attr: str) -> int | None:
    raw = el.get(attr)
    if raw is None:
        return None
    try:
        return int(raw.strip())
    except ValueError:
        return None


def _guid(el: ET.Element, attr: str = "guid") -> str | None:
    raw = el.get(attr)
    if not raw:
        return None
    return raw.strip().strip("{}").upper() or None


def parse_xml(data: bytes, label: str) -> ET.Element:
    """Parse untrusted XML: any DOCTYPE is refused before an entity can be expanded."""
    try:
        return _safe_fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as err:
        raise ImportFailed(
            tr(
                "{file} declares a DOCTYPE or entities, which REFI-QDA files never need and which can "
                "be used to exhaust memory; it is not imported. Export it again from the program that "
                "made it."
            ).format(file=label)
        ) from err
    except ET.ParseError as err:
        line = getattr(err, "position", (None,))[0]
        raise ImportFailed(
            tr("{file} is not well-formed XML (near line {line}); it is damaged. Export it again.").format(
                file=label, line=line if line is not None else "?"
            )
        ) from err
    except (ValueError, LookupError, RecursionError) as err:
        # Unknown or lying encoding declarations and absurd nesting end up here.
        raise ImportFailed(
            tr("{file} cannot be read as XML; it is damaged. Export it again.").format(file=label)
        ) from err


# --- small helpers ---------------------------------------------------------------------------


def _color(value: str | None) -> str | None:
    if not value or not _COLOR_RE.match(value.strip()):
        return None
    value = value.strip().upper()
    if len(value) == 4:
        value = "#" + "".join(ch * 2 for ch in value[1:])
    return value


def _split_description(description: str | None) -> tuple[str | None, str | None, str | None]:
    """Definition, inclusion notes, exclusion notes (the last paragraph may hold the notes)."""
    if not description or not description.strip():
        return None, None, None
    text = description.strip().replace("\r\n", "\n")
    paragraphs = text.split("\n\n")
    last = paragraphs[-1].split("\n")
    include = exclude = None
    if all(line.startswith(("Include: ", "Exclude: ")) for line in last):
        for line in last:
            if line.startswith("Include: "):
                include = line[len("Include: ") :].strip() or None
            else:
                exclude = line[len("Exclude: ") :].strip() or None
        paragraphs = paragraphs[:-1]
    definition = "\n\n".join(paragraphs).strip() or None
    return definition, include, exclude


def _decode_text(data: bytes) -> tuple[str, bool]:
    """Text of a source file and whether characters had to be replaced."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), False
        except UnicodeDecodeError:
            return data.decode("utf-16", "replace"), True
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace"), True


def _extract_pdf_text(data: bytes) -> tuple[str, list[int]]:
    """Text and page starts of a PDF; raises ImportFailed when it cannot be read."""
    try:
        import pypdfium2 as pdfium  # imported here: only PDFs without a text representation need it
    except ImportError as err:  # pragma: no cover - a declared dependency
        raise ImportFailed(tr("The PDF reader is not installed; reinstall CMO Desk.")) from err
    pages: list[str] = []
    try:
        pdf = pdfium.PdfDocument(data)
        try:
            for index in range(len(pdf)):
                page = pdf[index]
                textpage = page.get_textpage()
                pages.append(textpage.get_text_range())
                textpage.close()
                page.close()
        finally:
            pdf.close()
    except Exception as err:  # pdfium reports every failure (password, damage) as its own error
        raise ImportFailed(str(err) or type(err).__name__) from err
    starts: list[int] = []
    parts: list[str] = []
    offset = 0
    for text in pages:
        text = text.replace("\r\n", "\n").replace("\ufffe", "").replace("\x00", "")
        starts.append(offset)
        parts.append(text)
        offset += len(text) + 2
    return "\n\n".join(parts), starts or [0]


# --- selection positions ---------------------------------------------------------------------
#
# The standard says positions count characters but not which: NVivo (and other .NET and Java
# programs) count UTF-16 code units, CMO Desk and QualCoder count code points. The two readings
# differ only after a character outside the Basic Multilingual Plane (most emoji, rare CJK), so
# they are told apart on the selections they put in different places: the reading whose
# selections agree with their names (programs name a selection by its first words) and start and
# end on word boundaries wins.

_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]")
_ELLIPSIS = ("\u2026", "...")


class _Utf16Offsets:
    """Converts UTF-16 code-unit offsets of ``text`` to code-point offsets."""

    def __init__(self, text: str) -> None:
        # UTF-16 offset of each astral character (it occupies that unit and the next).
        self.astral = [m.start() + k for k, m in enumerate(_ASTRAL_RE.finditer(text))]

    def to_code_points(self, unit: int) -> int | None:
        """None when the offset falls between the two halves of a surrogate pair."""
        k = bisect.bisect_left(self.astral, unit)
        if k and self.astral[k - 1] == unit - 1:
            return None
        return unit - k


def _on_boundary(text: str, pos: int) -> bool:
    if pos <= 0 or pos >= len(text):
        return True
    return not (text[pos - 1].isalnum() and text[pos].isalnum())


def _name_fits(name: str | None, quote: str) -> bool | None:
    """Whether a selection's name agrees with its text; None when the name says nothing."""
    label = " ".join((name or "").split())
    for tail in _ELLIPSIS:
        label = label.removesuffix(tail).rstrip()
    if len(label) < 3:
        return None
    quote = " ".join(quote.split())
    return quote.startswith(label) or label.startswith(quote)


def _fit(text: str, start: int | None, end: int | None, name: str | None) -> int:
    """How well a reading of a selection fits the text: 0 (out of range or mid-character) to 3."""
    if start is None or end is None or not 0 <= start <= end <= len(text):
        return 0
    named = _name_fits(name, text[start:end])
    if named is False:
        return 0
    score = 1 + (_on_boundary(text, start) and _on_boundary(text, end))
    return score + (named is True)


@dataclass(frozen=True)
class _OffsetReading:
    utf16: bool
    #: Selections the two readings place differently, and how many of them fit the chosen one.
    differing: int = 0
    fitting: int = 0


def _choose_offset_unit(text: str, selections: list[tuple[int, int, str | None]], trust_code_points: bool
                        ) -> tuple[_OffsetReading, _Utf16Offsets | None]:
    if trust_code_points or not _ASTRAL_RE.search(text):
        return _OffsetReading(utf16=False), None
    conv = _Utf16Offsets(text)
    cp_score = u16_score = differing = cp_fit = u16_fit = 0
    for start, end, name in selections:
        u_start, u_end = conv.to_code_points(start), conv.to_code_points(end)
        if (u_start, u_end) == (start, end):
            continue
        differing += 1
        a, b = _fit(text, start, end, name), _fit(text, u_start, u_end, name)
        cp_score += a
        u16_score += b
        cp_fit += a >= 2
        u16_fit += b >= 2
    if u16_score > cp_score:
        return _OffsetReading(True, differing, u16_fit), conv
    return _OffsetReading(False, differing, cp_fit if cp_score > u16_score else 0), None


# --- the reader ------------------------------------------------------------------------------


@dataclass
class _Selection:
    guid: str | None
    start: int
    end: int
    creating_user: str | None
    description: str | None
    code_guids: list[str]
    note_guids: list[str]
    name: str | None = None


#: Deepest code tree read: real codebooks nest a handful of levels; a crafted one 20,000.
MAX_CODE_DEPTH = 100


def _check_code_depth(codes_el: ET.Element, label: str) -> None:
    stack = [(el, 1) for el in _kids(codes_el, "Code")]
    while stack:
        el, depth = stack.pop()
        if depth > MAX_CODE_DEPTH:
            raise ImportFailed(
                tr("{file} nests codes more than {limit} levels deep, which no codebook needs; it is not "
                   "imported. Export it again from the program that made it.").format(
                    file=label, limit=MAX_CODE_DEPTH)
            )
        stack.extend((child, depth + 1) for child in _kids(el, "Code"))


class _Reader:
    def __init__(self, label: str) -> None:
        self.label = label
        self.result = RefiImport()
        self.users: dict[str, str] = {}  # REFI user guid -> coder id
        self.codes: dict[str, str] = {}  # REFI code guid -> code id
        self.role_codes: dict[str, str] = {}  # REFI code guid -> role
        self.skipped_counts: dict[str, int] = {}

    def skip(self, line: str) -> None:
        self.result.skipped.append(line)

    def count(self, message: str) -> None:
        self.skipped_counts[message] = self.skipped_counts.get(message, 0) + 1

    def flush_counts(self) -> None:
        for message, n in self.skipped_counts.items():
            self.skip(message.format(count=n))
        self.skipped_counts.clear()

    # users

    def read_users(self, root: ET.Element) -> None:
        users = _kid(root, "Users")
        if users is None:
            return
        seen: set[str] = set()
        for user in _kids(users, "User"):
            guid = _guid(user)
            name = " ".join((user.get("name") or user.get("id") or "").split())
            if not name:
                name = "REFI user " + (guid or "?")[:8]
            cid = coder_id(name)
            if guid:
                self.users[guid] = cid
            if cid not in seen:
                seen.add(cid)
                self.result.coders.append(Coder(id=cid, name=name, initials=initials_of(name)))

    def coder(self, guid: str | None) -> str | None:
        return self.users.get(guid) if guid else None

    # codes

    def read_codes(self, codes_el: ET.Element | None, sets: list[ET.Element], member_attrs: tuple[str, ...]) -> None:
        if codes_el is None:
            return
        explicit_kind: dict[str, str] = {}
        for s in sets:
            name = (s.get("name") or "").strip()
            if not name.casefold().startswith(KIND_SET_PREFIX):
                continue
            kind = _KIND_WORDS.get(name[len(KIND_SET_PREFIX) :].strip().casefold())
            if kind is None:
                continue
            for member in _kids(s, "MemberCode"):
                for attr in member_attrs:
                    guid = _guid(member, attr)
                    if guid:
                        explicit_kind[guid] = kind
        # Iterative walk: a hostile file may nest codes deeper than Python's recursion allows.
        _check_code_depth(codes_el, self.label)
        stack: list[tuple[ET.Element, str | None, str | None, bool]] = [
            (el, None, None, False) for el in reversed(_kids(codes_el, "Code"))
        ]
        order = 0
        while stack:
            el, parent_id, inherited_kind, in_role_group = stack.pop()
            name = " ".join((el.get("name") or "").split())
            guid = _guid(el)
            if parent_id is None and not in_role_group and name.casefold() == ROLE_GROUP_NAME:
                for child in reversed(_kids(el, "Code")):
                    stack.append((child, None, None, True))
                continue
            if in_role_group:
                role = _ROLE_WORDS.get(name.casefold())
                if role and guid:
                    self.role_codes[guid] = role
                    continue
            if not name:
                self.count(tr("{count} codes without a name were not imported."))
                continue
            own_kind = _KIND_WORDS.get(name.casefold())
            kind = (guid and explicit_kind.get(guid)) or own_kind or inherited_kind or CodeKind.OTHER.value
            definition, include, exclude = _split_description(_kid_text(el, "Description"))
            code_id = new_id()
            if guid:
                self.codes[guid] = code_id
            self.result.codes.append(
                Code(
                    id=code_id,
                    name=name,
                    kind=kind,
                    parent_id=parent_id,
                    definition=definition,
                    include_notes=include,
                    exclude_notes=exclude,
                    color=_color(el.get("color")),
                    sort_order=order,
                )
            )
            order += 1
            for child in reversed(_kids(el, "Code")):
                stack.append((child, code_id, own_kind or inherited_kind, False))

    # sources

    def read_selection(self, el: ET.Element) -> _Selection | None:
        start, end = _int(el, "startPosition"), _int(el, "endPosition")
        if start is None or end is None:
            self.count(tr("{count} text selections without a valid position were not imported."))
            return None
        codes: list[str] = []
        for coding in _kids(el, "Coding"):
            ref = _kid(coding, "CodeRef")
            guid = _guid(ref, "targetGUID") if ref is not None else None
            if guid:
                codes.append(guid)
        creator = _guid(el, "creatingUser")
        if creator is None:
            for coding in _kids(el, "Coding"):
                creator = _guid(coding, "creatingUser")
                if creator:
                    break
        notes = [g for g in (_guid(n, "targetGUID") for n in _kids(el, "NoteRef")) if g]
        return _Selection(
            guid=_guid(el),
            start=start,
            end=end,
            creating_user=creator,
            description=_kid_text(el, "Description"),
            code_guids=codes,
            note_guids=notes,
            name=el.get("name"),
        )


class _Archive:
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


def _find_qde(safezip: SafeZip, label: str) -> str:
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


class _NoArchive:
    """The sources of a bare ``project.qde``: none are in the file."""

    def lookup(self, path: str | None) -> str | None:
        return None

    def read(self, name: str) -> bytes:  # pragma: no cover - lookup never finds a member
        raise KeyError(name)

    read_original = read


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
    if _local(root.tag) != "Project":
        raise ImportFailed(
            tr(
                "{file} is XML but not a REFI-QDA project (its top element is {tag}). Choose a .qdpx "
                "exported by a qualitative analysis program."
            ).format(file=label, tag=_local(root.tag) or "?")
        )
    return _read_project(root, _NoArchive(), label)  # type: ignore[arg-type]


def read_qdpx(path: str | os.PathLike[str], limits: ZipLimits = DEFAULT_LIMITS) -> RefiImport:
    """Read a REFI-QDA project (``.qdpx``, the same zip under any name, or a bare ``.qde``: its
    codebook, users and notes come in, and every source is listed as missing)."""
    label = Path(path).name
    if sniff_refi(path) == "project" and not _is_zip(path):
        return _read_bare_qde(Path(path), label)
    with SafeZip(path, limits) as safezip:
        qde_name = _find_qde(safezip, label)
        data = safezip.read(qde_name, MAX_XML_BYTES)
        root = parse_xml(data, f"{qde_name} ({label})")
        if _local(root.tag) != "Project":
            raise ImportFailed(
                tr(
                    "{file} is XML but not a REFI-QDA project (its top element is {tag}). Choose a .qdpx "
                    "exported by a qualitative analysis program."
                ).format(
                    file=label, tag=_local(root.tag) or "?"
                )
            )
        return _read_project(root, _Archive(safezip), label)


def _is_zip(path: str | os.PathLike[str]) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError:
        return False


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
    if _local(root.tag) == "Project":
        raise ImportFailed(
            tr("{file} is a REFI-QDA project file, not a codebook; import the .qdpx project instead.").format(
                file=label
            )
        )
    if _local(root.tag) != "CodeBook":
        raise ImportFailed(
            tr(
                "{file} is XML but not a REFI-QDA codebook (its top element is {tag}). Choose a .qdc "
                "exported by a qualitative analysis program."
            ).format(
                file=label, tag=_local(root.tag) or "?"
            )
        )
    reader = _Reader(label)
    reader.result.origin = root.get("origin")
    sets_el = _kid(root, "Sets")
    sets = _kids(sets_el, "Set") if sets_el is not None else []
    reader.read_codes(_kid(root, "Codes"), sets, ("guid", "targetGUID"))
    other_sets = [s for s in sets if not (s.get("name") or "").strip().casefold().startswith(KIND_SET_PREFIX)]
    if other_sets:
        reader.skip(
            tr("{count} code sets were not imported (CMO Desk has no code sets): {names}.").format(
                count=len(other_sets), names=", ".join(sorted((s.get("name") or "?") for s in other_sets))
            )
        )
    reader.flush_counts()
    return reader.result


def _read_project(root: ET.Element, archive: _Archive, label: str) -> RefiImport:
    reader = _Reader(label)
    result = reader.result
    result.project_name = root.get("name")
    result.project_description = _kid_text(root, "Description")
    result.origin = root.get("origin")
    from_cmo_desk = (result.origin or "").startswith("CMO Desk")

    reader.read_users(root)
    sets_el = _kid(root, "Sets")
    sets = _kids(sets_el, "Set") if sets_el is not None else []
    codebook = _kid(root, "CodeBook")
    reader.read_codes(_kid(codebook, "Codes") if codebook is not None else None, sets, ("targetGUID", "guid"))

    # Notes first: CMOC notes decide what a selection's NoteRef means.
    notes: dict[str, tuple[str, str, str | None]] = {}  # guid -> (name, text, creator)
    cmoc_notes: set[str] = set()
    consensus_notes: set[str] = set()  # come back as memos; their sets need no mention
    notes_el = _kid(root, "Notes")
    for note in _kids(notes_el, "Note") if notes_el is not None else []:
        guid = _guid(note)
        text = _kid_text(note, "PlainTextContent")
        if text is None:
            member = archive.lookup(note.get("plainTextPath"))
            text = _decode_text(archive.read(member))[0] if member else ""
        if guid and text.lstrip().startswith(CMOC_NOTE_HEADER):
            cmoc_notes.add(guid)
        elif guid and text.lstrip().startswith(CONSENSUS_NOTE_HEADER):
            consensus_notes.add(guid)
        description = _kid_text(note, "Description")
        if description and description.strip():
            text = description.strip() + ("\n\n" + text if text.strip() else "")
        if guid:
            notes[guid] = (note.get("name") or "", text, _guid(note, "creatingUser"))
    notes_used: set[str] = set(cmoc_notes)
    cmoc_excerpts: dict[str, list[str]] = {g: [] for g in cmoc_notes}
    cmoc_study: dict[str, str] = {}

    # Studies: in CMO Desk's own files, a case is a study.
    case_of_source: dict[str, tuple[str, str]] = {}  # source guid -> (case guid, case name)
    cases_el = _kid(root, "Cases")
    cases = _kids(cases_el, "Case") if cases_el is not None else []
    if from_cmo_desk:
        for case in cases:
            cguid = _guid(case) or new_id()
            for ref in _kids(case, "SourceRef"):
                sguid = _guid(ref, "targetGUID")
                if sguid and sguid not in case_of_source:
                    case_of_source[sguid] = (cguid, case.get("name") or "")
    elif cases:
        reader.skip(
            tr("{count} cases were not imported (CMO Desk groups documents by study instead).").format(
                count=len(cases)
            )
        )
    study_for_case: dict[str, str] = {}
    #: GUID in the file -> id of the record made from it (cases, sources, selections, CMOC notes).
    refs: dict[str, str] = {}

    def study_for(source_guid: str | None, name: str, creator: str | None) -> str:
        case = case_of_source.get(source_guid or "")
        if case and case[0] in study_for_case:
            return study_for_case[case[0]]
        sid = new_id()
        result.studies.append(Study(id=sid, label=(case[1] if case else "") or name, created_by=creator))
        if case:
            study_for_case[case[0]] = sid
            refs[case[0]] = sid
        return sid

    def add_document(
        source: ET.Element,
        text: str,
        media_type: str,
        original: bytes | None,
        page_starts: list[int] | None,
        extractor: str,
        warnings: list[str],
        selections: list[ET.Element],
    ) -> None:
        name = source.get("name") or tr("(unnamed source)")
        creator = reader.coder(_guid(source, "creatingUser"))
        sid = study_for(_guid(source), name, creator)
        did = new_id()
        refs[_guid(source) or did] = did
        if original is not None:
            sha = hashlib.sha256(original).hexdigest()
            result.originals[sha] = original
        else:
            sha = hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()
        result.documents.append(
            Document(
                id=did,
                study_id=sid,
                filename=name,
                media_type=media_type,
                sha256=sha,
                has_original=original is not None,
                text=text,
                page_starts=page_starts,
                extractor=extractor,
                warnings=warnings or None,
                needs_ocr=not text.strip() if media_type == _PDF_MEDIA_TYPE else None,
                created_by=creator,
            )
        )
        read = [s for s in (reader.read_selection(el) for el in selections) if s is not None]
        reading, utf16 = _choose_offset_unit(text, [(s.start, s.end, s.name) for s in read], from_cmo_desk)
        if reading.differing and reading.fitting * 2 < reading.differing:
            reader.skip(
                tr(
                    "The positions of {count} coded passages in \u201c{name}\u201d fit the text neither as "
                    "characters nor as UTF-16 code units; they were imported as characters and may mark the "
                    "wrong words: check them."
                ).format(count=reading.differing - reading.fitting, name=name)
            )
        for sel in read:
            if utf16 is not None:
                start, end = utf16.to_code_points(sel.start), utf16.to_code_points(sel.end)
                sel.start, sel.end = (start, end) if start is not None and end is not None else (-1, -1)
            if not (0 <= sel.start <= sel.end <= len(text)):
                reader.count(
                    tr("{count} text selections pointing outside their source's text were not imported.")
                )
                continue
            code_ids: list[str] = []
            role = None
            for g in sel.code_guids:
                if g in reader.role_codes:
                    role = reader.role_codes[g]
                elif g in reader.codes and reader.codes[g] not in code_ids:
                    code_ids.append(reader.codes[g])
                else:
                    reader.count(tr("{count} codings referring to codes not in the codebook were not imported."))
            memo_parts = [sel.description.strip()] if sel.description and sel.description.strip() else []
            eid = new_id()
            if sel.guid:
                refs[sel.guid] = eid
            for g in sel.note_guids:
                if g in cmoc_notes:
                    cmoc_excerpts[g].append(eid)
                    cmoc_study.setdefault(g, sid)
                elif g in notes:
                    notes_used.add(g)
                    if notes[g][1].strip():
                        memo_parts.append(notes[g][1].strip())
            before, after = context_around(text, sel.start, sel.end)
            result.excerpts.append(
                Excerpt(
                    id=eid,
                    document_id=did,
                    study_id=sid,
                    start=sel.start,
                    end=sel.end,
                    quote=text[sel.start : sel.end],
                    before=before,
                    after=after,
                    page=None,
                    role=role,
                    memo="\n\n".join(memo_parts) or None,
                    owner_id=reader.coder(sel.creating_user),
                    code_ids=tuple(code_ids),
                )
            )

    def text_of(el: ET.Element, what: str, name: str, selections: int) -> tuple[str | None, list[str]]:
        """Text of a TextSource-like element (inline or a file in sources/); None when missing."""
        inline = _kid_text(el, "PlainTextContent")
        if inline is not None:
            return inline, []
        path = el.get("plainTextPath")
        member = archive.lookup(path)
        if member is None:
            if selections:
                message = tr(
                    "{what} \u201c{name}\u201d and its {count} coded passages were not imported: its text "
                    "({path}) is not in the file."
                )
            else:
                message = tr("{what} \u201c{name}\u201d was not imported: its text ({path}) is not in the file.")
            reader.skip(message.format(what=what, name=name, count=selections, path=path or "?"))
            return None, []
        text, replaced = _decode_text(archive.read(member))
        warnings = [tr("Some characters of the text could not be decoded and were replaced.")] if replaced else []
        return text, warnings

    def report_unsupported(el: ET.Element, name: str) -> None:
        odd = [c for c in el if _local(c.tag).endswith("Selection") and _local(c.tag) != "PlainTextSelection"]
        if odd:
            reader.skip(
                tr("{count} selections of an unsupported kind ({kinds}) in \u201c{name}\u201d were not imported.").format(
                    count=len(odd), kinds=", ".join(sorted({_local(c.tag) for c in odd})), name=name
                )
            )

    def count_codings(el: ET.Element) -> int:
        return sum(1 for x in el.iter() if _local(x.tag) == "Coding")

    sources_el = _kid(root, "Sources")
    for source in list(sources_el) if sources_el is not None else []:
        kind = _local(source.tag)
        name = source.get("name") or "?"
        if _kids(source, "Coding"):
            reader.count(tr("{count} codings of whole sources were not imported (CMO Desk codes passages)."))
        if kind == "TextSource":
            report_unsupported(source, name)
            selections = _kids(source, "PlainTextSelection")
            text, warnings = text_of(source, tr("Text source"), name, len(selections))
            if text is None:
                continue
            add_document(
                source, text, _TEXT_MEDIA_TYPE, None, [0], "refi-qda", warnings, _kids(source, "PlainTextSelection")
            )
        elif kind == "PDFSource":
            rep = _kid(source, "Representation")
            member = archive.lookup(source.get("path"))
            original = archive.read_original(member) if member else None
            rep_guids: set[str] = set()
            if rep is not None:
                rep_guids = {g for g in (_guid(s) for s in _kids(rep, "PlainTextSelection")) if g}
            area = [s for s in _kids(source, "PDFSelection") if _guid(s) not in rep_guids]
            if area:
                reader.skip(
                    tr(
                        "{count} area selections in PDF \u201c{name}\u201d were not imported "
                        "(CMO Desk codes text, not page rectangles)."
                    ).format(count=len(area), name=name)
                )
            if rep is not None:
                report_unsupported(rep, name)
                selections = _kids(rep, "PlainTextSelection")
                text, warnings = text_of(rep, tr("PDF"), name, len(selections))
                if text is None:
                    continue
                add_document(
                    source,
                    text,
                    _PDF_MEDIA_TYPE,
                    original,
                    _pdf_pages_of(original, text) if not from_cmo_desk else None,
                    "refi-qda",
                    warnings,
                    selections,
                )
            elif original is not None:
                try:
                    text, starts = _extract_pdf_text(original)
                except ImportFailed as err:
                    reader.skip(
                        tr("PDF \u201c{name}\u201d was not imported: its text could not be read ({reason}).").format(
                            name=name, reason=err
                        )
                    )
                    continue
                add_document(source, text, _PDF_MEDIA_TYPE, original, starts, "pypdfium2", [], [])
            else:
                reader.skip(
                    tr("PDF \u201c{name}\u201d was not imported: neither the PDF nor its text is in the file.").format(
                        name=name
                    )
                )
        elif kind in ("PictureSource", "AudioSource", "VideoSource"):
            what = {
                "PictureSource": tr("Image"),
                "AudioSource": tr("Audio"),
                "VideoSource": tr("Video"),
            }[kind]
            n = count_codings(source)
            if n:
                message = tr(
                    "{what} \u201c{name}\u201d and its {count} codings were not imported (CMO Desk works on text)."
                )
            else:
                message = tr("{what} \u201c{name}\u201d was not imported (CMO Desk works on text).")
            reader.skip(message.format(what=what, name=name, count=n))
        elif kind:
            reader.skip(tr("Source \u201c{name}\u201d of an unknown kind ({kind}) was not imported.").format(
                name=name, kind=kind
            ))

    # CMOCs from CMO Desk's notes; their code sets give their codes.
    cmoc_codes: dict[str, list[str]] = {}
    other_sets: list[str] = []
    for s in sets:
        set_name = (s.get("name") or "").strip()
        if set_name.casefold().startswith(KIND_SET_PREFIX):
            continue
        members = [g for g in (_guid(m, "targetGUID") for m in _kids(s, "MemberNote")) if g in cmoc_notes]
        note_refs = {_guid(m, "targetGUID") for m in _kids(s, "MemberNote")}
        if note_refs & consensus_notes:
            continue
        if members:
            codes = [reader.codes[g] for g in (_guid(m, "targetGUID") for m in _kids(s, "MemberCode")) if g in reader.codes]
            for g in members:
                known = cmoc_codes.setdefault(g, [])
                known.extend(c for c in dict.fromkeys(codes) if c not in known)
        else:
            other_sets.append(set_name or "?")
    if other_sets:
        reader.skip(
            tr("{count} sets were not imported (CMO Desk has no sets): {names}.").format(
                count=len(other_sets), names=", ".join(sorted(other_sets))
            )
        )
    for order, guid in enumerate(g for g in notes if g in cmoc_notes):
        _, text, creator = notes[guid]
        slots = parse_cmoc_note(text)
        status = slots.pop("status", None)
        if status not in {s.value for s in CmocStatus}:
            status = CmocStatus.DRAFT.value
        refs[guid] = new_id()
        result.cmocs.append(
            Cmoc(
                id=refs[guid],
                study_id=cmoc_study.get(guid),
                status=status,
                sort_order=order,
                owner_id=reader.coder(creator),
                code_ids=tuple(cmoc_codes.get(guid, [])),
                excerpt_ids=tuple(cmoc_excerpts.get(guid, [])),
                **slots,
            )
        )
    extension = _read_extension(archive) if from_cmo_desk else None
    if extension is not None:
        refs.update(reader.codes)
        refs.update(reader.users)
        notes_used |= _apply_extension(result, extension, refs)
    for guid, (name, text, creator) in notes.items():
        if guid not in notes_used:
            result.memos.append(RefiMemo(id=new_id(), title=name, text=text, owner_id=reader.coder(creator)))

    for what, tag in (("Variables", "Variables"), ("Links", "Links"), ("Graphs", "Graphs")):
        el = _kid(root, tag)
        n = len(list(el)) if el is not None else 0
        if n and not (tag == "Variables" and extension is not None):
            reader.skip(
                {
                    "Variables": tr("{count} variables were not imported (CMO Desk has no variables)."),
                    "Links": tr("{count} links between objects were not imported."),
                    "Graphs": tr("{count} network diagrams were not imported."),
                }[what].format(count=n)
            )
    reader.flush_counts()
    return result


def _pdf_pages_of(original: bytes | None, text: str) -> list[int] | None:
    """Page starts of a PDF whose own text is exactly ``text``; None when they are not known.

    A representation written by another program is one long text: its page boundaries are
    known only when reading the PDF gives the very same text.
    """
    if original is None:
        return None
    try:
        extracted, starts = _extract_pdf_text(original)
    except ImportFailed:
        return None
    return starts if extracted == text else None


def _read_extension(archive: _Archive) -> dict | None:
    """``cmodesk/records.json`` of a file CMO Desk wrote, or None when absent or unreadable."""
    import json

    name = archive.by_key.get(EXTENSION_ENTRY.casefold())
    if name is None:
        return None
    try:
        data = json.loads(archive.read(name).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or data.get("format") != EXTENSION_FORMAT:
        return None
    return data


def _apply_extension(result: RefiImport, ext: dict, refs: dict[str, str]) -> set[str]:
    """Put back what CMO Desk's export carried beside project.qde; returns the note GUIDs used.

    ``refs`` maps the file's GUIDs to the ids of records this import made. A value of the wrong
    type is left out rather than guessed.
    """
    import dataclasses

    def ref(guid: object) -> str | None:
        return refs.get(guid) if isinstance(guid, str) else None

    def strs(values: object) -> list[str]:
        return [v for v in values if isinstance(v, str)] if isinstance(values, list) else []

    def ints(values: object) -> list[int] | None:
        if not isinstance(values, list) or not all(isinstance(v, int) for v in values):
            return None
        return list(values)

    def items(key: str) -> list[dict]:
        value = ext.get(key)
        return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []

    def mapping(value: object) -> dict:
        return value if isinstance(value, dict) else {}

    def typed(fields: dict) -> dict:
        """Only values of the type the record stores: a wrong one is left out, not guessed."""
        def fits(key: str, value: object) -> bool:
            if key == "authors":
                return isinstance(value, list) and all(isinstance(a, str) for a in value)
            if key in ("year", "sort_order"):
                return isinstance(value, int) and not isinstance(value, bool)
            if key == "extra":
                return isinstance(value, dict)
            return isinstance(value, str)
        return {k: v for k, v in fields.items() if fits(k, v)}

    def own_id(entry: dict) -> str:
        value = entry.get("id")
        return value if isinstance(value, str) and value else new_id()

    if isinstance(ext.get("template"), dict):
        result.template = ext["template"]
    coders = mapping(ext.get("coders"))
    result.coders = [
        dataclasses.replace(c, **{k: v for k, v in mapping(coders.get(g)).items()
                                  if k in ("initials", "role", "color") and isinstance(v, str)})
        if (g := next((g for g, cid in refs.items() if cid == c.id and g in coders), None)) else c
        for c in result.coders
    ]
    # Studies: citation fields back on the studies made from cases; the rest made anew.
    studies = {s.id: s for s in result.studies}
    study_fields = {f.name for f in dataclasses.fields(Study)} - {"id", "deleted"}
    for entry in items("studies"):
        if not isinstance(entry.get("guid"), str):
            continue
        fields = typed({k: v for k, v in mapping(entry.get("fields")).items() if k in study_fields})
        sid = ref(entry["guid"])
        if sid is None:
            sid = own_id(entry)
            refs[entry["guid"]] = sid
            studies.setdefault(sid, Study(id=sid))
        if sid not in studies:
            continue  # the GUID belongs to something else in the file
        try:
            studies[sid] = dataclasses.replace(studies[sid], **fields)
        except TypeError:
            continue
    for entry in items("studies"):
        if (sid := ref(entry.get("guid"))) and ref(entry.get("merged_into")) and sid in studies:
            studies[sid] = dataclasses.replace(studies[sid], merged_into=ref(entry["merged_into"]))
    result.studies = list(studies.values())
    # Page boundaries and pages.
    documents = mapping(ext.get("documents"))
    by_doc = {ref(g): v for g, v in documents.items() if ref(g) and isinstance(v, dict)}
    result.documents = [
        dataclasses.replace(d, page_starts=ints(by_doc[d.id].get("page_starts")),
                            extractor=typed({"x": by_doc[d.id].get("extractor")}).get("x")
                            or d.extractor,
                            needs_ocr=by_doc[d.id].get("needs_ocr")
                            if isinstance(by_doc[d.id].get("needs_ocr"), bool) else d.needs_ocr,
                            warnings=strs(by_doc[d.id].get("warnings")) or d.warnings)
        if d.id in by_doc else d
        for d in result.documents
    ]
    pages = mapping(ext.get("excerpts"))
    by_excerpt = {ref(g): v.get("page") for g, v in pages.items() if ref(g) and isinstance(v, dict)}
    result.excerpts = [
        dataclasses.replace(e, page=by_excerpt[e.id])
        if isinstance(by_excerpt.get(e.id), int) else e
        for e in result.excerpts
    ]
    # Programme theories, then the CMOCs' links to them.
    for entry in items("theories"):
        if isinstance(entry.get("guid"), str):
            refs[entry["guid"]] = own_id(entry)
    for entry in items("theories"):
        if isinstance(entry.get("guid"), str):
            result.theories.append(Theory(
                id=refs[entry["guid"]],
                **{k: entry.get(k) for k in ("label", "statement", "version", "status")
                   if isinstance(entry.get(k), str)},
                previous_id=ref(entry.get("previous")),
            ))
    cmocs = mapping(ext.get("cmocs"))
    by_cmoc = {ref(g): v for g, v in cmocs.items() if ref(g) and isinstance(v, dict)}
    updated = []
    for c in result.cmocs:
        entry = by_cmoc.get(c.id)
        if entry is None:
            updated.append(c)
            continue
        pairs = entry.get("theories") if isinstance(entry.get("theories"), list) else []
        links = tuple(
            (ref(pair[0]), pair[1] if isinstance(pair[1], str) else None)
            for pair in pairs
            if isinstance(pair, list) and len(pair) == 2 and ref(pair[0])
        )
        extra: dict = {"theories": links}
        if isinstance(entry.get("sort_order"), int):
            extra["sort_order"] = entry["sort_order"]
        if isinstance(entry.get("set_aside_reason"), str):
            extra["set_aside_reason"] = entry["set_aside_reason"]
        if c.study_id is None and ref(entry.get("study")):
            extra["study_id"] = ref(entry["study"])
        updated.append(dataclasses.replace(c, **extra))
    result.cmocs = updated
    # Consensus CMOCs with what they were built from; their notes are not memos.
    used: set[str] = set()
    consensus_fields = {f.name for f in dataclasses.fields(Consensus)}
    for entry in items("consensus"):
        fields = typed({k: v for k, v in mapping(entry.get("fields")).items()
                        if k in consensus_fields and k not in (
                            "id", "deleted", "study_id", "reconciled_by", "source_ids", "code_ids",
                            "excerpt_ids")})
        result.consensus.append(Consensus(
            id=own_id(entry),
            study_id=ref(entry.get("study")),
            reconciled_by=ref(entry.get("reconciled_by")),
            source_ids=tuple(x for x in map(ref, strs(entry.get("sources"))) if x),
            code_ids=tuple(x for x in map(ref, strs(entry.get("codes"))) if x),
            excerpt_ids=tuple(x for x in map(ref, strs(entry.get("excerpts"))) if x),
            **fields,
        ))
        if isinstance(entry.get("note"), str):
            used.add(entry["note"])
    for entry in items("form_values"):
        if ref(entry.get("study")) and isinstance(entry.get("key"), str):
            coder = entry.get("coder")
            if coder is not None and ref(coder) is None:
                continue  # a coder's value must never come back as the agreed one
            result.form_values.append(FormValue(
                id=new_id(), study_id=ref(entry["study"]),
                coder_id=ref(coder) if coder is not None else None,
                key=entry["key"], value=entry.get("value"),
            ))
    for entry in items("assignments"):
        if ref(entry.get("study")) and ref(entry.get("coder")):
            result.assignments.append(Assignment(
                id=new_id(), study_id=ref(entry["study"]), coder_id=ref(entry["coder"]),
                status=entry.get("status") if isinstance(entry.get("status"), str) else None,
            ))
    return used


def parse_cmoc_note(text: str) -> dict[str, str]:
    """The slots of a note written by CMO Desk's REFI export (labelled lines, indented continuations)."""
    slots: dict[str, str] = {}
    current: str | None = None
    for line in text.replace("\r\n", "\n").split("\n")[1:]:
        match = _CMOC_LABEL_RE.match(line)
        if match:
            current = _CMOC_LABELS[match.group(1).casefold()]
            slots[current] = match.group(2)
        elif current is not None:
            slots[current] += "\n" + (line[2:] if line.startswith("  ") else line)
    return {k: v.strip() for k, v in slots.items() if v.strip()}
