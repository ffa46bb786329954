"""An open project and the coder working on it: the object every use case receives."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmo_desk.domain import records as rec
from cmo_desk.domain.errors import ValidationError
from cmo_desk.domain.ids import CoderId
from cmo_desk.domain.ids import coder_id as coder_id_for
from cmo_desk.domain.templates import default_template, validate_template
from cmo_desk.domain.initials import initials_of

if TYPE_CHECKING:  # the store (and SQLAlchemy) loads when a project is opened, not on import
    from cmo_desk.store.project_store import ProjectStore, UnitOfWork

CODER_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b",
                "#e377c2")


def create_coder(uow: UnitOfWork, name: str | None, known: int, *, coder_id: str | None = None,
                 initials: str | None = None, color: str | None = None,
                 role: str | None = None) -> str:
    """A new coder's record, however the project first meets them: initials by the one rule of
    ``initials_of`` and a colour of the palette unless given. ``known`` is how many coders the
    project has had so far (deleted ones too), so each new coder takes the next colour. A record
    read from another program may come without a name; then ``coder_id`` must be given."""
    values: dict[str, Any] = {"name": name, "initials": initials or initials_of(name),
                              "color": color or CODER_COLORS[known % len(CODER_COLORS)]}
    if role:
        values["role"] = role
    return uow.create("coder", values, id=coder_id or coder_id_for(name or ""))


@contextmanager
def written_by(uow: UnitOfWork, coder_id: str) -> Iterator[None]:
    """Changes made inside are the named coder's in the change log (an imported coder's CMOCs are
    theirs, not the importer's); the unit of work's own coder comes back afterwards."""
    before, uow.coder_id = uow.coder_id, coder_id
    try:
        yield
    finally:
        uow.coder_id = before


def known_coders(store: ProjectStore) -> int:
    """How many coders the project has had, deleted ones too: where the next colour starts."""
    return len(store.list("coder", include_deleted=True))


def resolve_coder_name(name: str | None) -> str | None:
    name = name or os.environ.get("CMO_DESK_CODER")
    if name is None:
        return None
    name = " ".join(name.split())
    if not name:
        raise ValidationError("The coder name is empty. Give a name with --coder NAME.")
    if len(name) > 80:
        raise ValidationError("The coder name is longer than 80 characters. Use a shorter name.")
    return name


class Session:
    """A project opened by one coder. Writes are attributed to that coder."""

    def __init__(self, store: ProjectStore, coder_name: str | None) -> None:
        self.store = store
        self.coder_name = coder_name
        self.coder_id: CoderId | None = coder_id_for(coder_name) if coder_name else None
        #: Called with every Changed after a successful write (the desk refreshes from it).
        self.listeners: list[Callable[[rec.Changed], None]] = []

    # -- lifecycle --

    @classmethod
    def open(cls, path: str | Path, coder: str | None = None, read_only: bool = False) -> Session:
        from cmo_desk.store.project_store import ProjectStore

        name = resolve_coder_name(coder)
        store = ProjectStore.open(path, read_only=read_only, coder=name)
        return cls(store, name)

    @classmethod
    def create(
        cls,
        path: str | Path,
        coder: str | None = None,
        title: str | None = None,
        template: dict[str, Any] | None = None,
        project_id: str | None = None,
    ) -> Session:
        from cmo_desk.store.project_store import ProjectStore

        name = resolve_coder_name(coder)
        template = validate_template(template) if template is not None else default_template()
        store = ProjectStore.create(
            path, title=title or Path(path).stem, template=template,
            coder_id=coder_id_for(name) if name else None, project_id=project_id)
        session = cls(store, name)
        if name:
            session.ensure_coder()
        return session

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def path(self) -> Path:
        return self.store.path

    @property
    def read_only(self) -> bool:
        return self.store.read_only

    # -- writing --

    def require_coder(self) -> str:
        if not self.coder_id:
            raise ValidationError(
                "Who is coding? Give your name with --coder NAME (or set CMO_DESK_CODER).")
        return self.coder_id

    @contextmanager
    def write(self, need_coder: bool = True) -> Iterator[UnitOfWork]:
        """One unit of work as this coder; listeners hear what changed after it commits."""
        if need_coder:
            self.require_coder()
        uow = self.store.unit_of_work(self.coder_id)
        with uow:
            if self.coder_id:
                self._ensure_coder(uow)
            yield uow
        self.announce(uow.changed)
        self.last_changed = uow.changed

    def announce(self, changed: rec.Changed) -> None:
        """Tell every listener what changed: after this session's own writes, and for writes
        made elsewhere on the same file (a background import or merge, with its own session)."""
        if changed:
            for listener in list(self.listeners):
                listener(changed)

    def log_mark(self) -> int:
        return self.store.log_mark()

    def changed_since(self, mark: int) -> rec.Changed:
        return self.store.changed_since(mark)

    def _ensure_coder(self, uow: UnitOfWork) -> None:
        assert self.coder_id and self.coder_name
        if uow.current("coder", self.coder_id) is None:
            create_coder(uow, self.coder_name, known_coders(self.store), coder_id=self.coder_id)

    def ensure_coder(self) -> rec.Changed:
        with self.write() as uow:
            pass
        return uow.changed

    # -- reading helpers --

    def template(self) -> dict[str, Any]:
        return self.store.project().template or default_template()

    def coders(self) -> list[rec.Coder]:
        return self.store.list("coder")
