"""Where shipped files live, in a source checkout, an installed wheel or a frozen build."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path


@cache
def _roots() -> tuple[Path, ...]:
    here = Path(__file__).resolve().parent.parent  # cmo_desk/
    roots = []
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        roots.append(Path(frozen))
    roots.append(here.parent)  # source checkout / editable install: resources/ beside cmo_desk/
    roots.append(Path(sys.prefix) / "share" / "cmo-desk")  # a wheel's data files
    return tuple(roots)


def resource_path(*parts: str) -> Path:
    """Path of a file under ``resources/`` (or ``schemas/`` when the first part is 'schemas')."""
    top = parts[0] if parts and parts[0] == "schemas" else "resources"
    rest = parts[1:] if top == "schemas" else parts
    for root in _roots():
        candidate = root.joinpath(top, *rest)
        if candidate.exists():
            return candidate
    return _roots()[-1].joinpath(top, *rest)


def schema_path(*parts: str) -> Path:
    return resource_path("schemas", *parts)
