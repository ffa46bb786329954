"""Power cuts (SIGKILL) and full disks against the write paths: upgrading and compacting an older
project, PDF import, merge and delta bundles. The test suite tries a few fixed kill points of
each; this tries many, seeded.

    python benchmarks/bench_power_cuts.py [--points 40] [--seed 5] [--pdfs 60] [--only upgrade]

Kill points: a child process counts SQLite's work (a progress handler over every connection it
opens) and kills itself after a given amount, from the first statement to the last; the import
also has its reading children killed at random moments. Figures, each beside its floor and
target:
- upgrade: kill points tried, openings afterwards whose records differ from the uninterrupted
  upgrade (floor 0, target 0), files ``check`` calls damaged (target 0), files left at the old
  page size after the next opening (target 0); the same for kills after a random delay inside
  the compaction's VACUUM (which runs no statements the counted kill points could fall in), with
  how many of those left a rollback journal behind;
- import: kill points tried, projects holding part of an import (floor 0, target 0: all or
  nothing), documents whose pages differ from the PDF after a second import (target 0),
  duplicates after it (target 0); reading children killed, and files the report calls imported
  that are not stored, or stored and not called imported (target 0);
- merge: kill points tried, projects neither the before nor the after (target 0);
- bundle: kill points tried, bundles a receiver merged although incomplete (target 0), and the
  cut bundles (every 1/``points`` of the file) a receiver took (target 0).
The floor of each count is 0 (nothing can be lost by doing nothing); the seconds per kill point
are printed beside the time of the uninterrupted run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from sqlite_kill import killed_after  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

#: Runs the command line with a budget of SQLite work, then SIGKILL (argv: budget, command...).
KILLED_AFTER = killed_after(1, 500) + textwrap.dedent("""
    if sys.argv[2] == "open":  # opening for writing, as the desk does (upgrading an older file)
        from pathlib import Path
        from cmo_desk.store.project_store import ProjectStore
        ProjectStore.open(Path(sys.argv[3])).close()
        code = 0
    else:
        from cmo_desk.cli.main import run
        code = run(sys.argv[2:])
    sys.stderr.write(f"\\nUNITS {done[0]}\\n")
    sys.exit(code)
""")


#: Opens (upgrades) a project and says "compacting" just before the compaction starts, so that
#: the parent can kill it at a chosen moment inside the compaction's VACUUM.
SAYS_WHEN_COMPACTING = textwrap.dedent("""
    import sys
    from pathlib import Path
    from cmo_desk.store import opening
    from cmo_desk.store.project_store import ProjectStore
    real = opening.compact_file
    def compact_file(path):
        print("compacting", flush=True)
        real(path)
    opening.compact_file = compact_file
    ProjectStore.open(Path(sys.argv[1])).close()
