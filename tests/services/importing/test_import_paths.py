"""Importing a folder of reference exports and full texts into a project."""

from __future__ import annotations

import hashlib
import sys
import types
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmo_desk.domain.errors import Cancelled, ImportFailed
from cmo_desk.services.importing import import_paths, import_refi_file

from .conftest import make_docx, make_pdf


def _by_title(session, fragment: str):
    (study,) = [s for s in session.store.list("study") if fragment in (s.title or "")]
    return study


def test_folder_import_adds_studies_documents_and_links(project, sources):
    before = project.store.count("study")
    progress: list[tuple[int, int]] = []
    summary = import_paths(project, [sources], progress=lambda d, t: progress.append((d, t)))

    # 3 RIS + 2 BibTeX records, one of them the same study as a RIS record; one file matches
    # no reference and becomes a study of its own.
    assert summary.studies_added == 4 + 1
    assert summary.documents_added == 3
    assert [d.item for d in summary.duplicate_references] == [
        "Peer Outreach and Syringe Programme Uptake in Three Port Cities"]
    assert summary.duplicate_references[0].study_label == "Okafor 2018"
    assert summary.duplicates_skipped == 1
    assert project.store.count("study") == before + 5
    how = {Path(link.file).name: (link.how, link.study_label) for link in summary.linked}
    assert how["okafor.pdf"] == ("doi", "Okafor 2018")
    assert how["nguyen.docx"] == ("title", "Nguyen 2019")
    assert how["unrelated-report.pdf"] == ("new", "unrelated-report")
    assert summary.skipped == ["review/notes.xlsx"]
    assert not summary.errors
    assert progress[-1][0] == progress[-1][1]

    okafor = _by_title(project, "three port cities")
    (doc,) = project.store.list("document", study_id=okafor.id)
    assert doc.filename == "okafor.pdf" and doc.page_count == 2
    assert doc.text[doc.page_starts[1]:].startswith("Results")
    assert doc.page_at(doc.text.index("Clients trusted")) == 2
    original = (sources / "okafor.pdf").read_bytes()
    assert doc.sha256 == hashlib.sha256(original).hexdigest()
    assert project.store.get_blob(doc.sha256) == original
    new_study = _by_title(project, "Annual report of the drop-in centre")
    assert new_study.label == "unrelated-report"
    durand = _by_title(project, "role strain")
    assert durand.authors == ["Durand, Émile"] and durand.doi == "10.1234/role.2021.4"
    labels = [s.label for s in project.store.list("study")]
    assert len(labels) == len(set(labels))


def test_importing_the_same_folder_again_adds_nothing(project, sources):
    import_paths(project, [sources])
    changes = project.store.change_count()
    again = import_paths(project, [sources])
    assert (again.studies_added, again.documents_added) == (0, 0)
    assert len(again.duplicate_references) == 5
    assert len(again.duplicate_files) == 3
    assert {d.study_label for d in again.duplicate_files} >= {"Okafor 2018", "Nguyen 2019"}
    assert project.store.change_count() == changes


def test_labels_do_not_clash_with_the_project(project, sources):
    import_paths(project, [sources / "included.ris"])
    (sources / "more.ris").write_text(
        "TY  - JOUR\nAU  - Okafor, Ada\nPY  - 2018\nTI  - A second study by the same author "
        "in the same year\nER  - \n", encoding="utf-8")
    summary = import_paths(project, [sources / "more.ris"])
    assert summary.studies_added == 1
    labels = sorted(s.label for s in project.store.list("study") if s.label.startswith("Okafor"))
    assert labels == ["Okafor 2018", "Okafor 2018a"]


def test_cancel_writes_nothing(project, sources):
    changes = project.store.change_count()
    calls = iter(range(1000))
    with pytest.raises(Cancelled):
        import_paths(project, [sources], cancel=lambda: next(calls) >= 4)
    assert project.store.change_count() == changes
    assert project.store.count("document") == 0


