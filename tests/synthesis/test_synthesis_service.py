"""Review CMOCs, their links to study CMOCs, confidence and the refinement ledger."""

from __future__ import annotations

import pytest

from cmo_desk.domain.errors import ValidationError
from cmo_desk.domain.synthesis import evidence_matrix, suggested_confidence, version_diff
from cmo_desk.services import synthesis
from cmo_desk.services.session import Session


def test_review_cmocs_get_stable_labels_that_are_never_reused(small) -> None:
    with Session.open(small.path, coder="Lan Nguyen") as s:
        r1, _ = synthesis.add_review_cmoc(s, small.theory_id, {"statement": "one"})
        r2, _ = synthesis.add_review_cmoc(s, small.theory_id, {"statement": "two"})
        synthesis.delete_review_cmoc(s, r2)
        r3, _ = synthesis.add_review_cmoc(s, small.theory_id, {"statement": "three"})
        labels = {r.id: r.label for r in s.store.list("review_cmoc", include_deleted=True)}
    assert labels == {r1: "PT1-C1", r2: "PT1-C2", r3: "PT1-C3"}


def test_links_count_studies_per_relation_and_carry_quotes_with_pages(small) -> None:
    with Session.open(small.path, coder="Lan Nguyen") as s:
        rid, _ = synthesis.add_review_cmoc(s, small.theory_id, {
            "context": "Criminalised", "mechanism_reasoning": "Trust", "outcome": "Uptake"})
        changed = synthesis.link_source(s, rid, small.cmocs["Ahmed 2019"][0], "supports",
                                        "same mechanism")
        assert changed.touched("review_link")
        synthesis.link_source(s, rid, small.cmocs["Ahmed 2019"][1], "supports")
        synthesis.link_source(s, rid, small.cmocs["Brown 2021"][0], "refines")
        synthesis.link_source(s, rid, small.cmocs["Chen 2020"][1], "refutes", "fear instead")
        synthesis.link_source(s, rid, small.consensus_id, "supports")
        syn = synthesis.load_synthesis(s)
    (theory,) = syn.theories
    (review,) = theory.review_cmocs
    # two CMOCs and a consensus CMOC of one study count as one supporting study
    assert review.studies("supports") == ["Ahmed 2019"]
    assert review.studies("refines") == ["Brown 2021"]
    assert review.studies("refutes") == ["Chen 2020"]
    kinds = sorted(src.source_kind for src in review.sources)
    assert kinds == ["cmoc", "cmoc", "cmoc", "cmoc", "consensus"]
    ahmed = next(src for src in review.sources if src.note == "same mechanism")
    assert ahmed.made_by == "Lan Nguyen"
    # the emoji before the quote must not shift it: the page comes from the excerpt
    assert [(q.text, q.page) for q in ahmed.quotes] == [("Peers earned trust 😀 at t", 2)]
    matrix = evidence_matrix(syn)
    by_label = {st.label: st.id for st in matrix.studies}
    assert matrix.cell(by_label["Ahmed 2019"], rid) == ("supports",)
    assert matrix.cell(by_label["Chen 2020"], rid) == ("refutes",)


def test_relinking_changes_the_relation_and_unlinking_removes_it(small) -> None:
    with Session.open(small.path, coder="Lan Nguyen") as s:
        rid, _ = synthesis.add_review_cmoc(s, small.theory_id, {"statement": "x"})
        src = small.cmocs["Brown 2021"][0]
        synthesis.link_source(s, rid, src, "supports")
        synthesis.link_source(s, rid, src, "refutes")
        (review,) = synthesis.load_synthesis(s).review_cmocs
        assert [x.relation for x in review.sources] == ["refutes"]
        synthesis.unlink_source(s, rid, src)
        (review,) = synthesis.load_synthesis(s).review_cmocs
        assert review.sources == ()


