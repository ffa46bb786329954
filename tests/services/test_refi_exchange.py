"""REFI-QDA through the command line: export the demo, validate, import into a fresh project."""

from __future__ import annotations

import zipfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from cmo_desk.domain.errors import Cancelled, ImportFailed, ValidationError
from cmo_desk.domain.snapshot import ProjectSnapshot
from cmo_desk.services import coding
from cmo_desk.services.refi_exchange import import_refi
from cmo_desk.services.session import Session

from .conftest import CORPUS, QDPX_DIR, SCHEMAS


def import_file(cli, project: Path, source: Path, *extra: str) -> tuple[int, str, str]:
    """`cmo-desk import PROJECT FILE` when that command is present, else the service it calls."""
    from cmo_desk.cli.main import build_parser

    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    if "import" in commands:
        return cli("import", project, source, *extra)
    coder = extra[extra.index("--coder") + 1] if "--coder" in extra else None
    try:
        with Session.open(project, coder=coder) as session:
            summary = import_refi(session, source)
    except (ImportFailed, ValidationError) as err:
        return 2, "", f"cmo-desk: {err}\n"
    return 0, "\n".join(summary.lines()) + "\n", ""


def snapshot_of(project: Path) -> ProjectSnapshot:
    with Session.open(project, read_only=True) as session:
        return session.store.snapshot()


def code_tree(snap: ProjectSnapshot) -> set[tuple[str, str, str]]:
    names = {c.id: c.name for c in snap.codes}
    return {(c.name, c.kind, names.get(c.parent_id or "", "")) for c in snap.codes if not c.merged_into}


def excerpts_seen(snap: ProjectSnapshot) -> Counter:
    codes = {c.id: c.name for c in snap.codes}
    coders = {c.id: c.name for c in snap.coders}
    return Counter(
        (e.quote, e.start, e.end, coders.get(e.owner_id or ""), frozenset(codes[c] for c in e.code_ids))
        for e in snap.excerpts
    )


@pytest.fixture
def demo_qdpx(cli, demo_path, tmp_path) -> Path:
    out = tmp_path / "demo.qdpx"
    code, stdout, stderr = cli("export", demo_path, "-o", out)
    assert code == 0, stderr
    assert "27 excerpts" in stdout
    return out


def test_export_validates_against_the_official_schema(demo_qdpx):
    schema = etree.XMLSchema(etree.parse(str(SCHEMAS / "Project-mrt2019.xsd")))
    with zipfile.ZipFile(demo_qdpx) as zf:
        qde = etree.fromstring(zf.read("project.qde"))
        names = zf.namelist()
    assert schema.validate(qde), schema.error_log
    assert sum(n.lower().startswith("sources/") for n in names) == 5


def test_round_trip_into_a_fresh_project_keeps_codes_excerpts_and_coders(cli, demo_path, demo_qdpx, tmp_path):
    fresh = tmp_path / "fresh.cmo"
    assert cli("new", fresh)[0] == 0
    code, stdout, stderr = import_file(cli, fresh, demo_qdpx)
    assert code == 0, stderr
    assert "27 excerpts" in stdout

    before, after = snapshot_of(demo_path), snapshot_of(fresh)
    assert code_tree(after) == code_tree(before)
    assert len([c for c in after.codes if not c.merged_into]) == len(before.codes)
    assert sorted(c.name for c in after.coders) == sorted(c.name for c in before.coders)
    assert excerpts_seen(after) == excerpts_seen(before)
    texts = {d.id: d.text for d in after.documents}
    for excerpt in after.excerpts:
        assert texts[excerpt.document_id][excerpt.start : excerpt.end] == excerpt.quote
    assert sorted(d.text for d in after.documents) == sorted(d.text for d in before.documents)
    assert sorted(s.label for s in after.studies) == sorted(s.label for s in before.studies)
    # Coders' CMOCs come back with their wording, owner and cited passages.
    coders = {c.id: c.name for c in after.coders}
    quotes = {e.id: e.quote for e in after.excerpts}
    old_coders = {c.id: c.name for c in before.coders}
    old_quotes = {e.id: e.quote for e in before.excerpts}
    assert sorted(
        (c.statement, coders[c.owner_id], tuple(sorted(quotes[e] for e in c.excerpt_ids))) for c in after.cmocs
    ) == sorted(
        (c.statement, old_coders[c.owner_id], tuple(sorted(old_quotes[e] for e in c.excerpt_ids)))
        for c in before.cmocs
    )
    # The consensus CMOC comes back as a consensus record, not as a memo in the description.
    assert "Consensus CMOC" not in (after.project.description or "")
    assert len(after.consensus) == len(before.consensus) == 1


