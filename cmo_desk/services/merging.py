"""Merging coders' copies of a project, bundles, and the conflicts a merge leaves behind.

Every other file is checked before anything is written, so a wrong file in a list of several
leaves the project exactly as it was. Each merge runs after a backup of the project.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cmo_desk.domain import records as rec
from cmo_desk.domain.errors import ExportFailed, ReadOnlyError, ValidationError
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.ids import is_entity_type
from cmo_desk.domain.schema import CODE_LINKS, ENTITIES, EXISTS
from cmo_desk.services import backups, coding
from cmo_desk.services.session import Session
from cmo_desk.store import crosschecks
from cmo_desk.store.merging import (
    coders_of_site,
    merge_file,
    open_incoming,
    write_bundle,
    write_delta_bundle,
)
from cmo_desk.store.project_store import MergeStats, ProjectStore

BUNDLE_SUFFIX = ".cmobundle"
#: The kind of conflict a cycle in the codebook is (codes moved under each other).
PARENT_CYCLE = crosschecks.PARENT_CYCLE
LABEL_CHARS = 60


@dataclass(frozen=True)
class MergeReport:
    """What one merged file brought."""

    source: Path
    backup: Path | None
    new_changes: int
    new_blobs: int
    #: coder name (or "" for changes made without a coder) -> record type -> records touched
    arrived: dict[str, dict[str, int]]
    new_conflicts: int
    conflicts_total: int
    far_future: int
    dry_run: bool
    #: Changes left out because their content did not match their id.
    rejected: int = 0
    #: Document files left out because their bytes did not match their hash.
    rejected_blobs: int = 0
    #: The laptop (site id) whose clock ran furthest ahead, when some changes were far ahead.
    future_site: str | None = None
    #: Who worked on that laptop (coder names), to recognise it by.
    future_coders: tuple[str, ...] = ()
    #: Records the file changed that this project does not hold (their creation was not in
    #: it): a bundle made for another copy. The changes are kept; the sender's copy completes
    #: them.
    incomplete: int = 0

    @property
    def future_laptop(self) -> str:
        """The laptop whose clock is wrong, in words: its site id and who used it."""
        site = (self.future_site or "?")[:8]
        if self.future_coders:
            return tr("{site} (used by {names})").format(site=site,
                                                          names=", ".join(self.future_coders))
        return site

    @property
    def incomplete_note(self) -> str:
        """What a file made for another copy left incomplete here, and what completes it, in
        words (the desk's summary and the command line say the same); "" when nothing."""
        if not self.incomplete:
            return ""
        return tr("Some changes are to records this project does not have yet ({n}): the file "
                  "was made for another copy of the project. They are kept; merge the sender's "
                  "own copy to see them.").format(n=self.incomplete)

    @property
    def changed_nothing(self) -> bool:
        return self.new_changes == 0 and self.new_blobs == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": str(self.source),
            "backup": str(self.backup) if self.backup else None,
            "new_changes": self.new_changes,
            "new_blobs": self.new_blobs,
            "arrived": self.arrived,
            "new_conflicts": self.new_conflicts,
            "conflicts_total": self.conflicts_total,
            "far_future_changes": self.far_future,
            "rejected_changes": self.rejected,
            "rejected_document_files": self.rejected_blobs,
            "future_site": self.future_site,
            "incomplete_records": self.incomplete,
            "dry_run": self.dry_run,
        }


def backup_before_merge(session: Session) -> Path:
    """A copy of the project, kept with its other backups, made just before a merge."""
    return backups.backup_before(session, "merge")


def _coder_names(store: ProjectStore, stats: MergeStats, names: dict[str, str]) -> None:
    """Fill in coder id -> name for the coders whose work arrives, from the project or the file.

    Names are read from the incoming change log so that bundles (which have no visible tables)
    and dry runs (where the coder is not in the project yet) show names too.
    """
    if not names:
        for c in store.list("coder", include_deleted=True):
            names.setdefault(c.id, c.name or c.id)
    for cid, name in (stats.coder_names or {}).items():
        names.setdefault(cid, name)


