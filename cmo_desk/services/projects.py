"""Creating projects: an empty one with the starter codebook, or from a template."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cmo_desk.domain.resources import resource_path
from cmo_desk.services.coding import seed_codebook
from cmo_desk.services.session import Session


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
