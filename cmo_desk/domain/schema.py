"""The entity types of a project and their fields.

This registry is the single description of what the change log may hold. The store builds its
projection from it, the merge engine reads it to know which fields are immutable, and the dump
walks it in a fixed order so that two projects with the same content print the same bytes.

Every entity has an ``exists`` pseudo-field in the change log (create / delete / restore); it is
not listed here. Link entities have deterministic ids (see ``ids.link_id``) so that two coders who
make the same link converge on one row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cmo_desk.domain.ids import EntityType

FieldKind = Literal["text", "int", "float", "bool", "json", "ref"]


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: FieldKind = "text"
    #: Fields fixed at creation (owner, the ends of a link): later writes never change them.
    immutable: bool = False
    #: For ``ref`` fields: the entity type referred to.
    ref: str | None = None


@dataclass(frozen=True)
class EntitySpec:
    name: str
    fields: tuple[FieldSpec, ...]
    #: Link entities: their id is derived from these fields (see ids.link_id).
    key: tuple[str, ...] = ()

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")

    @property
    def is_link(self) -> bool:
        return bool(self.key)


def _t(name: str, **kw: object) -> FieldSpec:
    return FieldSpec(name, "text", **kw)  # type: ignore[arg-type]


def _ref(name: str, ref: str, immutable: bool = False) -> FieldSpec:
    return FieldSpec(name, "ref", immutable=immutable, ref=ref)


CMOC_SLOTS: tuple[str, ...] = (
    "intervention",
    "actor",
    "context",
    "mechanism_resource",
    "mechanism_reasoning",
    "outcome",
    "outcome_direction",
    "outcome_intended",
    "statement",
    "confidence",
)

_CMOC_SLOT_FIELDS = tuple(_t(s) for s in CMOC_SLOTS)

#: The slots of a review-level CMOC (stated for the review, across studies).
REVIEW_CMOC_SLOTS: tuple[str, ...] = (
    "context",
    "mechanism_resource",
    "mechanism_reasoning",
    "outcome",
    "outcome_direction",
    "statement",
)

ENTITIES: dict[str, EntitySpec] = {
    e.name: e
    for e in (
        EntitySpec(
            "project",
            (
                _t("title"),
                _t("description"),
                FieldSpec("template", "json"),
            ),
        ),
        EntitySpec(
            "coder",
            (_t("name", immutable=True), _t("initials"), _t("role"), _t("color")),
        ),
        EntitySpec(
            "study",
            (
                _t("label"),
                FieldSpec("authors", "json"),
                FieldSpec("year", "int"),
                _t("title"),
                _t("journal"),
                _t("volume"),
                _t("issue"),
                _t("pages"),
                _t("doi"),
                _t("pmid"),
                _t("url"),
                _t("abstract"),
                _t("reference_type"),
                FieldSpec("extra", "json"),
                _ref("created_by", "coder", immutable=True),
                _ref("merged_into", "study"),
            ),
        ),
        EntitySpec(
            "document",
            (
                _ref("study_id", "study"),
                _t("filename"),
                _t("media_type"),
                _t("sha256", immutable=True),
                FieldSpec("has_original", "bool"),
                _t("text", immutable=True),
                FieldSpec("page_starts", "json", immutable=True),
                _t("extractor"),
                FieldSpec("warnings", "json"),
                FieldSpec("needs_ocr", "bool"),
                _ref("created_by", "coder", immutable=True),
                # Recognised (OCR) text: the engine's confidence for each page, 0-1.
                FieldSpec("ocr_confidence", "json", immutable=True),
            ),
        ),
        EntitySpec(
            "excerpt",
            (
                _ref("document_id", "document", immutable=True),
                _ref("study_id", "study"),
                FieldSpec("start", "int"),
                FieldSpec("end", "int"),
                _t("quote"),
                _t("before"),
                _t("after"),
                FieldSpec("page", "int"),
                _t("role"),
                _t("memo"),
                _ref("owner_id", "coder", immutable=True),
            ),
        ),
        EntitySpec(
            "code",
            (
                _t("name"),
                _t("kind"),
                _ref("parent_id", "code"),
                _t("definition"),
                _t("include_notes"),
                _t("exclude_notes"),
                _t("color"),
                FieldSpec("sort_order", "int"),
                _ref("merged_into", "code"),
                _ref("created_by", "coder", immutable=True),
            ),
        ),
        EntitySpec(
            "cmoc",
            (
                _ref("study_id", "study"),
                *_CMOC_SLOT_FIELDS,
                _t("status"),
                _t("memo"),
                _t("set_aside_reason"),
                FieldSpec("sort_order", "int"),
                _ref("owner_id", "coder", immutable=True),
            ),
        ),
        EntitySpec(
            "consensus",
            (
                _ref("study_id", "study"),
                *_CMOC_SLOT_FIELDS,
                _t("resolution"),
                _t("note"),
                _ref("reconciled_by", "coder"),
                FieldSpec("sort_order", "int"),
            ),
        ),
        EntitySpec(
            "theory",
            (
                _t("label"),
                _t("statement"),
                _t("version"),
                _t("status"),
                _ref("previous_id", "theory"),
            ),
        ),
        EntitySpec(
            "form_value",
            (
                _ref("study_id", "study", immutable=True),
                _ref("coder_id", "coder", immutable=True),
                _t("key", immutable=True),
                FieldSpec("value", "json"),
            ),
            key=("study_id", "coder_id", "key"),
        ),
        EntitySpec(
            "assignment",
            (
                _ref("study_id", "study", immutable=True),
                _ref("coder_id", "coder", immutable=True),
                _t("status"),
            ),
            key=("study_id", "coder_id"),
        ),
        EntitySpec(
            # A coordinator's answer to a proposed duplicate (study or code), kept as data so
            # that it merges; "rejected" stops the pair being proposed again.
            "duplicate_decision",
            (
                _t("kind", immutable=True),
                _t("kept_id", immutable=True),
                _t("duplicate_id", immutable=True),
                _t("decision"),
            ),
            key=("kind", "kept_id", "duplicate_id"),
        ),
        EntitySpec(
            "excerpt_code",
            (_ref("excerpt_id", "excerpt", True), _ref("code_id", "code", True)),
            key=("excerpt_id", "code_id"),
        ),
        EntitySpec(
            "cmoc_code",
            (_ref("cmoc_id", "cmoc", True), _ref("code_id", "code", True)),
            key=("cmoc_id", "code_id"),
        ),
        EntitySpec(
            "cmoc_excerpt",
            (_ref("cmoc_id", "cmoc", True), _ref("excerpt_id", "excerpt", True), _t("slot")),
            key=("cmoc_id", "excerpt_id"),
        ),
        EntitySpec(
            "cmoc_theory",
            (_ref("cmoc_id", "cmoc", True), _ref("theory_id", "theory", True), _t("relation")),
            key=("cmoc_id", "theory_id"),
        ),
        EntitySpec(
            "consensus_code",
            (_ref("consensus_id", "consensus", True), _ref("code_id", "code", True)),
            key=("consensus_id", "code_id"),
        ),
        EntitySpec(
            "consensus_source",
            (_ref("consensus_id", "consensus", True), _ref("cmoc_id", "cmoc", True)),
            key=("consensus_id", "cmoc_id"),
        ),
        EntitySpec(
            "consensus_excerpt",
            (_ref("consensus_id", "consensus", True), _ref("excerpt_id", "excerpt", True)),
            key=("consensus_id", "excerpt_id"),
        ),
        # Synthesis across studies (docs/synthesis.md): review-level CMOCs of a programme
        # theory, the study or consensus CMOCs behind them, and the theory's versions.
        EntitySpec(
            "review_cmoc",
            (
                _ref("theory_id", "theory"),
                _t("label"),
                *(_t(s) for s in REVIEW_CMOC_SLOTS),
                _t("confidence"),
                FieldSpec("assessment", "json"),
                _t("confidence_basis"),
                FieldSpec("sort_order", "int"),
                _ref("created_by", "coder", immutable=True),
            ),
        ),
        EntitySpec(
            # A study CMOC (or consensus CMOC) behind a review CMOC, and how it bears on it.
            "review_link",
            (
                _ref("review_cmoc_id", "review_cmoc", True),
                _t("source_id", immutable=True),
                _t("source_kind", immutable=True),
                _t("relation"),
                _t("note"),
            ),
            key=("review_cmoc_id", "source_id"),
        ),
        EntitySpec(
            # One version of a programme theory: keyed by theory and number, so two laptops
            # that both record "version 2" meet as a conflict instead of two second versions.
            "theory_version",
            (
                _ref("theory_id", "theory", True),
                FieldSpec("number", "int", immutable=True),
                _t("statement"),
                FieldSpec("members", "json"),
                FieldSpec("added", "json"),
                FieldSpec("changed", "json"),
                FieldSpec("dropped", "json"),
                _t("reason"),
                _ref("author_id", "coder"),
                _t("recorded_at"),
            ),
            key=("theory_id", "number"),
        ),
    )
}

#: The order in which the dump lists entity types (parents before children).
ENTITY_ORDER: tuple[str, ...] = tuple(ENTITIES)

EXISTS = "exists"


#: Link types that apply a code, with the column naming their owner and the owner's type.
CODE_LINKS: tuple[tuple[EntityType, str, EntityType], ...] = (
    ("excerpt_code", "excerpt_id", "excerpt"),
    ("cmoc_code", "cmoc_id", "cmoc"),
    ("consensus_code", "consensus_id", "consensus"),
)