@pytest.mark.parametrize("call, message", [
    (lambda s, k: synthesis.link_source(s, k["rid"], k["src"], "agrees"), "support, refute"),
    (lambda s, k: synthesis.link_source(s, k["rid"], "nope", "supports"), "no longer exists"),
    (lambda s, k: synthesis.set_confidence(s, k["rid"], "high", "  "), "rests on"),
    (lambda s, k: synthesis.set_confidence(s, k["rid"], "certain", "b"), "Confidence must"),
    (lambda s, k: synthesis.set_confidence(s, k["rid"], "low", "b", {"beauty": "minor"}),
     "not a component"),
    (lambda s, k: synthesis.add_review_cmoc(s, k["tid"], {"mood": "x"}), "has no mood"),
    (lambda s, k: synthesis.record_version(s, k["tid"], " "), "why"),
])
def test_bad_input_is_refused_with_a_message_and_writes_nothing(small, call, message) -> None:
    with Session.open(small.path, coder="Lan Nguyen") as s:
        rid, _ = synthesis.add_review_cmoc(s, small.theory_id, {"statement": "x"})
        before = s.store.change_count()
        with pytest.raises(ValidationError, match=message):
            call(s, {"rid": rid, "src": small.cmocs["Ahmed 2019"][0], "tid": small.theory_id})
        assert s.store.change_count() == before


def test_confidence_is_recorded_with_its_basis(small) -> None:
    with Session.open(small.path, coder="Lan Nguyen") as s:
        rid, _ = synthesis.add_review_cmoc(s, small.theory_id, {"statement": "x"})
        synthesis.set_confidence(s, rid, "moderate", "Two rich studies; one weak design.",
                                 {"rigour": "moderate", "coherence": "none"})
        r = s.store.get("review_cmoc", rid)
    assert (r.confidence, r.confidence_basis) == ("moderate", "Two rich studies; one weak design.")
    assert r.assessment == {"rigour": "moderate", "coherence": "none"}


@pytest.mark.parametrize("assessment, expected", [
    ({}, None),
    ({"coherence": "none", "adequacy": "minor"}, "high"),
    ({"coherence": "minor", "adequacy": "minor"}, "moderate"),
    ({"rigour": "moderate"}, "moderate"),
    ({"rigour": "serious"}, "low"),
    ({"rigour": "serious", "relevance": "moderate"}, "very_low"),
    ({"rigour": "serious", "relevance": "serious", "richness": "serious"}, "very_low"),
])
def test_suggested_confidence_follows_the_documented_rule(assessment, expected) -> None:
    assert suggested_confidence(assessment) == expected


def test_versions_record_what_changed_why_who_and_when(small) -> None:
    with Session.open(small.path, coder="Lan Nguyen") as s:
        r1, _ = synthesis.add_review_cmoc(s, small.theory_id, {"statement": "one"})
        r2, _ = synthesis.add_review_cmoc(s, small.theory_id, {"statement": "two"})
        synthesis.record_version(s, small.theory_id, "From the literature")
        with pytest.raises(ValidationError, match="Nothing changed since version 1"):
            synthesis.record_version(s, small.theory_id, "again")
        synthesis.update_review_cmoc(s, r1, {"statement": "one, refined"})
        synthesis.delete_review_cmoc(s, r2)
        synthesis.add_review_cmoc(s, small.theory_id, {"statement": "three"})
        synthesis.record_version(s, small.theory_id, "Studies showed fear, not trust",
                                 "Peers earn trust where policing is light.")
        theory = s.store.get("theory", small.theory_id)
        (t,) = synthesis.load_synthesis(s).theories
    v1, v2 = t.versions
    assert (v1.number, v1.added, v1.changed, v1.dropped) == (1, ["PT1-C1", "PT1-C2"], [], [])
    assert (v2.number, v2.added, v2.changed, v2.dropped) == (2, ["PT1-C3"], ["PT1-C1"],
                                                             ["PT1-C2"])
    assert v2.reason == "Studies showed fear, not trust"
    assert v2.author_id and v2.recorded_at and v2.recorded_at.endswith("UTC")
    assert v1.statement == "Peers earn trust." and v2.statement.endswith("policing is light.")
    assert (theory.version, theory.status) == ("v2", "refined")
    # what version 1 remembered does not change when the CMOC changes later
    assert [m["statement"] for m in v1.members] == ["one", "two"]


