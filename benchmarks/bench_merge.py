"""Merging three coders' copies of a 500-study project, then merging the same file again.

Usage: python benchmarks/bench_merge.py [--large FILE] [--keep DIR]

The copies are taken from the cached benchmark project (benchmarks/largeproject.py, three coders
with 20 excerpts and 5 CMOCs per study each): the coordinator's project holds the studies, their
texts and the codebook; each coder's copy holds that plus the coder's own coding. They are made
by deleting the other coders' changes from copies of the large project and rebuilding each copy
from its log (about two minutes; with --keep they are made once and reused).

Figures, each beside its floor measured in the same run and its target:
- the three merges (store level): floor a bare SQL union of the same logs (INSERT OR IGNORE,
  no checks, no projection); target <= 10 s;
- ``cmo-desk merge PROJECT A B C`` as a person runs it (start-up, checks, the backup and all);
- merging one of them again: target <= 1 s, nothing added;
- a delta bundle of a day of 100 edits: floor the bare rows gzipped; target <= 200 KB.
Each incoming change is checked against its content id, and the merged records are projected
from the log alone.
"""

from __future__ import annotations

import argparse
import gzip
import json
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
sys.path.insert(0, str(ROOT / "benchmarks"))

from cmo_desk.domain.ids import coder_id  # noqa: E402
from cmo_desk.store.files import read_uri  # noqa: E402
from cmo_desk.store.logformat import COLUMNS, append_from, stored_id, text_row  # noqa: E402
from cmo_desk.store.merging import merge_file, write_delta_bundle  # noqa: E402
from cmo_desk.store.project_store import ProjectStore  # noqa: E402
from cmo_desk.store.site import Site  # noqa: E402

CODERS = ("Coder A", "Coder B", "Coder C")
#: Record types a coder makes while coding (the rest is the coordinator's set-up).
CODING = ("excerpt", "cmoc", "excerpt_code", "cmoc_code", "cmoc_excerpt")
THREE_TARGET_S = 10.0
REPEAT_TARGET_S = 1.0
BUNDLE_TARGET_KB = 200


def _derive(large: Path, dest: Path, keep: str | None) -> None:
    """A copy of ``large`` with only the set-up and the coding of ``keep`` (None: set-up only)."""
    tmp = dest.with_name(dest.name + ".partial")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(read_uri(large, immutable=True), uri=True)
    out = sqlite3.connect(tmp)
    try:
        src.backup(out)
        others = [stored_id(coder_id(c)) for c in CODERS if c != keep]
        marks, kinds = ",".join("?" * len(others)), ",".join("?" * len(CODING))
        # a numbered log is read through its view and its rows deleted from ``log``
        numbered = out.execute("SELECT count(*) FROM sqlite_master WHERE name = 'log'"
                               ).fetchone()[0]
        rows = ("DELETE FROM log WHERE seq IN (SELECT seq FROM changes WHERE {})" if numbered
                else "DELETE FROM changes WHERE {}")
        gone = out.execute(rows.format(f"coder_id IN ({marks}) AND entity_type IN ({kinds})"),
                           (*others, *CODING)).rowcount
        assert gone > 0, "no other coder's change was found"
        # the coders who are not on this laptop (the one who set the project up stays)
        out.execute(rows.format(f"coder_id IN ({marks}) AND entity_type = 'coder' "
                                "AND entity_id != ?"), (*others, stored_id(coder_id(CODERS[0]))))
        if numbered:  # records, laptops and names no row names any longer
            out.execute("DELETE FROM log_records WHERE NOT EXISTS "
                        "(SELECT 1 FROM log WHERE entity = log_records.n)")
        out.commit()
    finally:
        out.close()
        src.close()
    store = ProjectStore.open(tmp, site=Site(site_id=str(coder_id(f"site {keep}"))))
    try:
        store.rebuild()
    finally:
        store.close()
    con = sqlite3.connect(tmp)
    try:
        con.execute("PRAGMA journal_mode=DELETE")
        con.execute("VACUUM")
    finally:
        con.close()
    tmp.rename(dest)


def derive_all(large: Path, folder: Path) -> tuple[Path, list[Path]]:
    base = folder / "base.cmo"
    copies = [folder / f"{c.replace(' ', '_')}.cmo" for c in CODERS]
    for dest, keep in ((base, None), *zip(copies, CODERS)):
        if dest.exists():
            continue
        t = time.perf_counter()
        _derive(large, dest, keep)
        print(f"made {dest.name} ({keep or 'set-up only'}): {time.perf_counter() - t:.0f} s, "
              f"{dest.stat().st_size / 1e6:.0f} MB", flush=True)
    return base, copies


