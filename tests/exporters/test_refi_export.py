"""REFI-QDA export: valid against the official schemas, stable GUIDs, text that other programs can
place codings on."""

from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from cmo_desk.domain.errors import CmoDeskError, ValidationError
from cmo_desk.domain.records import Code, Project
from cmo_desk.domain.snapshot import ProjectSnapshot
from cmo_desk.exporters.refi import write_qdc, write_qdpx

# The hand-built REFI project the import tests read back too; its schema fixtures come with it.
from refi_project import (  # noqa: F401
    CHINESE,
    C_TRUST,
    D_EN,
    D_ZH,
    ENGLISH,
    codebook_schema,
    make_snapshot,
    project_schema,
)

NS = {"q": "urn:QDA-XML:project:1.0"}


@pytest.fixture(scope="module")
def snapshot() -> ProjectSnapshot:
    """The REFI project (two coders, a PDF kept whole), not this folder's evidence-table one."""
    return make_snapshot()


def _qde(path: Path) -> etree._Element:
    with zipfile.ZipFile(path) as zf:
        return etree.fromstring(zf.read("project.qde"))


def test_export_validates_against_the_project_schema(tmp_path, snapshot, project_schema):
    out = tmp_path / "review.qdpx"
    notes = write_qdpx(snapshot, out)
    # Nothing left out; one line on what only CMO Desk will read back.
    assert notes == ["Other programs will not show: which CMOCs and excerpts 1 consensus CMOCs came "
                     "from. CMO Desk reads them back from the file."]
    root = _qde(out)
    assert project_schema.validate(root), project_schema.error_log


def test_same_project_exports_to_the_same_bytes(tmp_path, snapshot):
    first, second = tmp_path / "a.qdpx", tmp_path / "b.qdpx"
    write_qdpx(snapshot, first)
    write_qdpx(snapshot, second)
    assert first.read_bytes() == second.read_bytes()


def test_guids_are_the_records_own_ids(tmp_path, snapshot):
    out = tmp_path / "review.qdpx"
    write_qdpx(snapshot, out)
    root = _qde(out)
    guids = {el.get("guid") for el in root.iter() if el.get("guid")}
    assert C_TRUST.upper() in guids
    assert {e.id.upper() for e in snapshot.excerpts} <= guids
    assert {c.id.upper() for c in snapshot.coders} <= guids
    assert {c.id.upper() for c in snapshot.cmocs} <= guids  # one set per CMOC
    # Every GUID is used once: codings, notes and role codes get their own derived ones.
    all_guids = [el.get("guid") for el in root.iter() if el.get("guid")]
    assert len(all_guids) == len(set(all_guids))


def test_text_sources_hold_the_exact_text_and_pdfs_keep_their_original(tmp_path, snapshot):
    out = tmp_path / "review.qdpx"
    write_qdpx(snapshot, out)
    root = _qde(out)
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        zh = root.find(f"q:Sources/q:TextSource[@guid='{D_ZH.upper()}']", NS)
        zh_path = zh.get("plainTextPath").removeprefix("internal://")
        assert zf.read(f"sources/{zh_path}").decode("utf-8") == CHINESE
        pdf = root.find(f"q:Sources/q:PDFSource[@guid='{D_EN.upper()}']", NS)
        assert f"sources/{D_EN.upper()}.pdf" in names
        assert zf.read(f"sources/{D_EN.upper()}.pdf").startswith(b"%PDF")
        rep = pdf.find("q:Representation", NS)
        rep_text = zf.read("sources/" + rep.get("plainTextPath").removeprefix("internal://")).decode("utf-8")
        assert rep_text == ENGLISH
    # Codings hang on the representation's text selections, with code-point offsets.
    sel = rep.find("q:PlainTextSelection", NS)
    start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
    assert ENGLISH[start:end] == "Nurses who trusted the programme leaders"
    zh_sel = zh.findall("q:PlainTextSelection", NS)[1]
    assert CHINESE[int(zh_sel.get("startPosition")) : int(zh_sel.get("endPosition"))] == "患者等待时间缩短了"


