"""Reference imports that never silently drop a record or an identifier, nor garble a name."""

from __future__ import annotations

import logging

import pytest

from cmo_desk.domain.errors import ImportFailed
from cmo_desk.importers.fulltext import decode_text, extract_bytes
from cmo_desk.importers.references import parse_references

# --- BibTeX: every entry comes in, whatever its citation key ---------------------------------

MENDELEY = r"""@article{,
  author = {Banda, Chisomo and Phiri, Mercy},
  title = {Peer navigators in Lilongwe},
  year = {2019}
}
@article{,
  author = {Mwale, Tiwonge},
  title = {Harm reduction outreach in Blantyre},
  year = {2020}
}
@article{Smith2018,
  author = {Smith, Jo},
  title = {Trust and methadone clinics},
  year = {2018}
}
@article{Smith2018,
  author = {Smith, Jo and Okafor, Ngozi},
  title = {Stigma in needle exchange programmes},
  year = {2018},
  doi = {10.1000/xyz.2}
}
@article{Broken2017,
  author = {Nobody, A.},
  title = {An entry whose brace {never closes,
  year = {2017}
}
@article{After2016,
  author = {Later, B.},
  title = {The entry after a damaged one},
  year = {2016}
}
"""


def test_bibtex_entries_with_shared_or_empty_keys_all_import(capfd, caplog):
    caplog.set_level(logging.DEBUG)
    parsed = parse_references(MENDELEY.encode(), "mendeley.bib")
    titles = sorted(s.title for s in parsed.records)
    assert titles == sorted([
        "Peer navigators in Lilongwe", "Harm reduction outreach in Blantyre",
        "Trust and methadone clinics", "Stigma in needle exchange programmes",
        "The entry after a damaged one",
    ])
    keys = [s.extra["citation_key"] for s in parsed.records]
    assert len(set(keys)) == len(keys) and all(keys)
    stigma = next(s for s in parsed.records if s.title.startswith("Stigma"))
    assert stigma.doi == "10.1000/xyz.2" and stigma.extra["citation_key"] != "Smith2018"
    text = "\n".join(parsed.warnings)
    # The damaged entry is named; the re-keyed ones are said.
    assert "Broken2017" in text and "line 22" in text
    assert "3 entries" in text
    # bibtexparser's own messages stay off the terminal.
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


# --- identifiers -----------------------------------------------------------------------------


def test_ris_pubmed_id_in_an_with_nlm_data_provider():
    ris = ("TY  - JOUR\nAU  - Phiri, M.\nTI  - Outreach in Zomba\nPY  - 2014\nAN  - 24512345\n"
           "DP  - NLM\nER  - \n")
    (study,) = parse_references(ris.encode(), "endnote.ris").records
    assert study.pmid == "24512345"


def test_medline_pmid_without_a_space():
    nbib = ("PMID-22664220\nTI  - Stigma and access to care.\nDP  - 2012 Jun\nFAU - Banda, Chisomo\n\n"
            "PMID- 22664221\nTI  - Second record.\nDP  - 2012\nFAU - Phiri, Mercy\n")
    records = parse_references(nbib.encode(), "pubmed.nbib").records
    assert [s.pmid for s in records] == ["22664220", "22664221"]
    assert records[0].title == "Stigma and access to care."


# --- encodings and stray bytes ---------------------------------------------------------------


def test_central_european_ris_is_still_read_as_cp1250():
    ris = "TY  - JOUR\nAU  - Dvořák, Jiří\nAU  - Wiśniewski, Łukasz\nTI  - Přístup k péči\nER  - \n"
    (study,) = parse_references(ris.encode("cp1250"), "refs.ris").records
    assert study.authors == ["Dvořák, Jiří", "Wiśniewski, Łukasz"]


def test_cp1252_ris_is_read_as_cp1252():
    ris = ("TY  - JOUR\nAU  - Ó Briain, Seán\nAU  - Müller, Jörg\nTI  - Café outreach: naïve "
           "questions about peers\nPY  - 2015\nER  - \n").encode("cp1252")
    (study,) = parse_references(ris, "refs.ris").records
    assert study.authors == ["Ó Briain, Seán", "Müller, Jörg"]
    assert study.title == "Café outreach: naïve questions about peers"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_read(encoding):
    ris = "TY  - JOUR\nAU  - 王, 小明\nTI  - 同伴支持与美沙酮治疗\nPY  - 2019\nER  - \n"
    (study,) = parse_references(ris.encode(encoding), "refs.ris").records
    assert study.title == "同伴支持与美沙酮治疗" and study.authors == ["王, 小明"]
    text, _ = decode_text("Peer support helped.".encode(encoding), "a.txt")
    assert text == "Peer support helped."


