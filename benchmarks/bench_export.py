"""Time the Word evidence table for a large review: 2,500 CMOCs, ~280 characters a cell.

    .venv/bin/python benchmarks/bench_export.py [--cmocs 2500] [--rounds 3] [--xlsx]

Reports build_table and write_docx times (median of rounds), the traced Python peak
(tracemalloc, one separate round) and the process's peak resident memory (ru_maxrss).
Target (issue 5): at most 5 s and 400 MB.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cmo_desk.domain.records import (  # noqa: E402
    Cmoc,
    Code,
    Coder,
    Excerpt,
    FormValue,
    Project,
    Study,
    Theory,
)
from cmo_desk.domain.snapshot import ProjectSnapshot  # noqa: E402
from cmo_desk.exporters.evidence import ExportOptions, build_table  # noqa: E402

WORDS = (
    "peer outreach workers trust clients services stigma police harassment needle syringe "
    "programme opioid agonist therapy community knowledge lived experience empathy bridge role "
    "model access uptake HIV testing referral accompaniment navigation commitment criminalisation "
    "同伴 信任 服务 Равные консультанты доступ"
).split()


def text(rng: random.Random, length: int = 280) -> str:
    out: list[str] = []
    size = 0
    while size < length:
        word = rng.choice(WORDS)
        out.append(word)
        size += len(word) + 1
    return " ".join(out)[:length]


def make_snapshot(n_cmocs: int, seed: int = 7) -> ProjectSnapshot:
    rng = random.Random(seed)
    coders = (Coder("c1", name="Ana Petrova", initials="AP"), Coder("c2", name="Li Wei"))
    studies = tuple(
        Study(f"s{i}", label=f"Author{i} {2000 + i % 24}", authors=[f"Author{i} A", "Other B"],
              year=2000 + i % 24, title=text(rng, 90), journal="Harm Reduct J")
        for i in range(max(1, n_cmocs // 25))
    )
    codes = tuple(Code(f"k{i}", name=f"Code {i}", sort_order=i) for i in range(40))
    theories = tuple(Theory(f"t{i}", label=f"PT{i}", statement=text(rng, 150)) for i in range(6))
    excerpts = []
    cmocs = []
    for i in range(n_cmocs):
        study = studies[i % len(studies)]
        eid = f"e{i}"
        excerpts.append(Excerpt(eid, study_id=study.id, quote=text(rng), page=1 + i % 30,
                                owner_id="c1"))
        cmocs.append(Cmoc(
            f"m{i}", study_id=study.id, owner_id=coders[i % 2].id, status="submitted",
            context=text(rng), mechanism_resource=text(rng), mechanism_reasoning=text(rng),
            outcome=text(rng), outcome_direction="+", statement=text(rng),
            code_ids=(f"k{i % 40}", f"k{(i * 7) % 40}"), excerpt_ids=(eid,),
            theories=((f"t{i % 6}", "supports"),),
        ))
    form_values = tuple(
        FormValue(f"f{s.id}", study_id=s.id, coder_id="c1", key="relevance", value="high")
        for s in studies
    )
    return ProjectSnapshot(
        project=Project("p", title="Benchmark review"), coders=coders, studies=studies,
        excerpts=tuple(excerpts), codes=codes, cmocs=tuple(cmocs), theories=theories,
        form_values=form_values,
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cmocs", type=int, default=2500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--group-by", default="study", choices=("study", "code", "theory"))
    parser.add_argument("--xlsx", action="store_true", help="also time .xlsx and .csv")
    args = parser.parse_args()

    from cmo_desk.exporters.word import write_docx

    snapshot = make_snapshot(args.cmocs)
    options = ExportOptions(group_by=args.group_by, records="coders")
    build_times, write_times = [], []
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder, "evidence.docx")
        table = build_table(snapshot, options)
        for _ in range(args.rounds):
            start = time.perf_counter()
            table = build_table(snapshot, options)
            build_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            write_docx(table, target)
            write_times.append(time.perf_counter() - start)
        size = target.stat().st_size
        tracemalloc.start()
        write_docx(build_table(snapshot, options), target)
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        extra = {}
        if args.xlsx:
            from cmo_desk.exporters.spreadsheet import write_csv, write_xlsx

            for name, writer in (("xlsx", write_xlsx), ("csv", write_csv)):
                start = time.perf_counter()
                writer(table, Path(folder, f"evidence.{name}"))
                extra[name] = time.perf_counter() - start
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    build = statistics.median(build_times)
    write = statistics.median(write_times)
    print(f"CMOCs: {args.cmocs} in {table.row_count} rows, {len(table.groups)} groups "
          f"(group by {args.group_by}), {len(table.columns)} columns")
    print(f"build_table: {build:.2f} s   write_docx: {write:.2f} s   total: {build + write:.2f} s"
          f"   (median of {args.rounds})")
    print(f"docx size: {size / 1e6:.1f} MB")
    print(f"peak traced Python memory during build+write: {traced_peak / 2**20:.0f} MiB")
    print(f"peak resident memory of the process: {maxrss_mb:.0f} MiB")
    for name, seconds in extra.items():
        print(f"write_{name}: {seconds:.2f} s")
    ok = build + write <= 5.0 and maxrss_mb <= 400
    print("target (<= 5 s, <= 400 MB):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