def _content(snap: ProjectSnapshot) -> dict[str, object]:
    """Everything a review reports, by content rather than by id."""
    import json

    coders = {c.id: c.name for c in snap.coders}
    studies = {s.id: s.label for s in snap.studies}
    docs = {d.id: d for d in snap.documents}
    quotes = {e.id: (e.quote, e.start, e.end) for e in snap.excerpts}
    statements = {c.id: c.statement for c in snap.cmocs}
    theories = {t.id: t.label for t in snap.theories}
    codes = {c.id: c.name for c in snap.codes}

    def page(e):
        doc = docs.get(e.document_id or "")
        return e.page or (doc.page_at(e.start) if doc and doc.page_starts and e.start is not None
                          else None)

    return {
        "coders": sorted((c.name, c.initials, c.color, c.role) for c in snap.coders),
        "studies": sorted(
            (s.label, tuple(s.authors or ()), s.year, s.title, s.journal, s.volume, s.issue,
             s.pages, s.doi, s.pmid, s.url, s.abstract, s.reference_type,
             studies.get(s.merged_into or "")) for s in snap.studies),
        "page_starts": sorted((d.text, tuple(d.page_starts or ())) for d in snap.documents),
        "excerpt_pages": sorted((e.quote, e.start, e.end, page(e)) for e in snap.excerpts),
        "theories": sorted((t.label, t.statement, t.version, t.status) for t in snap.theories),
        "cmoc_theories": sorted((c.statement, theories[t], r) for c in snap.cmocs
                                for t, r in c.theories),
        "cmocs": sorted((c.statement, c.status, coders.get(c.owner_id or ""), studies.get(
            c.study_id or "")) for c in snap.cmocs),
        "consensus": sorted(
            (c.statement, c.resolution, c.note, studies.get(c.study_id or ""),
             coders.get(c.reconciled_by or ""),
             tuple(sorted(statements[x] for x in c.source_ids)),
             tuple(sorted(quotes[x] for x in c.excerpt_ids)),
             tuple(sorted(codes[x] for x in c.code_ids))) for c in snap.consensus),
        "form_values": sorted((studies[f.study_id], coders.get(f.coder_id or ""), f.key,
                               json.dumps(f.value, sort_keys=True)) for f in snap.form_values),
        "assignments": sorted((studies[a.study_id], coders[a.coder_id], a.status)
                              for a in snap.assignments),
        "template": json.dumps(snap.project.template, sort_keys=True),
    }


def test_cmo_desk_to_qdpx_to_cmo_desk_loses_nothing(cli, demo_path, tmp_path):
    """Pages, theories and their links, form values, consensus, assignments and citations all
    come back; compared by content, not by counts."""
    with Session.open(demo_path, coder="Ana Petrova") as session:
        snap = session.store.snapshot()
        study = snap.studies[0]
        with session.write() as uow:
            uow.update("study", study.id, {"doi": "10.1000/xyz-ü", "volume": "12", "issue": "3",
                                           "pages": "1–9", "pmid": "123", "abstract": "Ab 🧪"})
            # A duplicate already merged into that study, and a study without documents.
            uow.create("study", {"label": "Hanoi 2019 (copy)", "year": 2019,
                                 "merged_into": study.id})
            uow.create("study", {"label": "Lima 2022", "authors": ["Quispe R"], "year": 2022})
    out = tmp_path / "demo.qdpx"
    code, stdout, stderr = cli("export", demo_path, "-o", out)
    assert code == 0, stderr
    assert "Other programs will not show: page boundaries of 3 documents; 2 programme theories" \
        in stdout
    fresh = tmp_path / "fresh.cmo"
    assert cli("new", fresh)[0] == 0
    code, stdout, stderr = import_file(cli, fresh, out)
    assert code == 0, stderr
    assert "Also added: 2 programme theories, 1 consensus CMOCs, 113 form values, " \
        "2 study assignments." in stdout
    before, after = _content(snapshot_of(demo_path)), _content(snapshot_of(fresh))
    for key, value in before.items():
        assert after[key] == value, key
    # Pages are really there: more than page 1 is cited.
    assert {p for *_, p in after["excerpt_pages"]} - {1, None}


