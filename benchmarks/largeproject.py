"""Generate the large benchmark project: 500 studies, ~60,000 characters of text each, 3 coders,
20 excerpts and 5 CMOCs per study per coder.

    python benchmarks/largeproject.py OUT.cmo [--studies 500] [--coders 3]

Other benchmarks import ``build_large_project`` and cache the file under benchmarks/out/.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Any

from cmo_desk.domain.ids import coder_id
from cmo_desk.services.projects import new_project
from cmo_desk.services.session import Session

WORDS = (
    "peer outreach workers clients trust police registration clinic stigma harm reduction "
    "needle syringe programme naloxone overdose methadone treatment testing HIV hepatitis "
    "community network accompaniment navigation lived experience commitment empathy funding "
    "donor transition employment stipend supervision training women young people prison "
    "detention criminalisation access uptake acceptability quality risk behaviour advocacy"
).split()
OUT = Path(__file__).resolve().parent / "out"


def _text(rnd: random.Random, chars: int) -> tuple[str, list[int]]:
    parts: list[str] = []
    starts: list[int] = []
    length = 0
    page_len = 3000
    while length < chars:
        if length // page_len >= len(starts):
            starts.append(length)
        sentence = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(8, 20)))
        sentence = sentence.capitalize() + ". "
        parts.append(sentence)
        length += len(sentence)
    return "".join(parts), starts


def _code_study(uow: Any, rnd: random.Random, coder: str | None, sid: str, did: str, text: str,
                codes: list[str], excerpts: int, cmocs: int) -> None:
    ex_ids = []
    for _ in range(excerpts):
        a = rnd.randrange(0, len(text) - 400)
        b = a + rnd.randint(40, 300)
        eid = uow.create("excerpt", {
            "document_id": did, "study_id": sid, "start": a, "end": b,
            "quote": text[a:b], "before": text[max(0, a - 40):a],
            "after": text[b:b + 40], "page": 1 + a // 3000,
            "role": rnd.choice(["context", "mechanism", "outcome"]),
            "owner_id": coder})
        uow.link("excerpt_code", excerpt_id=eid, code_id=rnd.choice(codes))
        ex_ids.append(eid)
    for k in range(cmocs):
        cid = uow.create("cmoc", {
            "study_id": sid, "owner_id": coder, "status": "draft",
            "context": " ".join(rnd.choice(WORDS) for _ in range(12)),
            "mechanism_resource": " ".join(rnd.choice(WORDS) for _ in range(8)),
            "mechanism_reasoning": " ".join(rnd.choice(WORDS) for _ in range(10)),
            "outcome": " ".join(rnd.choice(WORDS) for _ in range(8)),
            "outcome_direction": "+", "sort_order": k + 1,
            "statement": " ".join(rnd.choice(WORDS) for _ in range(30))})
        for eid in rnd.sample(ex_ids, 3):
            uow.link("cmoc_excerpt", cmoc_id=cid, excerpt_id=eid)
        uow.link("cmoc_code", cmoc_id=cid, code_id=rnd.choice(codes))


def build_large_project(path: Path, studies: int = 500, coders: int = 3, chars: int = 60_000,
                        excerpts: int = 20, cmocs: int = 5, seed: int = 7,
                        verbose: bool = True, batch: int = 25) -> Path:
    rnd = random.Random(seed)
    names = [f"Coder {chr(65 + i)}" for i in range(coders)]
    session = new_project(path, coder=names[0], title="Benchmark project")
    sessions = [session] + [Session(session.store, n) for n in names[1:]]
    for s in sessions[1:]:
        s.ensure_coder()
    codes = [c.id for c in session.store.list("code")]
    t0 = time.perf_counter()
    # Writes are batched: one unit of work per coder per BATCH studies, not one per study.
    for first in range(0, studies, batch):
        numbers = range(first, min(studies, first + batch))
        made: list[tuple[str, str, str]] = []
        with session.write() as uow:
            for i in numbers:
                text, starts = _text(rnd, chars)
                sid = uow.create("study", {"label": f"Study {i:03d}", "year": 2000 + i % 24,
                                           "title": f"Benchmark study number {i}",
                                           "doi": f"10.9999/bench.{i}"})
                did = uow.create("document", {"study_id": sid, "text": text,
                                              "page_starts": starts,
                                              "filename": f"study{i}.txt",
                                              "media_type": "text/plain"})
                made.append((sid, did, text))
        for s in sessions:
            with s.write() as uow:
                for sid, did, text in made:
                    _code_study(uow, rnd, s.coder_id, sid, did, text, codes, excerpts, cmocs)
        done = numbers[-1] + 1
        if verbose and (done % 50 == 0 or done == studies):
            print(f"  generated {done}/{studies} studies ({time.perf_counter() - t0:.0f} s)",
                  file=sys.stderr)
    session.close()
    return path


def cached_large_project(studies: int = 500, upgrade: bool = True) -> Path:
    """The benchmark project, generated once and reused by every benchmark; a cached file an
    older version made is upgraded first (unless ``upgrade`` is False: the file-size benchmark
    measures the upgrade itself), so every benchmark measures this version's layout."""
    OUT.mkdir(exist_ok=True)
    path = OUT / f"large-{studies}.cmo"
    if not path.exists():
        tmp = OUT / f"large-{studies}.partial.cmo"
        tmp.unlink(missing_ok=True)
        build_large_project(tmp, studies=studies)
        tmp.rename(path)
    if upgrade:
        _upgrade_if_older(path)
    return path


def large_project_from_command_line(description: str | None) -> Path:
    """``--large FILE`` from the command line, else the cached benchmark project."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--large", type=Path, default=None,
                    help="a large project (default: the cached 500-study benchmark project)")
    args = ap.parse_args()
    return args.large if args.large is not None else cached_large_project()


def _upgrade_if_older(path: Path) -> None:
    from cmo_desk.store.fileinfo import HEAD_REVISION, inspect_file

    from cmo_desk.store.opening import PAGE_SIZE, compact_file

    if inspect_file(path).get("revision") != HEAD_REVISION:
        print(f"  upgrading the cached {path.name} to this version's layout", file=sys.stderr)
        Session.open(path, coder="Benchmark").close()
    with path.open("rb") as f:
        page_size = int.from_bytes(f.read(18)[16:18], "big")
    if page_size != PAGE_SIZE:
        print(f"  compacting the cached {path.name} to this version's page size",
              file=sys.stderr)
        compact_file(path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out", type=Path)
    ap.add_argument("--studies", type=int, default=500)
    ap.add_argument("--coders", type=int, default=3)
    args = ap.parse_args()
    t = time.perf_counter()
    build_large_project(args.out, studies=args.studies, coders=args.coders)
    print(f"built {args.out} in {time.perf_counter() - t:.1f} s; coder ids: "
          + ", ".join(coder_id(f"Coder {chr(65 + i)}") for i in range(args.coders)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