def test_version_diff_sees_a_changed_confidence() -> None:
    a = [{"id": "1", "label": "PT1-C1", "statement": "s", "confidence": "low"}]
    b = [{"id": "1", "label": "PT1-C1", "statement": "s", "confidence": "high"}]
    assert version_diff(a, b) == ([], ["PT1-C1"], [])


def test_deleted_study_cmoc_leaves_the_matrix_but_not_the_log(small) -> None:
    from cmo_desk.services import coding

    with Session.open(small.path, coder="Sam Okafor") as s:
        rid, _ = synthesis.add_review_cmoc(s, small.theory_id, {"statement": "x"})
        src = small.cmocs["Brown 2021"][1]  # Sam's own CMOC
        synthesis.link_source(s, rid, src, "supports")
        coding.delete_cmoc(s, src)
        (review,) = synthesis.load_synthesis(s).review_cmocs
        assert review.sources == ()
        assert len(s.store.links("review_link", review_cmoc_id=rid)) == 1


def test_review_cmocs_of_a_deleted_theory_stay_in_sight(small) -> None:
    with Session.open(small.path, coder="Lan Nguyen") as s:
        rid, _ = synthesis.add_review_cmoc(s, small.theory_id, {"statement": "orphan"})
        with s.write() as uow:
            uow.delete("theory", small.theory_id)
        syn = synthesis.load_synthesis(s)
    (theory,) = syn.theories
    assert theory.theory.label == "No programme theory"
    assert [r.record.id for r in theory.review_cmocs] == [rid]


def test_a_version_holds_only_the_evidence_still_there(small) -> None:
    from cmo_desk.services import coding

    with Session.open(small.path, coder="Sam Okafor") as s:
        rid, _ = synthesis.add_review_cmoc(s, small.theory_id, {"statement": "x"})
        brown = small.cmocs["Brown 2021"][1]  # Sam's own CMOC
        synthesis.link_source(s, rid, brown, "supports")
        synthesis.link_source(s, rid, small.cmocs["Chen 2020"][1], "supports")
        synthesis.record_version(s, small.theory_id, "initial")
        coding.delete_cmoc(s, brown)
        # the review CMOC lost a supporting study: that is a change worth a version
        vid, _ = synthesis.record_version(s, small.theory_id, "Brown's CMOC was withdrawn")
        v2 = next(v for v in s.store.list("theory_version") if v.id == vid)
    assert v2.changed == ["PT1-C1"]
    (member,) = v2.members
    assert [e[:2] for e in member["evidence"]] == [[small.cmocs["Chen 2020"][1], "supports"]]


