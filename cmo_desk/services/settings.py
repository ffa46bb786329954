"""The user's settings on this laptop: coder name, language, recent projects."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cmo_desk.store.site import config_dir, write_json_atomic

MAX_RECENT = 10


@dataclass
class Settings:
    coder_name: str | None = None
    language: str | None = None
    recent: list[str] = field(default_factory=list)
    show_other_coders: bool = False
    path: Path | None = None

    @classmethod
    def load(cls) -> Settings:
        path = config_dir() / "settings.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            s = cls(
                coder_name=data.get("coder_name") or None,
                language=data.get("language") or None,
                recent=[str(p) for p in data.get("recent", []) if isinstance(p, str)],
                show_other_coders=bool(data.get("show_other_coders", False)),
            )
        except (OSError, ValueError, AttributeError):
            s = cls()
        s.path = path
        return s

    def save(self) -> None:
        data = asdict(self)
        data.pop("path", None)
        write_json_atomic(self.path or config_dir() / "settings.json", data)

    def add_recent(self, project: str | Path) -> None:
        p = str(Path(project).resolve())
        self.recent = [p, *[r for r in self.recent if r != p]][:MAX_RECENT]
