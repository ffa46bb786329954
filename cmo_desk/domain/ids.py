"""Identifiers: random UUIDs for records, deterministic ones for links and people."""

from __future__ import annotations

import uuid

#: Namespace for ids derived from content (links, coders by name, form values).
NAMESPACE = uuid.UUID("6f1b1c9e-6a0e-4d3f-9a52-3c1d2b7e8a10")


def new_id() -> str:
    return str(uuid.uuid4())


def link_id(entity_type: str, *parts: str) -> str:
    """The id of a link row: the same for every coder who makes the same link."""
    return str(uuid.uuid5(NAMESPACE, entity_type + "\x1f" + "\x1f".join(parts)))


def coder_id(name: str) -> str:
    """A coder is a person: the same name on two laptops is the same coder."""
    return str(uuid.uuid5(NAMESPACE, "coder\x1f" + " ".join(name.split()).casefold()))
