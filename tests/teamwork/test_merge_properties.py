"""Merging, property-based: several laptops with wrong clocks edit and swap files in any order.

Each replica is a real project file with its own site and a clock the test controls (it jumps
forwards, backwards, and far into the future). After every step the guarantees of MERGE.md are
checked on every replica; at the end everyone merges with everyone and all must be identical.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import tempfile
import uuid
from functools import cache
from pathlib import Path

import sqlite3

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from sqlalchemy import Engine, event

from cmo_desk.domain.changelog import ADOPT_LIMIT_MS, HybridClock
from cmo_desk.domain.ids import coder_id, link_id
from cmo_desk.domain.schema import EXISTS
from cmo_desk.store import unit_of_work
from cmo_desk.store.merging import merge_file
from cmo_desk.store.project_store import ProjectStore, _make_engine
from cmo_desk.store.site import Site
from cmo_desk.store.logformat import value_json
from tests.logrows import alter, log_rows, stored_change_id

REPLICAS = 3
START_MS = 1_700_000_000_000
DAY_MS = 24 * 3600 * 1000
PROJECT_ID = "00000000-0000-4000-8000-000000000001"
CODERS = [coder_id(name) for name in ("Lan", "Sam", "Ana")]
CODES = ["00000000-0000-4000-8000-0000000000c1", "00000000-0000-4000-8000-0000000000c2",
         "00000000-0000-4000-8000-0000000000c3"]
EDITABLE = {"study": "label", "cmoc": "statement"}


@cache
def template() -> Path:
    """One small project, made once and copied for every example."""
    folder = Path(tempfile.mkdtemp(prefix="cmo-merge-template-"))
    path = folder / "template.cmo"
    site = Site(site_id=str(uuid.UUID(int=1)))
    store = ProjectStore.create(path, title="Template", site=site, project_id=PROJECT_ID)
    store.clock = HybridClock(0, 0, now=lambda: START_MS - DAY_MS)
    with store.unit_of_work(None) as uow:
        for cid, name in zip(CODERS, ("Lan", "Sam", "Ana")):
            uow.create("coder", {"name": name}, id=cid)
        for code, name in zip(CODES, ("Trust", "Stigma", "Fear")):
            uow.create("code", {"name": name, "kind": "mechanism"}, id=code)
    store.close()
    return path


@cache
def replica_engine(i: int) -> tuple[Path, Engine]:
    """Each replica slot keeps its file and engine for the whole run; examples reset its content.

    Opening fresh engines for every example would recompile every SQL statement each time;
    replicas do not wait for the disk on commits, since these files are thrown away and
    durability across power cuts is not what this test is about.
    """
    path = template().parent / f"replica{i}.cmo"
    shutil.copyfile(template(), path)
    engine = _make_engine(path)

    def no_sync(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        dbapi_conn.execute("PRAGMA synchronous=OFF")

    event.listen(engine, "connect", no_sync)
    return path, engine


def fresh_replica(i: int, site: Site) -> ProjectStore:
    path, engine = replica_engine(i)
    src = sqlite3.connect(f"file:{template()}?mode=ro", uri=True)
    dst = sqlite3.connect(path)
    try:
        dst.execute("PRAGMA synchronous=OFF")
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return ProjectStore(path, engine, site, read_only=False)


def read_log(store: ProjectStore) -> dict[str, dict]:
    conn = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)
    try:
        changes = log_rows(conn)
    finally:
        conn.close()
    return {
        c.change_id: {"type": c.entity_type, "id": c.entity_id, "field": c.field,
                      "value": c.value, "clock": (c.wall, c.counter), "site": c.site_id,
                      "parents": list(c.parents), "seen": list(c.seen)}
        for c in changes
    }


def ancestors_of(ids: list[str], log: dict[str, dict]) -> set[str]:
    """The given changes and everything they replaced, transitively."""
    out: set[str] = set()
    stack = list(ids)
    while stack:
        cid = stack.pop()
        if cid in out or cid not in log:
            continue
        out.add(cid)
        stack.extend(log[cid]["parents"])
    return out


class MergeMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # record ids in the order they are made, so that replaying an example replays it exactly
        made = itertools.count(1)
        self._real_new_id = unit_of_work.new_id
        unit_of_work.new_id = lambda: str(uuid.UUID(int=(7 << 120) + next(made)))
        self.now = [START_MS] * REPLICAS
        self.paths: list[Path] = []
        self.stores: list[ProjectStore] = []
        for i in range(REPLICAS):
            store = fresh_replica(i, Site(site_id=str(uuid.UUID(int=100 + i))))
            path = store.path
            clock = HybridClock(store.clock.wall, store.clock.counter,
                                now=lambda i=i: self.now[i])
            store.clock = clock
            self.paths.append(path)
            self.stores.append(store)
        self.entities: list[tuple[str, str]] = []
        self.owner: dict[str, str] = {}
        self.known_changes: list[set[str]] = [set() for _ in range(REPLICAS)]
        self.known_entities: list[set[tuple[str, str]]] = [set() for _ in range(REPLICAS)]
        self.last_clock: list[tuple[int, int]] = [(0, 0)] * REPLICAS
        self.counter = 0
        self.forged: set[str] = set()
        # the template's first changes carry the real time of its making
        self.max_now = [max(n, s.clock.wall) for n, s in zip(self.now, self.stores)]

    # -- helpers --

    def _live(self, i: int, etype: str, eid: str) -> bool:
        return self.stores[i].get(etype, eid) is not None

    def _value(self) -> str:
        self.counter += 1
        return f"v{self.counter}"

    # -- rules --

    replica = st.integers(0, REPLICAS - 1)

    @rule(i=replica)
    def create_study(self, i: int) -> None:
        with self.stores[i].unit_of_work(CODERS[i]) as uow:
            sid = uow.create("study", {"label": self._value(), "year": 2020,
                                       "created_by": CODERS[i]})
        self.entities.append(("study", sid))
        self.known_entities[i].add(("study", sid))

    @precondition(lambda self: any(t == "study" for t, _ in self.entities))
    @rule(i=replica, pick=st.integers(0, 1000))
    def create_cmoc(self, i: int, pick: int) -> None:
        studies = [e for t, e in self.entities if t == "study" and self._live(i, t, e)]
        if not studies:
            return
        with self.stores[i].unit_of_work(CODERS[i]) as uow:
            cid = uow.create("cmoc", {"study_id": studies[pick % len(studies)],
                                      "statement": self._value(), "owner_id": CODERS[i]})
        self.entities.append(("cmoc", cid))
        self.owner[cid] = CODERS[i]
        self.known_entities[i].add(("cmoc", cid))

    @precondition(lambda self: bool(self.entities))
    @rule(i=replica, pick=st.integers(0, 1000))
    def edit(self, i: int, pick: int) -> None:
        etype, eid = self.entities[pick % len(self.entities)]
        if not self._live(i, etype, eid):
            return
        with self.stores[i].unit_of_work(CODERS[i]) as uow:
            uow.update(etype, eid, {EDITABLE[etype]: self._value()})

    @precondition(lambda self: bool(self.entities))
    @rule(i=replica, pick=st.integers(0, 1000))
    def delete(self, i: int, pick: int) -> None:
        etype, eid = self.entities[pick % len(self.entities)]
        with self.stores[i].unit_of_work(CODERS[i]) as uow:
            uow.delete(etype, eid)

    @precondition(lambda self: bool(self.entities))
    @rule(i=replica, pick=st.integers(0, 1000))
    def restore(self, i: int, pick: int) -> None:
        etype, eid = self.entities[pick % len(self.entities)]
        with self.stores[i].unit_of_work(CODERS[i]) as uow:
            uow.restore(etype, eid)

    @precondition(lambda self: any(t == "cmoc" for t, _ in self.entities))
    @rule(i=replica, pick=st.integers(0, 1000), code=st.sampled_from(CODES), on=st.booleans())
    def tag(self, i: int, pick: int, code: str, on: bool) -> None:
        cmocs = [e for t, e in self.entities if t == "cmoc" and self._live(i, t, e)]
        if not cmocs:
            return
        cmoc = cmocs[pick % len(cmocs)]
        with self.stores[i].unit_of_work(CODERS[i]) as uow:
            if on:
                uow.link("cmoc_code", cmoc_id=cmoc, code_id=code)
            else:
                uow.unlink("cmoc_code", cmoc_id=cmoc, code_id=code)
        if on:
            self.known_entities[i].add(("cmoc_code", link_id("cmoc_code", cmoc, code)))

    @rule(i=replica, src=st.sampled_from(CODES), dst=st.sampled_from(CODES))
    def merge_code(self, i: int, src: str, dst: str) -> None:
        """A coordinator folds one code into another, as coding.merge_codes does."""
        store = self.stores[i]
        if src == dst or store.get("code", src) is None or store.get("code", dst) is None:
            return
        with store.unit_of_work(CODERS[i]) as uow:
            for row in store.links("cmoc_code", code_id=src):
                uow.link("cmoc_code", cmoc_id=row["cmoc_id"], code_id=dst)
                uow.unlink("cmoc_code", cmoc_id=row["cmoc_id"], code_id=src)
            uow.update("code", src, {"merged_into": dst})
            uow.delete("code", src)

    @rule(i=replica, code=st.sampled_from(CODES), keep=st.booleans())
    def delete_or_restore_code(self, i: int, code: str, keep: bool) -> None:
        with self.stores[i].unit_of_work(CODERS[i]) as uow:
            if keep:
                uow.restore("code", code)
            else:
                uow.delete("code", code)

    @rule(i=replica, code=st.sampled_from(CODES), parent=st.sampled_from([None, *CODES]))
    def move_code(self, i: int, code: str, parent: str | None) -> None:
        """Move a code under another; like the desk, refuse a move that makes a cycle here."""
        store = self.stores[i]
        if store.get("code", code) is None:
            return
        codes = {c.id: c for c in store.list("code")}
        p, walked = parent, set()
        while p and p not in walked:  # a merged cycle waiting to be settled is walked once
            if p == code:
                return
            walked.add(p)
            p = codes[p].parent_id if p in codes else None
        with store.unit_of_work(CODERS[i]) as uow:
            uow.update("code", code, {"parent_id": parent})

    @rule(i=replica, j=replica, how=st.sampled_from(["flip", "forge", "not_json", "rows"]),
          pick=st.integers(0, 10_000))
    def merge_tampered(self, i: int, j: int, how: str, pick: int) -> None:
        """Merge a copy of j that was altered on the way: what was altered never gets in."""
        if i == j:
            return
        folder = Path(tempfile.mkdtemp(prefix="cmo-tampered-"))
        try:
            copy = folder / "tampered.cmo"
            src = sqlite3.connect(f"file:{self.paths[j]}?mode=ro", uri=True)
            dst = sqlite3.connect(copy)
            src.backup(dst)
            src.close()
            # the log is the table ``log`` (read through the view ``changes``, whose
            # ``change_id`` is the key, the id's first 8 bytes): a row is altered there, by its
            # place ``seq``, and its whole id is the one its content gives
            rows = dst.execute("SELECT seq, value FROM changes "
                               "ORDER BY change_id, seq").fetchall()
            seq, value = rows[pick % len(rows)]
            (picked,) = log_rows(dst, "WHERE seq = ?", (seq,))
            cid = picked.change_id
            value = value_json(value)
            if how == "flip":
                alter(dst, "UPDATE log SET value = ? WHERE seq = ?",
                      (json.dumps(["flipped", value]), seq))
                bad = cid
            elif how == "forge":
                bad = f"{pick:064x}"
                alter(dst, "INSERT INTO log (key, entity, field, value, wall, counter, site, "
                      "coder, parents, seen) SELECT ?, entity, field, '\"forged\"', wall, "
                      "counter, site, coder, parents, seen FROM log WHERE seq = ?",
                      (stored_change_id(bad), seq))
            elif how == "not_json":
                alter(dst, "UPDATE log SET value = 'not json {' WHERE seq = ?", (seq,))
                bad = cid
            else:
                dst.execute("UPDATE study SET label = 'forged'")
                dst.execute("DELETE FROM conflicts")
                bad = None
            dst.commit()
            dst.close()
            had = cid in read_log(self.stores[i])
            merge_file(self.stores[i], copy)
            log = read_log(self.stores[i])
            if bad is not None and not had:
                if how == "forge":
                    assert bad not in log
                else:
                    assert bad not in log or log[bad]["value"] != "forged"
            assert all(c["value"] != "forged" for c in log.values())
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        self.forged.add(f"{pick:064x}")

    @rule(i=replica, pick=st.integers(0, 1000), choice=st.integers(0, 2))
    def resolve(self, i: int, pick: int, choice: int) -> None:
        conflicts = self.stores[i].conflicts()
        if not conflicts:
            return
        c = conflicts[pick % len(conflicts)]
        if c.kind == "parent_cycle":
            with self.stores[i].unit_of_work(CODERS[i]) as uow:
                uow.resolve(c.entity_type, c.entity_id, "parent_id", None)
            assert not [x for x in self.stores[i].conflicts() if x.kind == "parent_cycle"
                        and x.entity_id == c.entity_id]
            return
        if c.kind in ("code_in_use", "study_in_use"):
            with self.stores[i].unit_of_work(CODERS[i]) as uow:
                uow.resolve(c.entity_type, c.entity_id, EXISTS, True)
            return
        with self.stores[i].unit_of_work(CODERS[i]) as uow:
            if c.field == EXISTS:
                uow.resolve(c.entity_type, c.entity_id, EXISTS, bool(choice % 2))
            elif choice < len(c.values):
                uow.resolve(c.entity_type, c.entity_id, c.field, c.values[choice].value)
            else:
                uow.resolve(c.entity_type, c.entity_id, c.field, self._value())
        assert not [x for x in self.stores[i].conflicts()
                    if (x.entity_type, x.entity_id, x.field) == (c.entity_type, c.entity_id,
                                                                 c.field)]

    @rule(i=replica, jump=st.sampled_from([-10 * DAY_MS, -60_000, -1, 0, 1, 5_000, 3 * DAY_MS,
                                           14 * 365 * DAY_MS]))
    def skew_clock(self, i: int, jump: int) -> None:
        self.now[i] += jump
        self.max_now[i] = max(self.max_now[i], self.now[i])

    @rule(i=replica, j=replica)
    def merge(self, i: int, j: int) -> None:
        if i == j:
            return
        merge_file(self.stores[i], self.paths[j])
        self.known_entities[i] |= self.known_entities[j]
        self.known_changes[i] |= self.known_changes[j]

    # -- invariants --

    @invariant()
    def guarantees_hold(self) -> None:
        for i, store in enumerate(self.stores):
            log = read_log(store)
            # nothing is lost: no change id, no record id ever disappears
            assert self.known_changes[i] <= log.keys()
            ids = {(c["type"], c["id"]) for c in log.values()}
            assert self.known_entities[i] <= ids
            # clocks of this laptop's own changes strictly increase, whatever its wall clock did
            mine = sorted(c["clock"] for cid, c in log.items()
                          if c["site"] == store.site.site_id and cid not in self.known_changes[i])
            assert len(set(mine)) == len(mine)
            if mine:
                assert mine[0] > self.last_clock[i]
                self.last_clock[i] = mine[-1]
            self.known_changes[i] = set(log)
            assert not self.forged & log.keys()
            # a laptop never takes on another laptop's clock beyond its own time plus a margin
            assert store.clock.wall <= self.max_now[i] + ADOPT_LIMIT_MS
            conn = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)
            try:
                # a coding never vanishes: a live tagging with a deleted code either follows
                # the code it was merged into, or is a conflict on the code for a person
                codes = {r[0]: (bool(r[1]), r[2], r[3]) for r in conn.execute(
                    "SELECT id, deleted, merged_into, parent_id FROM code")}
                in_conflict = {(r[0], r[1]) for r in conn.execute(
                    "SELECT entity_type, entity_id FROM conflicts")}
                for cmoc, code in conn.execute(
                        "SELECT l.cmoc_id, l.code_id FROM cmoc_code l JOIN cmoc c "
                        "ON c.id = l.cmoc_id AND c.deleted = 0 WHERE l.deleted = 0"):
                    target, hops = code, 0
                    while target in codes and codes[target][0] and codes[target][1] and hops < 9:
                        target, hops = codes[target][1], hops + 1
                    if target in codes and not codes[target][0]:
                        assert target in store.get("cmoc", cmoc).code_ids
                    else:
                        assert ("code", code) in in_conflict
                # a cycle in the live codebook is listed for a person
                live_parent = {k: v[2] for k, v in codes.items() if not v[0]}
                for k in live_parent:
                    seen, p = [k], live_parent[k]
                    while p in live_parent and p not in seen:
                        seen.append(p)
                        p = live_parent[p]
                    if p in seen:
                        cycle = seen[seen.index(p):]
                        assert ("code", min(cycle)) in in_conflict
                # ownership is fixed
                for cid, owner in conn.execute("SELECT id, owner_id FROM cmoc"):
                    assert owner == self.owner[cid]
                conflicts = set(conn.execute(
                    "SELECT entity_type, entity_id, kind FROM conflicts").fetchall())
                live_ids = {(t, r[0]) for t in ("study", "cmoc", "cmoc_code")
                            for r in conn.execute(f"SELECT id FROM {t} WHERE deleted = 0")}
            finally:
                conn.close()
            by_entity: dict[tuple[str, str], list[str]] = {}
            for cid, c in log.items():
                by_entity.setdefault((c["type"], c["id"]), []).append(cid)
            for (etype, eid), cids in by_entity.items():
                if etype not in ("study", "cmoc", "cmoc_code"):
                    continue
                exists = [cid for cid in cids if log[cid]["field"] == EXISTS]
                replaced = {p for cid in exists for p in log[cid]["parents"]}
                heads = [cid for cid in exists if cid not in replaced]
                live = (etype, eid) in live_ids
                deletes = [cid for cid in exists if log[cid]["value"] is False]
                if live:
                    # deletes stick: a live record's every deletion was seen by a restore
                    restored_over = ancestors_of([h for h in heads if log[h]["value"]], log)
                    assert set(deletes) <= restored_over
                else:
                    # an edit the deleter never saw is a conflict, not silently dropped
                    delete_heads = [h for h in heads if log[h]["value"] is False]
                    seen = ancestors_of([s for h in delete_heads for s in log[h]["seen"]], log)
                    unseen_edits = [cid for cid in cids if log[cid]["field"] != EXISTS
                                    and cid not in seen and log[cid]["field"] in
                                    ("label", "statement")]
                    if unseen_edits:
                        assert (etype, eid, "edit_vs_delete") in conflicts

    def teardown(self) -> None:
        unit_of_work.new_id = self._real_new_id
        try:
            if self.stores:
                # gather everything into the first replica, then hand it to everyone else
                for j in range(1, REPLICAS):
                    merge_file(self.stores[0], self.paths[j])
                for i in range(1, REPLICAS):
                    merge_file(self.stores[i], self.paths[0])
                dumps = [s.dump_json() for s in self.stores]
                assert all(d == dumps[0] for d in dumps)
                logs = [set(read_log(s)) for s in self.stores]
                assert all(log == logs[0] for log in logs)
                everything = set().union(*self.known_entities)
                dumped = json.loads(dumps[0])
                listed = {(t, d["id"]) for t in ("study", "cmoc", "cmoc_code")
                          for d in dumped[t]} | {
                    (t, d) for t in ("study", "cmoc", "cmoc_code") for d in dumped[t + "_deleted"]}
                assert everything <= listed
                # merging again changes nothing
                again = merge_file(self.stores[0], self.paths[1])
                assert again.new_changes == 0
        finally:
            self.stores = []


MergeMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("CMO_MERGE_EXAMPLES", "100")),
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestMergeProperties = MergeMachine.TestCase
