"""A whole project as plain records: what exporters read and what bulk importers produce."""

from __future__ import annotations

from collections.abc import Callable
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
    Project,
    ReviewCmoc,
    ReviewLink,
    Study,
    Theory,
)


@dataclass(frozen=True)
class ProjectSnapshot:
    """Every live (not deleted) record of a project, in a stable order.

    ``get_blob(sha256)`` returns a document's original bytes, or None when they were not kept
    (a bundle, or a text-only import).
    """

    project: Project
    coders: tuple[Coder, ...] = ()
    studies: tuple[Study, ...] = ()
    documents: tuple[Document, ...] = ()
    excerpts: tuple[Excerpt, ...] = ()
    codes: tuple[Code, ...] = ()
    cmocs: tuple[Cmoc, ...] = ()
    consensus: tuple[Consensus, ...] = ()
    theories: tuple[Theory, ...] = ()
    form_values: tuple[FormValue, ...] = ()
    assignments: tuple[Assignment, ...] = ()
    #: The synthesis: review CMOCs of the programme theories, and the study (or consensus)
    #: CMOCs linked to them.
    review_cmocs: tuple[ReviewCmoc, ...] = ()
    review_links: tuple[ReviewLink, ...] = ()
    get_blob: Callable[[str], bytes | None] = field(default=lambda _sha: None, compare=False)

    def coder_name(self, coder_id: str | None) -> str:
        for c in self.coders:
            if c.id == coder_id:
                return c.name or ""
        return ""

    def study(self, study_id: str | None) -> Study | None:
        for s in self.studies:
            if s.id == study_id:
                return s
        return None
