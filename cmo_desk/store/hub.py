"""The team hub: a PostgreSQL database holding the union of every laptop's change log.

Sync is merge. A laptop pushes the changes the hub lacks (its own, checked by the hub's row-level
security) and pulls what it lacks; pulled changes are written to a temporary bundle and merged
exactly as a coder's copy is, so they are verified by content id and conflicts are the same
conflicts. Changes travel in batches, each its own transaction, and inserts are idempotent, so a
sync cut off at any point resumes where it stopped. Document bytes travel once, by hash, and only
when the other side lacks them.

What was sent and received is remembered in the project's ``meta`` table (not in the change log:
it is this file's bookkeeping, not project content): the rowid of the last change pushed and the
hub sequence number of the last change pulled, per hub.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from cmo_desk.domain.errors import Cancelled, HubError, HubPasswordNeeded
from cmo_desk.domain.i18n import tr
from cmo_desk.store.files import new_log_file
from cmo_desk.store.logformat import LOG_TABLE, append_rows, compact_rows, hub_row, verified_row
from cmo_desk.store.project_store import MergeStats, ProjectStore

ProgressCallback = Callable[[int, int], None]
CancelCallback = Callable[[], bool]

SCHEMA = "cmo_hub"
#: The group role every member is granted; it holds the table privileges.
MEMBER_ROLE = "cmo_hub_member"
#: Changes sent or fetched per transaction.
BATCH = 2000
#: Entity types only a coordinator may write on the hub (the hub enforces the same list).
COORDINATOR_ONLY = frozenset({"code", "assignment", "consensus", "consensus_code",
                              "consensus_source", "consensus_excerpt", "duplicate_decision",
                              "project"})
_COLUMNS = ("change_id", "entity_type", "entity_id", "field", "value", "wall", "counter",
            "site_id", "coder_id", "parents", "seen")


def public_url(url: str) -> str:
    """The URL without its password: what may be shown and remembered."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.hostname or ""
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _driver_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme in ("postgres", "postgresql", "postgresql+psycopg"):
        return urlunsplit(("postgresql+psycopg", *parts[1:]))
    raise HubError(tr("{url} is not a PostgreSQL address. Give one like "
                      "postgresql://NAME@SERVER/DATABASE.").format(url=public_url(url)))


@dataclass(frozen=True)
class Membership:
    role: str
    coder_id: str
    coordinator: bool


@dataclass
class PushResult:
    sent: int = 0
    #: Changes by other coders that this laptop holds (from a USB copy); their authors send them.
    not_ours: int = 0
    blobs: int = 0
    #: Changes of this file's own log that could not be read or do not match their ids (a
    #: damaged or altered file): never sent, so the hub only ever holds sound changes.
    unsound: int = 0


@dataclass
class PullResult:
    received: int = 0
    blobs: int = 0
    stats: MergeStats | None = None



def _sound_rows(stored: list[Any]) -> list[tuple[Any, ...]]:
    """Rows (rowid first) of this file's own log in the hub's layout (every id as text, every
    value as its JSON text), leaving out any that cannot be read or do not match their ids."""
    rows = []
    for rowid, *row in stored:
        try:
            content = verified_row(*row)
            if content is None:
                continue
            rows.append((rowid, *hub_row(content)))
        except (ValueError, TypeError):
            continue
    return rows

