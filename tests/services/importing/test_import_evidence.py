"""Imports that say what they did not do: identifiers carried over from skipped duplicates, links
proposed rather than guessed, and a batch that exits non-zero when a file was not imported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cmo_desk.cli.main import run
from cmo_desk.domain.errors import ImportFailed
from cmo_desk.services.importing import import_paths

from .conftest import make_pdf

PUBMED_RIS = """TY  - JOUR
AU  - Banda, Chisomo
PY  - 2019
TI  - Peer-led harm reduction services for people who inject drugs in Lilongwe, Malawi
AN  - 31234567
DP  - NLM
ER  - 
"""
ZOTERO_BIB = r"""@article{banda2019,
  author = {Banda, Chisomo},
  title = {Peer-led harm reduction services for people who inject drugs in Lilongwe, Malawi},
  year = {2019},
  doi = {10.1000/hrj.2019.12}
}
"""


def test_a_skipped_duplicate_gives_the_kept_record_its_identifiers(project, tmp_path):
    (tmp_path / "a.bib").write_text(ZOTERO_BIB, encoding="utf-8")
    (tmp_path / "b.ris").write_text(PUBMED_RIS, encoding="utf-8")
    summary = import_paths(project, [tmp_path / "a.bib", tmp_path / "b.ris"])
    assert summary.studies_added == 1 and len(summary.duplicate_references) == 1
    (study,) = project.store.list("study")
    assert (study.doi, study.pmid) == ("10.1000/hrj.2019.12", "31234567")
    assert ("Banda 2019", "pmid", "31234567") in summary.identifiers_added


def test_a_duplicate_fills_in_a_study_already_in_the_project(project, tmp_path):
    (tmp_path / "a.bib").write_text(ZOTERO_BIB, encoding="utf-8")
    import_paths(project, [tmp_path / "a.bib"])
    (tmp_path / "b.ris").write_text(PUBMED_RIS, encoding="utf-8")
    summary = import_paths(project, [tmp_path / "b.ris"])
    assert summary.studies_added == 0
    (study,) = project.store.list("study")
    assert (study.doi, study.pmid) == ("10.1000/hrj.2019.12", "31234567")


ZAMBIA_PAGE = ["Harm Reduction Journal (2019)", "Peer-led harm reduction services for people who",
               "inject drugs: a situational analysis in", "Zambia", "Chisomo Banda"]


def test_a_near_miss_is_proposed_then_accepted(project, tmp_path):
    (tmp_path / "b.ris").write_text(PUBMED_RIS, encoding="utf-8")
    import_paths(project, [tmp_path / "b.ris"])
    (malawi,) = project.store.list("study")
    pdf = tmp_path / "zambia.pdf"
    pdf.write_bytes(make_pdf([ZAMBIA_PAGE]))
    changes = project.store.change_count()
    preview = import_paths(project, [pdf], dry_run=True)
    assert preview.dry_run and project.store.change_count() == changes
    (proposal,) = preview.proposed_links
    assert (proposal.file, proposal.study_id) == (str(pdf), malawi.id) and proposal.reasons
    # Accepted: the file joins the proposed study, no study is made from it.
    summary = import_paths(project, [pdf], accept_links={proposal.file: proposal.study_id})
    assert summary.studies_added == 0 and summary.linked[0].how == "confirmed"
    (doc,) = project.store.list("document")
    assert doc.study_id == malawi.id


def test_a_near_miss_not_accepted_becomes_its_own_study(project, tmp_path):
    (tmp_path / "b.ris").write_text(PUBMED_RIS, encoding="utf-8")
    import_paths(project, [tmp_path / "b.ris"])
    pdf = tmp_path / "zambia.pdf"
    pdf.write_bytes(make_pdf([ZAMBIA_PAGE]))
    summary = import_paths(project, [pdf])
    assert summary.studies_added == 1 and summary.linked[0].how == "new"
    assert len(summary.proposed_links) == 1


def test_cli_batch_with_a_failing_file_exits_non_zero_and_names_it_on_stderr(tmp_path, capsys):
    target = tmp_path / "r.cmo"
    assert run(["new", str(target), "--coder", "Ana"]) == 0
    capsys.readouterr()
    (tmp_path / "good.ris").write_text(PUBMED_RIS, encoding="utf-8")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << garbage")
    code = run(["import", str(target), str(tmp_path / "good.ris"), str(tmp_path / "broken.pdf")])
    out, err = capsys.readouterr()
    assert code != 0
    assert "broken.pdf" in err and "broken.pdf" not in out.split("Studies added")[0]
    assert "1 of 2 files" in err
    # The rest was still imported.
    assert run(["info", str(target), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["studies"] == 1


def test_cli_lists_proposed_links(tmp_path, capsys):
    target = tmp_path / "r.cmo"
    assert run(["new", str(target), "--coder", "Ana"]) == 0
    (tmp_path / "b.ris").write_text(PUBMED_RIS, encoding="utf-8")
    assert run(["import", str(target), str(tmp_path / "b.ris")]) == 0
    pdf = tmp_path / "zambia.pdf"
    pdf.write_bytes(make_pdf([ZAMBIA_PAGE]))
    capsys.readouterr()
    assert run(["import", str(target), str(pdf)]) == 0
    out = capsys.readouterr().out
    assert "Banda 2019" in out and "not linked" in out


def test_a_batch_password_does_not_break_files_that_open_without_one(project, tmp_path):
    owner_only = tmp_path / "restricted.pdf"
    owner_only.write_bytes(make_pdf([["Peer workers and copy restrictions in Harare"]], user_password=""))
    locked = tmp_path / "locked.pdf"
    locked.write_bytes(make_pdf([["Confidential evaluation of peer navigation"]], user_password="s3cret"))
    summary = import_paths(project, [owner_only, locked], password="s3cret")
    assert summary.documents_added == 2 and not summary.errors


def test_a_password_per_file(project, tmp_path):
    first = tmp_path / "a.pdf"
    first.write_bytes(make_pdf([["First confidential report on outreach"]], user_password="alpha"))
    second = tmp_path / "b.pdf"
    second.write_bytes(make_pdf([["Second confidential report on outreach"]], user_password="beta"))
    with pytest.raises(ImportFailed) as raised:
        import_paths(project, [first, second])
    # Nothing could be read: the desk still learns which files to ask a password for.
    assert raised.value.summary.passwords_needed == [str(first), str(second)]
    summary = import_paths(project, [first, second], passwords={str(first): "alpha", str(second): "beta"},
                           password="wrong")
    assert summary.documents_added == 2 and not summary.errors


def test_the_summary_says_records_read_per_file(project, tmp_path):
    (tmp_path / "b.ris").write_text(PUBMED_RIS + "TY  - JOUR\nPY  - 2019\nER  - \n", encoding="utf-8")
    summary = import_paths(project, [tmp_path / "b.ris"])
    assert summary.records == {str(tmp_path / "b.ris"): (1, 2)}
