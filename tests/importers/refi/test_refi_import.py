"""REFI-QDA import: CMO Desk's own exports come back whole; real exports from other programs import
with what had no place listed; unambiguous deviations are accepted and the rest refused clearly."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from cmo_desk.domain.errors import ImportFailed
from cmo_desk.exporters.refi import write_qdc, write_qdpx
from cmo_desk.importers.refi import read_qdc, read_qdpx

from .conftest import ANNA, BEN, CORPUS, tiny_pdf

QDPX_DIR = CORPUS / "qdpx"


def _code_tree(codes):
    by_id = {c.id: c for c in codes}
    return {
        c.name: (by_id[c.parent_id].name if c.parent_id else None, c.color, c.kind, c.definition) for c in codes
    }


def test_round_trip_keeps_codes_excerpts_coders_and_cmocs(tmp_path, snapshot):
    out = tmp_path / "review.qdpx"
    write_qdpx(snapshot, out)
    imported = read_qdpx(out)

    assert imported.skipped == []
    assert {(c.id, c.name) for c in imported.coders} == {(ANNA, "Anna Li"), (BEN, "Ben Osei")}
    original_tree = _code_tree(snapshot.codes)
    original_tree["Shorter waits"] = ("Outcome", "#AABBCC", "outcome", None)  # #abc is written in full
    assert _code_tree(imported.codes) == original_tree
    context = next(c for c in imported.codes if c.name == "Context")
    assert (context.include_notes, context.exclude_notes) == ("Setting, staff", "Programme activities")

    assert [s.label for s in imported.studies] == ["Smith 2019", "王 2021"]
    docs = {d.id: d for d in imported.documents}
    codes = {c.id: c.name for c in imported.codes}
    coder_names = {c.id: c.name for c in imported.coders}

    def key(excerpt, doc_name, code_names, owner_name):
        return (doc_name, excerpt.start, excerpt.end, excerpt.quote, excerpt.role, excerpt.memo, code_names, owner_name)

    original_codes = {c.id: c.name for c in snapshot.codes}
    original_docs = {d.id: d.filename for d in snapshot.documents}
    expected = sorted(
        key(e, original_docs[e.document_id], tuple(original_codes[c] for c in e.code_ids), snapshot.coder_name(e.owner_id))
        for e in snapshot.excerpts
    )
    got = sorted(
        key(e, docs[e.document_id].filename, tuple(codes[c] for c in e.code_ids), coder_names[e.owner_id])
        for e in imported.excerpts
    )
    assert got == expected
    for excerpt in imported.excerpts:
        text = docs[excerpt.document_id].text
        assert text[excerpt.start : excerpt.end] == excerpt.quote
        assert excerpt.before == text[max(0, excerpt.start - 40) : excerpt.start]
        assert excerpt.study_id == docs[excerpt.document_id].study_id

    pdf_doc = next(d for d in imported.documents if d.filename == "smith2019.pdf")
    assert pdf_doc.has_original and imported.originals[pdf_doc.sha256].startswith(b"%PDF")

    assert len(imported.cmocs) == 2
    cmoc = next(c for c in imported.cmocs if c.context == "Trusted leaders")
    assert cmoc.mechanism_reasoning == "Nurses feel supported\nand safe"
    assert (cmoc.outcome_direction, cmoc.status, cmoc.memo) == ("+", "submitted", "Strong quote.")
    assert cmoc.owner_id == ANNA
    assert sorted(codes[c] for c in cmoc.code_ids) == ["Feeling supported", "Shorter waits", "Trust in leaders"]
    assert len(cmoc.excerpt_ids) == 3
    assert imported.project_description == "A realist review of nurse training."
    # The consensus CMOC comes back as a consensus CMOC, with what it was built from; not as a
    # memo, a coder's CMOC nor an excerpt memo.
    assert imported.memos == []
    (agreed,) = imported.consensus
    assert (agreed.context, agreed.outcome, agreed.resolution) == (
        "Trusted leaders", "Patients wait less", "agreed")
    assert agreed.reconciled_by == ANNA and agreed.source_ids == (cmoc.id,)
    assert [codes[c] for c in agreed.code_ids] == ["Trust in leaders"]
    assert len(agreed.excerpt_ids) == 1
    assert {s.label: s.title for s in imported.studies}["Smith 2019"] == "Training nurses"


def test_codebook_round_trip(tmp_path, snapshot):
    out = tmp_path / "codes.qdc"
    write_qdc(snapshot, out)
    imported = read_qdc(out)
    original_tree = _code_tree(snapshot.codes)
    original_tree["Shorter waits"] = ("Outcome", "#AABBCC", "outcome", None)
    assert _code_tree(imported.codes) == original_tree
    assert imported.excerpts == [] and imported.skipped == []


def test_two_imports_of_one_file_give_fresh_ids_but_the_same_coders(tmp_path, snapshot):
    out = tmp_path / "review.qdpx"
    write_qdpx(snapshot, out)
    a, b = read_qdpx(out), read_qdpx(out)
    assert not {c.id for c in a.codes} & {c.id for c in b.codes}
    assert [c.id for c in a.coders] == [c.id for c in b.coders]


# --- real exports ---------------------------------------------------------------------------


def _corpus(name: str) -> Path:
    path = QDPX_DIR / name
    if not path.exists():
        pytest.skip(f"corpus file {name} is not available")
    return path


@pytest.mark.corpus
def test_every_corpus_file_imports_or_is_refused_clearly():
    if not QDPX_DIR.is_dir():
        pytest.skip("corpus is not available")
    files = sorted(p for p in QDPX_DIR.iterdir() if p.suffix.lower() in (".qdpx", ".qdc"))
    assert files
    for path in files:
        result = read_qdc(path) if path.suffix.lower() == ".qdc" else read_qdpx(path)
        assert result.coders or result.codes, path.name


@pytest.mark.corpus
def test_atlas_ti_target_project_has_three_codes_and_two_users():
    result = read_qdpx(_corpus("atlasti23-target-atlas-project.qdpx"))
    assert sorted(c.name for c in result.coders) == ["ATLAS.ti", "Enric Llagostera"]
    assert len(result.codes) == 3
    parent = next(c for c in result.codes if c.name == "Commits")
    assert sorted(c.parent_id for c in result.codes if c.id != parent.id) == [parent.id, parent.id]
    assert {c.kind for c in result.codes} == {"other"}
    assert result.documents == [] and result.skipped == []


@pytest.mark.corpus
def test_atlas_ti_blank_project_has_users_only():
    result = read_qdpx(_corpus("atlasti23-blank-atlas-project.qdpx"))
    assert len(result.coders) == 2
    assert (result.codes, result.documents, result.excerpts, result.skipped) == ([], [], [], [])


@pytest.mark.corpus
def test_project_with_missing_sources_imports_its_codebook_and_lists_what_is_missing():
    # Decision: the codebook, users and memos are worth having; every source whose text is not in
    # the archive is named in the summary, with its coded passages, rather than refusing the file.
    result = read_qdpx(_corpus("atlasti8-refi-standard-project-NO-SOURCES.qdpx"))
    assert len(result.coders) == 3
    assert len(result.codes) == 14
    coke = next(c for c in result.codes if c.name == "Coke")
    assert (coke.color, coke.definition) == ("#966450", "the breakfast of champions")
    assert result.documents == [] and result.excerpts == []
    assert sorted(m.title for m in result.memos) == ["My favorite Coke ad", "Research Plan"]
    skipped = "\n".join(result.skipped)
    assert "Simon.docx" in skipped and "3 coded passages" in skipped
    assert "cornflakes-n-milk.jpg" in skipped  # an image
    assert "Jeanine's Breakfast.m4a" in skipped  # audio
    assert "1994 Diet Coke-Diet Coke Break.mp4" in skipped  # video
    assert "2 area selections in PDF" in skipped
    missing_sources = [line for line in result.skipped if "is not in the file" in line]
    assert len(missing_sources) == 8


# --- deviations and refusals ----------------------------------------------------------------

PROJECT_XML = """<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="p">
  <Users><User guid="11111111-1111-1111-1111-111111111111" name="Ana"/></Users>
  <CodeBook><Codes>
    <Code guid="22222222-2222-2222-2222-222222222222" name="Mechanisms" isCodable="true">
      <Code guid="33333333-3333-3333-3333-333333333333" name="Peer support" isCodable="true" color="#0f0"/>
    </Code>
  </Codes></CodeBook>
  <Sources>
    <TextSource guid="44444444-4444-4444-4444-444444444444" name="Interview 1" plainTextPath="internal://t.txt">
      <PlainTextSelection guid="55555555-5555-5555-5555-555555555555" startPosition="5" endPosition="10"
          creatingUser="11111111-1111-1111-1111-111111111111">
        <Coding guid="66666666-6666-6666-6666-666666666666">
          <CodeRef targetGUID="33333333-3333-3333-3333-333333333333"/></Coding>
      </PlainTextSelection>
      <PictureSelection guid="77777777-7777-7777-7777-777777777777" firstX="1" firstY="1" secondX="2" secondY="2"/>
    </TextSource>
  </Sources>
  <Sets/>
