"""The change log's pure core: changes, the hybrid logical clock, and projection.

A project's state is a set of changes, one per field write. Merging two projects is the union of
their sets; the visible records are a pure function of the set (``project_entity``), so merge order
and repetition cannot matter. See MERGE.md for the guarantees this gives.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cmo_desk.domain.packed_text import unpack_text
from cmo_desk.domain.schema import ENTITIES, EXISTS, EntitySpec

#: An incoming clock this far ahead of ours is reported: the sender's laptop clock is wrong.
FUTURE_WARNING_MS = 24 * 3600 * 1000
#: Another laptop's clock is followed at most this far ahead of ours (a few minutes of drift).
ADOPT_LIMIT_MS = 10 * 60 * 1000


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Change:
    change_id: str
    entity_type: str
    entity_id: str
    field: str
    value: Any
    wall: int
    counter: int
    site_id: str
    coder_id: str | None
    parents: tuple[str, ...] = ()
    #: For deletes: the heads of the entity's other fields that the deleter had seen.
    seen: tuple[str, ...] = ()

    def __getattr__(self, name: str) -> Any:
        # A change read from a project's log carries its key, not its id: the id is computed
        # from the content when first asked for (most changes read are never asked).
        if name != "change_id" or "entity_type" not in self.__dict__:
            raise AttributeError(name)
        cid = change_id_for(self.entity_type, self.entity_id, self.field, self.value, self.wall,
                            self.counter, self.site_id, self.coder_id, self.parents, self.seen)
        self.__dict__["change_id"] = cid
        return cid

    @property
    def order_key(self) -> tuple[int, int, str, str]:
        """Total order used only to choose the value shown provisionally in a conflict."""
        return (self.wall, self.counter, self.site_id, self.change_id)


_new_object = object.__new__


def change_id_for(
    entity_type: str,
    entity_id: str,
    field_name: str,
    value: Any,
    wall: int,
    counter: int,
    site_id: str,
    coder_id: str | None,
    parents: Iterable[str],
    seen: Iterable[str] = (),
) -> str:
    payload = canonical_json(
        [
            entity_type,
            entity_id,
            field_name,
            value,
            wall,
            counter,
            site_id,
            coder_id,
            sorted(parents),
            sorted(seen),
        ]
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def change_key(change_id: str) -> int:
    """The key a project's log keeps for a change id (64 hex digits): its first 8 bytes as a
    signed whole number. Within one record, the key names one change."""
    return int.from_bytes(bytes.fromhex(change_id[:16]), "big", signed=True)


def unkeyed_change(entity_type: str, entity_id: str, field_name: str, value: Any, wall: int,
                   counter: int, site_id: str, coder_id: str | None, parents: tuple[str, ...],
                   seen: tuple[str, ...]) -> Change:
    """A :class:`Change` whose id is computed when first asked for (see ``Change``)."""
    change = _new_object(Change)
    change.__dict__.update(entity_type=entity_type, entity_id=entity_id, field=field_name,
                           value=value, wall=wall, counter=counter, site_id=site_id,
                           coder_id=coder_id, parents=parents, seen=seen)
    return change


_encode_str: Callable[[str], str] = json.encoder.encode_basestring
#: One JSON value read from the start of a text: (value, where it ended). What ``json.loads``
#: does, without its checks for bytes and surrounding blanks (a stored value has none).
_scan_json: Callable[[str, int], tuple[Any, int]] = vars(json.decoder.JSONDecoder())["scan_once"]


def row_matches_id(
    change_id: Any, entity_type: Any, entity_id: Any, field_name: Any, value_json: Any,
    wall: Any, counter: Any, site_id: Any, coder_id: Any, parents_json: Any, seen_json: Any,
) -> bool:
    """Whether a stored log row is what its id says (see :func:`change_from_row`)."""
    return change_from_row(change_id, entity_type, entity_id, field_name, value_json, wall,
                           counter, site_id, coder_id, parents_json, seen_json) is not None


def change_from_row(
    change_id: Any, entity_type: Any, entity_id: Any, field_name: Any, value_json: Any,
    wall: Any, counter: Any, site_id: Any, coder_id: Any, parents_json: Any, seen_json: Any,
) -> Change | None:
    """The change a stored log row holds, if the row is what its id says; None otherwise
    (see :func:`row_content`)."""
    content = row_content(change_id, entity_type, entity_id, field_name, value_json, wall,
                          counter, site_id, coder_id, parents_json, seen_json)
    return None if content is None else change_of(content)


#: A change as a plain tuple, in the order of :class:`Change`'s fields: (change_id, entity_type,
#: entity_id, field, value, wall, counter, site_id, coder_id, parents, seen). What a merge holds
#: for each incoming change (about a tenth of the time a :class:`Change` takes to make).
ChangeTuple = tuple[str, str, str, str, Any, int, int, str, "str | None", tuple[str, ...],
                    tuple[str, ...]]
_CHANGE_FIELDS = ("change_id", "entity_type", "entity_id", "field", "value", "wall", "counter",
                  "site_id", "coder_id", "parents", "seen")


def change_of(content: ChangeTuple) -> Change:
    """The :class:`Change` of a change tuple (see :func:`row_content`)."""
    # What Change(...) makes, without the frozen dataclass's eleven guarded setattr calls.
    change = _new_object(Change)
    change.__dict__.update(zip(_CHANGE_FIELDS, content))
    return change


def row_content(
    change_id: Any, entity_type: Any, entity_id: Any, field_name: Any, value_json: Any,
    wall: Any, counter: Any, site_id: Any, coder_id: Any, parents_json: Any, seen_json: Any,
) -> ChangeTuple | None:
    """The change a stored log row holds, as a :data:`ChangeTuple`, if the row is what its id
    says; None otherwise. ``change_id`` is the id's 64 hex digits, or the key a project's log
    keeps for it (:func:`change_key`); the tuple holds the whole id either way.

    The id is recomputed from the content. Anything unreadable (a value that is not JSON,
    parents that are not a list of ids, a clock that is not a whole number, a column of the wrong
    type) does not match. Used on every change that arrives from another file, which is
    untrusted input, and by the check of a project's own log. The value must be stored in
    canonical form (as the log writes it), so the payload is assembled from the stored text
    without re-encoding it, and the value is parsed only once the id matched.
    """
    if isinstance(value_json, bytes):  # a long text, stored packed
        try:
            value_json = unpack_text(value_json)
        except ValueError:
            return None
    if type(wall) is not int or type(counter) is not int:
        return None
    if type(value_json) is not str or type(parents_json) is not str \
            or type(seen_json) is not str or type(change_id) not in (str, int):
        return None
    if parents_json == "[]":
        parents_c, parents = "[]", None
    else:
        parents = id_tuple(parents_json)
        if parents is None:
            return None
        parents_c = canonical_json(sorted(parents))
    if seen_json == "[]":
        seen_c, seen = "[]", None
    else:
        seen = id_tuple(seen_json)
        if seen is None:
            return None
        seen_c = canonical_json(sorted(seen))
    quote = _encode_str  # what canonical_json writes for a string
    try:
        data = (f"[{quote(entity_type)},{quote(entity_id)},{quote(field_name)},{value_json},"
                f"{wall},{counter},{quote(site_id)},"
                f"{'null' if coder_id is None else quote(coder_id)},{parents_c},{seen_c}]"
                ).encode("utf-8")
    except (TypeError, UnicodeEncodeError):  # a number or bytes in a text column; a lone
        return None  # surrogate, which no change written by the log can hold
    digest = hashlib.sha256(data).digest()
    if change_id.__class__ is int:  # the key a project's log holds: the id's first 8 bytes
        if int.from_bytes(digest[:8], "big", signed=True) != change_id:
            return None
        change_id = digest.hex()
    elif digest.hex() != change_id:
        return None
    try:
        value, end = _scan_json(value_json, 0)
    except (StopIteration, ValueError):
        return None
    if end != len(value_json):  # one JSON value, nothing more
        return None
    return (change_id, entity_type, entity_id, field_name, value, wall, counter, site_id,
            coder_id, parents or (), seen or ())


def id_tuple(text: str) -> tuple[str, ...] | None:
    """A list of change ids stored as JSON text, as stored (None if it is not a list of texts)."""
    try:
        items = json.loads(text)
    except ValueError:
        return None
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        return None
    return tuple(items)


def make_change(
    entity_type: str,
    entity_id: str,
    field_name: str,
    value: Any,
    wall: int,
    counter: int,
    site_id: str,
    coder_id: str | None,
    parents: Iterable[str] = (),
    seen: Iterable[str] = (),
) -> Change:
    parents_t = tuple(sorted(set(parents)))
    seen_t = tuple(sorted(set(seen)))
    cid = change_id_for(
        entity_type, entity_id, field_name, value, wall, counter, site_id, coder_id, parents_t, seen_t
    )
    return Change(
        cid, entity_type, entity_id, field_name, value, wall, counter, site_id, coder_id,
        parents_t, seen_t,
    )


class HybridClock:
    """Hybrid logical clock: (wall ms, counter), monotonic even when the laptop's clock jumps back."""

    def __init__(
        self, wall: int = 0, counter: int = 0, now: Callable[[], int] | None = None
    ) -> None:
        self.wall = wall
        self.counter = counter
        self._now = now or (lambda: int(time.time() * 1000))

    def tick(self) -> tuple[int, int]:
        physical = self._now()
        if physical > self.wall:
            self.wall, self.counter = physical, 0
        else:
            self.counter += 1
        return self.wall, self.counter

    def now(self) -> int:
        """This laptop's wall clock, in ms."""
        return self._now()

    def observe(self, wall: int, counter: int) -> None:
        """Move past a clock seen in another file, so our next change sorts after it.

        Another laptop's wall time is never adopted beyond our own time plus ``ADOPT_LIMIT_MS``:
        one laptop with a clock years ahead must not drag every laptop it meets into the future.
        Past that bound only the logical counter moves on (merges never depend on clocks; they
        only choose which value a conflict shows first).
        """
        cap = self._now() + ADOPT_LIMIT_MS
        if wall > cap:
            wall, counter = cap, 0
        if (wall, counter) > (self.wall, self.counter):
            self.wall, self.counter = wall, counter

    def is_far_future(self, wall: int) -> bool:
        return wall - self._now() > FUTURE_WARNING_MS