def test_a_study_merged_into_its_duplicate_is_one_row_of_the_matrix(small, tmp_path,
                                                                    capsys) -> None:
    import shutil

    from cmo_desk.cli.main import run
    from cmo_desk.domain.synthesis import evidence_matrix
    from cmo_desk.services import coding, duplicates

    # Sam, on another laptop, added Brown 2021 again and coded a CMOC on it
    other = tmp_path / "sam.cmo"
    shutil.copy(small.path, other)
    with Session.open(other, coder="Sam Okafor") as s:
        dup, _ = coding.add_study(s, {"label": "Brown 2021", "title": "Brown 2021 study"})
        late, _ = coding.create_cmoc(s, dup, {"outcome": "Peers quit"}, [], [])
    with Session.open(small.path, coder="Lan Nguyen") as s:
        rid, _ = synthesis.add_review_cmoc(s, small.theory_id, {"statement": "x"})
        keep = next(x.id for x in s.store.list("study") if x.label == "Brown 2021")
    assert run(["merge", str(small.path), str(other)]) == 0
    with Session.open(small.path, coder="Lan Nguyen") as s:
        duplicates.merge_studies(s, dup, keep)
        # the decision crosses with Sam's CMOC still on the duplicate
        with s.write() as uow:
            uow.update("cmoc", late, {"study_id": dup})
        synthesis.link_source(s, rid, late, "refutes")
        syn = synthesis.load_synthesis(s)
    capsys.readouterr()
    labels = [x.label for x in syn.studies]
    assert labels == ["Ahmed 2019", "Brown 2021", "Chen 2020"]
    m = evidence_matrix(syn)
    assert m.cell(keep, rid) == ("refutes",)
    (review,) = syn.review_cmocs
    assert [(x.study_id, x.study_label) for x in review.sources] == [(keep, "Brown 2021")]
    out = tmp_path / "matrix.csv"
    assert run(["export", str(small.path), "-o", str(out), "--table", "matrix"]) == 0
    assert "3 studies" in capsys.readouterr().out
    rows = out.read_text(encoding="utf-8-sig").splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["Ahmed 2019", "Brown 2021", "Chen 2020"]


def test_changes_since_the_latest_version_are_named_not_passed_off_as_it(small, tmp_path,
                                                                          capsys) -> None:
    from docx import Document

    from cmo_desk.cli.main import run
    from cmo_desk.domain.synthesis import unrecorded_note

    def note() -> str | None:
        with Session.open(small.path) as s:
            (theory,) = synthesis.load_synthesis(s).theories
        return unrecorded_note(theory)

    with Session.open(small.path, coder="Lan Nguyen") as s:
        rid, _ = synthesis.add_review_cmoc(s, small.theory_id, {"statement": "trust"})
        synthesis.link_source(s, rid, small.cmocs["Ahmed 2019"][0], "supports")
        synthesis.link_source(s, rid, small.consensus_id, "refines")
        synthesis.record_version(s, small.theory_id, "initial")
    assert note() is None  # just recorded: the version is the theory
    with Session.open(small.path, coder="Lan Nguyen") as s:
        synthesis.link_source(s, rid, small.cmocs["Chen 2020"][0], "refutes")
        synthesis.add_review_cmoc(s, small.theory_id, {"statement": "fear"})
    said = "Changed since v1 was recorded: Review CMOCs added: PT1-C2; Changed: PT1-C1."
    assert note() == said
    out = tmp_path / "theories.docx"
    assert run(["export", str(small.path), "-o", str(out), "--table", "theories"]) == 0
    capsys.readouterr()
    paragraphs = [p.text for p in Document(str(out)).paragraphs]
    assert paragraphs[paragraphs.index("PT1 Trust (v1)") + 2] == said
    with Session.open(small.path, coder="Lan Nguyen") as s:
        synthesis.record_version(s, small.theory_id, "second round")
    assert note() is None


def test_the_demo_theory_is_what_its_latest_version_recorded(demo_path) -> None:
    from cmo_desk.domain.synthesis import unrecorded_changes

    with Session.open(demo_path, read_only=True) as s:
        theories = synthesis.load_synthesis(s).theories
    assert [unrecorded_changes(t) for t in theories] == [None, None]


def test_two_studies_with_the_same_label_count_as_two(small) -> None:
    from cmo_desk.exporters.theories import studies_cell
    from cmo_desk.services import coding

    with Session.open(small.path, coder="Lan Nguyen") as s:
        rid, _ = synthesis.add_review_cmoc(s, small.theory_id, {"statement": "x"})
        for title in ("Peer outreach in Hanoi", "Peer navigation in Kunming"):
            sid, _ = coding.add_study(s, {"label": "Li 2018", "title": title})
            cid, _ = coding.create_cmoc(s, sid, {"outcome": title}, [], [])
            synthesis.link_source(s, rid, cid, "supports")
        (review,) = synthesis.load_synthesis(s).review_cmocs
    assert studies_cell(review, "supports") == "2: Li 2018; Li 2018"