def _report(source: Path, backup: Path | None, stats: MergeStats,
            names: dict[str, str], dry_run: bool) -> MergeReport:
    arrived: dict[str, dict[str, int]] = {}
    for (coder_id, etype), n in sorted(stats.arrived.items(), key=lambda kv: (str(kv[0][0]),
                                                                                kv[0][1])):
        who = names.get(coder_id or "", coder_id or "")
        arrived.setdefault(who, {})[etype] = arrived.get(who, {}).get(etype, 0) + n
    return MergeReport(source, backup, stats.new_changes, stats.new_blobs, arrived,
                       max(0, stats.conflicts_after - stats.conflicts_before),
                       stats.conflicts_after, stats.far_future, dry_run, stats.rejected,
                       stats.rejected_blobs, stats.future_site)


def merge_projects(session: Session, others: Sequence[str | Path], dry_run: bool = False,
                   before_write: Callable[[], object] | None = None) -> list[MergeReport]:
    """Merge each file into the project, in the given order; each merge is one transaction.

    All files are opened and checked first (same project, not from a newer version, not the
    project itself), so a refused file leaves the project unchanged; each is read (a bundle
    unpacked) only once. Just before the first write, ``before_write`` runs (it may raise, for
    instance ``Cancelled``, and then nothing is written) and the project is backed up once; the
    backup is the project as it was before this merge. Each file's changes are checked against
    their ids as they are gathered, and what does not match is left out and counted in the
    report.
    """
    store = session.store
    paths = [Path(p) for p in others]
    if not paths:
        raise ValidationError(tr("Give at least one coder's copy of the project to merge."))
    if store.read_only and not dry_run:
        raise ReadOnlyError(store.read_only_reason or tr(
            "This project is open read-only, so nothing can be merged into it. Close the other "
            "desk that has it open, then merge again."))
    names: dict[str, str] = {}
    reports = []
    made: list[Path] = []

    def first_write() -> None:
        if made:
            return
        if before_write is not None:
            before_write()
        made.append(backup_before_merge(session))

    with ExitStack() as stack:
        incoming = [stack.enter_context(open_incoming(store, p)) for p in paths]
        for one in incoming:
            stats = merge_file(store, one, dry_run=dry_run, before_write=first_write)
            _coder_names(store, stats, names)
            wrote = not dry_run and (stats.new_changes or stats.new_blobs)
            report = _report(one.path, made[0] if made and wrote else None, stats, names,
                             dry_run)
            if wrote and stats.incomplete:
                report = replace(report, incomplete=stats.incomplete)
            if stats.future_site and not dry_run:
                report = replace(report, future_coders=tuple(
                    names.get(c, c) for c in coders_of_site(store, stats.future_site)))
            reports.append(report)
    return reports


def _bundle_path(dest: str | Path) -> Path:
    dest = Path(dest)
    if not dest.suffix:
        dest = dest.with_suffix(BUNDLE_SUFFIX)
    if not dest.parent.exists():
        raise ValidationError(tr("The folder {folder} does not exist. Create it first.")
                              .format(folder=dest.parent))
    return dest


@contextmanager
def _writing_bundle(dest: Path) -> Iterator[None]:
    """A stick that is full or write-protected is named, in plain words, not a traceback; the
    store leaves no half-written bundle behind."""
    try:
        yield
    except OSError as err:
        raise ExportFailed(tr("Cannot write {path}: {reason}. Free some space or choose "
                              "another folder.").format(path=dest, reason=err.strerror or err)
                           ) from err


def make_bundle(session: Session, dest: str | Path) -> tuple[Path, int]:
    """Write the change log without document bytes; returns the file and how many changes."""
    dest = _bundle_path(dest)
    with _writing_bundle(dest):
        return dest, write_bundle(session.store, dest)


def make_delta_bundle(session: Session, dest: str | Path,
                      theirs: str | Path) -> tuple[Path, int, int]:
    """Write only what ``theirs`` lacks (changes, and document files by hash), compressed.

    Returns the file, how many changes and how many document files it holds."""
    dest = _bundle_path(dest)
    with _writing_bundle(dest):
        n, blobs = write_delta_bundle(session.store, dest, Path(theirs))
    return dest, n, blobs


