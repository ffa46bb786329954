"""Size of the 500-study project file beside the text it holds, before and after the upgrade
to the numbered layout, with the size of each table and index.

    python benchmarks/bench_file_size.py [--large benchmarks/out/large-500.cmo]

The floor is the text the project holds (the UTF-8 bytes of its live documents' texts, read
through the store from the log, which alone holds them); the target
is a file of at most 4 times that. The project is copied, then opened (which upgrades and
compacts an older file); the cached file is left as it is.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
TARGET_RATIO = 4.0
MB = 1e6


def tables(path: Path, top: int = -1) -> list[tuple[str, float]]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [(name, size / MB) for name, size in con.execute(
            "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT ?",
            (top,))]
    finally:
        con.close()


def text_bytes(store: Any) -> int:
    """The UTF-8 bytes of the live documents' texts, as the open project shows them (read from
    its log), a few documents at a time."""
    ids = [d.id for d in store.list("document", columns=("sha256",))]
    return sum(len((d.text or "").encode("utf-8", "surrogatepass"))
               for start in range(0, len(ids), 40)
               for d in store.list("document", id=ids[start:start + 40]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--large", type=Path, default=None,
                    help="a large project (default: the cached 500-study benchmark project)")
    args = ap.parse_args()
    if args.large is None:
        from largeproject import cached_large_project

        args.large = cached_large_project(upgrade=False)  # generated once, then reused
    from cmo_desk.store.project_store import HEAD_REVISION, ProjectStore

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["CMO_DESK_CONFIG_DIR"] = str(folder / "cfg")
        copy = folder / "large.cmo"
        shutil.copyfile(args.large, copy)
        before = copy.stat().st_size / MB
        before_tables = tables(copy, 12)
        start = time.perf_counter()
        store = ProjectStore.open(copy, upgrade_backup_dir=folder)
        upgrade = time.perf_counter() - start
        floor = text_bytes(store) / MB
        changes = store.change_count()
        start = time.perf_counter()
        hits = len(store.search("methadone trust"))
        search = time.perf_counter() - start
        store.close()
        after = copy.stat().st_size / MB
        after_tables = tables(copy)
        print(f"project file size, {args.large.name} ({changes:,} changes; load "
              f"{os.getloadavg()[0]:.1f})")
        print(f"text held (floor)      {floor:7.1f} MB   target <= {TARGET_RATIO:.0f}x = "
              f"{TARGET_RATIO * floor:.1f} MB")
        print(f"file before upgrade    {before:7.1f} MB   {before / floor:5.1f}x the text")
        print(f"file after (rev {HEAD_REVISION})  {after:7.1f} MB   {after / floor:5.1f}x the "
              f"text   {'ok' if after <= TARGET_RATIO * floor else 'OVER'}")
        print(f"upgrade + compaction   {upgrade:7.1f} s    (report); search after it: "
              f"{hits} hits in {search * 1000:.0f} ms")
        print("largest tables and indexes, MB:   before   after")
        now = dict(after_tables)
        for name, size in before_tables:
            print(f"  {name:30s} {size:8.1f} {now.pop(name, 0.0):7.1f}")
        print("  (new, or now among the largest)")
        for name, size in sorted(now.items(), key=lambda kv: -kv[1])[:4]:
            print(f"  {name:30s} {'-':>8s} {size:7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
