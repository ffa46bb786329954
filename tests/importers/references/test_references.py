from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmo_desk.domain.errors import ImportFailed
from cmo_desk.importers.latex import decode_latex
from cmo_desk.importers.references import assign_labels, parse_references
from cmo_desk.domain.records import Study

RIS = (
    "\ufeffTY  - JOUR\r\nAU  - Booth, Andrew\r\nAU  - Wong, Geoff\r\nTI  - Realist synthesis of\r\n"
    "  peer support\r\nPY  - 2016/03/01/\r\nJO  - BMC Med\r\nVL  - 14\r\nSP  - 12\r\nEP  - 20\r\n"
    "DO  - https://doi.org/10.1186/ABC-123\r\nKW  - realist\r\nER  - \r\n"
    "TY  - JOUR\r\nAU  - Booth, Andrew\r\nTI  - A second paper\r\nPY  - 2016\r\nER  - \r\n"
    "garbage line that is not a tag\r\n"
)
BIBTEX = r"""
@article{mueller2019,
  author = {M{\"u}ller, J{\"o}rg and {\'E}mile Durand and {World Health Organization}},
  title = {{Fran\c{c}ais}: na\"{\i}ve  trust --- and {GaN}},
  journaltitle = {Soc Sci Med},
  date = {2019-05},
  doi = {doi:10.1016/J.SOCSCIMED.2019.01.001},
}
@book{broken, title = {Unclosed
"""
NBIB = (
    "PMID- 27169098\nTI  - Proteomics: a new perspective\n      for cancer.\nDP  - 2016 Apr 26\n"
    "FAU - Shruthi, Basavaradhya Sahukar\nAU  - Shruthi BS\nJT  - Advanced biomedical research\n"
    "LID - 10.4103/2277-9175.180636 [doi]\nAB  - Proteomics is\n      the study.\n\n"
    "PMID- 123\nTI  - Second record\nDP  - 2015\nAU  - Smith J\n"
)
ENDNOTE = (
    '<?xml version="1.0" encoding="UTF-8"?><xml><records><record><rec-number>1</rec-number>'
    '<ref-type name="Journal Article">17</ref-type><contributors><authors><author><style>Pawson, R.</style>'
    "</author></authors></contributors><titles><title><style>Realist </style><style>evaluation</style></title>"
    "<secondary-title><style>Evaluation</style></secondary-title></titles><dates><year><style>2004</style></year>"
    "</dates><electronic-resource-num><style>10.1177/1356389004043135</style></electronic-resource-num>"
    "</record></records></xml>"
)
CSL = json.dumps(
    [
        {"id": "a", "type": "article-journal", "title": "Sport and disability", "DOI": "10/fqd6hj",
         "author": [{"family": "Brittain", "given": "Ian"}], "issued": {"date-parts": [["2004"]]}},
        {"id": "b", "title": "Circa", "author": [{"literal": "Doe Group"}],
         "issued": {"circa": True, "date-parts": [["2011", 5]]}},
        {"id": "c", "title": "EDTF string", "author": [{"family": "Roe"}], "issued": "2012-06~"},
        "not an item",
    ]
)


def test_ris_with_bom_crlf_continuations_and_junk():
    parsed = parse_references(RIS.encode("utf-8"), "export.ris")
    assert parsed.format == "ris"
    first, second = parsed.records
    assert first.authors == ["Booth, Andrew", "Wong, Geoff"]
    assert first.title == "Realist synthesis of peer support"
    assert (first.year, first.journal, first.volume, first.pages) == (2016, "BMC Med", "14", "12–20")
    assert first.doi == "10.1186/abc-123"
    assert [first.label, second.label] == ["Booth 2016a", "Booth 2016b"]
    assert first.id != second.id


def test_bibtex_decodes_latex_and_skips_damaged_entries():
    parsed = parse_references(BIBTEX.encode(), "refs.bib")
    assert parsed.format == "bibtex"
    (study,) = parsed.records
    assert study.authors == ["Müller, Jörg", "Durand, Émile", "World Health Organization"]
    assert study.title == "Français: naïve trust — and GaN"
    assert (study.year, study.journal, study.doi, study.label) == (2019, "Soc Sci Med", "10.1016/j.socscimed.2019.01.001", "Müller 2019")
    assert parsed.warnings


@pytest.mark.parametrize(
    ("latex", "text"),
    [(r"{\"u}", "ü"), (r"{\'e}", "é"), (r"\c{c}", "ç"), (r"\'{\i}", "í"), (r"{\ss}", "ß"), (r"\v{s}", "š"), (r"{{GaN}}", "GaN")],
)
def test_latex_accents(latex, text):
    assert decode_latex(latex) == text