@dataclass
class FieldConflict:
    field: str
    kind: str  # "edit" | "edit_vs_delete"
    heads: list[Change]
    ancestors: list[Change]
    shown: Any


@dataclass
class EntityState:
    entity_type: str
    entity_id: str
    exists: bool
    values: dict[str, Any]
    heads: dict[str, list[Change]] = field(default_factory=dict)
    conflicts: list[FieldConflict] = field(default_factory=list)


def heads_of(changes: Iterable[Change]) -> list[Change]:
    """The changes of one field that no other change of that field replaced."""
    items = list(changes)
    if len(items) == 1:
        return items  # most fields were written once (a change never replaces itself)
    replaced: set[str] = set()
    for c in items:
        replaced.update(c.parents)
    return sorted((c for c in items if c.change_id not in replaced), key=lambda c: c.order_key)


def _ancestors(head: Change, by_id: dict[str, Change]) -> set[str]:
    seen: set[str] = set()
    stack = list(head.parents)
    while stack:
        cid = stack.pop()
        if cid in seen or cid not in by_id:
            continue
        seen.add(cid)
        stack.extend(by_id[cid].parents)
    return seen


def _common_ancestors(heads: list[Change], by_id: dict[str, Change]) -> list[Change]:
    sets = [_ancestors(h, by_id) for h in heads]
    common = set.intersection(*sets) if sets else set()
    # Keep only the latest common ancestors (those no other common ancestor descends from).
    older: set[str] = set()
    for cid in common:
        older |= _ancestors(by_id[cid], by_id)
    latest = [by_id[c] for c in common - older]
    return sorted(latest, key=lambda c: c.order_key)


