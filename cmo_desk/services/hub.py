"""Syncing a project with the team hub, and preparing a hub.

Sync pushes this laptop's own changes the hub lacks and pulls everything this laptop lacks; what
arrives is merged exactly as a coder's copy is (verified, conflicts listed). The hub's address is
remembered in the project without its password; the password comes from the command line, the
desk's prompt, PGPASSWORD or ~/.pgpass, and is never stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from cmo_desk.domain import records as rec
from cmo_desk.domain.errors import HubError, ValidationError
from cmo_desk.domain.i18n import tr, trn
from cmo_desk.domain.ids import coder_id as coder_id_of
from cmo_desk.services.session import Session

ProgressCallback = Callable[[int, int], None]
CancelCallback = Callable[[], bool]

URL_KEY = "hub_url"
LAST_SYNC_KEY = "hub_last_sync"


@dataclass
class SyncReport:
    url: str
    sent: int = 0
    received: int = 0
    not_ours: int = 0
    blobs_sent: int = 0
    blobs_received: int = 0
    new_conflicts: int = 0
    refused: int = 0
    #: Changes of this project's own file that could not be read or do not match their ids.
    unsound: int = 0
    when: str = ""
    changed: rec.Changed = field(default_factory=rec.Changed)

    def summary(self) -> str:
        line = tr("Synced with {url}: {sent} changes sent, {received} received, "
                  "{conflicts} new conflicts.").format(
            url=self.url, sent=self.sent, received=self.received, conflicts=self.new_conflicts)
        if self.not_ours:
            line += " " + trn("{n} change by another coder was not sent; it reaches the hub when "
                              "its author syncs.",
                              "{n} changes by other coders were not sent; they reach the hub when "
                              "their authors sync.", self.not_ours).format(n=self.not_ours)
        if self.refused:
            line += " " + trn("{n} change from the hub failed verification and was not merged.",
                              "{n} changes from the hub failed verification and were not "
                              "merged.", self.refused).format(n=self.refused)
        if self.unsound:
            line += " " + trn("{n} change in this project's file could not be read or does not "
                              "match its id, so it was not sent: run 'cmo-desk check' on the "
                              "project.",
                              "{n} changes in this project's file could not be read or do not "
                              "match their ids, so they were not sent: run 'cmo-desk check' on "
                              "the project.", self.unsound).format(n=self.unsound)
        return line

    def to_dict(self) -> dict[str, object]:
        return {"url": self.url, "sent": self.sent, "received": self.received,
                "not_ours": self.not_ours, "blobs_sent": self.blobs_sent,
                "blobs_received": self.blobs_received, "new_conflicts": self.new_conflicts,
                "refused": self.refused, "unsound": self.unsound, "when": self.when}


def with_password(url: str, password: str | None) -> str:
    if not password:
        return url
    parts = urlsplit(url)
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def remembered_url(session: Session) -> str | None:
    return session.store.meta_value(URL_KEY)


def last_sync(session: Session) -> str | None:
    return session.store.meta_value(LAST_SYNC_KEY)


def sync(session: Session, url: str | None = None, password: str | None = None,
         progress: ProgressCallback | None = None,
         cancel: CancelCallback | None = None) -> SyncReport:
    from cmo_desk.store.hub import Hub, public_url
    from cmo_desk.store.merging import merge_file

    if session.read_only:
        raise HubError(tr("The project is open read-only, so it cannot sync. Close the other "
                          "desk that has it open, then sync."))
    url = url or remembered_url(session)
    if not url:
        raise HubError(tr("This project has no hub yet. Give the hub's address once: "
                          "cmo-desk sync PROJECT postgresql://NAME@SERVER/DATABASE"))
    store = session.store
    with Hub(with_password(url, password)) as hub:
        member = hub.membership(store.project_id)
        if session.coder_id and not member.coordinator and session.coder_id != member.coder_id:
            raise HubError(tr(
                "The hub knows the database role {role} as another coder than {name}. Sync with "
                "your own role, or as the coder the hub names.").format(
                role=member.role, name=session.coder_name or ""))
        pushed = hub.push(store, member, progress, cancel)
        pulled = hub.pull(store, lambda bundle: merge_file(store, bundle), progress, cancel)
    when = datetime.now(timezone.utc).isoformat(timespec="seconds")
    store.set_meta_value(URL_KEY, public_url(url))
    store.set_meta_value(LAST_SYNC_KEY, when)
    stats = pulled.stats
    report = SyncReport(
        url=public_url(url), sent=pushed.sent, received=stats.new_changes if stats else 0,
        not_ours=pushed.not_ours, unsound=pushed.unsound, blobs_sent=pushed.blobs,
        blobs_received=pulled.blobs,
        new_conflicts=max(0, stats.conflicts_after - stats.conflicts_before) if stats else 0,
        refused=getattr(stats, "rejected", 0) if stats else 0, when=when)
    if stats and stats.new_changes:
        report.changed = rec.Changed({}, stats.new_changes)
    return report


def init_hub(url: str, project: Path | None, password: str | None, role: str | None,
             coordinator: str | None) -> str:
    """Prepare the hub database and register a project; returns the project id."""
    from cmo_desk.store.hub import Hub
    from cmo_desk.store.project_store import inspect_file

    if project is None:
        raise ValidationError(tr("Name the project to register on the hub with --project."))
    meta = inspect_file(Path(project))
    title = None
    with Session.open(project, read_only=True) as session:
        title = session.store.project().title
    with Hub(with_password(url, password)) as hub:
        hub.init(meta["project_id"], title, role,
                 coder_id_of(coordinator) if coordinator else None)
    return meta["project_id"]


def add_member(url: str, project: Path, password: str | None, role: str, coder: str,
               coordinator: bool) -> None:
    from cmo_desk.store.hub import Hub
    from cmo_desk.store.project_store import inspect_file

    meta = inspect_file(Path(project))
    with Hub(with_password(url, password)) as hub:
        hub.add_member(meta["project_id"], role, coder_id_of(coder), coordinator)