def test_roles_cmocs_and_kinds_are_visible_as_codes_notes_and_sets(tmp_path, snapshot):
    out = tmp_path / "review.qdpx"
    write_qdpx(snapshot, out)
    root = _qde(out)
    role_group = root.find("q:CodeBook/q:Codes/q:Code[@name='CMO role']", NS)
    assert role_group.get("isCodable") == "false"
    assert [c.get("name") for c in role_group.findall("q:Code", NS)] == ["Context", "Mechanism", "Outcome"]
    notes = root.findall("q:Notes/q:Note", NS)
    assert len(notes) == 3  # two CMOCs and one consensus CMOC
    text = notes[0].find("q:PlainTextContent", NS).text
    assert "Context: Trusted leaders" in text and "Outcome: Patients wait less" in text
    # Each of the CMOC's excerpts points at its note.
    refs = root.findall(f".//q:PlainTextSelection/q:NoteRef[@targetGUID='{notes[0].get('guid')}']", NS)
    assert len(refs) == 3
    set_names = [s.get("name") for s in root.findall("q:Sets/q:Set", NS)]
    assert "CMO kind: Context" in set_names and "CMO kind: Outcome" in set_names


def test_codebook_validates_against_the_codebook_schema(tmp_path, snapshot, codebook_schema):
    out = tmp_path / "codes.qdc"
    write_qdc(snapshot, out)
    doc = etree.parse(str(out))
    assert codebook_schema.validate(doc), codebook_schema.error_log
    names = [c.get("name") for c in doc.iter("{urn:QDA-XML:codebook:1.0}Code")]
    assert "农村诊所" in names and "CMO role" not in names
    colors = {c.get("name"): c.get("color") for c in doc.iter("{urn:QDA-XML:codebook:1.0}Code")}
    assert colors["Shorter waits"] == "#AABBCC"  # #abc widened: some programs read only #RRGGBB


def test_codebook_of_a_project_without_codes_is_refused(tmp_path):
    empty = ProjectSnapshot(project=Project(id="p"))
    with pytest.raises(ValidationError, match="no codes"):
        write_qdc(empty, tmp_path / "codes.qdc")
    assert not (tmp_path / "codes.qdc").exists()


def test_empty_project_still_validates(tmp_path, project_schema):
    out = tmp_path / "empty.qdpx"
    write_qdpx(ProjectSnapshot(project=Project(id="p", title=None)), out)
    assert project_schema.validate(_qde(out)), project_schema.error_log


def test_characters_xml_cannot_carry_do_not_break_the_export(tmp_path, snapshot, project_schema):
    # pypdfium2 leaves U+FFFE where it rejoins hyphenated words; control characters slip in too.
    dirty = "pro\ufffegramme\x0b leaders"
    doc = dataclasses.replace(snapshot.documents[1], text=dirty, filename="bad\x01name.txt")
    code = Code(id="0b9f6a1e-1111-4c1a-9d0e-0000000000ff", name="odd\x02code", definition="x\x1fy")
    shot = dataclasses.replace(snapshot, documents=(doc,), excerpts=(), cmocs=(), codes=(code,))
    out = tmp_path / "dirty.qdpx"
    write_qdpx(shot, out)
    assert project_schema.validate(_qde(out)), project_schema.error_log
    with zipfile.ZipFile(out) as zf:
        texts = [zf.read(n).decode("utf-8") for n in zf.namelist() if n.endswith(".txt")]
    # The text file keeps every code point, so offsets still match the project's text.
    assert texts == [dirty]


def test_excerpts_whose_offsets_do_not_fit_are_reported_not_exported(tmp_path, snapshot, project_schema):
    broken = dataclasses.replace(snapshot.excerpts[3], start=5, end=10_000)
    shot = dataclasses.replace(snapshot, excerpts=(*snapshot.excerpts[:3], broken))
    out = tmp_path / "r.qdpx"
    warnings = write_qdpx(shot, out)
    assert len(warnings) == 2 and "wang2021.txt" in warnings[0]
    assert warnings[1].startswith("Other programs will not show:")
    assert project_schema.validate(_qde(out))


def test_a_failed_export_leaves_the_previous_file(tmp_path, snapshot, monkeypatch):
    out = tmp_path / "review.qdpx"
    out.write_bytes(b"previous export")
    real_writestr = zipfile.ZipFile.writestr
    calls = []

    def power_cut(self, info, data, *args, **kwargs):
        calls.append(info)
        if len(calls) == 2:  # project.qde is written, the first source is not
            raise OSError("disk full")
        return real_writestr(self, info, data, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", power_cut)
    with pytest.raises(CmoDeskError, match="disk full"):  # a plain message, not a traceback
        write_qdpx(snapshot, out)
    assert out.read_bytes() == b"previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["review.qdpx"]


def test_exporting_into_a_missing_folder_is_a_clear_error(tmp_path, snapshot):
    with pytest.raises(CmoDeskError, match="folder does not exist"):
        write_qdpx(snapshot, tmp_path / "nowhere" / "review.qdpx")
