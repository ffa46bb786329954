"""Identifiers: random UUIDs for records, deterministic ones for links and people.

Every id is a UUID string. The typed names below (``StudyId``, ``CoderId``, ...) cost nothing at
run time and let a type checker tell a study's id from a coder's; ``EntityType`` names the kinds of
record in ``domain.schema.ENTITIES``, and ``as_entity_type`` checks a name read from data against
them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Literal, NewType, TypeGuard, get_args

from cmo_desk.domain.errors import ValidationError

#: Namespace for ids derived from content (links, coders by name, form values).
NAMESPACE = uuid.UUID("6f1b1c9e-6a0e-4d3f-9a52-3c1d2b7e8a10")

StudyId = NewType("StudyId", str)
DocumentId = NewType("DocumentId", str)
ExcerptId = NewType("ExcerptId", str)
CodeId = NewType("CodeId", str)
CmocId = NewType("CmocId", str)
CoderId = NewType("CoderId", str)

#: The kinds of record, as ``domain.schema.ENTITIES`` names them (records, then links).
EntityType = Literal[
    "project",
    "coder",
    "study",
    "document",
    "excerpt",
    "code",
    "cmoc",
    "consensus",
    "theory",
    "form_value",
    "assignment",
    "duplicate_decision",
    "excerpt_code",
    "cmoc_code",
    "cmoc_excerpt",
    "cmoc_theory",
    "consensus_code",
    "consensus_source",
    "consensus_excerpt",
    "review_cmoc",
    "review_link",
    "theory_version",
]

_ENTITY_TYPES: frozenset[str] = frozenset(get_args(EntityType))


def is_entity_type(name: str) -> TypeGuard[EntityType]:
    """``name`` (read from a file, a conflict row, a command line) names a kind of record."""
    return name in _ENTITY_TYPES


def as_entity_type(name: str) -> EntityType:
    """``name`` as a kind of record, checked once where it comes in from untyped data."""
    if not is_entity_type(name):
        raise ValidationError(f"Unknown record type '{name}'.")
    return name


def new_id() -> str:
    return str(uuid.uuid4())


def link_id(entity_type: str, *parts: str) -> str:
    """The id of a link row: the same for every coder who makes the same link."""
    return str(uuid.uuid5(NAMESPACE, entity_type + "\x1f" + "\x1f".join(parts)))


def coder_id(name: str) -> CoderId:
    """A coder is a person: the same name on two laptops is the same coder."""
    return CoderId(str(uuid.uuid5(NAMESPACE, "coder\x1f" + " ".join(name.split()).casefold())))


def merged_target(merged_into: Mapping[str, str | None], record_id: str) -> str:
    """The record a study (or code) was merged into, following a chain of merges to its end
    and stopping at a cycle (two laptops can merge A into B and B into A)."""
    seen: set[str] = set()
    rid = record_id
    while rid in merged_into and rid not in seen:
        seen.add(rid)
        rid = merged_into[rid] or rid
    return rid
