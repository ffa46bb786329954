"""Reconciliation, duplicates, agreement and assignments on the demo project and small copies."""

from __future__ import annotations

import json
import re
from pathlib import Path

from cmo_desk.cli.main import run
from cmo_desk.domain.ids import coder_id
from cmo_desk.services import coding, duplicates, reconcile
from cmo_desk.services.demo import build_demo
from cmo_desk.services.session import Session

from .conftest import study_id


def test_two_coders_cmocs_are_paired_and_reconciled(tmp_path: Path) -> None:
    build_demo(tmp_path / "demo.cmo").close()
    with Session.open(tmp_path / "demo.cmo", coder="Coordinator") as s:
        odessa = next(st.id for st in s.store.list("study") if "Odessa" in (st.label or ""))
        view = reconcile.reconciliation(s, odessa)
        assert view.coder_a != view.coder_b
        both = [p for p in view.pairs if p.a and p.b]
        assert both and all(p.a.owner_id == view.coder_a and p.b.owner_id == view.coder_b
                            for p in both)
        pair = both[-1]
        cid, _ = reconcile.consensus_from(s, odessa, [pair.a.id, pair.b.id],
                                          {"statement": "Agreed wording"}, "merged", "discussed")
        made = s.store.get("consensus", cid)
        assert made.statement == "Agreed wording" and set(made.source_ids) == {pair.a.id,
                                                                              pair.b.id}
        # the coders' own CMOCs keep their wording and owner
        assert s.store.get("cmoc", pair.a.id).statement == pair.a.statement
        assert s.store.get("cmoc", pair.a.id).owner_id == view.coder_a


def test_a_consensus_from_a_cmoc_deleted_meanwhile_is_refused_not_made_from_fewer(
        tmp_path: Path) -> None:
    """The coordinator chose two coders' CMOCs; one was deleted since (a merge from the coder's
    laptop, an undo). A consensus that silently rested on the other alone would claim agreement
    nobody reached: it is refused, and nothing is written."""
    import pytest

    from cmo_desk.domain.errors import ValidationError

    build_demo(tmp_path / "demo.cmo").close()
    with Session.open(tmp_path / "demo.cmo", coder="Coordinator") as s:
        hanoi = next(st.id for st in s.store.list("study") if "Hanoi" in (st.label or ""))
        pair = next(p for p in reconcile.reconciliation(s, hanoi).pairs if p.a and p.b)
        owner = s.store.get("coder", pair.b.owner_id).name
    with Session.open(tmp_path / "demo.cmo", coder=owner) as s:  # the coder deletes it
        coding.delete_cmoc(s, pair.b.id)
    with Session.open(tmp_path / "demo.cmo", coder="Coordinator") as s:
        before = s.store.change_count()
        with pytest.raises(ValidationError, match="no longer exists"):
            reconcile.consensus_from(s, hanoi, [pair.a.id, pair.b.id],
                                     {"statement": "Agreed wording"}, "merged")
        with pytest.raises(ValidationError, match="no longer exists"):
            coding.create_consensus(s, hanoi, {"statement": "Agreed"}, [pair.a.id, pair.b.id])
        assert s.store.change_count() == before
        assert s.store.get("cmoc", pair.a.id).status != "reconciled"


