"""Search finds the words a reader sees: word beginnings ("Malawi" finds "Malawians"), and Arabic
written with or without vowel marks, with any alef, and as PDFs extract lam-alef."""

from __future__ import annotations

from cmo_desk.domain.textsearch import fts_query, index_text
from cmo_desk.services.importing import import_paths

from .conftest import make_docx


def _import(project, tmp_path, name, paragraphs):
    make_docx(tmp_path / name, paragraphs)
    import_paths(project, [tmp_path / name])


def test_a_word_finds_longer_words_that_begin_with_it(project, tmp_path):
    _import(project, tmp_path, "a.docx", ["Many Malawians travel to clinics in Lilongwe."])
    (hit,) = project.store.search("Malawi")
    assert "[Malawi]ans" in hit.snippet
    # Quoted, a word is matched whole.
    assert project.store.search('"Malawi"') == []
    assert project.store.search("Zambia") == []


def test_arabic_is_found_whatever_the_marks_alef_or_lam_alef_order(project, tmp_path):
    # As PDF extraction gives it: the lam-alef ligature comes out alef first ("المشكالت",
    # "اإلنتاجية"), and a coder's document may carry vowel marks.
    _import(project, tmp_path, "ar.docx", ["تحسين اإلنتاجية وحل المشكالت من خالل البرمجة",
                                           "كَتَبَ الطالبُ الدرسَ في المدرسة"])
    for query in ("الإنتاجية", "الانتاجية", "المشكلات", "خلال", "كتب", "الطالب"):
        assert project.store.search(query), query


def test_query_and_index_agree():
    assert index_text("إِنتاج") == index_text("انتاج")
    assert fts_query("Malawi") == '"Malawi" *'
    assert fts_query('"Malawi"') == '"Malawi"'
    assert fts_query("同伴") == '"同 伴"'
