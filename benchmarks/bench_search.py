"""Full-text search over the 500-study benchmark project (about 60,000 characters a document).

Run from the repository root: ``.venv/bin/python benchmarks/bench_search.py``.
Set CMO_DESK_BENCH_PROJECT to a project file to search it (it is built there when missing);
otherwise the shared benchmark project benchmarks/out/large-500.cmo is used when present, or a
project with the same texts but no coding is built once under benchmarks/out/.
Target: each search at most 100 ms.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from cmo_desk.store.project_store import ProjectStore  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
STUDIES = 500
ROUNDS = 7
QUERIES = (
    "trust",                      # on nearly every page
    "peer outreach",              # two common words
    "naloxone overdose stigma",   # three words
    "methadone",                  # one word, many pages
    "zebra",                      # in no document
)


def build_search_project(path: Path, studies: int = STUDIES) -> None:
    """Studies with their documents only, written in one unit of work."""
    try:
        from largeproject import build_large_project
    except ImportError:
        build_large_project = None
    if build_large_project is not None:
        build_large_project(path, studies=studies, coders=1, excerpts=0, cmocs=0)
        return
    from cmo_desk.services.projects import new_project

    words = ("peer outreach workers clients trust police clinic stigma harm reduction needle "
             "syringe naloxone overdose methadone treatment testing community").split()
    rnd = random.Random(7)
    session = new_project(path, coder="Bench")
    with session.write() as uow:
        for i in range(studies):
            text, starts = "", []
            while len(text) < 60_000:
                if len(text) // 3000 >= len(starts):
                    starts.append(len(text))
                text += " ".join(rnd.choice(words) for _ in range(14)).capitalize() + ". "
            sid = uow.create("study", {"label": f"Study {i:03d}", "title": f"Study {i}"})
            uow.create("document", {"study_id": sid, "text": text, "page_starts": starts,
                                    "filename": f"study{i}.txt", "media_type": "text/plain"})
    session.close()


def project_path() -> Path:
    given = os.environ.get("CMO_DESK_BENCH_PROJECT")
    if given:
        path = Path(given)
    elif (OUT / f"large-{STUDIES}.cmo").exists():
        return OUT / f"large-{STUDIES}.cmo"
    else:
        path = OUT / f"search-{STUDIES}.cmo"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.stem + ".partial.cmo")
        partial.unlink(missing_ok=True)
        start = time.perf_counter()
        build_search_project(partial)
        partial.rename(path)
        print(f"built {path} in {time.perf_counter() - start:.1f} s")
    return path


def main() -> int:
    path = project_path()
    store = ProjectStore.open(path, read_only=True)
    try:
        documents = store.count("document")
        chars = store.list("document", columns=("page_starts",))
        pages = sum(len(d.page_starts or [0]) for d in chars)
        print(f"project: {path.name}, {store.count('study')} studies, {documents} documents, "
              f"{pages} pages")
        store.search("warm up")
        worst = 0.0
        for query in QUERIES:
            times = []
            hits = []
            for _ in range(ROUNDS):
                start = time.perf_counter()
                hits = store.search(query, limit=50)
                times.append(time.perf_counter() - start)
            median = statistics.median(times) * 1000
            worst = max(worst, median)
            print(f"search {query!r:28} {len(hits):3d} hits  median {median:6.1f} ms  "
                  f"max {max(times) * 1000:6.1f} ms")
        print(f"slowest median {worst:.1f} ms (target <= 100 ms)")
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