def test_case_variables_carry_citations_and_study_characteristics(demo_qdpx):
    schema = etree.XMLSchema(etree.parse(str(SCHEMAS / "Project-mrt2019.xsd")))
    with zipfile.ZipFile(demo_qdpx) as zf:
        qde = etree.fromstring(zf.read("project.qde"))
    assert schema.validate(qde), schema.error_log
    ns = {"q": "urn:QDA-XML:project:1.0"}
    names = {v.get("guid"): v.get("name") for v in qde.findall("q:Variables/q:Variable", ns)}
    assert {"Authors", "Year", "Title", "Journal", "countries"} <= set(names.values())
    hanoi = next(c for c in qde.findall("q:Cases/q:Case", ns) if c.get("name") == "Hanoi 2019")
    values = {names[v.find("q:VariableRef", ns).get("targetGUID")]: v[1].text
              for v in hanoi.findall("q:VariableValue", ns)}
    assert values["Year"] == "2019"
    assert values["Authors"] == "Example, B.; Sample, C."
    assert values["countries"]


CORPUS_PDF = CORPUS / "pdf"


@pytest.mark.skipif(not CORPUS_PDF.is_dir(), reason="the shared corpus of real files is absent")
def test_real_pdfs_keep_every_page_boundary_through_qdpx(cli, tmp_path):
    pdfs = [CORPUS_PDF / n for n in ("hindawi-rrp-2010-heart-failure-qualitative.pdf",
                                     "jtmo-2010-dvt-systematic-review.pdf")]
    if not all(p.is_file() for p in pdfs):
        pytest.skip("the corpus PDFs are absent")
    first, second, out = tmp_path / "a.cmo", tmp_path / "b.cmo", tmp_path / "a.qdpx"
    assert cli("new", first)[0] == 0 and cli("new", second)[0] == 0
    assert cli("import", first, *pdfs, "--coder", "Ana")[0] == 0
    with Session.open(first, coder="Ana") as session:
        doc = max(session.store.snapshot().documents, key=lambda d: len(d.page_starts or ()))
        start = doc.page_starts[-1] + 10
        coding.add_excerpt(session, doc.id, start, start + 30)
    assert cli("export", first, "-o", out)[0] == 0
    assert cli("import", second, out, "--coder", "Ana")[0] == 0
    before, after = _content(snapshot_of(first)), _content(snapshot_of(second))
    assert after["page_starts"] == before["page_starts"]
    assert sum(len(p) for _, p in after["page_starts"]) >= 10
    assert after["excerpt_pages"] == before["excerpt_pages"]
    assert [p for *_, p in after["excerpt_pages"]] == [len(doc.page_starts)]


def test_a_foreign_pdf_without_known_pages_cites_no_page(tmp_path):
    """A PDF whose text another program wrote has no known page boundaries: no page is made up."""
    from cmo_desk.importers.refi import pdf_pages_of

    assert pdf_pages_of(None, "text") is None
    assert pdf_pages_of(b"not a pdf", "text") is None


def test_importing_twice_adds_nothing_the_second_time(cli, demo_qdpx, tmp_path):
    fresh = tmp_path / "fresh.cmo"
    assert cli("new", fresh)[0] == 0
    assert import_file(cli, fresh, demo_qdpx)[0] == 0
    first = snapshot_of(fresh)
    code, stdout, _ = import_file(cli, fresh, demo_qdpx)
    assert code == 0
    second = snapshot_of(fresh)
    for kind in ("codes", "coders", "studies", "documents", "excerpts", "cmocs"):
        assert len(getattr(second, kind)) == len(getattr(first, kind)), kind
    assert second.project.description == first.project.description
    assert "0 new codes" in stdout


def test_codebook_round_trip_merges_without_duplicates(cli, demo_path, tmp_path):
    qdc = tmp_path / "codes.qdc"
    code, stdout, _ = cli("export", demo_path, "-o", qdc)
    assert code == 0 and "codes" in stdout
    bare = tmp_path / "bare.cmo"
    assert cli("new", bare, "--no-codebook")[0] == 0
    code, stdout, stderr = import_file(cli, bare, qdc)
    assert code == 0, stderr
    assert code_tree(snapshot_of(bare)) == code_tree(snapshot_of(demo_path))
    # Into a project that already has the same codebook: every code merges, none is added.
    starter = tmp_path / "starter.cmo"
    assert cli("new", starter)[0] == 0
    count = len(snapshot_of(starter).codes)
    for _ in range(2):
        assert import_file(cli, starter, qdc)[0] == 0
        assert len(snapshot_of(starter).codes) == count
    # A codebook import brings codes only.
    after = snapshot_of(bare)
    assert (after.studies, after.excerpts, after.cmocs) == ((), (), ())