# -- conflicts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ConflictView:
    """A conflict as people read it: which record, which field, who wrote what and when."""

    number: int
    entity_type: str
    entity_id: str
    label: str
    field: str
    kind: str
    shown: Any
    values: tuple[rec.ConflictValue, ...]
    ancestors: tuple[Any, ...] = field(default=())
    #: Each value as a person reads it, where the value itself is a record's id (a code's
    #: parent: the code's name; a move in a codebook cycle: "Trust under Stigma"); else "".
    value_words: tuple[str, ...] = field(default=())
    ancestor_words: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "entity": f"{self.entity_type}:{self.entity_id}",
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "label": self.label,
            "field": self.field,
            "kind": self.kind,
            "shown": self.shown,
            "values": [
                {"value": v.value, "coder": v.coder_name or v.coder_id, "time": iso_time(v.wall_ms),
                 "change_id": v.change_id, "words": words or None}
                for v, words in zip(self.values, self.words())
            ],
            "ancestors": list(self.ancestors),
        }


    def words(self) -> tuple[str, ...]:
        """:attr:`value_words`, one per value ("" where the value reads as it is)."""
        return tuple(self.value_words) + ("",) * (len(self.values) - len(self.value_words))


def iso_time(wall_ms: int) -> str:
    return datetime.fromtimestamp(wall_ms / 1000, tz=timezone.utc).isoformat(timespec="seconds")


def _short(text: Any) -> str:
    flat = " ".join(str(text).split()) if text is not None else ""
    return flat if len(flat) <= LABEL_CHARS else flat[:LABEL_CHARS - 1] + "…"


#: The fields, first filled one first, a person recognises each kind of record by.
_LABEL_FIELDS: dict[str, tuple[str, ...]] = {
    "study": ("label", "title"),
    "cmoc": ("statement", "outcome", "context", "mechanism_reasoning"),
    "consensus": ("statement", "outcome", "context", "mechanism_reasoning"),
    "excerpt": ("quote",),
    "code": ("name",),
    "document": ("filename",),
    "coder": ("name",),
    "theory": ("label",),
    "form_value": ("key",),
}


def record_label(store: ProjectStore, etype: str, eid: str) -> str:
    """A few words a person recognises a record by (study label, start of a CMOC statement…)."""
    if not is_entity_type(etype):
        return eid[:8]
    item = store.get(etype, eid, include_deleted=True)
    if item is None:
        links = store.links(etype, id=eid)
        return _short(", ".join(f"{k}={v}" for k, v in links[0].items()
                                if k not in ("id", "deleted"))) if links else eid[:8]
    study_label = _study_label(store, getattr(item, "study_id", None))
    text: str | None
    if etype in ("review_link", "theory_version"):
        text, study_label = _ledger_label(store, etype, item, study_label)
    else:
        fields = _LABEL_FIELDS.get(etype, ("name", "label"))
        text = next((v for v in (getattr(item, f, None) for f in fields) if v), None)
    text = _short(text) if text else eid[:8]
    return f"{study_label}: {text}" if study_label and etype != "study" else text


def _study_label(store: ProjectStore, study_id: str | None) -> str:
    study = store.get("study", study_id, include_deleted=True) if study_id else None
    return (study.label or _short(study.title)) if study else ""


def _ledger_label(store: ProjectStore, etype: str, item: Any,
                  study_label: str) -> tuple[str, str]:
    """(text, study label) of a review CMOC's link to a study CMOC, or of a theory's version."""
    if etype == "theory_version":
        theory = store.get("theory", item.theory_id or "", include_deleted=True)
        return f"{(theory.label or '') if theory else ''} v{item.number}", study_label
    review = store.get("review_cmoc", item.review_cmoc_id or "", include_deleted=True)
    text = f"{(review.label or '') if review else ''} ← {item.relation or ''}"
    source = store.get(item.source_kind or "cmoc", item.source_id or "", include_deleted=True)
    study = store.get("study", source.study_id or "", include_deleted=True) if source else None
    return text, (study.label or "") if study else study_label


def _reference(etype: str, field_name: str) -> str | None:
    """The record type a field holds the id of (a code's parent is a code), or None."""
    spec = ENTITIES.get(etype)
    if spec is None or field_name not in spec.field_names:
        return None
    return spec.field(field_name).ref


#: Conflicts whose values are, besides the deletion, the records that still use what was deleted.
IN_USE = (crosschecks.CODE_IN_USE, crosschecks.STUDY_IN_USE)