</Project>
"""


def _zip(path: Path, entries: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("qde_name", "sources_dir", "file_name"),
    [
        ("project.qde", "sources", "p.qdpx"),
        ("Project.qde", "Sources", "p.qdpx"),
        ("export.qde", "SOURCES", "p.zip"),
    ],
)
def test_unambiguous_deviations_are_accepted(tmp_path, qde_name, sources_dir, file_name):
    path = _zip(tmp_path / file_name, {qde_name: PROJECT_XML, f"{sources_dir}/t.txt": "Ana: peers helped her."})
    result = read_qdpx(path)
    (excerpt,) = result.excerpts
    assert excerpt.quote == "peers" and excerpt.owner_id == result.coders[0].id
    codes = {c.id: c for c in result.codes}
    (code_id,) = excerpt.code_ids
    assert codes[code_id].name == "Peer support" and codes[code_id].color == "#00FF00"
    # Kind follows the parent named like a CMO part.
    assert codes[code_id].kind == "mechanism"
    assert [s.label for s in result.studies] == ["Interview 1"]
    assert result.skipped == [
        "1 selections of an unsupported kind (PictureSelection) in \u201cInterview 1\u201d were not imported."
    ]


def test_a_utf8_bom_does_not_shift_offsets(tmp_path):
    path = _zip(tmp_path / "p.qdpx", {"project.qde": PROJECT_XML, "sources/t.txt": "\ufeffAna: peers helped her."})
    assert read_qdpx(path).excerpts[0].quote == "peers"


def test_selection_outside_the_text_refuses_the_file(tmp_path):
    path = _zip(tmp_path / "p.qdpx", {"project.qde": PROJECT_XML, "sources/t.txt": "Ana"})
    with pytest.raises(ImportFailed, match="Interview 1"):
        read_qdpx(path)


def test_pdf_without_a_text_representation_is_read_from_the_pdf(tmp_path):
    xml = """<Project xmlns="urn:QDA-XML:project:1.0" name="p"><Sources>
      <PDFSource guid="44444444-4444-4444-4444-444444444444" name="scan.pdf" path="internal://s.pdf"/>
      <AudioSource guid="88888888-8888-8888-8888-888888888888" name="talk.m4a" path="relative:///x.m4a"/>
    </Sources></Project>"""
    path = _zip(tmp_path / "p.qdpx", {"project.qde": xml, "sources/s.pdf": tiny_pdf()})
    result = read_qdpx(path)
    (doc,) = result.documents
    # A page without a text layer: kept, flagged for OCR, never silently dropped.
    assert doc.media_type == "application/pdf" and doc.text == "" and doc.needs_ocr
    assert doc.extractor == "pypdfium2" and doc.sha256 in result.originals
    assert any("talk.m4a" in line for line in result.skipped)


def test_a_damaged_pdf_is_reported_not_fatal(tmp_path):
    xml = """<Project xmlns="urn:QDA-XML:project:1.0" name="p"><Sources>
      <PDFSource guid="44444444-4444-4444-4444-444444444444" name="broken.pdf" path="internal://s.pdf"/>
    </Sources></Project>"""
    path = _zip(tmp_path / "p.qdpx", {"project.qde": xml, "sources/s.pdf": b"%PDF-1.4 not really"})
    result = read_qdpx(path)
    assert result.documents == []
    assert any("broken.pdf" in line for line in result.skipped)


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"readme.txt": "hello"}, "no project.qde"),
        ({"a/project.qde": PROJECT_XML}, "no project.qde"),
        ({"project.qde": PROJECT_XML, "Project2.qde": PROJECT_XML}, "several project files"),
        ({"project.qde": "<html><body/></html>"}, "not a REFI-QDA project"),
        ({"project.qde": "<Project name='p'><Users>"}, "not well-formed"),
        ({"project.qde": "\x00\x01binary"}, "not well-formed"),
    ],
)
def test_ambiguous_or_foreign_archives_are_refused(tmp_path, entries, message):
    path = _zip(tmp_path / "p.qdpx", entries)
    with pytest.raises(ImportFailed, match=message):
        read_qdpx(path)


def test_a_file_that_is_not_a_zip_is_refused(tmp_path):
    path = tmp_path / "p.qdpx"
    path.write_text("Interview notes, not a project")
    with pytest.raises(ImportFailed, match="not a zip"):
        read_qdpx(path)
    with pytest.raises(ImportFailed, match="does not exist"):
        read_qdpx(tmp_path / "missing.qdpx")


def test_codebook_refusals(tmp_path):
    project_as_codebook = tmp_path / "p.qdc"
    project_as_codebook.write_text(PROJECT_XML)
    with pytest.raises(ImportFailed, match="project file, not a codebook"):
        read_qdc(project_as_codebook)
    zipped = _zip(tmp_path / "z.qdc", {"project.qde": PROJECT_XML})
    with pytest.raises(ImportFailed, match="zip archive"):
        read_qdc(zipped)
    with pytest.raises(ImportFailed, match="does not exist"):
        read_qdc(tmp_path / "none.qdc")


def test_codebook_from_another_program_with_plain_sets(tmp_path):
    qdc = tmp_path / "nvivo.qdc"
    qdc.write_text(
        """<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="NVivo"><Codes>
        <Code guid="22222222-2222-2222-2222-222222222222" name="Outcomes" isCodable="false">
          <Code guid="33333333-3333-3333-3333-333333333333" name="Attendance" isCodable="true">
            <Description>Turned up.</Description></Code>
        </Code></Codes>
        <Sets><Set guid="44444444-4444-4444-4444-444444444444" name="Important">
          <MemberCode guid="33333333-3333-3333-3333-333333333333"/></Set></Sets></CodeBook>""",
        encoding="utf-8",
    )
    result = read_qdc(qdc)
    attendance = next(c for c in result.codes if c.name == "Attendance")
    assert (attendance.kind, attendance.definition) == ("outcome", "Turned up.")
    assert any("Important" in line for line in result.skipped)


def test_messages_are_translated_for_chinese_users(tmp_path):
    import ast

    from cmo_desk.domain import i18n

    repo = Path(__file__).resolve().parents[3]
    catalogue = i18n.catalogue("zh_CN")
    modules = [repo / "cmo_desk" / m for m in ("exporters/refi.py", "importers/safezip.py")]
    modules += sorted((repo / "cmo_desk" / "importers" / "refi").glob("*.py"))
    for module in modules:
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "tr" and node.args:
                literal = node.args[0]
                assert isinstance(literal, ast.Constant) and catalogue.get(literal.value), (module, literal)
    path = tmp_path / "p.qdpx"
    path.write_text("not a zip")
    previous = i18n.current_language()
    i18n.set_language("zh_CN")
    try:
        with pytest.raises(ImportFailed, match="不是 zip 压缩包"):
            read_qdpx(path)
    finally:
        i18n.set_language(previous)


# --- selection positions: UTF-16 code units (NVivo) or code points (CMO Desk, QualCoder) -------

EMOJI_TEXT = (
    "Interjú 1 \U0001F600\U0001F600\n"
    "Senkit nem lehet kényszeríteni \U0001F64F arra, hogy abbahagyja. "
    "A társak \U0001F91D segítettek neki, és a nővér \U0001F469\u200D\u2695\uFE0F meghallgatta."
)


def _u16(text: str, index: int) -> int:
    """The UTF-16 code-unit offset of code point ``index``."""
    return len(text[:index].encode("utf-16-le")) // 2


def _emoji_project(quotes: list[str], unit: str, named: bool, origin: str = "NVivo") -> str:
    sels = []
    for n, quote in enumerate(quotes):
        start = EMOJI_TEXT.index(quote)
        end = start + len(quote)
        if unit == "utf16":
            start, end = _u16(EMOJI_TEXT, start), _u16(EMOJI_TEXT, end)
        name = f' name="{quote[:12]}"' if named else ""
        sels.append(
            f'<PlainTextSelection guid="55555555-5555-5555-5555-{n:012d}"{name} '
            f'startPosition="{start}" endPosition="{end}"/>'
        )
    return f"""<Project xmlns="urn:QDA-XML:project:1.0" name="p" origin="{origin}"><Sources>
      <TextSource guid="44444444-4444-4444-4444-444444444444" name="Interjú 1" plainTextPath="internal://t.txt">
      {''.join(sels)}</TextSource></Sources></Project>"""


EMOJI_QUOTES = ["Senkit nem lehet", "abbahagyja", "A társak", "segítettek neki", "meghallgatta"]


@pytest.mark.parametrize("named", [True, False])
def test_nvivo_utf16_positions_anchor_the_selected_words(tmp_path, named):
    xml = _emoji_project(EMOJI_QUOTES, "utf16", named)
    path = _zip(tmp_path / "nvivo.qdpx", {"project.qde": xml, "sources/t.txt": EMOJI_TEXT.encode("utf-8")})
    result = read_qdpx(path)
    assert [e.quote for e in result.excerpts] == EMOJI_QUOTES
    for e in result.excerpts:
        assert EMOJI_TEXT[e.start : e.end] == e.quote
    assert not [line for line in result.skipped if "position" in line]


@pytest.mark.parametrize("named", [True, False])
def test_code_point_positions_still_anchor_the_selected_words(tmp_path, named):
    xml = _emoji_project(EMOJI_QUOTES, "cp", named, origin="QualCoder 3.5")
    path = _zip(tmp_path / "qc.qdpx", {"project.qde": xml, "sources/t.txt": EMOJI_TEXT.encode("utf-8")})
    assert [e.quote for e in read_qdpx(path).excerpts] == EMOJI_QUOTES


def test_positions_that_fit_neither_unit_are_reported(tmp_path):
    # Names that match nothing and positions inside words in both readings.
    sels = "".join(
        f'<PlainTextSelection guid="55555555-5555-5555-5555-{n:012d}" name="zzz{n}" '
        f'startPosition="{s}" endPosition="{s + 5}"/>'
        for n, s in enumerate((40, 52, 70, 83))
    )
    xml = f"""<Project xmlns="urn:QDA-XML:project:1.0" name="p" origin="NVivo"><Sources>
      <TextSource guid="44444444-4444-4444-4444-444444444444" name="Interjú 1" plainTextPath="internal://t.txt">
      {sels}</TextSource></Sources></Project>"""
    path = _zip(tmp_path / "odd.qdpx", {"project.qde": xml, "sources/t.txt": EMOJI_TEXT.encode("utf-8")})
    result = read_qdpx(path)
    (line,) = [line for line in result.skipped if "Interjú 1" in line and "positions" in line]
    assert "4" in line and "check" in line.lower()


def test_cmo_desk_export_with_emoji_round_trips(tmp_path, snapshot):
    from dataclasses import replace

    from cmo_desk.domain.records import Document, Excerpt

    doc = Document(id="7e1d9b3c-3333-4e2a-b5f6-0000000000ee", study_id=snapshot.studies[0].id,
                   filename="emoji.txt", media_type="text/plain", sha256="x", text=EMOJI_TEXT,
                   page_starts=[0])
    quotes = EMOJI_QUOTES
    excerpts = tuple(
        Excerpt(id=f"9e1d9b3c-3333-4e2a-b5f6-0000000000{n:02d}", document_id=doc.id,
                study_id=doc.study_id, start=EMOJI_TEXT.index(q), end=EMOJI_TEXT.index(q) + len(q),
                quote=q, owner_id=ANNA)
        for n, q in enumerate(quotes)
    )
    snap = replace(snapshot, documents=(*snapshot.documents, doc), excerpts=(*snapshot.excerpts, *excerpts))
    out = tmp_path / "emoji.qdpx"
    write_qdpx(snap, out)
    imported = read_qdpx(out)
    got = [e.quote for e in imported.excerpts if e.quote in quotes]
    assert sorted(got) == sorted(quotes)


# --- recognised by content, whatever the name ------------------------------------------------


@pytest.mark.parametrize("file_name", ["project.zip", "Anhang 1", "export.QDPX.zip", "p.dat"])
def test_a_refi_zip_is_recognised_by_content(tmp_path, file_name):
    from cmo_desk.importers.refi import sniff_refi
    from cmo_desk.services.refi_exchange import read_refi

    path = _zip(tmp_path / file_name, {"project.qde": PROJECT_XML, "sources/t.txt": "Ana: peers helped her."})
    assert sniff_refi(path) == "project"
    data, kind = read_refi(path)
    assert kind == "project" and [e.quote for e in data.excerpts] == ["peers"]


def test_a_bare_qde_imports_its_codebook_and_names_the_missing_sources(tmp_path):
    from cmo_desk.importers.refi import sniff_refi
    from cmo_desk.services.refi_exchange import read_refi

    path = tmp_path / "project.qde"
    path.write_text(PROJECT_XML, encoding="utf-8")
    assert sniff_refi(path) == "project"
    data, kind = read_refi(path)
    assert kind == "project" and {c.name for c in data.codes} == {"Mechanisms", "Peer support"}
    assert any("Interview 1" in line and "not in the file" in line for line in data.skipped)


def test_a_codebook_with_another_name_is_recognised(tmp_path):
    from cmo_desk.importers.refi import sniff_refi

    path = tmp_path / "codes.xml"
    path.write_text('<?xml version="1.0"?>\n<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes/></CodeBook>')
    assert sniff_refi(path) == "codebook"
    other = tmp_path / "refs.zip"
    _zip(other, {"readme.txt": "hello"})
    assert sniff_refi(other) is None


def test_a_codebook_nested_thousands_deep_is_refused_quickly(tmp_path):
    depth = 20_000
    codes = "".join(
        f'<Code guid="{i:08d}-0000-0000-0000-000000000000" name="c{i}" isCodable="true">' for i in range(depth)
    ) + "</Code>" * depth
    qdc = tmp_path / "deep.qdc"
    qdc.write_text(f'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>{codes}</Codes></CodeBook>')
    with pytest.raises(ImportFailed, match="more than 100 levels"):
        read_qdc(qdc)
    # A deep but plausible tree still comes in.
    codes = "".join(f'<Code guid="{i:08d}-0000-0000-0000-000000000000" name="c{i}">' for i in range(12))
    qdc.write_text(f'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>{codes}{"</Code>" * 12}</Codes></CodeBook>')
    assert len(read_qdc(qdc).codes) == 12


def test_a_bare_qde_that_cmo_desk_wrote_imports_its_codebook(tmp_path, snapshot):
    """The project.qde of a CMO Desk export, taken out of its zip: what it holds comes in, and
    the extension it no longer carries is simply absent."""
    exported = tmp_path / "review.qdpx"
    write_qdpx(snapshot, exported)
    bare = tmp_path / "project.qde"
    with zipfile.ZipFile(exported) as archive:
        bare.write_bytes(archive.read("project.qde"))
    imported = read_qdpx(bare)
    assert _code_tree(imported.codes) == _code_tree(read_qdpx(exported).codes)
    assert {c.id for c in imported.coders} == {ANNA, BEN}
    assert any("smith2019.pdf" in line and "not in the file" in line for line in imported.skipped)