""")


def cli(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cmo_desk", *map(str, args)],
                          capture_output=True, text=True, env=ENV, timeout=300)


def killed_after(units: int, *args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", KILLED_AFTER, str(units), *map(str, args)],
                          capture_output=True, text=True, env=ENV, timeout=300)


def total_units(*args: object) -> tuple[int, float]:
    start = time.perf_counter()
    done = killed_after(10**12, *args)
    assert done.returncode == 0, done.stderr
    return int(done.stderr.rsplit("UNITS", 1)[1].split()[0]), time.perf_counter() - start


def points(total: int, count: int, rng: random.Random) -> list[int]:
    return sorted({1, total - 1, *(rng.randint(1, max(1, total - 1)) for _ in range(count))})


def dump(path: Path) -> str:
    done = cli("dump", path)
    return done.stdout if done.returncode == 0 else "ERROR " + done.stderr


def page_size(path: Path) -> int:
    return int.from_bytes(path.read_bytes()[16:18], "big")


def bench_upgrade(work: Path, count: int, rng: random.Random) -> bool:
    from cmo_desk.store.opening import PAGE_SIZE

    released = sorted((ROOT / "tests" / "store" / "released").glob("demo-schema-*.cmo"))[-1]
    whole = work / "whole.cmo"
    shutil.copy(released, whole)
    total, seconds = total_units("open", whole)
    want = dump(whole)
    differ = damaged = small_pages = 0
    tried = points(total, count, rng)
    start = time.perf_counter()
    for n in tried:
        path = work / f"u{n}.cmo"
        shutil.copy(released, path)
        killed_after(n, "open", path)
        damaged += cli("check", path).returncode != 0
        killed_after(10**12, "open", path)  # the next opening
        differ += dump(path) != want
        small_pages += page_size(path) != PAGE_SIZE
        shutil.rmtree(work / "backups", ignore_errors=True)
        for leftover in work.glob(f"u{n}.cmo*"):
            leftover.unlink()
    per = (time.perf_counter() - start) / len(tried)
    print(f"upgrade: {len(tried)} kill points of {total}; records differ afterwards: {differ} "
          f"(floor 0, target 0); called damaged: {damaged} (target 0); left at the old page "
          f"size: {small_pages} (target 0); {per:.2f} s per point (uninterrupted {seconds:.2f} s)")
    # the compaction's VACUUM copies its pages back without running SQLite statements, so the
    # counted kill points above cannot fall inside it: kills after a random delay can
    from cmo_desk.store.opening import compact_file

    timed = work / "timed.cmo"
    shutil.copy(whole, timed)
    con = sqlite3.connect(timed)
    con.execute("PRAGMA journal_mode=DELETE")
    con.execute("PRAGMA page_size=4096")
    con.execute("VACUUM")
    con.close()
    start = time.perf_counter()
    compact_file(timed)
    compaction = time.perf_counter() - start
    journals = late = 0
    for n in range(count):
        path = work / f"v{n}.cmo"
        shutil.copy(released, path)
        proc = subprocess.Popen([sys.executable, "-c", SAYS_WHEN_COMPACTING, str(path)],
                                stdout=subprocess.PIPE, text=True, env=ENV)
        assert proc.stdout is not None
        if proc.stdout.readline().strip() == "compacting":
            time.sleep(rng.uniform(0, 1.5 * compaction))
            proc.send_signal(signal.SIGKILL)
        late += proc.wait() == 0
        journals += Path(str(path) + "-journal").exists()
        damaged += cli("check", path).returncode != 0
        killed_after(10**12, "open", path)
        differ += dump(path) != want
        small_pages += page_size(path) != PAGE_SIZE
        shutil.rmtree(work / "backups", ignore_errors=True)
        for leftover in work.glob(f"v{n}.cmo*"):
            leftover.unlink()
    print(f"compaction: {count} kills within {1.5 * compaction:.3f} s of its start ({late} came "
          f"after it ended; {journals} left a rollback journal); records differ afterwards: "
          f"{differ} (floor 0, target 0); called damaged: {damaged} (target 0); left at the old "
          f"page size: {small_pages} (target 0)")
    return differ == damaged == small_pages == 0


def _pdfs(folder: Path, count: int) -> dict[str, list[list[str]]]:
    from tests.pdf_builder import make_pdf

    folder.mkdir()
    expected = {}
    for n in range(count):
        pages = [[f"Study{n} page{p} peer naloxone " + " ".join(f"w{n}x{p}x{i}" for i in range(80)),
                  f"second line {n}-{p}"] for p in range(1 + n % 5)]
        (folder / f"study{n}.pdf").write_bytes(make_pdf(pages))
        expected[f"study{n}.pdf"] = pages
    return expected


def _stored(path: Path, expected: dict[str, list[list[str]]]) -> tuple[dict[str, int], int]:
    """(documents per file name, documents whose pages differ from the PDF's)."""
    from cmo_desk.store.project_store import ProjectStore

    per_file: dict[str, int] = {}
    wrong = 0
    with ProjectStore.open(path) as store:
        for doc in store.list("document"):
            ends = [*doc.page_starts[1:], len(doc.text)]
            pages = [doc.text[a:b] for a, b in zip(doc.page_starts, ends)]
            want = expected[doc.filename]
            wrong += len(pages) != len(want) or any(
                " ".join(" ".join(lines).split()) not in " ".join(page.split())
                for page, lines in zip(pages, want))
            per_file[doc.filename] = per_file.get(doc.filename, 0) + 1
    return per_file, wrong


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def bench_import(work: Path, count: int, rng: random.Random, pdfs: int) -> bool:
    folder = work / "pdfs"
    expected = _pdfs(folder, pdfs)
    empty = work / "empty.cmo"
    cli("new", empty, "--coder", "Ana")
    whole = work / "whole.cmo"
    shutil.copy(empty, whole)
    total, seconds = total_units("import", whole, folder)
    partial = wrong = duplicates = 0
    tried = points(total, count, rng)
    for n in tried:
        path = work / f"i{n}.cmo"
        shutil.copy(empty, path)
        killed_after(n, "import", path, folder)
        per_file, _ = _stored(path, expected)
        partial += 0 < len(per_file) < len(expected)
        cli("import", path, folder)
        per_file, bad = _stored(path, expected)
        wrong += bad + (len(expected) - len(per_file))
        duplicates += sum(v - 1 for v in per_file.values())
        path.unlink()
    print(f"import of {pdfs} PDFs: {len(tried)} kill points of {total}; projects holding part "
          f"of an import: {partial} (floor 0, target 0); documents missing or with pages unlike "
          f"the PDF after importing again: {wrong} (target 0); duplicates: {duplicates} "
          f"(target 0); uninterrupted {seconds:.2f} s")
    # reading children killed while the import runs: the report matches what is stored
    kills = mismatched = 0
    if not sys.platform.startswith("linux"):
        print("import, reading children killed: needs /proc (Linux)")
        return partial == wrong == duplicates == 0
    for trial in range(max(3, count // 5)):
        path = work / f"c{trial}.cmo"
        shutil.copy(empty, path)
        proc = subprocess.Popen([sys.executable, "-m", "cmo_desk", "import", str(path),
                                 str(folder), "--json"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=ENV)
        start, at, left = time.monotonic(), rng.uniform(0.2, seconds), rng.randint(1, 4)
        while proc.poll() is None:
            if left and time.monotonic() - start > at:
                children = _children(proc.pid)
                if children:
                    os.kill(rng.choice(children), signal.SIGKILL)
                    kills, left, at = kills + 1, left - 1, at + rng.uniform(0.02, 0.3)
            time.sleep(0.005)
        out, _err = proc.communicate()
        text = out[out.index("{"):] if "{" in out else "{}"
        report = json.loads(text) if text != "{}" else {"linked": []}
        called = {Path(link["file"]).name for link in report.get("linked", [])}
        per_file, bad = _stored(path, expected)
        mismatched += len(called ^ set(per_file)) + bad
        path.unlink()
    print(f"import, reading children killed: {kills}; files the report and the project disagree "
          f"on (or stored with pages unlike the PDF): {mismatched} (floor 0, target 0)")
    return partial == wrong == duplicates == mismatched == 0


def bench_merge(work: Path, count: int, rng: random.Random) -> bool:
    from cmo_desk.services import coding
    from cmo_desk.services.session import Session

    mine, theirs = work / "mine.cmo", work / "theirs.cmo"
    cli("demo", mine)
    shutil.copy(mine, theirs)
    with Session.open(theirs, coder="Bo") as s:
        for i in range(40):
            sid, _ = coding.add_study(s, {"label": f"Bo study {i}"})
            coding.create_cmoc(s, sid, {"context": "peer outreach " * 20})
    before = dump(mine)
    merged = work / "merged.cmo"
    shutil.copy(mine, merged)
    total, seconds = total_units("merge", merged, theirs)
    after = dump(merged)
    other = 0
    tried = points(total, count, rng)
    for n in tried:
        path = work / f"m{n}.cmo"
        shutil.copy(mine, path)
        killed_after(n, "merge", path, theirs)
        other += dump(path) not in (before, after)
        for leftover in work.glob(f"m{n}.cmo*"):
            leftover.unlink()
    print(f"merge: {len(tried)} kill points of {total}; projects neither before nor after: "
          f"{other} (floor 0, target 0); uninterrupted {seconds:.2f} s")

    # bundles: killed while written, or cut short in transit, never taken whole
    out = work / "bundles"
    out.mkdir()
    total, seconds = total_units("bundle", theirs, "-o", out / "whole.cmobundle", "--for", mine)
    taken = 0
    tried = points(total, count, rng)
    for n in tried:
        for leftover in out.glob("k*"):
            leftover.unlink()
        killed_after(n, "bundle", theirs, "-o", out / "k.cmobundle", "--for", mine)
        for half in out.glob("k.cmobundle.*"):
            path = work / "receiver.cmo"
            shutil.copy(mine, path)
            taken += cli("merge", path, half).returncode == 0
    cut = 0
    for kind, extra in (("delta", ["--for", mine]), ("whole", [])):
        bundle = out / f"{kind}.cmobundle"
        bundle.unlink(missing_ok=True)
        cli("bundle", theirs, "-o", bundle, *extra)
        data = bundle.read_bytes()
        for share in range(1, count + 1):
            half = out / f"cut-{kind}.cmobundle"
            half.write_bytes(data[:min(len(data) - 1, len(data) * share // count)])
            path = work / "receiver.cmo"
            shutil.copy(mine, path)
            cut += cli("merge", path, half).returncode == 0
    print(f"bundle: {len(tried)} kill points of {total}; half-written bundles merged: {taken} "
          f"(floor 0, target 0); bundles cut short in transit merged: {cut} of {2 * count} "
          f"(floor 0, target 0); uninterrupted {seconds:.2f} s")
    return other == taken == cut == 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=40)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--pdfs", type=int, default=60)
    parser.add_argument("--only", choices=("upgrade", "import", "merge"))
    args = parser.parse_args()
    os.environ.setdefault("CMO_DESK_CONFIG_DIR", tempfile.mkdtemp(prefix="cmo-cuts-config-"))
    ENV["CMO_DESK_CONFIG_DIR"] = os.environ["CMO_DESK_CONFIG_DIR"]
    rng = random.Random(args.seed)
    ok = True
    for name in ("upgrade", "import", "merge"):
        if args.only not in (None, name):
            continue
        work = Path(tempfile.mkdtemp(prefix=f"cmo-cuts-{name}-"))
        try:
            if name == "upgrade":
                ok &= bench_upgrade(work, args.points, rng)
            elif name == "import":
                ok &= bench_import(work, args.points, rng, args.pdfs)
            else:
                ok &= bench_merge(work, args.points, rng)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
