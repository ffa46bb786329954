"""Store figures on the 500-study benchmark project (issue targets in brackets).

    python benchmarks/bench_store.py [--studies 500]

Prints: time to open the project and list its studies (<= 0.3 s), time to load one study with its
text and excerpts (<= 50 ms), median time to save one field edit, commit and checkpoint included
(<= 15 ms) beside its floor (the same edit committed to the -wal only, as before every commit was
copied into the main file), and the file size. Each figure is the median of several rounds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from largeproject import cached_large_project  # noqa: E402

from cmo_desk.services import coding  # noqa: E402
from cmo_desk.services.session import Session  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--studies", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    os.environ.setdefault("CMO_DESK_CONFIG_DIR", tempfile.mkdtemp())
    t = time.perf_counter()
    path = cached_large_project(args.studies)
    print(f"project: {path} ({time.perf_counter() - t:.1f} s to get)")

    opens = []
    for _ in range(args.rounds):
        t = time.perf_counter()
        s = Session.open(path, coder="Coder A")
        studies = s.store.list("study", columns=("label", "year"))
        opens.append(time.perf_counter() - t)
        s.close()
    print(f"open + list {len(studies)} studies: median {statistics.median(opens) * 1000:.0f} ms "
          f"(min {min(opens) * 1000:.0f} ms)  [target <= 300 ms]")

    s = Session.open(path, coder="Coder A")
    ids = [st.id for st in s.store.list("study", columns=("label",))]
    loads = []
    for i in range(args.rounds * 3):
        sid = ids[(i * 37) % len(ids)]
        t = time.perf_counter()
        docs = s.store.list("document", study_id=sid)
        excerpts = s.store.list("excerpt", study_id=sid)
        cmocs = s.store.list("cmoc", study_id=sid)
        loads.append(time.perf_counter() - t)
    print(f"load one study ({len(docs[0].text or '')} chars, {len(excerpts)} excerpts, "
          f"{len(cmocs)} CMOCs): median {statistics.median(loads) * 1000:.1f} ms  "
          f"[target <= 50 ms]")

    mine = s.store.list("cmoc", owner_id=s.coder_id, study_id=ids[0])[0]
    saves = []
    for i in range(args.rounds * 5):
        t = time.perf_counter()
        coding.update_cmoc(s, mine.id, {"context": f"edited context {i}"})
        saves.append(time.perf_counter() - t)
    # The floor: the same edits committed to the -wal only (no checkpoint after each commit).
    from sqlalchemy import event

    def no_checkpoint(dbapi_conn: object, _record: object) -> None:
        dbapi_conn.execute("PRAGMA wal_autocheckpoint=0")  # type: ignore[attr-defined]

    event.listen(s.store.engine, "connect", no_checkpoint)
    s.store.engine.dispose()
    settle = s.store.settle
    s.store.settle = lambda conn=None: True  # type: ignore[method-assign]
    floor = []
    for i in range(args.rounds * 5):
        t = time.perf_counter()
        coding.update_cmoc(s, mine.id, {"context": f"floor context {i}"})
        floor.append(time.perf_counter() - t)
    s.store.settle = settle  # type: ignore[method-assign]
    print(f"save one field edit (commit + checkpoint into the .cmo, synchronous=FULL): median "
          f"{statistics.median(saves) * 1000:.1f} ms  floor (commit to -wal only) "
          f"{statistics.median(floor) * 1000:.1f} ms  [target <= 15 ms]")
    s.close()
    print(f"file size: {path.stat().st_size / 1e6:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