def test_rewording_a_linked_study_cmoc_is_a_change_of_the_review_cmoc(small) -> None:
    """The evidence a version records is the study CMOCs as they read: a study CMOC (or a
    consensus CMOC) reworded after the version was recorded changes what the review CMOC rests
    on, so the next version lists the review CMOC as changed. A memo is not wording."""
    from cmo_desk.domain.synthesis import unrecorded_changes
    from cmo_desk.services import coding

    def since(s: Session) -> list[tuple[list[str], list[str], list[str]] | None]:
        full = [unrecorded_changes(t) for t in synthesis.load_synthesis(s).theories]
        # the workspace reads the study CMOCs lightly; it must see the same
        light = [unrecorded_changes(t) for t in synthesis.load_synthesis(
            s, quotes=False, cmocs=synthesis.light_cmocs(s)).theories]
        assert light == full
        return full

    ahmed = small.cmocs["Ahmed 2019"][0]  # Lan's own
    with Session.open(small.path, coder="Lan Nguyen") as s:
        rid, _ = synthesis.add_review_cmoc(s, small.theory_id, {"statement": "trust"})
        other, _ = synthesis.add_review_cmoc(s, small.theory_id, {"statement": "fear"})
        synthesis.link_source(s, rid, ahmed, "supports")
        synthesis.link_source(s, other, small.consensus_id, "refines")
        synthesis.record_version(s, small.theory_id, "initial")
        assert since(s) == [None]
        coding.update_cmoc(s, ahmed, {"memo": "check the page"})
        assert since(s) == [None]
        with pytest.raises(ValidationError, match="Nothing changed"):
            synthesis.record_version(s, small.theory_id, "a memo only")
        coding.update_cmoc(s, ahmed, {"mechanism_reasoning": "Trust in someone who shares "
                                                             "the risk 🤝"})
        assert since(s) == [([], ["PT1-C1"], [])]
        vid, _ = synthesis.record_version(s, small.theory_id, "Ahmed reread")
        v2 = next(v for v in s.store.list("theory_version") if v.id == vid)
        assert (v2.added, v2.changed, v2.dropped) == ([], ["PT1-C1"], [])
        assert since(s) == [None]
        coding.update_consensus(s, small.consensus_id, {"statement": "Agreed: trust, not fear"})
        assert since(s) == [([], ["PT1-C2"], [])]
        vid, _ = synthesis.record_version(s, small.theory_id, "consensus reworded")
        v3 = next(v for v in s.store.list("theory_version") if v.id == vid)
        assert v3.changed == ["PT1-C2"]


def test_a_version_recorded_before_wording_was_kept_shows_no_change_by_itself(small) -> None:
    """Versions recorded by an earlier release hold each piece of evidence as (id, relation):
    they are not all reported changed because the wording was not kept then."""
    from cmo_desk.domain.synthesis import unrecorded_changes

    ahmed = small.cmocs["Ahmed 2019"][0]
    with Session.open(small.path, coder="Lan Nguyen") as s:
        rid, _ = synthesis.add_review_cmoc(s, small.theory_id, {"statement": "trust"})
        synthesis.link_source(s, rid, ahmed, "supports")
        vid, _ = synthesis.record_version(s, small.theory_id, "initial")
        v1 = next(v for v in s.store.list("theory_version") if v.id == vid)
        old = [{**m, "evidence": [e[:2] for e in m["evidence"]]} for m in v1.members]
        with s.write() as uow:
            uow.update("theory_version", vid, {"members": old})
        (theory,) = synthesis.load_synthesis(s).theories
        assert unrecorded_changes(theory) is None
        # a new link is still a change
        synthesis.link_source(s, rid, small.cmocs["Chen 2020"][0], "refutes")
        (theory,) = synthesis.load_synthesis(s).theories
        assert unrecorded_changes(theory) == ([], ["PT1-C1"], [])
