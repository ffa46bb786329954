"""Creating projects (an empty one with the starter codebook, or from a template), and what a
project holds at a glance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cmo_desk.domain.resources import resource_path
from cmo_desk.services.coding import seed_codebook
from cmo_desk.services.session import Session, resolve_coder_name


def starter_codebook() -> dict[str, Any]:
    with open(resource_path("codebook", "starter.json"), encoding="utf-8") as fh:
        codebook: dict[str, Any] = json.load(fh)
    return codebook


def new_project(
    path: str | Path,
    coder: str | None = None,
    title: str | None = None,
    template: dict[str, Any] | None = None,
    codebook: bool = True,
) -> Session:
    session = Session.create(path, coder=coder, title=title, template=template)
    if codebook:
        seed_codebook(session, starter_codebook())
    return session


def project_info(path: str | Path, coder: str | None = None) -> dict[str, Any]:
    """What a project holds (counts, coders, conflicts), read without writing to it. A file of
    the current layout, or of an older one with the same tables, is read with sqlite3 alone;
    an older one through an opened project."""
    from cmo_desk.store.fileinfo import read_info

    resolve_coder_name(coder)  # a bad --coder is refused here as everywhere
    info = read_info(path)
    if info is None:
        with Session.open(path, coder=coder, read_only=True) as session:
            info = session.store.info()
    return info


def needs_upgrade(path: str | Path) -> bool:
    """Whether opening ``path`` first rewrites it in this version's layout (once; up to a minute
    for a large project). False when that cannot be told at once: opening then waits for a file
    another program holds, or says what is wrong."""
    from cmo_desk.domain.errors import CmoDeskError
    from cmo_desk.store.fileinfo import HEAD_REVISION, KNOWN_REVISIONS, inspect_file

    try:
        meta = inspect_file(Path(path), wait=0)
    except CmoDeskError:
        return False
    revision = meta.get("revision")
    return revision in KNOWN_REVISIONS and revision != HEAD_REVISION
