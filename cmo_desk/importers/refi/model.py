"""What a REFI-QDA import makes (``RefiImport``), and the state of one reading: the file's GUIDs
and the ids they became, and the lines telling the user what had no place."""

from __future__ import annotations

from dataclasses import dataclass, field

from cmo_desk.domain.records import (
    Assignment,
    Cmoc,
    Code,
    Coder,
    Consensus,
    Document,
    Excerpt,
    FormValue,
    Study,
    Theory,
)

ROLE_GROUP_NAME = "cmo role"
KIND_SET_PREFIX = "cmo kind:"
CMOC_NOTE_HEADER = "CMOC (CMO Desk)"
CONSENSUS_NOTE_HEADER = "Consensus CMOC (CMO Desk)"
#: What CMO Desk's export carries beside project.qde (must match exporters/refi.py).
EXTENSION_ENTRY = "cmodesk/records.json"
EXTENSION_FORMAT = "cmo-desk-refi-extension"
PDF_MEDIA_TYPE = "application/pdf"
TEXT_MEDIA_TYPE = "text/plain"


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


class RefiReader:
    """One file being read: what it has made so far and what it has had to leave out."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.result = RefiImport()
        self.users: dict[str, str] = {}  # REFI user guid -> coder id
        self.codes: dict[str, str] = {}  # REFI code guid -> code id
        self.role_codes: dict[str, str] = {}  # REFI code guid -> role
        #: GUID in the file -> id of the record made from it (cases, sources, selections, CMOC notes).
        self.refs: dict[str, str] = {}
        self.skipped_counts: dict[str, int] = {}

    def skip(self, line: str) -> None:
        self.result.skipped.append(line)

    def count(self, message: str) -> None:
        self.skipped_counts[message] = self.skipped_counts.get(message, 0) + 1

    def flush_counts(self) -> None:
        for message, n in self.skipped_counts.items():
            self.skip(message.format(count=n))
        self.skipped_counts.clear()

    def coder(self, guid: str | None) -> str | None:
        return self.users.get(guid) if guid else None