def _user_words(store: ProjectStore, change_id: str,
                record: tuple[str, str] | None) -> str:
    """The record that still uses a deleted code or study, in words (a tagging is named by the
    excerpt or CMOC it tags); "" when the value is the deletion itself."""
    change = store.change(change_id, record)
    if change is None:
        return ""
    etype, eid = change.entity_type, change.entity_id
    for link, own, owner in CODE_LINKS:
        if link == etype:
            rows = store.links(link, id=eid)
            if rows and rows[0].get(own):
                return record_label(store, owner, rows[0][own])
    return record_label(store, etype, eid) if etype not in ("code", "study") else ""


def _value_words(store: ProjectStore, c: rec.Conflict, value: Any,
                 change_id: str | None, record: tuple[str, str] | None = None) -> str:
    if c.kind in IN_USE and change_id:
        return _user_words(store, change_id, record)
    ref = _reference(c.entity_type, c.field)
    if ref is None or not isinstance(value, str):
        return ""
    target = record_label(store, ref, value)
    if c.kind == crosschecks.PARENT_CYCLE and change_id:
        # each value of a cycle is a move of one of its codes: name the code that was moved
        change = store.change(change_id, record)
        if change is not None:
            return tr("{code} under {parent}").format(
                code=record_label(store, change.entity_type, change.entity_id), parent=target)
    return target


def list_conflicts(session: Session) -> list[ConflictView]:
    """Every open conflict, numbered from 1 in a stable order."""
    store = session.store
    out = []
    for n, c in enumerate(store.conflicts(), start=1):
        out.append(ConflictView(
            n, c.entity_type, c.entity_id, record_label(store, c.entity_type, c.entity_id),
            c.field, c.kind, c.shown, c.values, c.ancestors,
            tuple(_value_words(store, c, v.value, v.change_id, v.record) for v in c.values),
            tuple(_value_words(store, c, a, None) for a in c.ancestors)))
    return out


def find_conflict(session: Session, entity_type: str, entity_id: str,
                  field_name: str | None = None) -> ConflictView:
    matches = [c for c in list_conflicts(session)
               if c.entity_type == entity_type and c.entity_id == entity_id
               and (field_name is None or c.field == field_name)]
    if not matches and field_name not in (None, EXISTS) and any(
            c.field == EXISTS for c in list_conflicts(session)
            if c.entity_type == entity_type and c.entity_id == entity_id):
        raise ValidationError(tr(
            "This conflict is between a deletion and an edit; choose --keep-deleted or --restore."))
    if not matches:
        raise ValidationError(
            tr("There is no conflict on {entity} {field}; list them with 'cmo-desk conflicts'.")
            .format(entity=f"{entity_type}:{entity_id}", field=field_name or ""))
    return matches[0]


def resolve_with_value(session: Session, entity_type: str, entity_id: str, field_name: str,
                       value: Any) -> rec.Changed:
    """Write one value that supersedes every value in conflict on this field."""
    conflict = find_conflict(session, entity_type, entity_id, field_name)
    if conflict.field == EXISTS:
        raise ValidationError(tr(
            "This conflict is between a deletion and an edit; choose --keep-deleted or --restore."))
    return coding.resolve_conflict(session, entity_type, entity_id, field_name, value)


def resolve_pick(session: Session, entity_type: str, entity_id: str, field_name: str,
                 number: int) -> rec.Changed:
    """Keep the N-th listed value (from 1)."""
    conflict = find_conflict(session, entity_type, entity_id, field_name)
    if not 1 <= number <= len(conflict.values):
        raise ValidationError(tr("Choose a value between 1 and {n}.").format(
            n=len(conflict.values)))
    if conflict.kind == crosschecks.PARENT_CYCLE:
        return _keep_one_move(session, conflict, number)
    return resolve_with_value(session, entity_type, entity_id, field_name,
                              conflict.values[number - 1].value)


def resolve_exists(session: Session, entity_type: str, entity_id: str,
                   keep: bool) -> rec.Changed:
    """Settle a deletion that met an edit or a restore: keep the record (True) or its deletion."""
    conflict = find_conflict(session, entity_type, entity_id, EXISTS)
    if not keep and conflict.kind in (crosschecks.CODE_IN_USE, crosschecks.STUDY_IN_USE):
        return _drop_users(session, conflict)
    return coding.resolve_conflict(session, entity_type, entity_id, EXISTS, keep)