CODEBOOK = """<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="NVivo 14">
  <Codes>
    <Code guid="11111111-1111-4111-8111-111111111111" name="  peer   SUPPORT " isCodable="true" color="#00aa00">
      <Description>Help from someone who shares the experience.</Description>
      <Code guid="22222222-2222-4222-8222-222222222222" name="Trust" isCodable="true"/>
    </Code>
  </Codes>
</CodeBook>
"""


def test_codes_merge_by_name_ignoring_case_and_spacing(cli, tmp_path):
    project = tmp_path / "p.cmo"
    assert cli("new", project, "--no-codebook", "--coder", "Ana Diaz")[0] == 0
    with Session.open(project, coder="Ana Diaz") as session:
        existing, _ = coding.add_code(session, "Peer support", "other")
    qdc = tmp_path / "nvivo.qdc"
    qdc.write_text(CODEBOOK, encoding="utf-8")
    code, stdout, stderr = import_file(cli, project, qdc)
    assert code == 0, stderr
    snap = snapshot_of(project)
    assert sorted(c.name for c in snap.codes) == ["Peer support", "Trust"]
    peer = next(c for c in snap.codes if c.name == "Peer support")
    trust = next(c for c in snap.codes if c.name == "Trust")
    assert peer.id == existing and trust.parent_id == existing
    # Gaps are filled; what the team wrote is kept.
    assert peer.definition == "Help from someone who shares the experience." and peer.color.lower() == "#00aa00"
    assert "1 new codes" in stdout and "1 merged" in stdout


PROJECT_XML = """<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Interviews" origin="QualCoder 3.5">
  <CodeBook><Codes>
    <Code guid="22222222-2222-4222-8222-222222222222" name="Mechanisms" isCodable="true">
      <Code guid="33333333-3333-4333-8333-333333333333" name="Peer support" isCodable="true"/>
    </Code>
  </Codes></CodeBook>
  <Sources>
    <TextSource guid="44444444-4444-4444-8444-444444444444" name="Interview 1" plainTextPath="internal://t.txt">
      <PlainTextSelection guid="55555555-5555-4555-8555-555555555555" startPosition="4" endPosition="16">
        <Coding guid="66666666-6666-4666-8666-666666666666">
          <CodeRef targetGUID="33333333-3333-4333-8333-333333333333"/></Coding>
      </PlainTextSelection>
    </TextSource>
    <PictureSource guid="77777777-7777-4777-8777-777777777777" name="photo.jpg" path="internal://p.jpg"/>
  </Sources>
  <Notes>
    <Note guid="88888888-8888-4888-8888-888888888888" name="Research plan">
      <PlainTextContent>Interview peers first.</PlainTextContent>
    </Note>
  </Notes>
</Project>
"""
TEXT = "The peer worker helped me stay."