def test_medline_with_continuation_lines():
    parsed = parse_references(NBIB.encode(), "pubmed.nbib")
    first, second = parsed.records
    assert first.title == "Proteomics: a new perspective for cancer."
    assert (first.pmid, first.doi, first.year) == ("27169098", "10.4103/2277-9175.180636", 2016)
    assert first.authors == ["Shruthi, Basavaradhya Sahukar"] and first.label == "Shruthi 2016"
    assert first.abstract == "Proteomics is the study."
    assert second.label == "Smith 2015"


def test_medline_detected_in_a_txt_file():
    assert parse_references(NBIB.encode(), "pubmed_result.txt").format == "medline"


def test_endnote_xml_joins_style_runs():
    (study,) = parse_references(ENDNOTE.encode(), "library.xml").records
    assert (study.title, study.journal, study.year, study.doi) == ("Realist evaluation", "Evaluation", 2004, "10.1177/1356389004043135")
    assert study.label == "Pawson 2004"


def test_csl_json_keeps_short_dois_and_reads_edtf_years():
    parsed = parse_references(CSL.encode(), "zotero.json")
    a, b, c = parsed.records
    assert a.doi == "10/fqd6hj" and a.label == "Brittain 2004"
    assert b.year == 2011 and b.authors == ["Doe Group"]
    assert c.year == 2012
    assert any("no readable title" in w for w in parsed.warnings)


def test_thousands_of_authors():
    lines = ["TY  - JOUR", "TI  - Big consortium paper"] + [f"AU  - Author{i}, A" for i in range(5000)] + ["PY  - 2020", "ER  - "]
    (study,) = parse_references("\n".join(lines).encode(), "big.ris").records
    assert len(study.authors) == 5000 and study.label == "Author0 2020"


def test_labels_avoid_those_already_in_the_project():
    studies = [Study(id="1", authors=["Booth, A"], year=2016), Study(id="2", authors=["Wong G"], year=None)]
    labelled = assign_labels(studies, taken=["Booth 2016"])
    assert [s.label for s in labelled] == ["Booth 2016a", "Wong n.d."]


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.ris", "not a reference file"),
        (b"\x00\x01\x02binary", "x.bib", "not a reference file"),
        (b"just some prose", "notes.txt", "not a reference file"),
        (b"[1, 2", "broken.json", "too damaged"),
        (b"TY  - JOUR\nER  - \n", "empty.ris", "No readable references"),
    ],
)
def test_unreadable_files_give_clear_messages(data, name, message):
    with pytest.raises(ImportFailed, match=message):
        parse_references(data, name)


def test_missing_file():
    with pytest.raises(ImportFailed, match="Cannot read"):
        parse_references("/nonexistent/refs.ris")


SAMPLES = {"x.ris": RIS, "x.bib": BIBTEX, "x.nbib": NBIB, "x.xml": ENDNOTE, "x.json": CSL}


def _damage(text: str, data: st.DataObject) -> bytes:
    raw = bytearray(text.encode("utf-8"))
    for _ in range(data.draw(st.integers(0, 8))):
        if not raw:
            break
        position = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["flip", "delete", "insert", "truncate"]))
        if action == "flip":
            raw[position] = data.draw(st.integers(0, 255))
        elif action == "delete":
            del raw[position : position + data.draw(st.integers(1, 40))]
        elif action == "insert":
            raw[position:position] = data.draw(st.binary(max_size=20))
        else:
            del raw[position:]
    return bytes(raw)


@settings(max_examples=50, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(SAMPLES)), data=st.data())
def test_random_damage_never_crashes(name, data):
    damaged = _damage(SAMPLES[name], data)
    try:
        parsed = parse_references(damaged, name)
    except ImportFailed as err:
        assert str(err)
        return
    for study in parsed.records:
        assert study.label and study.id


@settings(max_examples=50, deadline=2000)
@given(raw=st.binary(max_size=400), name=st.sampled_from(sorted(SAMPLES)))
def test_random_bytes_never_crash(raw, name):
    try:
        parse_references(raw, name)
    except ImportFailed:
        pass


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        # Zotero's export of an erratum: the closing quotes end a plain word.
        (r"{{\emph{Erratum:}}} ``{{Analyzing}} the Growth of {{GaN}} Nanowires by x-{{Ray}} Diffraction''",
         "Erratum: “Analyzing the Growth of GaN Nanowires by x-Ray Diffraction”"),
        (r"Comment on ``Peer outreach in Hanoi''", "Comment on “Peer outreach in Hanoi”"),
        (r"``Trust'' among peers", "“Trust” among peers"),
        ("Peers' trust in O'Brien's clinic", "Peers' trust in O'Brien's clinic"),
    ],
)
def test_latex_quotation_marks_open_and_close(latex, text):
    assert decode_latex(latex) == text