class Hub:
    """A connection to the hub database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.public_url = public_url(url)
        import importlib.util

        if importlib.util.find_spec("psycopg") is None:
            raise HubError(tr("Syncing with a hub needs the PostgreSQL driver: "
                              "pip install \"cmo-desk[hub]\"."))
        self.engine: Engine = create_engine(_driver_url(url), pool_pre_ping=True,
                                            connect_args={"connect_timeout": 10})

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Hub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _conn(self) -> Iterator[Any]:
        try:
            with self.engine.connect() as conn:
                yield conn
        except OperationalError as err:
            if "password" in _first_line(err):
                raise HubPasswordNeeded(tr(
                    "The hub at {url} needs your password (or refused the one given).").format(
                    url=self.public_url)) from None
            raise HubError(tr(
                "The hub at {url} cannot be reached ({reason}). Your work is safe on this "
                "laptop; sync again when the connection is back.").format(
                url=self.public_url, reason=_first_line(err))) from None
        except ProgrammingError as err:
            if "permission denied" in str(err.orig) or "row-level security" in str(err.orig):
                raise HubError(tr(
                    "The hub refused this: {reason}. Ask the hub's coordinator to add you to "
                    "the project (cmo-desk hub add-member).").format(
                    reason=_first_line(err))) from None
            if "does not exist" in str(err.orig):
                raise HubError(tr(
                    "{url} is not prepared as a hub. Prepare it with 'cmo-desk hub init'.").format(
                    url=self.public_url)) from None
            raise

    # -- administration --

    def init(self, project_id: str, title: str | None, coordinator_role: str | None,
             coordinator_coder_id: str | None) -> None:
        """Create (or upgrade) the hub's tables and register a project. Run by the database
        owner; the role named becomes the project's coordinator."""
        with self._conn() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            _run_hub_migrations(conn)
            exists = conn.exec_driver_sql(
                "SELECT 1 FROM pg_roles WHERE rolname = %s", (MEMBER_ROLE,)).first()
            if not exists:
                conn.exec_driver_sql(f"CREATE ROLE {MEMBER_ROLE} NOLOGIN")
            for sql in (
                f"GRANT USAGE ON SCHEMA {SCHEMA} TO {MEMBER_ROLE}",
                f"GRANT SELECT ON {SCHEMA}.project TO {MEMBER_ROLE}",
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON {SCHEMA}.member TO {MEMBER_ROLE}",
                f"GRANT SELECT, INSERT ON {SCHEMA}.change, {SCHEMA}.blob TO {MEMBER_ROLE}",
                f"GRANT USAGE ON SEQUENCE {SCHEMA}.change_seq_seq TO {MEMBER_ROLE}",
            ):
                conn.exec_driver_sql(sql)
            conn.execute(text(
                f"INSERT INTO {SCHEMA}.project (project_id, title) VALUES (:p, :t) "
                "ON CONFLICT (project_id) DO UPDATE SET title = EXCLUDED.title"),
                {"p": project_id, "t": title})
            conn.commit()
        if coordinator_role and coordinator_coder_id:
            self.add_member(project_id, coordinator_role, coordinator_coder_id, True)

    def add_member(self, project_id: str, role: str, coder_id: str, coordinator: bool) -> None:
        """Let a PostgreSQL role sync a project as a coder (or coordinator)."""
        with self._conn() as conn:
            if not conn.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = %s",
                                        (role,)).first():
                raise HubError(tr(
                    "There is no database role {role} on the hub. Ask whoever runs the server "
                    "to create it (CREATE ROLE {role} LOGIN PASSWORD '…'), then add it again.").format(
                    role=role))
            conn.exec_driver_sql(f'GRANT {MEMBER_ROLE} TO "{role}"')
            conn.execute(text(
                f"INSERT INTO {SCHEMA}.member (project_id, role_name, coder_id, coordinator) "
                "VALUES (:p, :r, :c, :k) ON CONFLICT (project_id, role_name) "
                "DO UPDATE SET coder_id = EXCLUDED.coder_id, coordinator = EXCLUDED.coordinator"),
                {"p": project_id, "r": role, "c": coder_id, "k": coordinator})
            conn.commit()

    def membership(self, project_id: str) -> Membership:
        with self._conn() as conn:
            row = conn.execute(text(
                f"SELECT role_name, coder_id, coordinator FROM {SCHEMA}.member "
                "WHERE project_id = :p AND role_name = session_user"), {"p": project_id}).first()
            if row is None:
                known = conn.execute(text(
                    f"SELECT 1 FROM {SCHEMA}.project WHERE project_id = :p"),
                    {"p": project_id}).first()
        if row is None:
            raise HubError(tr(
                "You are not a member of this project on the hub {url}{why}. Ask the coordinator "
                "to add you (cmo-desk hub add-member).").format(
                url=self.public_url,
                why="" if known else tr(" (or the project was never registered there)")))
        return Membership(row[0], row[1], bool(row[2]))

    # -- sync --

    def push(self, store: ProjectStore, member: Membership,
             progress: ProgressCallback | None = None,
             cancel: CancelCallback | None = None) -> PushResult:
        key = f"hub:{self.public_url}:pushed_rowid"
        last = int(store.meta_value(key) or 0)
        result = PushResult()
        src = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)
        try:
            total = src.execute(f"SELECT count(*) FROM {LOG_TABLE} WHERE seq > ?",
                                (last,)).fetchone()[0]
            done = 0
            while True:
                if cancel and cancel():
                    raise Cancelled(tr("Sync was cancelled; what was already sent stays sent."))
                stored = src.execute(
                    f"SELECT seq, {', '.join(_COLUMNS)} FROM changes WHERE seq > ? "
                    "ORDER BY seq LIMIT ?", (last, BATCH)).fetchall()
                if not stored:
                    break
                rows = _sound_rows(stored)
                result.unsound += len(stored) - len(rows)
                mine = [r for r in rows if member.coordinator or (
                    r[9] == member.coder_id and r[2] not in COORDINATOR_ONLY)]
                result.not_ours += len(rows) - len(mine)
                if mine:
                    with self._conn() as conn:
                        # One pusher per project at a time, so sequence numbers commit in order
                        # and a puller never steps over a change still being written.
                        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:p))"),
                                     {"p": store.project_id})
                        conn.execute(text(
                            f"INSERT INTO {SCHEMA}.change (project_id, {', '.join(_COLUMNS)}) "
                            f"VALUES (:project_id, {', '.join(':' + c for c in _COLUMNS)}) "
                            "ON CONFLICT (project_id, change_id) DO NOTHING"),
                            [{"project_id": store.project_id,
                              **dict(zip(_COLUMNS, r[1:], strict=True))} for r in mine])
                        conn.commit()
                    result.sent += len(mine)
                last = stored[-1][0]
                store.set_meta_value(key, str(last))
                done += len(stored)
                if progress:
                    progress(done, total)
            result.blobs = self._push_blobs(store, src)
        finally:
            src.close()
        return result

    def _push_blobs(self, store: ProjectStore, src: sqlite3.Connection) -> int:
        local = [r[0] for r in src.execute("SELECT sha256 FROM blobs")]
        if not local:
            return 0
        with self._conn() as conn:
            have = {r[0] for r in conn.execute(text(
                f"SELECT sha256 FROM {SCHEMA}.blob WHERE project_id = :p"),
                {"p": store.project_id})}
        sent = 0
        for sha in local:
            if sha in have:
                continue
            (data,) = src.execute("SELECT data FROM blobs WHERE sha256 = ?", (sha,)).fetchone()
            with self._conn() as conn:
                conn.execute(text(
                    f"INSERT INTO {SCHEMA}.blob (project_id, sha256, data) VALUES (:p, :s, :d) "
                    "ON CONFLICT DO NOTHING"), {"p": store.project_id, "s": sha, "d": data})
                conn.commit()
            sent += 1
        return sent

    def pull(self, store: ProjectStore, merge: Callable[[Path], MergeStats],
             progress: ProgressCallback | None = None,
             cancel: CancelCallback | None = None) -> PullResult:
        """Fetch what the hub has beyond what was pulled last time into a temporary bundle, and
        hand it to ``merge`` (the same merge as a coder's copy)."""
        key = f"hub:{self.public_url}:pulled_seq"
        last = int(store.meta_value(key) or 0)
        result = PullResult()
        with tempfile.TemporaryDirectory(prefix="cmo-hub-") as tmp:
            bundle = Path(tmp) / "from-hub.cmo"
            out = _empty_bundle(store, bundle)
            try:
                with self._conn() as conn:
                    total = conn.execute(text(
                        f"SELECT count(*) FROM {SCHEMA}.change WHERE project_id = :p AND seq > :s"),
                        {"p": store.project_id, "s": last}).scalar() or 0
                    high = last
                    while True:
                        if cancel and cancel():
                            raise Cancelled(tr("Sync was cancelled; what was already sent stays "
                                               "sent."))
                        rows = conn.execute(text(
                            f"SELECT seq, {', '.join(_COLUMNS)} FROM {SCHEMA}.change "
                            "WHERE project_id = :p AND seq > :s ORDER BY seq LIMIT :n"),
                            {"p": store.project_id, "s": high, "n": BATCH}).all()
                        if not rows:
                            break
                        append_rows(out, compact_rows(r[1:] for r in rows), ignore=True)
                        high = rows[-1][0]
                        result.received += len(rows)
                        if progress:
                            progress(result.received, int(total))
                    result.blobs = self._pull_blobs(store, conn, out)
                out.commit()
            finally:
                out.close()
            if result.received:
                result.stats = merge(bundle)
        store.set_meta_value(key, str(high))
        return result

    def _pull_blobs(self, store: ProjectStore, conn: Any, out: sqlite3.Connection) -> int:
        wanted = {r[0] for r in out.execute(
            "SELECT json_extract(value, '$') FROM changes WHERE entity_type = 'document' "
            "AND field = 'sha256'") if r[0]}
        if not wanted:
            return 0
        local = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)
        try:
            have = {r[0] for r in local.execute("SELECT sha256 FROM blobs")}
        finally:
            local.close()
        n = 0
        for sha in sorted(wanted - have):
            row = conn.execute(text(f"SELECT data FROM {SCHEMA}.blob WHERE project_id = :p "
                                    "AND sha256 = :s"), {"p": store.project_id, "s": sha}).first()
            if row is not None:
                data = bytes(row[0])
                out.execute("INSERT OR IGNORE INTO blobs (sha256, size, data) VALUES (?, ?, ?)",
                            (sha, len(data), data))
                n += 1
        return n


def _empty_bundle(store: ProjectStore, dest: Path) -> sqlite3.Connection:
    """A bundle file of this project with no changes yet (the layout a coder's bundle has)."""
    return new_log_file(dest, store.path, keep_meta=lambda key: not key.startswith("hub:"))


def _run_hub_migrations(conn: Any) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "hub_migrations"))
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


def _first_line(err: DBAPIError | Exception) -> str:
    orig = getattr(err, "orig", None) or err
    return (str(orig).strip().splitlines() or [""])[0]
