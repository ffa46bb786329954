"""Whatever text sits in a project, every export format writes it and reads back cleanly."""

import docx
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmo_desk.domain.records import (
    Cmoc, Code, Coder, Consensus, Excerpt, FormValue, Project, Study, Theory,
)
from cmo_desk.domain.snapshot import ProjectSnapshot
from cmo_desk.exporters import write_table
from cmo_desk.exporters.tables import ExportOptions, build_table
from cmo_desk.exporters.textclean import clean_text

# Any code point, including controls, surrogates and noncharacters, weighted towards trouble.
nasty = st.text(
    st.one_of(
        st.characters(exclude_categories=()),
        st.sampled_from("\x00\x0b\x0c\r\n\t\ufffe\uffff\ud800\u202e\u200f<>&\"'=]]>"),
    ),
    max_size=40,
)


@st.composite
def snapshots(draw):
    t = lambda: draw(nasty)  # noqa: E731
    return ProjectSnapshot(
        project=Project("p", title=t(), template=None),
        coders=(Coder("c1", name=t(), initials=t()),),
        studies=(Study("s1", label=t(), authors=[t(), t()], year=2020, title=t(), journal=t(),
                       doi=t()),),
        excerpts=(Excerpt("e1", study_id="s1", quote=t(), memo=t(), page=2, role=t(),
                          owner_id="c1", code_ids=("k1",)),),
        codes=(Code("k1", name=t()),),
        theories=(Theory("t1", label=t(), statement=t(), version=t()),),
        cmocs=(Cmoc("m1", study_id="s1", owner_id="c1", context=t(), mechanism_resource=t(),
                    mechanism_reasoning=t(), outcome=t(), outcome_direction=t(),
                    outcome_intended=t(), statement=t(), confidence=t(), memo=t(),
                    code_ids=("k1",), excerpt_ids=("e1",), theories=(("t1", t()),)),),
        consensus=(Consensus("x1", study_id="s1", context=t(), outcome=t(), resolution=t(),
                             note=t(), source_ids=("m1",), excerpt_ids=("e1",)),),
        form_values=(FormValue("f1", study_id="s1", coder_id="c1", key="countries",
                               value=[t(), t()]),
                     FormValue("f2", study_id="s1", coder_id="c1", key="relevance",
                               value={"rating": t(), "justification": t()})),
    )


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(snapshot=snapshots(), kind=st.sampled_from(["evidence", "studies", "excerpts"]),
       group_by=st.sampled_from(["study", "code", "theory"]))
def test_any_text_exports_to_every_format(tmp_path, snapshot, kind, group_by):
    table = build_table(snapshot, ExportOptions(table=kind, group_by=group_by, records="all"))
    document = docx.Document(str(write_table(table, tmp_path / "x.docx")))
    shown = [row.cells[i].text for t in document.tables for row in t.rows[1:]
             for i in range(len(table.columns))]
    expected = [clean_text(row.get(c.key, "")) for _, row in table.iter_rows()
                for c in table.columns]
    # What a reader sees in Word is exactly the cleaned text (line breaks become paragraphs).
    assert shown == expected
    assert all(clean_text(s) == s for s in shown)
    frame = pd.read_excel(write_table(table, tmp_path / "x.xlsx"), dtype=str,
                          keep_default_na=False)
    assert list(frame.columns) == table.data_keys
    assert len(frame) == table.row_count
    frame = pd.read_csv(write_table(table, tmp_path / "x.csv"), dtype=str, keep_default_na=False)
    assert len(frame) == table.row_count
