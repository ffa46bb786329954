"""The team hub: first push of a large project, an incremental pull of 100 changes, and ten laptops
syncing 1,000 edits each at once, against a throwaway PostgreSQL server on loopback.

Run from the repository root: ``.venv/bin/python benchmarks/bench_hub.py [--studies 500]``.
Floors, measured in the same run: the same rows sent with one bare ``executemany`` in one
transaction (push), and the same 100 rows fetched with a bare ``SELECT`` (pull).
Targets: incremental pull of 100 changes <= 1 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from largeproject import cached_large_project  # noqa: E402

from cmo_desk.services import coding  # noqa: E402
from cmo_desk.services.hub import add_member, init_hub, sync  # noqa: E402
from cmo_desk.services.session import Session  # noqa: E402
from cmo_desk.store.logformat import COLUMNS, text_row  # noqa: E402
from hub.conftest import throwaway_server  # noqa: E402


def _role(server, name: str) -> None:  # type: ignore[no-untyped-def]
    server.sql(f"DO $$ BEGIN CREATE ROLE {name} LOGIN; EXCEPTION WHEN duplicate_object THEN "
               "NULL; END $$", database="postgres")


def first_push(server, project: Path, work: Path) -> None:  # type: ignore[no-untyped-def]
    import psycopg

    db = server.fresh_database("bench_push")
    copy = work / "coordinator.cmo"
    shutil.copy(project, copy)
    _role(server, "cora")
    init_hub(server.url(database=db), copy, None, "cora", "Coder A")
    os.environ["CMO_DESK_CONFIG_DIR"] = str(work / "cora-laptop")
    with Session.open(copy, coder="Coder A") as s:
        n = s.store.change_count()
        start = time.perf_counter()
        report = sync(s, server.url("cora", db))
        took = time.perf_counter() - start
    # floor: the same rows, one bare executemany, one transaction, into a fresh table
    src = sqlite3.connect(copy)
    # as the hub keeps them: ids as text, values as JSON text
    rows = [text_row(*r) for r in src.execute(f"SELECT {COLUMNS} FROM changes")]
    src.close()
    floor_db = server.fresh_database("bench_floor")
    with psycopg.connect(server.url(database=floor_db)) as conn:
        conn.execute("CREATE TABLE c (change_id text PRIMARY KEY, entity_type text, entity_id text,"
                     " field text, value text, wall bigint, counter int, site_id text, "
                     "coder_id text, parents text, seen text)")
        start = time.perf_counter()
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO c VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)", rows)
        conn.commit()
        floor = time.perf_counter() - start
    print(f"First push: {report.sent:,} of {n:,} changes, {report.blobs_sent} documents, in "
          f"{took:.1f} s (floor: bare executemany {floor:.1f} s, {took / floor:.2f}x)")
    return db, copy  # type: ignore[return-value]


def incremental_pull(server, db: str, coordinator: Path, work: Path) -> None:  # type: ignore[no-untyped-def]
    import psycopg

    _role(server, "lan")
    add_member(server.url(database=db), coordinator, None, "lan", "Coder B", False)
    lan = work / "lan.cmo"
    shutil.copy(coordinator, lan)
    os.environ["CMO_DESK_CONFIG_DIR"] = str(work / "lan-laptop")
    with Session.open(lan, coder="Coder B") as s:
        sync(s, server.url("lan", db))  # catch up first
    os.environ["CMO_DESK_CONFIG_DIR"] = str(work / "cora-laptop")
    with Session.open(coordinator, coder="Coder A") as s:
        study = s.store.list("study")[0]
        for i in range(50):
            cid, _ = coding.create_cmoc(s, study.id, {"context": f"new context {i}"})
        sync(s)
    os.environ["CMO_DESK_CONFIG_DIR"] = str(work / "lan-laptop")
    with Session.open(lan, coder="Coder B") as s:
        start = time.perf_counter()
        report = sync(s)
        took = time.perf_counter() - start
    with psycopg.connect(server.url(database=db)) as conn:
        start = time.perf_counter()
        conn.execute("SELECT * FROM cmo_hub.change ORDER BY seq DESC LIMIT %s",
                     (report.received,)).fetchall()
        floor = time.perf_counter() - start
    print(f"Incremental pull: {report.received} changes in {took:.2f} s (target <= 1 s; floor: "
          f"bare SELECT {floor * 1000:.0f} ms)")


def ten_laptops(server, work: Path, edits: int) -> None:  # type: ignore[no-untyped-def]
    db = server.fresh_database("bench_ten")
    main = work / "ten.cmo"
    os.environ["CMO_DESK_CONFIG_DIR"] = str(work / "ten-coordinator")
    with Session.create(main, coder="Cora") as s:
        study_id, _ = coding.add_study(s, {"label": "Kyiv 2020"})
    _role(server, "cora")
    init_hub(server.url(database=db), main, None, "cora", "Cora")
    people = [f"coder{i}" for i in range(10)]
    for role in people:
        _role(server, role)
        add_member(server.url(database=db), main, None, role, role.title(), False)
        shutil.copy(main, work / f"{role}.cmo")
        os.environ["CMO_DESK_CONFIG_DIR"] = str(work / f"{role}-laptop")
        with Session.open(work / f"{role}.cmo", coder=role.title()) as s:
            cid, _ = coding.create_cmoc(s, study_id, {"context": role})
            for n in range(edits - 1):
                coding.update_cmoc(s, cid, {"memo": f"edit {n}"})
    start = time.perf_counter()
    procs = [subprocess.Popen(
        [sys.executable, "-m", "cmo_desk", "sync", str(work / f"{role}.cmo"),
         server.url(role, db), "--coder", role.title()],
        env={**os.environ, "CMO_DESK_CONFIG_DIR": str(work / f"{role}-laptop"),
             "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for role in people]
    failed = sum(p.wait() != 0 for p in procs)
    took = time.perf_counter() - start
    for role in people:
        os.environ["CMO_DESK_CONFIG_DIR"] = str(work / f"{role}-laptop")
        with Session.open(work / f"{role}.cmo", coder=role.title()) as s:
            sync(s)
    dumps = set()
    for role in people:
        with Session.open(work / f"{role}.cmo", read_only=True) as s:
            dumps.add(s.store.dump_json())
    print(f"Ten laptops x {edits:,} edits syncing at once: {took:.1f} s, {failed} failed, "
          f"{'converged' if len(dumps) == 1 else 'DID NOT CONVERGE'} after one more round")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--studies", type=int, default=500)
    parser.add_argument("--edits", type=int, default=1000)
    args = parser.parse_args()
    project = cached_large_project(args.studies)
    with tempfile.TemporaryDirectory(prefix="cmo-bench-hub-") as tmp, throwaway_server() as server:
        work = Path(tmp)
        db, coordinator = first_push(server, project, work)
        incremental_pull(server, db, coordinator, work)
        ten_laptops(server, work, args.edits)


if __name__ == "__main__":
    main()