def _qdpx(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", PROJECT_XML)
        zf.writestr("sources/t.txt", TEXT)
    return path


def test_passages_without_a_user_belong_to_the_importing_coder(cli, tmp_path):
    source = _qdpx(tmp_path / "qualcoder.qdpx")
    project = tmp_path / "p.cmo"
    assert cli("new", project)[0] == 0
    code, _, stderr = import_file(cli, project, source)
    assert code != 0 and "--coder" in stderr and len(stderr.strip().splitlines()) == 1
    assert snapshot_of(project).excerpts == ()

    code, stdout, stderr = import_file(cli, project, source, "--coder", "Ana Diaz")
    assert code == 0, stderr
    snap = snapshot_of(project)
    (excerpt,) = snap.excerpts
    assert excerpt.quote == TEXT[4:16] == "peer worker "
    assert {c.id: c.name for c in snap.coders}[excerpt.owner_id] == "Ana Diaz"
    assert [c.name for c in snap.codes if c.id in excerpt.code_ids] == ["Peer support"]
    # What had no place is said, not dropped.
    assert "photo.jpg" in stdout
    assert "Interview peers first." in (snap.project.description or "")


def test_a_refused_file_writes_nothing(cli, tmp_path):
    evil = tmp_path / "evil.qdpx"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("project.qde", PROJECT_XML)
        zf.writestr("../../escape.txt", TEXT)
    project = tmp_path / "p.cmo"
    assert cli("new", project, "--coder", "Ana Diaz")[0] == 0
    before = snapshot_of(project)
    code, _, stderr = import_file(cli, project, evil, "--coder", "Ana Diaz")
    assert code != 0 and len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    after = snapshot_of(project)
    assert (len(after.codes), after.documents, after.excerpts) == (len(before.codes), (), ())
    assert not (tmp_path.parent / "escape.txt").exists()


def test_a_cancelled_import_writes_nothing(cli, demo_qdpx, tmp_path):
    project = tmp_path / "p.cmo"
    assert cli("new", project)[0] == 0
    calls = iter(range(1000))
    with Session.open(project) as session:
        with pytest.raises(Cancelled):
            # Let the file be read, then cancel in the middle of writing.
            import_refi(session, demo_qdpx, cancel=lambda: next(calls) >= 2)
    snap = snapshot_of(project)
    assert (snap.documents, snap.excerpts, snap.coders) == ((), (), ())


def test_the_summary_is_plain_data_too(demo_qdpx, tmp_path):
    project = tmp_path / "p.cmo"
    Session.create(project).close()
    with Session.open(project) as session:
        summary = import_refi(session, demo_qdpx)
    data = summary.to_dict()
    assert data["kind"] == "project" and data["excerpts_added"] == 27 and data["coders_added"] == 2
    assert data["path"] == str(demo_qdpx) and isinstance(data["skipped"], list)


# --- real exports from other programs -----------------------------------------------------------


def _corpus(name: str) -> Path:
    path = QDPX_DIR / name
    if not path.exists():
        pytest.skip(f"corpus file {name} is not available")
    return path


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("name", "coders", "codes", "memos", "skipped_mentions"),
    [
        ("atlasti23-target-atlas-project.qdpx", 2, 3, 0, []),
        ("atlasti23-blank-atlas-project.qdpx", 2, 0, 0, []),
        ("atlasti8-refi-standard-project-NO-SOURCES.qdpx", 3, 14, 2,
         ["Simon.docx", "cornflakes-n-milk.jpg", "Jeanine's Breakfast.m4a"]),
    ],
)
def test_corpus_exports_import_through_the_command(cli, tmp_path, name, coders, codes, memos, skipped_mentions):
    source = _corpus(name)
    project = tmp_path / "p.cmo"
    assert cli("new", project, "--no-codebook")[0] == 0
    code, stdout, stderr = import_file(cli, project, source)
    assert code == 0, stderr
    snap = snapshot_of(project)
    assert len(snap.coders) == coders
    assert len(snap.codes) == codes
    assert snap.documents == () and snap.excerpts == ()
    for mention in skipped_mentions:
        assert mention in stdout
    if memos:
        assert f"project description: {memos}" in stdout
    # Importing the same file again adds nothing.
    assert import_file(cli, project, source)[0] == 0
    again = snapshot_of(project)
    assert (len(again.coders), len(again.codes)) == (coders, codes)
    assert again.project.description == snap.project.description


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=4),
    max_leaves=12,
)
EXTENSION_KEYS = ("template", "coders", "studies", "documents", "excerpts", "theories", "cmocs",
                  "consensus", "form_values", "assignments")


guids = st.sampled_from(["G1", "G2", "G3", 7, None])
entry = st.fixed_dictionaries({"guid": guids, "study": guids, "coder": guids, "id": guids}, optional={
    "fields": st.dictionaries(st.sampled_from(["title", "year", "authors", "context", "sort_order",
                                               "extra", "label", "resolution"]), json_values),
    "key": st.text(max_size=4) | st.integers(), "value": json_values,
    "sources": st.lists(guids, max_size=3), "theories": json_values, "merged_into": guids,
})
extension = st.fixed_dictionaries({}, optional={
    **{k: json_values | st.lists(entry, max_size=3) for k in EXTENSION_KEYS},
    "documents": st.dictionaries(st.sampled_from(["G1", "G2"]), json_values | st.fixed_dictionaries(
        {"page_starts": json_values, "needs_ocr": json_values, "extractor": json_values})),
})


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extension,
       st.dictionaries(st.sampled_from(["G1", "G2", ""]), st.sampled_from(["a", "b"]), min_size=1))
