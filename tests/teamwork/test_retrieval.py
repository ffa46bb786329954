"""Retrieval across studies: each filter alone and together, blind coders, codes with children."""

from __future__ import annotations

from pathlib import Path

from cmo_desk.domain.ids import coder_id
from cmo_desk.services import coding
from cmo_desk.services.retrieval import retrieve
from cmo_desk.services.session import Session

from .conftest import study_id


def _coded_project(path: Path) -> dict[str, str]:
    """Two coders' excerpts and CMOCs, coded with a parent code, its child and another code."""
    ids: dict[str, str] = {}
    with Session.open(path, coder="Coordinator") as s:
        trust = next(c.id for c in s.store.list("code") if c.name == "Trust")
        stigma = next(c.id for c in s.store.list("code") if c.name == "Stigma")
        peer, _ = coding.add_code(s, "Peer trust", "mechanism", parent_id=trust)
        ids.update(trust=trust, stigma=stigma, peer=peer)
    for coder, start in (("Ana", 0), ("Ben", 40)):
        with Session.open(path, coder=coder) as s:
            sid = study_id(s, "Ahmed 2019")
            (doc,) = s.store.list("document", study_id=sid)
            ids[f"{coder}-ex"], _ = coding.add_excerpt(s, doc.id, start, start + 17, "mechanism",
                                                        [ids["peer"]], memo="Night shelter")
            ids[f"{coder}-cmoc"], _ = coding.create_cmoc(
                s, sid, {"context": "Police raids", "outcome": "Peers trusted",
                         "statement": f"{coder}: raids make peers the only trusted contact"},
                code_ids=[ids["stigma"]])
    return ids


def _found(passages: list) -> list[tuple[str, str, str | None]]:
    return [(p.kind, p.id, p.slot) for p in passages]


def test_each_filter_finds_exactly_its_passages(base_project: Path) -> None:
    ids = _coded_project(base_project)
    with Session.open(base_project, coder="Coordinator") as s:
        # a parent code finds what is coded with its children
        by_trust = retrieve(s, code_id=ids["trust"])
        assert sorted(_found(by_trust)) == sorted(
            [("excerpt", ids["Ana-ex"], None), ("excerpt", ids["Ben-ex"], None)])
        assert {p.codes for p in by_trust} == {("Peer trust",)}
        # a code lists each CMOC once, by its statement
        assert sorted(_found(retrieve(s, code_id=ids["stigma"]))) == sorted(
            [("cmoc", ids["Ana-cmoc"], "statement"), ("cmoc", ids["Ben-cmoc"], "statement")])
        # a role finds excerpts of that role and the CMOC slots carrying it
        assert sorted(_found(retrieve(s, role="outcome"))) == sorted(
            [("cmoc", ids["Ana-cmoc"], "outcome"), ("cmoc", ids["Ben-cmoc"], "outcome")])
        assert len(retrieve(s, role="mechanism")) == 2
        # words, in any case and spacing, in quotes, memos and slots
        night = retrieve(s, words="  NIGHT   shelter ")
        assert sorted(_found(night)) == sorted(
            [("excerpt", ids["Ana-ex"], None), ("excerpt", ids["Ben-ex"], None)])
        raids = retrieve(s, words="raids", coder_id=coder_id("Ben"))
        assert _found(raids) == [("cmoc", ids["Ben-cmoc"], "context"),
                                 ("cmoc", ids["Ben-cmoc"], "statement")]
        assert {p.coder_name for p in raids} == {"Ben"}
        # a blind coder sees only their own work, whatever else is asked
        blind = retrieve(s, words="raids", coders_shown={coder_id("Ana")})
        assert {p.id for p in blind} == {ids["Ana-cmoc"]}
        assert retrieve(s, coder_id=coder_id("Ben"), coders_shown={coder_id("Ana")}) == []
        # every filter together
        both = retrieve(s, code_id=ids["peer"], role="mechanism", words="shelter",
                        coder_id=coder_id("Ana"))
        assert _found(both) == [("excerpt", ids["Ana-ex"], None)]
        assert both[0].study_label == "Ahmed 2019"
        # in study order, excerpts before CMOCs
        everything = retrieve(s)
        assert [p.kind for p in everything] == ["excerpt", "excerpt", "cmoc", "cmoc"]
