"""Merging three coders' copies of a 500-study project, then merging the same file again.

Usage: python benchmarks/bench_merge.py [--studies N] [--keep DIR]
Targets: the three merges together <= 10 s; the repeated merge <= 1 s and nothing added.
Each incoming change is checked against its content id, and the merged records are projected
from the log alone; the floor printed beside the figure is a bare SQL union of the same logs.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sqlite3
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from cmo_desk.domain.ids import coder_id
from cmo_desk.store.merging import merge_file, write_delta_bundle
from cmo_desk.store.project_store import ProjectStore
from cmo_desk.store.site import Site

WORDS = ("peer", "trust", "service", "outreach", "stigma", "police", "clinic", "worker",
         "harm", "reduction", "network", "support", "access", "testing", "housing", "fear")
TEXT_CHARS = 60_000
EXCERPTS = 20
CMOCS = 5


def text_for(rng: random.Random) -> str:
    words = []
    size = 0
    while size < TEXT_CHARS:
        w = rng.choice(WORDS)
        words.append(w)
        size += len(w) + 1
    return " ".join(words)[:TEXT_CHARS]


def build_base(path: Path, studies: int) -> tuple[list[tuple[str, str]], list[str]]:
    rng = random.Random(1)
    store = ProjectStore.create(path, title="Benchmark", site=Site(site_id=str(coder_id("base"))))
    docs: list[tuple[str, str]] = []
    codes: list[str] = []
    with store.unit_of_work(None) as uow:
        for k in range(40):
            codes.append(uow.create("code", {"name": f"Code {k}", "kind": "mechanism"}))
        for n in range(studies):
            sid = uow.create("study", {"label": f"Study {n:03d}", "year": 2000 + n % 20,
                                       "title": f"A study of {rng.choice(WORDS)} number {n}"})
            did = uow.create("document", {"study_id": sid, "filename": f"s{n}.pdf",
                                          "text": text_for(rng), "page_starts": [0]})
            docs.append((sid, did))
    store.close()
    return docs, codes


def code_copy(path: Path, coder: str, docs: list[tuple[str, str]], codes: list[str]) -> None:
    rng = random.Random(coder)
    cid = coder_id(coder)
    store = ProjectStore.open(path, site=Site(site_id=str(coder_id("site " + coder))))
    with store.unit_of_work(cid) as uow:
        uow.create("coder", {"name": coder}, id=cid)
        for sid, did in docs:
            excerpts = []
            for _ in range(EXCERPTS):
                start = rng.randrange(0, TEXT_CHARS - 400)
                end = start + rng.randrange(50, 400)
                eid = uow.create("excerpt", {"document_id": did, "study_id": sid, "start": start,
                                             "end": end, "quote": "q" * (end - start),
                                             "role": "mechanism", "owner_id": cid})
                uow.link("excerpt_code", excerpt_id=eid, code_id=rng.choice(codes))
                excerpts.append(eid)
            for k in range(CMOCS):
                cm = uow.create("cmoc", {"study_id": sid, "statement": f"{coder} CMOC {k}",
                                         "context": "c", "outcome": "o", "owner_id": cid,
                                         "status": "draft"})
                uow.link("cmoc_code", cmoc_id=cm, code_id=rng.choice(codes))
                for eid in rng.sample(excerpts, 2):
                    uow.link("cmoc_excerpt", cmoc_id=cm, excerpt_id=eid, slot="mechanism")
    store.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--studies", type=int, default=500)
    parser.add_argument("--keep", type=Path, help="keep the files in this folder")
    args = parser.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="bench-merge-"))
    folder.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("CMO_DESK_CONFIG_DIR", str(folder / "config"))
    try:
        t = time.perf_counter()
        base = folder / "base.cmo"
        docs, codes = build_base(base, args.studies)
        print(f"base project: {args.studies} studies in {time.perf_counter() - t:.1f} s, "
              f"{base.stat().st_size / 1e6:.1f} MB")
        copies = []
        for coder in ("Coder A", "Coder B", "Coder C"):
            t = time.perf_counter()
            dest = folder / f"{coder.replace(' ', '_')}.cmo"
            shutil.copyfile(base, dest)
            code_copy(dest, coder, docs, codes)
            copies.append(dest)
            print(f"{coder}: coded in {time.perf_counter() - t:.1f} s, "
                  f"{dest.stat().st_size / 1e6:.1f} MB")
        # Floor: only reading the three incoming logs and appending them to a copy of the
        # base's log with plain SQL (no checks, no projection), measured in this same run.
        scratch = folder / "floor.cmo"
        shutil.copyfile(base, scratch)
        t = time.perf_counter()
        con = sqlite3.connect(scratch)
        for c in copies:
            con.execute("ATTACH DATABASE ? AS o", (str(c),))
            con.execute("INSERT OR IGNORE INTO changes SELECT * FROM o.changes")
            con.commit()
            con.execute("DETACH DATABASE o")
        con.close()
        floor = time.perf_counter() - t
        scratch.unlink()
        target = folder / "coordinator.cmo"
        shutil.copyfile(base, target)
        store = ProjectStore.open(target, site=Site(site_id=str(coder_id("site coordinator"))))
        t = time.perf_counter()
        total = 0
        for c in copies:
            s0 = time.perf_counter()
            stats = merge_file(store, c)
            total += stats.new_changes
            print(f"  merge {c.name}: {stats.new_changes} changes, {stats.touched} records, "
                  f"{time.perf_counter() - s0:.2f} s")
        three = time.perf_counter() - t
        t = time.perf_counter()
        again = merge_file(store, copies[1])
        repeat = time.perf_counter() - t
        # A day of 100 edits sent as a delta bundle to someone who has everything else.
        theirs = folder / "theirs.cmo"
        store.backup(theirs)
        cmoc = store.list("cmoc")[0].id
        with store.unit_of_work(coder_id("Coder A")) as uow:
            for n in range(100):
                uow.update("cmoc", cmoc, {"memo": f"edit {n}: peers built trust over months"})
        t = time.perf_counter()
        bundle = folder / "day.cmobundle"
        sent, _blobs = write_delta_bundle(store, bundle, theirs)
        bundle_s = time.perf_counter() - t
        rows = sqlite3.connect(str(target)).execute(
            "SELECT * FROM changes ORDER BY rowid DESC LIMIT 100").fetchall()
        bundle_floor = len(gzip.compress(json.dumps(rows).encode("utf-8")))
        info = store.info()
        store.close()
        print(f"merging three copies: {three:.2f} s ({total} changes; floor {floor:.2f} s "
              f"for a bare union of the logs; target <= 10 s)")
        print(f"merging one again: {repeat:.2f} s, {again.new_changes} changes added "
              f"(target <= 1 s, 0 added)")
        print(f"result: {info['excerpts']} excerpts, {info['cmocs']} CMOCs, "
              f"{info['conflicts']} conflicts")
        print(f"delta bundle of a day of 100 edits: {bundle.stat().st_size / 1024:.0f} KB, "
              f"{sent} changes, {bundle_s:.2f} s (floor {bundle_floor / 1024:.0f} KB for the "
              f"bare rows gzipped; target <= 200 KB)")
        ok = (three <= 10 and repeat <= 1 and again.new_changes == 0
              and bundle.stat().st_size <= 200 * 1024)
        return 0 if ok else 1
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
