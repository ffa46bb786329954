"""One rule for coders' initials, unique within a project, and the legend that explains them."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from cmo_desk.domain.initials import initials_of, unique_initials
from cmo_desk.domain.records import Coder, FormValue
from cmo_desk.exporters.tables import ExportOptions, build_table

from .conftest import make_snapshot


def test_plain_initials_of_a_name():
    assert initials_of("Lan Nguyen") == "LN"
    assert initials_of("Maria de Souza") == "MS"
    assert initials_of("Jean-Luc Picard") == "JP"
    assert initials_of("Odessa") == "OD"
    assert initials_of("李伟") == "李伟"
    assert initials_of("  ") == "?"


def test_coders_who_share_initials_are_told_apart():
    coders = [Coder("1", name="Lan Nguyen", initials="LN"), Coder("2", name="Lena Nowak", initials="LN"),
              Coder("3", name="Ana Petrova", initials="AP"), Coder("4", name="Anna Pavlova"),
              Coder("5", name="Li Wei", initials="LW")]
    assert unique_initials(coders) == {"1": "LaN", "2": "LeN", "3": "APe", "4": "APa", "5": "LW"}


def test_the_same_name_twice_still_gets_two_initials():
    coders = [Coder("b", name="Ana Petrova"), Coder("a", name="Ana Petrova")]
    assert unique_initials(coders) == {"a": "AP", "b": "AP2"}


names = st.lists(
    st.text(alphabet=st.sampled_from("AaBbLlNn -.李王"), min_size=0, max_size=12),
    min_size=0, max_size=8,
)


@settings(max_examples=100, deadline=None)
@given(names, st.lists(st.sampled_from(["", "LN", "AP", "ln", None]), max_size=8))
def test_initials_are_unique_and_the_same_in_any_order(names, stored):
    coders = [Coder(f"c{i}", name=n, initials=stored[i] if i < len(stored) else None)
              for i, n in enumerate(names)]
    got = unique_initials(coders)
    assert set(got) == {c.id for c in coders}
    assert len({v.casefold() for v in got.values()}) == len(got)
    assert all(v.strip() for v in got.values())
    assert unique_initials(list(reversed(coders))) == got


def test_table_uses_unique_initials_and_explains_them_in_a_legend():
    base = make_snapshot()
    coders = (Coder("c-ana", name="Ana Petrova", initials="AP"),
              Coder("c-li", name="Anna Pavlova", initials="AP"))
    snap = dataclasses.replace(base, coders=coders, form_values=(
        FormValue("r1", study_id="s-booth", coder_id="c-ana", key="relevance", value="high"),
        FormValue("r2", study_id="s-booth", coder_id="c-li", key="relevance", value="moderate"),
    ))
    table = build_table(snap, ExportOptions(table="studies"))
    booth = next(r for _, r in table.iter_rows() if r["study_id"] == "s-booth")
    assert booth["relevance"] == "moderate (APa); high (APe)"
    legend = " ".join(table.title_block.legend)
    assert "APe = Ana Petrova" in legend and "APa = Anna Pavlova" in legend
    evidence = build_table(snap)
    assert any("(+)" in line for line in evidence.title_block.legend)


def test_the_desk_lists_show_the_same_unique_initials(qtbot):
    from cmo_desk.domain.records import Cmoc
    from cmo_desk.ui.models import CmocListModel

    coders = {"1": Coder("1", name="Lan Nguyen", initials="LN"),
              "2": Coder("2", name="Lena Nowak", initials="LN")}
    model = CmocListModel()
    model.set_rows([Cmoc("m1", owner_id="2", statement="If peers then trust")], coders, "1")
    assert model.data(model.index(0, 0)).startswith("[LeN] ")
