"""A full text is linked to a study only on evidence: a DOI, or the whole title with the year (±1)
and first author, and never against a conflicting DOI. Near misses are proposed, not linked."""

from __future__ import annotations

from cmo_desk.domain.records import Study
from cmo_desk.importers.fulltext import ExtractedText
from cmo_desk.importers.linking import link_files


def _text(text: str, doi: str | None = None, title: str | None = None) -> ExtractedText:
    return ExtractedText(text=text, page_starts=[0], media_type="application/pdf", extractor="t",
                         doi=doi, title=title)


MALAWI = Study(id="malawi", title="Peer-led harm reduction services for people who inject drugs in Lilongwe, Malawi",
               year=2019, authors=["Banda, Chisomo", "Phiri, Mercy"])
ZAMBIA_FILE = _text(
    "Harm Reduction Journal (2019) 16:12\n"
    "Peer-led harm reduction services for people who\ninject drugs: a situational analysis in\nZambia\n"
    "Chisomo Banda, Mercy Phiri\nAbstract\nBackground ...")


def test_a_near_miss_subtitle_is_not_linked_but_proposed():
    (decision,) = link_files([("zambia.pdf", ZAMBIA_FILE)], [MALAWI])
    assert decision.study_id is None and decision.how == "new"
    assert decision.proposed_study_id == "malawi"


def test_negation_is_a_different_title():
    study = Study(id="s", title="Opioid substitution and peer support are associated with retention in care",
                  year=2020, authors=["Mwale, Tiwonge"])
    file = _text("Opioid substitution and peer support are not associated\nwith retention in care\n"
                 "Tiwonge Mwale\n2020\nAbstract")
    (decision,) = link_files([("f.pdf", file)], [study])
    assert decision.study_id is None and decision.proposed_study_id == "s"
    assert any("not" in r for r in decision.reasons)


def test_a_protocol_is_not_linked_to_its_results_paper():
    results = Study(id="r", title="Peer navigation for people leaving prison: a randomised trial",
                    year=2010, authors=["Okafor, Ngozi"])
    protocol = _text("Trials 2008, 9:44\nPeer navigation for people leaving prison: a randomised trial\n"
                     "Ngozi Okafor\nPublished: 12 March 2008\nAbstract")
    (decision,) = link_files([("protocol.pdf", protocol)], [results])
    assert decision.study_id is None and decision.proposed_study_id == "r"
    assert any("year" in r for r in decision.reasons)


def test_a_conflicting_doi_is_never_linked_by_title():
    study = Study(id="s", title="Peer navigation for people leaving prison: a randomised trial",
                  year=2010, authors=["Okafor, Ngozi"], doi="10.1000/trial.2010")
    file = _text("Peer navigation for people leaving prison: a randomised trial\nNgozi Okafor\n2010\n",
                 doi="10.1000/other.2010")
    (decision,) = link_files([("f.pdf", file)], [study])
    assert decision.study_id is None and any("DOI" in r for r in decision.reasons)


def test_title_year_and_first_author_link():
    study = Study(id="s", title="Peer navigation for people leaving prison: a randomised trial",
                  year=2010, authors=["Okafor, Ngozi", "Smith, Jo"])
    file = _text("Journal of Urban Health (2011)\nPeer navigation for people leaving\nprison: a randomised trial\n"
                 "Ngozi Okafor · Jo Smith\nAbstract")
    (decision,) = link_files([("f.pdf", file)], [study])
    assert (decision.study_id, decision.how) == ("s", "title")


def test_without_author_agreement_it_is_only_proposed():
    study = Study(id="s", title="Peer navigation for people leaving prison: a randomised trial",
                  year=2010, authors=["Okafor, Ngozi"])
    file = _text("Peer navigation for people leaving prison: a randomised trial\nJames Brown\n2010\n")
    (decision,) = link_files([("f.pdf", file)], [study])
    assert decision.study_id is None and any("author" in r for r in decision.reasons)


def test_a_doi_match_links_whatever_the_title():
    study = Study(id="s", title="Something else", year=1999, doi="10.1000/XYZ")
    (decision,) = link_files([("f.pdf", _text("Unrelated heading", doi="10.1000/xyz"))], [study])
    assert (decision.study_id, decision.how) == ("s", "doi")