def test_agreement_cli_on_the_demo(tmp_path: Path, capsys) -> None:
    build_demo(tmp_path / "demo.cmo").close()
    assert run(["agreement", str(tmp_path / "demo.cmo")]) == 0
    text = capsys.readouterr().out
    assert "Lan Nguyen, Sam Okafor" in text and "All codes (pooled)" in text
    assert "Studies double-coded: 2 of 5 (40.0 %)" in text
    assert run(["agreement", str(tmp_path / "demo.cmo"), "--json", "--coders", "LN,Sam Okafor",
                "-o", str(tmp_path / "a.csv")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["studies_double_coded"] == 2 and (tmp_path / "a.csv").exists()
    assert data["pooled"]["units"] == sum(r["units"] for r in data["per_code"])
    assert run(["agreement", str(tmp_path / "demo.cmo"), "--coders", "Nobody,LN"]) != 0
    assert "No coder called" in capsys.readouterr().err


def test_same_study_and_code_from_two_coders_are_proposed_and_merged(copies, capsys) -> None:
    a, b = copies("lan"), copies("sam")
    for path, coder in ((a, "Lan Nguyen"), (b, "Sam Okafor")):
        with Session.open(path, coder=coder) as s:
            sid, _ = coding.add_study(s, {"label": f"Cruz 2020 ({coder})", "year": 2020,
                                          "title": "Peer-led outreach for people who inject drugs",
                                          "doi": "https://doi.org/10.1000/XYZ" if coder[0] == "L"
                                          else "10.1000/xyz"})
            code_id, _ = coding.add_code(s, " Peer  credibility", "mechanism")
            coding.set_form_value(s, sid, "setting", coder)
            doc = s.store.list("document")[0]
            coding.add_excerpt(s, doc.id, 0, 10, "mechanism", [code_id])
            coding.create_cmoc(s, sid, {"statement": coder}, code_ids=[code_id])
    assert run(["merge", str(a), str(b)]) == 0
    capsys.readouterr()
    assert run(["duplicates", str(a), "--json"]) == 0
    proposals = json.loads(capsys.readouterr().out)["proposals"]
    assert sorted(p["kind"] for p in proposals) == ["code", "study"]
    study = next(p for p in proposals if p["kind"] == "study")
    assert study["reason"] == "same DOI" and study["keep"] < study["duplicate"]
    # a Chinese coordinator reads the list in Chinese, as the desk's Duplicates window shows it
    from cmo_desk.domain.i18n import set_language

    try:
        assert run(["--lang", "zh_CN", "duplicates", str(a)]) == 0
    finally:
        set_language("en")
    listed = capsys.readouterr().out.splitlines()
    assert sorted(line.split(":")[0].split(". ")[1] for line in listed[:2]) == ["研究", "编码"], listed
    assert "相同 DOI" in "\n".join(listed) and "study" not in "\n".join(listed), listed

    assert run(["duplicates", str(a), "--accept-all", "--coder", "Coordinator"]) == 0
    capsys.readouterr()
    with Session.open(a) as s:
        assert s.store.get("study", study["duplicate"]).merged_into == study["keep"]
        cmocs = s.store.list("cmoc")
        assert {c.study_id for c in cmocs} == {study["keep"]}
        forms = s.store.links("form_value", study_id=study["keep"])
        assert {f["coder_id"] for f in forms} == {coder_id("Lan Nguyen"), coder_id("Sam Okafor")}
        assert duplicates.find_duplicates(s) == []
    # the decision is data: it travels to Sam's copy with a merge
    assert run(["merge", str(b), str(a)]) == 0
    with Session.open(b) as s:
        assert s.store.get("study", study["duplicate"]).merged_into == study["keep"]


def test_assign_and_submit_lock_a_coders_work(copies, capsys) -> None:
    a = copies("lan")
    assert run(["assign", str(a), "ahmed 2019", "--coders", "Lan Nguyen,Sam Okafor"]) == 0
    assert run(["submit", str(a), "Ahmed 2019", "--coder", "Lan Nguyen"]) == 0
    with Session.open(a, coder="Lan Nguyen") as s:
        sid = study_id(s, "Ahmed 2019")
        status = coding.study_status(s, sid)
        assert status[coder_id("Lan Nguyen")] == "submitted"
        assert status[coder_id("Sam Okafor")] == "assigned"
        try:
            coding.create_cmoc(s, sid, {"statement": "late"})
        except Exception as err:  # noqa: BLE001
            assert "locked" in str(err)
        else:
            raise AssertionError("a submitted study must be locked")
    assert run(["submit", str(a), "Nobody 1999", "--coder", "Lan Nguyen"]) != 0
    assert "No single study" in capsys.readouterr().err


def test_rejected_duplicate_is_not_proposed_again_even_after_merging(copies, capsys) -> None:
    a, b = copies("lan"), copies("sam")
    for path, coder in ((a, "Lan Nguyen"), (b, "Sam Okafor")):
        with Session.open(path, coder=coder) as s:
            coding.add_code(s, "Peer credibility", "mechanism")
    assert run(["merge", str(a), str(b)]) == 0
    capsys.readouterr()
    assert run(["duplicates", str(a), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["proposals"]) == 1
    assert run(["duplicates", str(a), "--reject", "1", "--coder", "Coordinator"]) == 0
    assert "will not be proposed again" in capsys.readouterr().out
    with Session.open(a) as s:
        assert duplicates.find_duplicates(s) == []
        assert len([c for c in s.store.list("code") if c.name == "Peer credibility"]) == 2
    # Sam's laptop learns the decision with the next merge.
    assert run(["merge", str(b), str(a)]) == 0
    with Session.open(b) as s:
        assert duplicates.find_duplicates(s) == []


def test_keeping_a_cmoc_that_belongs_to_no_study_is_refused_and_writes_nothing(
        base_project: Path) -> None:
    import pytest

    from cmo_desk.domain.errors import ValidationError

    with Session.open(base_project, coder="Lan") as s:
        # a CMOC read from another program without its study
        with s.write() as uow:
            stray = uow.create("cmoc", {"statement": "Peers built trust", "owner_id": s.coder_id})
        mark = s.store.change_count()
        with pytest.raises(ValidationError, match="That study no longer exists."):
            reconcile.promote(s, stray)
        with pytest.raises(ValidationError, match="That CMOC no longer exists."):
            reconcile.promote(s, "no-such-cmoc")
        assert s.store.change_count() == mark
        assert s.store.list("consensus") == []
        assert s.store.get("cmoc", stray).status is None


def test_agreement_table_columns_line_up_with_chinese_code_names(tmp_path: Path, capsys) -> None:
    """Chinese characters take two columns on a terminal: the figures of every row stand under their
    headings, a long Chinese code name is shortened to the name column, not past it."""
    import unicodedata

    from cmo_desk.domain.i18n import set_language

    session = build_demo(tmp_path / "demo.cmo")
    names = {"Criminalisation and policing": "刑事化与警务 policing 🚓",
             "Drug-user registries": "吸毒者登记制度与社区卫生服务中心之间的信息共享与隐私保护问题"}
    for code in session.store.list("code"):
        if code.name in names:
            coding.update_code(session, code.id, {"name": names[code.name]})
    session.close()

    def columns(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)

    try:
        assert run(["--lang", "zh_CN", "agreement", str(tmp_path / "demo.cmo")]) == 0
    finally:
        set_language("en")
    lines = capsys.readouterr().out.splitlines()
    table = [lines[2], *(line for line in lines[3:] if line.endswith("%"))]
    assert len(table) > 10
    assert "单元" in table[0] and "刑事化与警务 policing 🚓" in "\n".join(table)
    assert "吸毒者登记制度" in "\n".join(table) and "\u2026" in "\n".join(table)
    # the starter codes read as the desk's Agreement window names them
    assert any(line.startswith("信任 ") for line in table) and "Trust " not in "\n".join(table)
    ends = {columns(line) for line in table}
    assert len(ends) == 1, [(columns(line), line) for line in table]
    assert all(columns(line[:-35]) <= 40 for line in table), table  # the name column


def test_a_merge_on_the_command_line_says_what_arrived_in_chinese(copies, capsys) -> None:
    """Each coder's line says what arrived in the desk's own words (the desk's merge summary)."""
    from cmo_desk.domain.i18n import set_language
    from cmo_desk.services.merging import arrived_text

    a, b = copies("lan"), copies("sam")
    with Session.open(b, coder="Sam Okafor") as s:
        coding.add_study(s, {"label": "张伟 2021", "title": "第比利斯的同伴组织 🤝", "year": 2021})
        coding.add_code(s, "同伴信任", "mechanism")
    try:
        assert run(["--lang", "zh_CN", "merge", str(a), str(b)]) == 0
        said = capsys.readouterr().out
        expected = arrived_text({"code": 1, "coder": 1, "study": 1})
    finally:
        set_language("en")
    line = next(x for x in said.splitlines() if x.strip().startswith("Sam Okafor:"))
    assert line.strip() == f"Sam Okafor: {expected}", (line, expected)
    assert "研究" in expected and "编码者" in expected and not re.search("[a-z]", expected), expected
