"""Fixed-width text (the command line's tables) counts the columns each character takes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cmo_desk.domain.i18n import fit_columns, text_columns


def test_chinese_takes_two_columns_and_a_combining_mark_none() -> None:
    assert text_columns("张伟 Li") == 7
    assert text_columns("e\u0301") == 1
    assert fit_columns("欧阳娜娜", 6) == "欧阳\u2026 "
    assert fit_columns("单元", 6, ">") == "  单元"


@given(st.text(alphabet=st.sampled_from("ab 张伟欧阳🚓\u0301"), max_size=30), st.integers(2, 40),
       st.sampled_from("<>"))
def test_fitted_text_fills_exactly_its_columns(text: str, width: int, align: str) -> None:
    fitted = fit_columns(text, width, align)
    assert text_columns(fitted) == width
    if text_columns(text) <= width:
        assert fitted.strip(" ") == text.strip(" ") or text.strip(" ") in fitted
    else:
        assert fitted.rstrip(" ").endswith("\u2026")