def fresh(base: Path, dest: Path) -> Path:
    for extra in ("", "-wal", "-shm"):
        Path(str(dest) + extra).unlink(missing_ok=True)
    shutil.copyfile(base, dest)
    return dest


def bare_union(base: Path, copies: list[Path], scratch: Path) -> float:
    fresh(base, scratch)
    t = time.perf_counter()
    con = sqlite3.connect(scratch)
    for c in copies:
        con.execute("ATTACH DATABASE ? AS o", (read_uri(c, immutable=True),))
        append_from(con, "o.changes", ignore=True, order="s.seq")
        con.commit()
        con.execute("DETACH DATABASE o")
    con.close()
    took = time.perf_counter() - t
    scratch.unlink()
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--large", type=Path,
                        help="the large benchmark project (default: the cached one)")
    parser.add_argument("--keep", type=Path, help="make and keep the copies in this folder")
    args = parser.parse_args()
    if args.large is None:
        from largeproject import cached_large_project

        args.large = cached_large_project()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="bench-merge-"))
    folder.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("CMO_DESK_CONFIG_DIR", str(folder / "config"))
    try:
        base, copies = derive_all(args.large, folder)
        floor = bare_union(base, copies, folder / "floor.cmo")

        target = fresh(base, folder / "coordinator.cmo")
        store = ProjectStore.open(target, site=Site(site_id=str(coder_id("site coordinator"))))
        t = time.perf_counter()
        total = 0
        for c in copies:
            s0 = time.perf_counter()
            stats = merge_file(store, c)
            total += stats.new_changes
            print(f"  merge {c.name}: {stats.new_changes} changes, {stats.touched} records, "
                  f"{time.perf_counter() - s0:.2f} s", flush=True)
        three = time.perf_counter() - t
        t = time.perf_counter()
        again = merge_file(store, copies[1])
        repeat = time.perf_counter() - t

        # A day of 100 edits sent as a delta bundle to someone who has everything else.
        theirs = folder / "theirs.cmo"
        theirs.unlink(missing_ok=True)
        store.backup(theirs)
        cmoc = store.list("cmoc")[0].id
        with store.unit_of_work(coder_id("Coder A")) as uow:
            for n in range(100):
                uow.update("cmoc", cmoc, {"memo": f"edit {n}: peers built trust over months"})
        t = time.perf_counter()
        bundle = folder / "day.cmobundle"
        bundle.unlink(missing_ok=True)
        sent, _blobs = write_delta_bundle(store, bundle, theirs)
        bundle_s = time.perf_counter() - t
        info = store.info()
        store.close()
        rows = [text_row(*r) for r in sqlite3.connect(str(target)).execute(
            f"SELECT {COLUMNS} FROM changes ORDER BY seq DESC LIMIT 100")]
        bundle_floor = len(gzip.compress(json.dumps(rows).encode("utf-8")))

        # As a person runs it: one command, start-up, checks and the backup included.
        by_hand = fresh(base, folder / "by-hand.cmo")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        t = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "cmo_desk", "merge", str(by_hand),
                               *map(str, copies)], capture_output=True, text=True, env=env)
        command = time.perf_counter() - t
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 1

        print(f"merging three copies: {three:.2f} s ({total} changes; floor {floor:.2f} s "
              f"for a bare union of the logs, {three / floor:.1f}x; target <= "
              f"{THREE_TARGET_S:.0f} s)")
        print(f"'cmo-desk merge' of the three, backup and all: {command:.2f} s (floor "
              f"{floor:.2f} s; target <= {THREE_TARGET_S:.0f} s)")
        print(f"merging one again: {repeat:.2f} s, {again.new_changes} changes added "
              f"(target <= {REPEAT_TARGET_S:.0f} s, 0 added)")
        print(f"result: {info['excerpts']} excerpts, {info['cmocs']} CMOCs, "
              f"{info['conflicts']} conflicts")
        print(f"delta bundle of a day of 100 edits: {bundle.stat().st_size / 1024:.0f} KB, "
              f"{sent} changes, {bundle_s:.2f} s (floor {bundle_floor / 1024:.0f} KB for the "
              f"bare rows gzipped; target <= {BUNDLE_TARGET_KB} KB)")
        ok = (three <= THREE_TARGET_S and repeat <= REPEAT_TARGET_S and again.new_changes == 0
              and bundle.stat().st_size <= BUNDLE_TARGET_KB * 1024)
        return 0 if ok else 1
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