def _drop_users(session: Session, conflict: ConflictView) -> rec.Changed:
    """Keep a deleted code or study deleted: the taggings of the code, or the CMOCs on the
    study, that arrived after the deletion are deleted too (they stay in the log)."""
    store = session.store
    with session.write(need_coder=False) as uow:
        if conflict.kind == crosschecks.CODE_IN_USE:
            for link, _own, _owner in CODE_LINKS:
                for row in store.links(link, code_id=conflict.entity_id):
                    uow.delete(link, row["id"])
        else:
            for cmoc in store.list("cmoc", study_id=conflict.entity_id):
                uow.delete("cmoc", cmoc.id)
    return uow.changed


def _keep_one_move(session: Session, conflict: ConflictView, number: int) -> rec.Changed:
    """Settle a cycle in the codebook by keeping one of the moves that made it: the other codes
    of the cycle go to the top level."""
    store = session.store
    chosen = conflict.values[number - 1]
    kept = store.change(chosen.change_id, chosen.record)
    with session.write(need_coder=False) as uow:
        for v in conflict.values:
            change = store.change(v.change_id, v.record)
            if change is None or kept is None or change.entity_id == kept.entity_id:
                continue
            uow.update("code", change.entity_id, {"parent_id": None})
    return uow.changed


# -- repair --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RepairReport:
    """What rebuilding the visible tables from the change log corrected."""

    #: record type (or "conflicts", "blobs") -> number of records that differed and were corrected
    corrected: dict[str, int]
    #: this laptop's clock was years ahead and was set back to the real time (ms), else None
    clock_reset_from: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"corrected": self.corrected, "clock_reset_from": (
            iso_time(self.clock_reset_from) if self.clock_reset_from else None)}


def _by_id(items: Any) -> dict[str, str]:
    """Items of a dump list keyed by id (or by their own text), for counting what differs."""
    out: dict[str, str] = {}
    for n, item in enumerate(items):
        key = item["id"] if isinstance(item, dict) and "id" in item else (
            json.dumps(item, sort_keys=True) if not isinstance(item, str) else item)
        out[key if isinstance(key, str) else str(n)] = json.dumps(item, sort_keys=True)
    return out


def repair_project(session: Session) -> RepairReport:
    """Rebuild every visible table (records, conflicts, search index) from the change log.

    The log is the project; the visible tables are only its projection, so this loses nothing.
    A laptop clock left far in the future by an earlier version is set back to the real time.
    """
    store = session.store
    if store.read_only:
        store.unit_of_work(None)  # raises the read-only message
    before = store.dump()
    store.rebuild()
    after = store.dump()
    corrected: dict[str, int] = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, list) or isinstance(new, list):
            a, b = _by_id(old or []), _by_id(new or [])
            n = sum(1 for k in set(a) | set(b) if a.get(k) != b.get(k))
        else:
            n = 1
        name = key[:-len("_deleted")] if key.endswith("_deleted") else key
        corrected[name] = corrected.get(name, 0) + n
    return RepairReport(corrected, store.reset_clock_if_ahead())


# -- what a merge brought, in words (the desk's merge summary and `cmo-desk merge`) ----------


def record_type_titles() -> dict[str, str]:
    return {
        "study": tr("studies"), "document": tr("full texts"), "excerpt": tr("excerpts"),
        "cmoc": tr("CMOCs"), "consensus": tr("consensus CMOCs"), "code": tr("codes"),
        "theory": tr("theories"), "form_value": tr("study form answers"),
        "coder": tr("coders"), "assignment": tr("assignments"), "project": tr("project details"),
        "excerpt_code": tr("codes on excerpts"), "cmoc_code": tr("codes on CMOCs"),
        "cmoc_excerpt": tr("excerpts cited by CMOCs"), "cmoc_theory": tr("theory links"),
        "consensus_source": tr("consensus sources"), "consensus_code": tr("codes on consensus"),
        "consensus_excerpt": tr("excerpts cited by consensus"),
    }


def arrived_text(per_type: dict[str, int]) -> str:
    """What arrived from one coder, most first: "3 CMOCs, 1 study" in the reader's language."""
    from cmo_desk.services.exporting import count_words

    titles = record_type_titles()
    return ", ".join(count_words(t, n) or f"{n} {titles.get(t, t)}" for t, n in sorted(
        per_type.items(), key=lambda kv: (-kv[1], kv[0])))