@example({"studies": [{"guid": "G1", "fields": {"title": "t"}}]}, {"G1": "a"})
@example({"studies": [{"guid": "G3", "id": "G3", "merged_into": "G3"}]}, {"G1": "a"})
def test_a_damaged_extension_never_stops_an_import(ext, refs):
    """Whatever records.json holds, reading it back leaves out what is wrong and goes on."""
    from cmo_desk.importers.refi import RefiImport, apply_extension

    result = RefiImport()
    used = apply_extension(result, {"format": "cmo-desk-refi-extension", **ext}, dict(refs))
    assert isinstance(used, set)
    for fv in result.form_values:
        assert fv.study_id and isinstance(fv.key, str)
    for study in result.studies:
        assert study.year is None or isinstance(study.year, int)
        assert study.title is None or isinstance(study.title, str)
    for agreed in result.consensus:
        assert agreed.context is None or isinstance(agreed.context, str)
        assert agreed.sort_order is None or isinstance(agreed.sort_order, int)


def test_an_unreadable_extension_is_ignored_and_the_rest_imports(cli, demo_qdpx, tmp_path):
    broken = tmp_path / "broken.qdpx"
    with zipfile.ZipFile(demo_qdpx) as src, zipfile.ZipFile(broken, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, data[: len(data) // 2] if info.filename.endswith(".json") else data)
    fresh = tmp_path / "fresh.cmo"
    assert cli("new", fresh)[0] == 0
    code, stdout, stderr = import_file(cli, fresh, broken)
    assert code == 0, stderr
    assert "27 excerpts" in stdout and "Also added" not in stdout


# --- quotes on the same characters: another program's file in, CMO Desk's file out and in ------

_WINDOWS_TEXT = "\r\n".join([
    "Entrevistadora: ¿Cómo llegó al programa?",
    "Participante: Una amiga me trajo \U0001F64F y la enfermera me escuchó.",
    "Participante: Dejé de compartir jeringas. 在诊所里我感到安全。 cafe\u0301 \U0001F469\u200D\u2695\uFE0F cada semana.",
])
_WINDOWS_QUOTES = ["Una amiga me trajo", "la enfermera me escuchó", "在诊所里我感到安全", "cafe\u0301", "cada semana."]


def _nvivo_qdpx(path: Path) -> Path:
    """Positions as NVivo 12.6 for Windows writes them: UTF-16 units of the CRLF text, after a BOM."""
    def units(index: int) -> int:
        return len(_WINDOWS_TEXT[:index].encode("utf-16-le")) // 2

    sels = "".join(
        f'<PlainTextSelection guid="55555555-5555-5555-5555-{n:012d}" name="" '
        f'startPosition="{units(_WINDOWS_TEXT.index(q))}" endPosition="{units(_WINDOWS_TEXT.index(q) + len(q))}"/>'
        for n, q in enumerate(_WINDOWS_QUOTES)
    )
    xml = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="p" origin="NVivo for Windows 12.6"><Sources>
  <TextSource guid="44444444-4444-4444-4444-444444444444" name="Entrevista 7" plainTextPath="internal://t.txt">
  {sels}</TextSource></Sources></Project>"""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", xml)
        zf.writestr("sources/t.txt", b"\xef\xbb\xbf" + _WINDOWS_TEXT.encode("utf-8"))
    return path


def test_quotes_stay_on_their_words_from_nvivo_through_cmo_desk_and_back(cli, tmp_path):
    first, second = tmp_path / "first.cmo", tmp_path / "second.cmo"
    for project in (first, second):
        assert cli("new", project)[0] == 0
    code, _, stderr = import_file(cli, first, _nvivo_qdpx(tmp_path / "nvivo.qdpx"), "--coder", "Ana")
    assert code == 0, stderr
    out = tmp_path / "out.qdpx"
    code, stdout, stderr = cli("export", first, "-o", out)
    assert code == 0, stderr
    # The text now has LF line ends: only the passages after the emoji may move in NVivo.
    assert "4 passages come after an emoji" in stdout
    code, _, stderr = import_file(cli, second, out, "--coder", "Ana")
    assert code == 0, stderr
    for project in (first, second):
        snap = snapshot_of(project)
        (doc,) = snap.documents
        assert doc.text == _WINDOWS_TEXT.replace("\r\n", "\n")
        quotes = sorted((e.quote, doc.text[e.start : e.end]) for e in snap.excerpts)
        assert quotes == sorted((q, q) for q in _WINDOWS_QUOTES)