def _values_equal(changes: list[Change]) -> bool:
    first = canonical_json(changes[0].value)
    return all(canonical_json(c.value) == first for c in changes[1:])


def project_new_record(
    entity_type: str, entity_id: str, changes: list[ChangeTuple]
) -> EntityState | None:
    """What :func:`project_entity` gives for a record's changes given as change tuples, for
    writing its projection: its values, whether it exists, its conflicts (``heads`` is left
    empty). A record whose every field was written once and that exists (the usual record
    coming from another coder's copy) is read off its changes, without making a
    :class:`Change` of each."""
    spec = ENTITIES.get(entity_type)
    if spec is None:
        return None
    values = {c[3]: c[4] for c in changes}
    if len(values) != len(changes) or values.get(EXISTS) is not True:
        return project_entity(entity_type, entity_id, [change_of(c) for c in changes])
    return EntityState(entity_type, entity_id, True,
                       {name: values.get(name) for name in spec.field_names})


def project_entity(
    entity_type: str, entity_id: str, changes: Iterable[Change]
) -> EntityState | None:
    """The visible state of one entity from all of its changes (None if it was never created).

    Pure and order-independent: the same set of changes always gives the same state.
    Fields the registry does not know (written by a newer version) are ignored here but stay in
    the log, so they are passed on by merges.
    """
    spec: EntitySpec | None = ENTITIES.get(entity_type)
    if spec is None:
        return None
    by_field: dict[str, list[Change]] = {}
    for c in changes:
        by_field.setdefault(c.field, []).append(c)
    exists_changes = by_field.get(EXISTS)
    if not exists_changes:
        return None
    state = EntityState(entity_type, entity_id, exists=True, values={})
    for fs in spec.fields:
        items = by_field.get(fs.name)
        if not items:
            state.values[fs.name] = None
            continue
        if len(items) == 1:  # most fields were written once: that write is the value
            state.values[fs.name] = items[0].value
            state.heads[fs.name] = items
            continue
        if fs.immutable:
            first = min(items, key=lambda c: c.order_key)
            state.values[fs.name] = first.value
            state.heads[fs.name] = heads_of(items)
            continue
        heads = heads_of(items)
        state.heads[fs.name] = heads
        shown = max(heads, key=lambda c: c.order_key)
        state.values[fs.name] = shown.value
        if len(heads) > 1 and not _values_equal(heads):
            by_id = {c.change_id: c for c in items}
            state.conflicts.append(
                FieldConflict(fs.name, "edit", heads, _common_ancestors(heads, by_id), shown.value)
            )

    ex_heads = heads_of(exists_changes)
    state.heads[EXISTS] = ex_heads
    shown_exists = max(ex_heads, key=lambda c: c.order_key)
    exists_conflict: FieldConflict | None = None
    if len(ex_heads) > 1 and not _values_equal(ex_heads):
        # A delete and a restore made without seeing each other: deletions stick until resolved.
        state.exists = False
        by_id = {c.change_id: c for c in exists_changes}
        exists_conflict = FieldConflict(EXISTS, "delete_vs_restore", ex_heads,
                                        _common_ancestors(ex_heads, by_id), False)
        state.conflicts.append(exists_conflict)
    else:
        state.exists = bool(shown_exists.value)
    if not state.exists:
        seen: set[str] = set()
        for h in ex_heads:
            if not h.value:
                seen.update(h.seen)
        unseen = [
            h
            for name, hs in state.heads.items()
            if name != EXISTS and not spec.field(name).immutable
            for h in hs
            if h.change_id not in seen
        ]
        if unseen and exists_conflict is not None:
            # One decision (keep deleted or keep) settles both, so they are one conflict with
            # every side listed: a record has one key per conflict kind, and "exists" is one.
            exists_conflict.heads = sorted(
                {c.change_id: c for c in [*exists_conflict.heads, *unseen]}.values(),
                key=lambda c: c.order_key)
        elif unseen:
            deletes = [h for h in ex_heads if not h.value]
            state.conflicts.append(
                FieldConflict(
                    EXISTS,
                    "edit_vs_delete",
                    sorted(deletes + unseen, key=lambda c: c.order_key),
                    [],
                    False,
                )
            )
    state.conflicts.sort(key=lambda fc: fc.field)
    return state
