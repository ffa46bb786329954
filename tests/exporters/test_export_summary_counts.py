"""The line an exchange-file export prints counts each kind of record in the words of the
language: "1 consensus CMOC", not "1 consensus CMOCs"; in Russian, "5 кодировщиков"."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmo_desk.domain.i18n import set_language
from cmo_desk.services.exporting import ExportResult


@pytest.fixture
def english() -> object:
    yield set_language("en")
    set_language("en")


def _line(counts: dict[str, int]) -> str:
    return ExportResult(Path("review.qdpx"), "qdpx", counts=counts).lines()[0]


def test_one_of_a_kind_is_singular_and_more_are_plural(english: object) -> None:
    assert _line({"coders": 1, "studies": 2, "documents": 1, "codes": 3, "excerpts": 1,
                  "cmocs": 1, "consensus": 1}) == (
        "Wrote review.qdpx: 1 coder, 2 studies, 1 document, 3 codes, 1 excerpt, 1 CMOC, "
        "1 consensus CMOC.")
    assert _line({"cmocs": 2, "consensus": 0}) == "Wrote review.qdpx: 2 CMOCs, 0 consensus CMOCs."


def test_russian_counts_take_the_form_their_number_needs(english: object) -> None:
    set_language("ru")
    line = _line({"coders": 5, "studies": 2, "excerpts": 21})
    assert "5 кодировщиков" in line and "2 исследования" in line and "21 фрагмент" in line
