"""The synthesis figures: opening the workspace's evidence matrix and exporting the theories table.

    .venv/bin/python benchmarks/bench_synthesis.py [--studies 500] [--reviews 50] [--rounds 3]

Builds (once, cached under benchmarks/out/) a project of 500 studies, 3 CMOCs per study by
three coders with three quoted excerpts each, and 50 review CMOCs in two programme theories,
each linked to 20 study CMOCs, with three versions per theory. Then, as medians of rounds:

- the workspace: building ``SynthesisView`` (theories, evidence matrix, C×M×O grid, study
  CMOC list) and showing it until its events are processed; floor: a bare ``QTableWidget`` of
  the same studies × review CMOCs with the same marked cells, shown the same way;
- the theories export (.docx with one diagram per theory) through ``export_synthesis``; floor:
  python-docx writing one table of the same rows and cells, without reading the project.

Targets (issue 15): matrix view <= 300 ms, theories export <= 3 s.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = Path(__file__).resolve().parent / "out"
WORDS = ("peer outreach trust police registration clinic stigma naloxone overdose methadone "
         "testing community navigation lived experience empathy funding detention uptake").split()


def build(path: Path, studies: int, reviews: int, seed: int = 15) -> None:
    from cmo_desk.services import coding, synthesis
    from cmo_desk.services.projects import new_project
    from cmo_desk.services.session import Session

    rnd = random.Random(seed)
    words = lambda n: " ".join(rnd.choice(WORDS) for _ in range(n))  # noqa: E731
    session = new_project(path, coder="Coder A", title="Synthesis benchmark")
    sessions = [session] + [Session(session.store, n) for n in ("Coder B", "Coder C")]
    for s in sessions[1:]:
        s.ensure_coder()
    codes = [c.id for c in session.store.list("code")]
    cmoc_ids: list[str] = []
    for i in range(studies):
        with session.write() as uow:
            sid = uow.create("study", {"label": f"Study {i:03d}", "year": 2000 + i % 24})
        s = sessions[i % 3]
        with s.write() as uow:
            for k in range(3):
                ex = [uow.create("excerpt", {"study_id": sid, "quote": words(25), "page": k + 1,
                                             "start": 100 * j, "end": 100 * j + 90,
                                             "role": role, "owner_id": s.coder_id})
                      for j, role in enumerate(("context", "mechanism", "outcome"))]
                cid = uow.create("cmoc", {"study_id": sid, "owner_id": s.coder_id,
                                          "context": words(10), "mechanism_resource": words(6),
                                          "mechanism_reasoning": words(8), "outcome": words(6),
                                          "statement": words(30), "sort_order": k + 1})
                for e in ex:
                    uow.link("cmoc_excerpt", cmoc_id=cid, excerpt_id=e)
                for c in rnd.sample(codes, 3):
                    uow.link("cmoc_code", cmoc_id=cid, code_id=c)
                cmoc_ids.append(cid)
    theories = [coding.add_theory(session, f"PT{n} Theory {n}", words(40))[0] for n in (1, 2)]
    for n in range(reviews):
        tid = theories[n % 2]
        rid, _ = synthesis.add_review_cmoc(session, tid, {
            "context": words(10), "mechanism_resource": words(6),
            "mechanism_reasoning": words(8), "outcome": words(6), "outcome_direction": "+",
            "statement": words(30)})
        with session.write() as uow:
            for cid in rnd.sample(cmoc_ids, 20):
                kind = rnd.choice(["supports", "supports", "refutes", "refines"])
                uow.link("review_link", review_cmoc_id=rid, source_id=cid,
                         source_kind="cmoc", relation=kind, note=words(8))
        synthesis.set_confidence(session, rid, "moderate", words(20), {"rigour": "moderate"})
        if n in (reviews // 3, 2 * reviews // 3, reviews - 2):
            for t in theories:
                synthesis.record_version(session, t, words(15))
    for t in theories:
        synthesis.record_version(session, t, words(15), words(40))
    session.close()


def cached(studies: int, reviews: int) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"synthesis-{studies}-{reviews}.cmo"
    if not path.exists():
        tmp = path.with_suffix(".partial.cmo")
        tmp.unlink(missing_ok=True)
        t = time.perf_counter()
        build(tmp, studies, reviews)
        tmp.rename(path)
        print(f"built {path.name} in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    return path


def time_view(session: object, rounds: int) -> tuple[list[float], list[float]]:
    from PySide6.QtWidgets import QApplication, QTableWidget, QTableWidgetItem

    from cmo_desk.domain.synthesis import cell_mark, evidence_matrix
    from cmo_desk.services.synthesis import load_synthesis
    from cmo_desk.ui.dialogs import Dialogs
    from cmo_desk.ui.synthesis_view import SynthesisView

    app = QApplication.instance() or QApplication([])
    window = SimpleNamespace(session=session, dialogs=Dialogs(None))
    m = evidence_matrix(load_synthesis(session, quotes=False))  # type: ignore[arg-type]
    rows = {s.id: i for i, s in enumerate(m.studies)}
    cols = {r.id: j for j, r in enumerate(m.columns)}
    views, floors = [], []
    for _ in range(rounds):
        t = time.perf_counter()
        table = QTableWidget(len(m.studies), len(m.columns))
        table.setHorizontalHeaderLabels([r.label or "" for r in m.columns])
        table.setVerticalHeaderLabels([s.label or "" for s in m.studies])
        for (sid, rid), rels in m.cells.items():
            table.setItem(rows[sid], cols[rid], QTableWidgetItem(cell_mark(rels)))
        table.resize(1300, 680)
        table.show()
        app.processEvents()
        floors.append(time.perf_counter() - t)
        table.close()
        table.deleteLater()
        app.processEvents()

        t = time.perf_counter()
        view = SynthesisView(window)
        view.tabs.setCurrentIndex(1)
        view.show()
        app.processEvents()
        views.append(time.perf_counter() - t)
        view.done(0)
        view.deleteLater()
        app.processEvents()
    return views, floors


def time_export(session: object, rounds: int) -> tuple[list[float], list[float]]:
    from docx import Document

    from cmo_desk.exporters.theories import add_table, confidence_cell, quotes_cell, studies_cell
    from cmo_desk.services.synthesis import export_synthesis, load_synthesis

    syn = load_synthesis(session)  # type: ignore[arg-type]
    rows = [[r.record.label or "", r.record.statement or "", r.record.context or "",
             r.record.mechanism_reasoning or "", r.record.outcome or "",
             studies_cell(r, "supports"), studies_cell(r, "refutes"), studies_cell(r, "refines"),
             confidence_cell(r, "en"), quotes_cell(r, "en")] for r in syn.review_cmocs]
    exports, floors = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            t = time.perf_counter()
            doc = Document()
            add_table(doc, [str(i) for i in range(10)], rows)
            doc.save(str(Path(tmp) / "floor.docx"))
            floors.append(time.perf_counter() - t)
            t = time.perf_counter()
            export_synthesis(session, Path(tmp) / "theories.docx", "theories")  # type: ignore[arg-type]
            exports.append(time.perf_counter() - t)
    return exports, floors


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--studies", type=int, default=500)
    ap.add_argument("--reviews", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("CMO_DESK_CONFIG_DIR", tempfile.mkdtemp(prefix="bench-synth-"))
    from cmo_desk.services.session import Session

    path = cached(args.studies, args.reviews)
    with Session.open(path, coder="Coder A", read_only=True) as session:
        views, vfloors = time_view(session, args.rounds)
        exports, efloors = time_export(session, args.rounds)
    ms = lambda xs: f"{statistics.median(xs) * 1000:.0f} ms"  # noqa: E731
    print(f"{args.studies} studies, {args.reviews} review CMOCs, median of {args.rounds}")
    print(f"workspace with evidence matrix opens: {ms(views):>8}   floor (bare table) "
          f"{ms(vfloors):>7}   target <= 300 ms")
    print(f"theories export (.docx, diagrams):    {ms(exports):>8}   floor (python-docx table) "
          f"{ms(efloors):>7}   target <= 3000 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
