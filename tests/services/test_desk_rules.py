"""The desk's rules without a window: a passage's role from its codes, what a new CMOC may cite,
and which study a label names (the desk and the command line read labels alike)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmo_desk.cli.main import run
from cmo_desk.domain import records as rec
from cmo_desk.domain.errors import ValidationError
from cmo_desk.services import coding, desk_rules
from cmo_desk.services.session import Session

KINDS = [k.value for k in rec.CodeKind]


@pytest.fixture(autouse=True)
def _own_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CMO_DESK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("CMO_DESK_CODER", raising=False)


def _codes(kinds: list[str]) -> dict[str, rec.Code]:
    return {f"c{i}": rec.Code(id=f"c{i}", name=f"code {i}", kind=k) for i, k in enumerate(kinds)}


def test_one_role_among_the_codes_is_the_passages_role() -> None:
    codes = _codes(["mechanism", "other", "context", "mechanism"])
    assert desk_rules.role_for_codes(codes, ["c0"]) == "mechanism"
    assert desk_rules.role_for_codes(codes, ["c0", "c1"]) == "mechanism"  # "other" says nothing
    assert desk_rules.role_for_codes(codes, ["c0", "c3"]) == "mechanism"
    assert desk_rules.role_for_codes(codes, ["c0", "c2"]) == "other"  # two roles: undecided
    assert desk_rules.role_for_codes(codes, ["c1"]) == "other"
    assert desk_rules.role_for_codes(codes, []) == "other"
    assert desk_rules.role_for_codes(codes, ["gone", "c2"]) == "context"  # a deleted code


@settings(max_examples=100)
@given(st.lists(st.sampled_from(KINDS + ["theme", ""]), max_size=6), st.data())
def test_role_is_the_shared_role_kind_or_other(kinds: list[str], data: st.DataObject) -> None:
    codes = _codes(kinds)
    chosen = data.draw(st.lists(st.sampled_from(sorted(codes) + ["missing"]), max_size=6))
    role = desk_rules.role_for_codes(codes, chosen)
    roles = {codes[c].kind for c in chosen if c in codes} - {"other", "theme", ""}
    assert role == (roles.pop() if len(roles) == 1 else "other")
    assert role in {r.value for r in rec.Role}


@pytest.fixture
def two_coders(tmp_path: Path) -> Path:
    """One study each coder marked a passage of, and a second study."""
    path = tmp_path / "r.cmo"
    with Session.create(path, coder="Amina", title="Review") as s:
        for label in ("Ahmed 2019", "Brown 2021"):
            sid, _ = coding.add_study(s, {"label": label, "title": label})
            with s.write() as uow:
                uow.create("document", {"study_id": sid, "filename": f"{label}.txt",
                                        "text": "Peers built trust 🌧 over months. " * 20,
                                        "page_starts": [0], "created_by": s.coder_id})
    return path


def _doc(session: Session, label: str) -> rec.Document:
    sid = desk_rules.study_by_label(session, label)
    return session.store.list("document", study_id=sid)[0]


def test_a_new_cmoc_cites_only_the_studys_excerpts_the_coder_can_see(two_coders: Path) -> None:
    with Session.open(two_coders, coder="Bella") as s:
        theirs, _ = coding.add_excerpt(s, _doc(s, "Ahmed 2019").id, 0, 10, "context")
    with Session.open(two_coders, coder="Amina") as s:
        ahmed = desk_rules.study_by_label(s, "Ahmed 2019")
        mine, _ = coding.add_excerpt(s, _doc(s, "Ahmed 2019").id, 20, 40, "mechanism")
        elsewhere, _ = coding.add_excerpt(s, _doc(s, "Brown 2021").id, 0, 10, "outcome")
        gone, _ = coding.add_excerpt(s, _doc(s, "Ahmed 2019").id, 50, 60, "outcome")
        coding.delete_excerpt(s, gone)
        selected = [theirs, elsewhere, mine, gone, mine]
        assert desk_rules.citable_excerpts(s, ahmed, selected, show_others=False) == [mine]
        assert desk_rules.citable_excerpts(s, ahmed, selected, show_others=True) == [theirs, mine]


def test_a_label_names_a_study_whatever_its_case_and_spacing(two_coders: Path) -> None:
    with Session.open(two_coders, coder="Amina") as s:
        ahmed = next(x.id for x in s.store.list("study") if x.label == "Ahmed 2019")
        for typed in ("Ahmed 2019", "  ahmed   2019 ", "AHMED\t2019", ahmed):
            assert desk_rules.study_by_label(s, typed) == ahmed
        for near_miss in ("Ahmed 2018", "Ahmed2019", "", "   "):
            with pytest.raises(ValidationError, match="No single study"):
                desk_rules.study_by_label(s, near_miss)
        coding.add_study(s, {"label": "ahmed 2019", "title": "A second Ahmed"})
        with pytest.raises(ValidationError, match="Several studies"):
            desk_rules.study_by_label(s, "Ahmed 2019")
        assert ahmed in desk_rules.studies_labelled(s, "AHMED 2019")
        coding.add_study(s, {"label": "Đà Nẵng 🌧 2020", "title": "Rain"})
        assert desk_rules.studies_labelled(s, "đà nẵng 🌧  2020") != []


def test_the_command_line_reads_labels_as_the_desk_does(two_coders: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["recognise", str(two_coders), "ahmed  2019"]) == 0
    assert "needs text recognition" in capsys.readouterr().err
    assert run(["recognise", str(two_coders), "Ahmed 2018"]) != 0
    err = capsys.readouterr().err
    assert "Ahmed 2018" in err and "Traceback" not in err
    assert run(["submit", str(two_coders), "  BROWN 2021", "--coder", "Amina"]) == 0


def test_the_coders_who_submitted_a_study_are_listed_by_name(two_coders: Path) -> None:
    with Session.open(two_coders, coder="zoë") as s:
        ahmed = desk_rules.study_by_label(s, "Ahmed 2019")
        coding.submit_study(s, ahmed)
    with Session.open(two_coders, coder="Bella") as s:
        coding.add_excerpt(s, _doc(s, "Ahmed 2019").id, 0, 10, "context")  # coding, not handed in
    with Session.open(two_coders, coder="Amina") as s:
        assert desk_rules.submitted_coders(s, ahmed) == [
            (s.store.list("coder", name="zoë")[0].id, "zoë")]
        coding.submit_study(s, ahmed)
        assert [name for _cid, name in desk_rules.submitted_coders(s, ahmed)] == ["Amina", "zoë"]
        assert desk_rules.submitted_coders(s, desk_rules.study_by_label(s, "Brown 2021")) == []


def test_a_study_is_double_coded_once_two_coders_made_cmocs_of_it(two_coders: Path) -> None:
    from cmo_desk.services import reconcile

    with Session.open(two_coders, coder="Amina") as s:
        ahmed = desk_rules.study_by_label(s, "Ahmed 2019")
        brown = desk_rules.study_by_label(s, "Brown 2021")
        coding.create_cmoc(s, ahmed, {"outcome": "trust"})
        coding.create_cmoc(s, brown, {"outcome": "trust"})
        coding.create_cmoc(s, brown, {"outcome": "again"})
        assert reconcile.double_coded_studies(s) == []
    with Session.open(two_coders, coder="Bella") as s:
        coding.create_cmoc(s, ahmed, {"outcome": "stigma"})
        assert reconcile.double_coded_studies(s) == [(ahmed, "Ahmed 2019")]