@pytest.mark.parametrize(("name", "data"), [
    ("refs.ris", b"TY  - JOUR\nTI  - Peer\x00 support in Lusaka\nPY  - 2019\nER  - \n"),
    ("refs.bib", b"@article{a,\n title={Peer\x00 support in Lusaka},\n year={2019}\n}\n"),
    ("refs.nbib", b"PMID- 1\nTI  - Peer\x00 support in Lusaka\nDP  - 2019\n"),
])
def test_a_stray_nul_byte_does_not_refuse_the_file(name, data):
    parsed = parse_references(data, name)
    (study,) = parsed.records
    assert study.title == "Peer support in Lusaka"


def test_an_empty_text_file_is_refused_not_made_a_study():
    for data in (b"", b"  \n\n\t\n", b"\xef\xbb\xbf\n"):
        with pytest.raises(ImportFailed, match="empty"):
            extract_bytes(data, "notes.txt")


# --- LaTeX in titles -------------------------------------------------------------------------


@pytest.mark.parametrize(("latex", "text"), [
    (r"Input\slash output of peer work", "Input/output of peer work"),
    (r"Ga$\cdot$N films", "Ga·N films"),
    (r"Ga$_{1-x}$In$_x$N diodes", "Ga₁₋ₓInₓN diodes"),
    (r"CO\textsubscript{2} and H\textsuperscript{+} levels", "CO₂ and H⁺ levels"),
    (r"An {\em in vivo\/} study", "An in vivo study"),
    (r"Har\-m re\-duc\-tion", "Harm reduction"),
    (r"Drug use in \AA rhus", "Drug use in Århus"),
    (r"$\alpha$-synuclein and {{GaN}} --- a review", "α-synuclein and GaN — a review"),
])
def test_latex_in_bibtex_titles_becomes_plain_text(latex, text):
    bib = "@article{k,\n  title = {" + latex + "},\n  author = {Banda, C.},\n  year = {2019}\n}\n"
    (study,) = parse_references(bib.encode(), "refs.bib").records
    assert study.title == text


# --- RIS read in one pass: every record, every field, as written ------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_WORD = st.text(st.characters(categories=("L", "N"), exclude_characters="\x00"), min_size=1, max_size=12)
_VALUE = st.lists(_WORD, min_size=1, max_size=8).map(" ".join)
_RECORD = st.fixed_dictionaries({
    "title": _VALUE,
    "authors": st.lists(_VALUE, min_size=1, max_size=4),
    "year": st.integers(1900, 2030),
    "abstract": st.one_of(st.none(), _VALUE),
})


@settings(max_examples=100, deadline=None)
@given(records=st.lists(_RECORD, min_size=1, max_size=12), crlf=st.booleans(), junk=st.booleans())
def test_ris_records_come_back_whole(records, crlf, junk):
    lines = []
    for r in records:
        lines += ["TY  - JOUR", *(f"AU  - {a}" for a in r["authors"]), f"TI  - {r['title']}",
                  f"PY  - {r['year']}"]
        if r["abstract"]:
            # Long values wrap onto continuation lines in many exports.
            words = r["abstract"].split(" ")
            lines += [f"AB  - {' '.join(words[:2])}"] + ([" ".join(words[2:])] if words[2:] else [])
        lines.append("ER  - ")
        if junk:
            lines += ["", "Link to the Ovid Full Text or citation:", "L2  - http://example.org/x"]
    text = ("\r\n" if crlf else "\n").join(lines) + "\n"
    parsed = parse_references(text.encode("utf-8"), "refs.ris")
    got = [(s.title, s.authors, s.year, s.abstract) for s in parsed.records]
    want = [(" ".join(r["title"].split()), [" ".join(a.split()) for a in r["authors"]], r["year"],
             " ".join(r["abstract"].split()) if r["abstract"] else None) for r in records]
    assert got == want


def test_a_file_says_how_many_records_it_held_and_how_many_were_read():
    parsed = parse_references(MENDELEY.encode(), "mendeley.bib")
    assert (len(parsed.records), parsed.found) == (5, 6)  # the damaged entry is counted, not read
    ris = "TY  - JOUR\nTI  - Peer support\nER  - \nTY  - JOUR\nPY  - 2019\nER  - \n"
    parsed = parse_references(ris.encode(), "refs.ris")
    assert (len(parsed.records), parsed.found) == (1, 2)
