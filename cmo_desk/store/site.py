"""This installation's identity and clock, kept in the user's config folder, never in a project.

A project file copied to another laptop must not make two laptops share a site id, so the id lives
beside the user's settings (``XDG_CONFIG_HOME`` elsewhere means another laptop).
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_config_dir

from cmo_desk.domain.atomic import replace_durably

APP_NAME = "cmo-desk"


def config_dir() -> Path:
    override = os.environ.get("CMO_DESK_CONFIG_DIR")
    return Path(override) if override else Path(user_config_dir(APP_NAME, appauthor=False))


def write_json_atomic(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=1)
        replace_durably(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


@dataclass
class Site:
    site_id: str
    wall: int = 0
    counter: int = 0
    path: Path | None = None

    @classmethod
    def load(cls, directory: Path | None = None) -> Site:
        path = (directory or config_dir()) / "site.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            site = cls(str(uuid.UUID(data["site_id"])), int(data.get("wall", 0)),
                       int(data.get("counter", 0)), path)
        except (OSError, ValueError, KeyError, TypeError):
            site = cls(str(uuid.uuid4()), 0, 0, path)
            try:
                site.save()
            except OSError:
                pass  # a read-only home still lets the user work; the id lives for this run
        return site

    def save(self) -> None:
        if self.path is None:
            return
        write_json_atomic(self.path, {"site_id": self.site_id, "wall": self.wall,
                                      "counter": self.counter})
