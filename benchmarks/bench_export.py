"""Export time and memory.

    .venv/bin/python benchmarks/bench_export.py                 # whole exports of real projects
    .venv/bin/python benchmarks/bench_export.py --synthetic [--cmocs 2500] [--rounds 3] [--xlsx]

Default: each export runs the way the desk and the command run it (``export_project`` on a
project file: read, build, write) in a fresh process, on the cached benchmark projects
(``largeproject.py``) of 2,505 and 10,005 CMOCs (10,020 and 40,020 excerpts, 60,000 characters of
text per study). For each it prints the seconds and the process's peak resident memory beside
the floor measured in the same run: a process that only opens the project and reads what the
table needs (the snapshot without full texts), which no export can do without.
Target: at most 250 MB for a 10,000-row table.

``--synthetic`` times build_table and write_docx on an in-memory snapshot (median of rounds),
with the traced Python peak; target at most 5 s and 400 MB for 2,500 CMOCs.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
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
from cmo_desk.exporters.tables import ExportOptions, build_table  # noqa: E402

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


MEMORY_TARGET_MB = 250
#: (label, studies in the benchmark project): 15 CMOCs and 60 excerpts a study (3 coders).
PROJECTS = (("2,505 CMOCs", 167), ("10,005 CMOCs", 667))
#: (table, suffix, records): the exports measured on each project.
EXPORTS = (
    ("evidence", ".docx", "coders"),
    ("evidence", ".xlsx", "coders"),
    ("evidence", ".csv", "coders"),
    ("excerpts", ".csv", "coders"),
    ("excerpts", ".docx", "coders"),
)


def child(project: str, table: str, suffix: str, records: str) -> None:
    """One measurement in this fresh process; prints JSON with seconds, rows and peak MiB."""
    from cmo_desk.services.exporting import export_project
    from cmo_desk.services.session import Session

    start = time.perf_counter()
    with Session.open(project, read_only=True) as session:
        if table == "floor":
            snapshot = session.store.snapshot(document_text=False)
            rows = len(snapshot.cmocs)
        else:
            with tempfile.TemporaryDirectory() as folder:
                result = export_project(session, Path(folder, "out" + suffix),
                                        ExportOptions(table=table, records=records))  # type: ignore[arg-type]
                rows = result.table_rows
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rows": rows, "peak_mib": peak}))


def measure(project: Path, table: str, suffix: str = "", records: str = "coders") -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(project), table, suffix or "-", records],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def projects_main(only: str | None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from largeproject import cached_large_project

    ok = True
    for label, studies in PROJECTS:
        if only and only not in label:
            continue
        project = cached_large_project(studies)
        floor = measure(project, "floor")
        print(f"{label} ({project.name}); floor (open + read what tables need): "
              f"{floor['seconds']:.1f} s, {floor['peak_mib']:.0f} MiB")
        for table, suffix, records in EXPORTS:
            got = measure(project, table, suffix, records)
            target = ""
            if got["rows"] >= 10_000:
                met = got["peak_mib"] <= MEMORY_TARGET_MB
                ok &= met
                target = f"   target <= {MEMORY_TARGET_MB} MB: {'met' if met else 'NOT met'}"
            print(f"  {table:9} {suffix:5} {got['rows']:6} rows: {got['seconds']:5.1f} s "
                  f"(floor {floor['seconds']:.1f}), peak {got['peak_mib']:4.0f} MiB "
                  f"(floor {floor['peak_mib']:.0f}){target}")
    return 0 if ok else 1


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        project, table, suffix, records = sys.argv[2:6]
        child(project, table, "" if suffix == "-" else suffix, records)
        return 0
    parser = argparse.ArgumentParser()
    parser.add_argument("--synthetic", action="store_true",
                        help="time build_table and write_docx on an in-memory snapshot")
    parser.add_argument("--only", help="measure only the project whose label contains this")
    parser.add_argument("--cmocs", type=int, default=2500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--group-by", default="study", choices=("study", "code", "theory"))
    parser.add_argument("--xlsx", action="store_true", help="also time .xlsx and .csv")
    args = parser.parse_args()
    if not args.synthetic:
        return projects_main(args.only)

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