def test_a_bad_file_is_reported_and_the_others_imported(project, sources):
    (sources / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog garbage")
    (sources / "broken.ris").write_bytes(b"\x00\x01\x02 not references \xff\xfe")
    summary = import_paths(project, [sources])
    assert summary.documents_added == 3 and summary.studies_added == 5
    assert "damaged" in summary.errors["review/broken.pdf"]
    assert "not a reference file" in summary.errors["review/broken.ris"]


def test_password_protected_pdf(project, tmp_path):
    locked = tmp_path / "locked.pdf"
    locked.write_bytes(make_pdf([["Confidential evaluation of peer navigation"]],
                                user_password="s3cret"))
    readable = tmp_path / "open.pdf"
    readable.write_bytes(make_pdf([["An open report on peer navigation"]]))
    summary = import_paths(project, [locked, readable])
    assert summary.documents_added == 1
    assert "--password" in summary.errors[str(locked)]
    with pytest.raises(ImportFailed, match="password is wrong"):
        import_paths(project, [locked], password="guess")
    summary = import_paths(project, [locked], password="s3cret")
    assert summary.documents_added == 1
    (doc,) = [d for d in project.store.list("document") if d.filename == "locked.pdf"]
    assert "Confidential evaluation" in doc.text


def test_image_only_pdf_is_imported_and_flagged(project, tmp_path):
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(make_pdf([[""], [""]], image_only=True))
    summary = import_paths(project, [scan])
    assert summary.documents_added == 1
    assert summary.needs_ocr == [str(scan)]
    assert any("needs OCR" in w for w in summary.warnings[str(scan)])
    (doc,) = project.store.list("document")
    assert doc.needs_ocr is True and any("needs OCR" in w for w in doc.warnings)


def test_nothing_readable_raises_and_writes_nothing(project, tmp_path):
    bad = tmp_path / "a.pdf"
    bad.write_bytes(b"<html><body>Access denied</body></html>")
    other = tmp_path / "b.docx"
    other.write_bytes(b"PK\x03\x04 truncated")
    changes = project.store.change_count()
    with pytest.raises(ImportFailed, match="a.pdf is a web page"):
        import_paths(project, [bad, other])
    with pytest.raises(ImportFailed, match="does not exist"):
        import_paths(project, [tmp_path / "missing.ris"])
    (tmp_path / "empty-folder").mkdir()
    with pytest.raises(ImportFailed, match="No files to import"):
        import_paths(project, [tmp_path / "empty-folder"])
    assert project.store.change_count() == changes


def test_the_same_file_twice_in_one_import_is_added_once(project, tmp_path):
    data = make_pdf([["One report, saved twice under two names"]])
    (tmp_path / "a.pdf").write_bytes(data)
    (tmp_path / "b.pdf").write_bytes(data)
    summary = import_paths(project, [tmp_path / "a.pdf", tmp_path / "b.pdf"])
    assert summary.documents_added == 1 and len(summary.duplicate_files) == 1


def test_generic_reference_titles_do_not_capture_files(project, tmp_path):
    (tmp_path / "refs.ris").write_text(
        "TY  - JOUR\nAU  - Knowles, K\nPY  - 2004\nTI  - Introduction\nER  - \n", encoding="utf-8")
    (tmp_path / "paper.pdf").write_bytes(make_pdf([
        ["Complications of thrombosis prophylaxis in trauma", "Introduction",
         "Deep venous thrombosis is common after injury."]]))
    summary = import_paths(project, [tmp_path])
    assert [link.how for link in summary.linked] == ["new"]


def test_medline_txt_is_read_as_references(project, tmp_path):
    (tmp_path / "pubmed.txt").write_text(
        "PMID- 12345678\nTI  - Peer support in methadone maintenance: a cohort study.\n"
        "AU  - Wang L\nDP  - 2015 Mar\nLID - 10.1234/mmt.2015 [doi]\n\n", encoding="utf-8")
    (tmp_path / "transcript.txt").write_text("Interviewer: How did you hear about the group?\n",
                                             encoding="utf-8")
    summary = import_paths(project, [tmp_path])
    assert summary.documents_added == 1
    assert [link.file.endswith("transcript.txt") for link in summary.linked] == [True]
    wang = _by_title(project, "methadone maintenance")
    assert wang.pmid == "12345678" and wang.label == "Wang 2015"


def test_refi_files_go_to_the_refi_service(project, tmp_path, monkeypatch):
    calls = []
    fake = types.ModuleType("cmo_desk.services.refi_exchange")
    fake.import_refi = lambda session, path, progress, cancel: calls.append(path.name) or "ok"
    monkeypatch.setitem(sys.modules, "cmo_desk.services.refi_exchange", fake)
    assert import_refi_file(project, tmp_path / "team.qdpx") == "ok" and calls == ["team.qdpx"]
    monkeypatch.setitem(sys.modules, "cmo_desk.services.refi_exchange", None)
    with pytest.raises(ImportFailed, match="REFI-QDA import is not available"):
        import_refi_file(project, tmp_path / "team.qdpx")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=600),
       suffix=st.sampled_from([".ris", ".bib", ".nbib", ".xml", ".json", ".pdf", ".docx", ".txt",
                               ".html"]))
def test_random_bytes_never_crash_an_import(project, tmp_path, data, suffix):
    path = tmp_path / ("random" + suffix)
    path.write_bytes(data)
    try:
        summary = import_paths(project, [path])
    except ImportFailed as err:
        assert str(err)
    else:
        assert summary.files_read == 1


def test_korean_text_is_found_by_search(project, tmp_path):
    make_docx(tmp_path / "seoul.docx", [
        "서울 동료 지원 연구", "참여자들은 동료상담가를 신뢰한다고 말했다."])
    import_paths(project, [tmp_path / "seoul.docx"])
    hits = project.store.search("신뢰")
    assert [h.study_label for h in hits] == ["seoul"]
    assert "[신뢰]" in hits[0].snippet and hits[0].page == 1
    assert project.store.search("동료상담가")
    assert project.store.search("존재하지않는말") == []


def test_records_with_short_titles_are_found_again(project, tmp_path):
    (tmp_path / "cjk.bib").write_text(
        "@book{a, author = {肖发民}, title = {法医学图谱}}\n"
        "@book{b, author = {Smith, John}, title = {A Random Book}}\n", encoding="utf-8")
    assert import_paths(project, [tmp_path / "cjk.bib"]).studies_added == 2
    again = import_paths(project, [tmp_path / "cjk.bib"])
    assert again.studies_added == 0 and len(again.duplicate_references) == 2


def test_a_read_only_project_is_refused_before_reading(project, sources):
    from cmo_desk.domain.errors import ReadOnlyError
    from cmo_desk.services.session import Session

    with Session.open(project.path, read_only=True) as viewer:
        with pytest.raises(ReadOnlyError, match="read-only"):
            import_paths(viewer, [sources])


def test_a_file_changed_during_the_import_writes_nothing(project, sources):
    changes = project.store.change_count()

    def change_a_file_late(done: int, total: int) -> None:
        if done == total - 1:  # every file read, nothing written yet
            (sources / "okafor.pdf").write_bytes(b"%PDF-1.4 overwritten")

    with pytest.raises(ImportFailed, match="okafor.pdf changed"):
        import_paths(project, [sources], progress=change_a_file_late)
    assert project.store.change_count() == changes
