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
- Selection positions: CMO Desk writes Unicode code points, as the standard says. Other programs
  may count UTF-16 code units (NVivo) and a CRLF line end as one character (ATLAS.ti, MAXQDA) or
  two (NVivo); the readings differ only after a character outside the Basic Multilingual Plane or
  a CRLF, and the one whose selections agree with their names and word boundaries is used
  (``positions`` has the evidence). Documents keep LF line ends. Passages that fit no reading are
  imported as code points and listed in ``skipped`` for the user to check.

Accepted deviations from the standard: ``Project.qde`` (or any single ``.qde``) at the top of the
archive, ``sources/`` in any case, empty ``<Sets/>`` and similar empty containers, a ``.zip`` name,
no namespace on the XML. Refused: not a zip, no ``.qde`` or several, not REFI XML, any DOCTYPE
(entity definitions can exhaust memory), unsafe or oversized archive members.
"""

from cmo_desk.importers.refi.archive import MAX_TEXT_BYTES, sniff_refi
from cmo_desk.importers.refi.codes import MAX_CODE_DEPTH
from cmo_desk.importers.refi.extension import apply_extension, read_extension
from cmo_desk.importers.refi.model import (
    CMOC_NOTE_HEADER,
    CONSENSUS_NOTE_HEADER,
    EXTENSION_ENTRY,
    EXTENSION_FORMAT,
    KIND_SET_PREFIX,
    ROLE_GROUP_NAME,
    RefiImport,
    RefiMemo,
)
from cmo_desk.importers.refi.notes import parse_cmoc_note
from cmo_desk.importers.refi.project import read_qdc, read_qdpx
from cmo_desk.importers.refi.source_text import pdf_pages_of
from cmo_desk.importers.refi.xmltree import MAX_XML_BYTES, parse_xml

__all__ = [
    "CMOC_NOTE_HEADER",
    "CONSENSUS_NOTE_HEADER",
    "EXTENSION_ENTRY",
    "EXTENSION_FORMAT",
    "KIND_SET_PREFIX",
    "MAX_CODE_DEPTH",
    "MAX_TEXT_BYTES",
    "MAX_XML_BYTES",
    "ROLE_GROUP_NAME",
    "RefiImport",
    "RefiMemo",
    "apply_extension",
    "parse_cmoc_note",
    "parse_xml",
    "pdf_pages_of",
    "read_extension",
    "read_qdc",
    "read_qdpx",
    "sniff_refi",
]
