"""A small project with study CMOCs from three studies by two coders, and one theory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from cmo_desk.services import coding
from cmo_desk.services.session import Session


@dataclass
class Small:
    path: Path
    theory_id: str
    #: study label -> [CMOC ids]
    cmocs: dict[str, list[str]]
    consensus_id: str


def build_small(path: Path) -> Small:
    cmocs: dict[str, list[str]] = {}
    with Session.create(path, coder="Lan Nguyen", title="Review") as s:
        trust, _ = coding.add_code(s, "Trust", "mechanism")
        police, _ = coding.add_code(s, "Policing", "context")
        nsp, _ = coding.add_code(s, "NSP uptake", "outcome")
        other = Session(s.store, "Sam Okafor")
        other.ensure_coder()
        for label, page in (("Ahmed 2019", 3), ("Brown 2021", 7), ("Chen 2020", 1)):
            sid, _ = coding.add_study(s, {"label": label, "title": label + " study"})
            text = "Intro.\n\nPeers earned trust 😀 at the outreach site.\n\nUptake rose."
            with s.write() as uow:
                did = uow.create("document", {"study_id": sid, "filename": "t.txt",
                                              "text": text, "page_starts": [0, 8, 52],
                                              "created_by": s.coder_id})
            start = text.index("Peers")
            ex, _ = coding.add_excerpt(s, did, start, start + 25, "mechanism", [trust])
            cid, _ = coding.create_cmoc(
                s, sid, {"context": "Policing", "mechanism_reasoning": "Trust",
                         "outcome": "More NSP contacts", "statement": f"{label}: trust"},
                [ex], [trust, police, nsp])
            cid2, _ = coding.create_cmoc(
                other, sid, {"context": "Policing", "mechanism_reasoning": "Fear",
                             "outcome": "Fewer contacts"}, [], [police])
            cmocs[label] = [cid, cid2]
        sid_a = next(x.id for x in s.store.list("study") if x.label == "Ahmed 2019")
        cons, _ = coding.create_consensus(s, sid_a, {"statement": "Agreed trust"},
                                          [cmocs["Ahmed 2019"][0]])
        tid, _ = coding.add_theory(s, "PT1 Trust", "Peers earn trust.")
    return Small(path, tid, cmocs, cons)


@pytest.fixture
def small(tmp_path: Path) -> Small:
    return build_small(tmp_path / "review.cmo")


@pytest.fixture(scope="session")
def synth_template(tmp_path_factory: pytest.TempPathFactory) -> Small:
    """The small project with one review CMOC and a first version, built once."""
    import os

    from cmo_desk.services import synthesis

    old = os.environ.get("CMO_DESK_CONFIG_DIR")
    os.environ["CMO_DESK_CONFIG_DIR"] = str(tmp_path_factory.mktemp("synthcfg"))
    small = build_small(tmp_path_factory.mktemp("synth") / "review.cmo")
    with Session.open(small.path, coder="Lan Nguyen") as s:
        synthesis.add_review_cmoc(s, small.theory_id, {"statement": "base"})
        synthesis.record_version(s, small.theory_id, "initial")
    if old is None:
        os.environ.pop("CMO_DESK_CONFIG_DIR")
    else:
        os.environ["CMO_DESK_CONFIG_DIR"] = old
    return small
