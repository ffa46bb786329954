"""Agreement statistics: the worked example, the reference implementation, and project-level figures."""

from __future__ import annotations

import csv
import json
import math
from collections import Counter
from dataclasses import replace

import krippendorff
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmo_desk.domain.errors import CmoDeskError, ValidationError
from cmo_desk.domain.records import (
    Assignment,
    Cmoc,
    Code,
    Coder,
    Consensus,
    Document,
    Excerpt,
    Project,
    Study,
)
from cmo_desk.domain.snapshot import ProjectSnapshot
from cmo_desk.exporters.agreement_report import write_agreement
from cmo_desk.agreement.agreement import (
    report_to_dict,
    resolve_coder_ids,
    study_code_agreement,
)
from cmo_desk.agreement.statistics import (
    char_overlap,
    cohen_kappa,
    krippendorff_alpha_nominal,
    percent_agreement,
)

# --------------------------------------------------------------------------------------------
# The worked check in REALIST.md


def test_worked_character_overlap_example():
    # 1000 characters; A marks 150, B marks 100, 50 of them the same
    result = char_overlap(1000, [(0, 150)], [(100, 200)])
    assert (result.a_chars, result.b_chars, result.both, result.neither) == (150, 100, 50, 800)
    assert result.percent == pytest.approx(85.0)
    assert result.kappa == pytest.approx(0.318, abs=5e-4)
    assert result.alpha_binary == pytest.approx(0.315, abs=5e-4)


def test_overlapping_spans_of_one_coder_count_each_character_once():
    split = char_overlap(1000, [(0, 100), (50, 150), (120, 130)], [(100, 200), (150, 160)])
    assert split == char_overlap(1000, [(0, 150)], [(100, 200)])


def test_character_alpha_matches_reference_per_character():
    length = 60
    a = [(3, 20), (30, 41)]
    b = [(10, 35), (50, 55)]
    marked_a = [any(s <= i < e for s, e in a) for i in range(length)]
    marked_b = [any(s <= i < e for s, e in b) for i in range(length)]
    expected = krippendorff.alpha(
        reliability_data=[[int(x) for x in marked_a], [int(x) for x in marked_b]],
        level_of_measurement="nominal",
    )
    result = char_overlap(length, a, b)
    assert result.alpha_binary == pytest.approx(expected)
    assert result.kappa == pytest.approx(cohen_kappa(marked_a, marked_b))


def test_character_overlap_edge_cases():
    assert char_overlap(0, [(0, 5)], []).percent is None
    nothing = char_overlap(200, [], [])
    assert nothing.percent == 100.0 and nothing.kappa is None and nothing.alpha_binary is None
    # spans past the end of the text are clipped, reversed or empty ones mark nothing
    assert char_overlap(100, [(90, 500), (40, 30), (None, 5)], [(95, 100)]).a_chars == 10
    with pytest.raises(ValidationError):
        char_overlap(-1, [], [])


# --------------------------------------------------------------------------------------------
# Cohen's kappa


def test_cohen_kappa_textbook_example():
    # 50 proposals: both yes 20, A yes / B no 5, A no / B yes 10, both no 15 -> p_o 0.7, p_e 0.5
    a = ["yes"] * 20 + ["yes"] * 5 + ["no"] * 10 + ["no"] * 15
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert percent_agreement(a, b) == pytest.approx(70.0)


def test_cohen_kappa_three_categories_by_hand():
    # confusion matrix rows A, columns B: [[2,1,0],[0,3,1],[1,0,2]] -> n 10, p_o 0.7,
    # A marginals 3,4,3; B marginals 3,4,3; p_e = (9+16+9)/100 = 0.34; kappa = 0.36/0.66
    pairs = [("c", "c")] * 2 + [("c", "m")] + [("m", "m")] * 3 + [("m", "o")] + [("o", "c")] + [("o", "o")] * 2
    a, b = zip(*pairs)
    assert cohen_kappa(a, b) == pytest.approx(0.36 / 0.66)


def test_cohen_kappa_undefined_and_extremes():
    assert cohen_kappa([], []) is None
    assert cohen_kappa([False] * 7, [False] * 7) is None
    assert cohen_kappa([True, False, True], [True, False, True]) == pytest.approx(1.0)
    assert cohen_kappa([True, False], [False, True]) == pytest.approx(-1.0)
    with pytest.raises(ValidationError):
        cohen_kappa([True], [True, False])


def _kappa_from_matrix(a, b):
    categories = sorted(set(a) | set(b), key=repr)
    index = {c: i for i, c in enumerate(categories)}
    matrix = np.zeros((len(categories), len(categories)))
    for x, y in zip(a, b):
        matrix[index[x], index[y]] += 1
    n = matrix.sum()
    observed = np.trace(matrix) / n
    expected = float((matrix.sum(axis=1) * matrix.sum(axis=0)).sum() / (n * n))
    return None if math.isclose(expected, 1.0) else (observed - expected) / (1 - expected)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("abc")), min_size=1, max_size=40))
def test_cohen_kappa_matches_confusion_matrix_formula(pairs):
    a, b = zip(*pairs)
    expected = _kappa_from_matrix(a, b)
    got = cohen_kappa(a, b)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)
        assert got == pytest.approx(cohen_kappa(b, a))


# --------------------------------------------------------------------------------------------
# Krippendorff's alpha against the reference package


def test_alpha_krippendorff_textbook_example():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", nominal example: 0.743
    coders = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    ]
    units = [list(u) for u in zip(*coders)]
    assert krippendorff_alpha_nominal(units) == pytest.approx(0.743, abs=5e-4)


def _reference_alpha(coders):
    data = np.array([[np.nan if v is None else v for v in row] for row in coders], dtype=float)
    try:
        value = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    except (ValueError, ZeroDivisionError):
        return None
    return None if value is None or not np.isfinite(value) else float(value)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(min_value=2, max_value=4).flatmap(
        lambda n_coders: st.lists(
            st.lists(st.one_of(st.none(), st.integers(0, 3)), min_size=n_coders, max_size=n_coders),
            min_size=1,
            max_size=20,
        )
    )
)
def test_alpha_matches_reference_package_with_missing_values(units):
    pairable = Counter(v for u in units if sum(x is not None for x in u) >= 2 for v in u if v is not None)
    ours = krippendorff_alpha_nominal(units)
    if len(pairable) < 2:
        # one category (or none) among pairable values: alpha is 0/0
        assert ours is None
        return
    coders = [list(c) for c in zip(*units)]
    assert ours == pytest.approx(_reference_alpha(coders), abs=1e-9)


def test_alpha_ignores_units_with_one_value_and_handles_nan():
    base = [[0, 0], [1, 1], [0, 1]]
    assert krippendorff_alpha_nominal(base + [[1, None], [None, None]]) == krippendorff_alpha_nominal(base)
    assert krippendorff_alpha_nominal([[0, float("nan")], *base]) == krippendorff_alpha_nominal(base)
    assert krippendorff_alpha_nominal([]) is None
    assert krippendorff_alpha_nominal([[1, 1], [1, 1]]) is None


# --------------------------------------------------------------------------------------------
# Study x code agreement on a hand-built project

A, B, C = "coder-a", "coder-b", "coder-c"
TEXT = "x" * 1000


def _project(with_third_coder: bool = False, with_consensus: bool = False) -> ProjectSnapshot:
    coders = [Coder(A, name="Ana", initials="AN"), Coder(B, name="Bo", initials="BO")]
    studies = [
        Study("s1", label="Booth 2016"),
        Study("s2", label="Chang 2021"),
        Study("s3", label="Dalkin 2015"),
        Study("s4", label="Wong 2013"),
        # coder B added s2 again; the duplicate was accepted and now points at s2
        Study("s5", label="Chang 2021 (dup)", merged_into="s2"),
    ]
    codes = [
        Code("k1", name="Trust"),
        Code("k2", name="Stigma"),
        Code("k3", name="Overdose"),
        Code("k4", name="trust", merged_into="k1"),
    ]
    documents = [Document("d1", study_id="s1", filename="booth.pdf", text=TEXT)]
    excerpts = [
        Excerpt("e1", document_id="d1", study_id="s1", start=0, end=150, owner_id=A, code_ids=("k1",)),
        Excerpt("e2", document_id="d1", study_id="s1", start=100, end=200, owner_id=B, code_ids=("k4",)),
        Excerpt("e3", document_id="d1", study_id="s1", start=300, end=400, owner_id=B, code_ids=("k2",)),
        Excerpt("e4", document_id="d1", study_id="s1", start=500, end=520, owner_id=None, code_ids=("k3",)),
        Excerpt("e5", study_id="s3", owner_id=A, code_ids=("k1",)),
    ]
    cmocs = [
        Cmoc("m1", study_id="s1", owner_id=A, code_ids=("k2",)),
        Cmoc("m2", study_id="s2", owner_id=A, code_ids=("k1",)),
        Cmoc("m3", study_id="s5", owner_id=B, code_ids=("k2",)),
        Cmoc("m4", study_id="s4", owner_id=A, code_ids=("k2",)),
    ]
    assignments = [
        Assignment("as1", study_id="s4", coder_id=B, status="submitted"),
        # assigned but not submitted: not yet coded by A
        Assignment("as2", study_id="s3", coder_id=B, status="draft"),
    ]
    if with_third_coder:
        coders.append(Coder(C, name="Chen", initials="CH"))
        excerpts.append(
            Excerpt("e6", document_id="d1", study_id="s1", start=120, end=180, owner_id=C, code_ids=("k1", "k2"))
        )
        cmocs.append(Cmoc("m5", study_id="s2", owner_id=C, code_ids=("k2",)))
    consensus = ()
    if with_consensus:
        consensus = (
            Consensus("c1", study_id="s1", code_ids=("k3", "k1"), source_ids=("m1",), reconciled_by=A),
            Consensus("c2", study_id="s2", code_ids=("k2",), reconciled_by=B),
        )
    return ProjectSnapshot(
        project=Project("p"),
        coders=tuple(coders),
        studies=tuple(studies),
        documents=tuple(documents),
        excerpts=tuple(excerpts),
        codes=tuple(codes),
        cmocs=tuple(cmocs),
        consensus=consensus,
        assignments=tuple(assignments),
    )


def test_two_coders_study_by_code_figures():
    report = study_code_agreement(_project())
    assert report.coder_ids == (A, B)
    assert report.coder_names == ("Ana", "Bo")
    # s1, s2 (B's work on the merged duplicate counts) and s4 (B submitted it empty) are double-coded
    assert (report.studies_total, report.studies_double_coded) == (4, 3)
    assert report.double_coded_share == pytest.approx(0.75)
    assert report.studies_coded == (4, 3)
    # Overdose was applied by no chosen coder; the merged "trust" counts as Trust
    assert [r.code_name for r in report.per_code] == ["Trust", "Stigma"]
    assert report.codes_unused == 1
    trust, stigma = report.per_code
    # Trust: s1 (yes, yes), s2 (yes, no), s4 (no, no)
    assert trust.units == 3 and trust.applied == (2, 1)
    assert trust.percent == pytest.approx(200 / 3)
    assert trust.kappa == pytest.approx(0.4)
    assert trust.alpha == pytest.approx(_reference_alpha([[1, 1, 0], [1, 0, 0]]))
    # Stigma: s1 (yes, yes), s2 (no, yes), s4 (yes, no)
    assert stigma.kappa == pytest.approx(-0.5)
    assert stigma.percent == pytest.approx(100 / 3)
    pooled = report.pooled
    assert pooled.units == 6 and pooled.code_id is None
    assert pooled.kappa == pytest.approx(0.0)
    assert pooled.percent == pytest.approx(50.0)
    assert pooled.alpha == pytest.approx(1 - 11 * 6 / 70)


def test_two_coders_character_overlap_per_code_and_document():
    report = study_code_agreement(_project())
    by_code = {o.code_name: o for o in report.overlaps}
    assert set(by_code) == {"Trust", "Stigma"}
    trust = by_code["Trust"].result
    assert (trust.percent, round(trust.kappa, 3), round(trust.alpha_binary, 3)) == (85.0, 0.318, 0.315)
    assert by_code["Trust"].document_name == "booth.pdf" and by_code["Trust"].study_label == "Booth 2016"
    # A tagged Stigma on s1 only through a CMOC, so no characters: 90 % agreement, kappa 0
    stigma = by_code["Stigma"].result
    assert (stigma.a_chars, stigma.b_chars, stigma.percent) == (0, 100, 90.0)
    assert stigma.kappa == pytest.approx(0.0)


def test_consensus_records_do_not_change_the_figures():
    assert study_code_agreement(_project(with_consensus=True)) == study_code_agreement(_project())
    three = study_code_agreement(_project(with_third_coder=True))
    assert study_code_agreement(_project(with_third_coder=True, with_consensus=True)) == three


def test_three_coders_alpha_with_missing_ratings():
    report = study_code_agreement(_project(with_third_coder=True))
    assert report.coder_ids == (A, B, C)
    assert report.pooled.kappa is None and all(r.kappa is None for r in report.per_code)
    trust, stigma = report.per_code
    # rows are coders, columns s1, s2, s4; Chen did not code s4
    trust_data = [[1, 1, 0], [1, 0, 0], [1, 0, None]]
    stigma_data = [[1, 0, 1], [1, 1, 0], [1, 1, None]]
    assert trust.alpha == pytest.approx(_reference_alpha(trust_data))
    assert stigma.alpha == pytest.approx(_reference_alpha(stigma_data))
    pooled = [a + b for a, b in zip(trust_data, stigma_data)]
    assert report.pooled.alpha == pytest.approx(_reference_alpha(pooled))
    # units where every coder who rated it agreed: Trust s1 (yes x 3) and s4 (no, no); Stigma s1
    assert trust.percent == pytest.approx(200 / 3) and stigma.percent == pytest.approx(100 / 3)
    assert {(o.coder_a, o.coder_b) for o in report.overlaps} == {(A, B), (A, C), (B, C)}
    assert any("Krippendorff" in n for n in report.notes)


def test_choosing_two_of_three_coders_gives_their_figures_only():
    chosen = study_code_agreement(_project(with_third_coder=True), coder_ids=[A, B])
    alone = study_code_agreement(_project())
    assert chosen.per_code == alone.per_code and chosen.pooled == alone.pooled
    assert chosen.overlaps == alone.overlaps


def test_coder_choice_mistakes_are_explained():
    snapshot = _project()
    with pytest.raises(ValidationError, match="at least two coders"):
        study_code_agreement(snapshot, coder_ids=[A])
    with pytest.raises(ValidationError, match="nobody"):
        study_code_agreement(snapshot, coder_ids=[A, "nobody"])
    assert resolve_coder_ids(snapshot, ["ana", " BO ", "Ana"]) == (A, B)
    assert resolve_coder_ids(snapshot, [B]) == (B,)
    with pytest.raises(ValidationError, match="Zed"):
        resolve_coder_ids(snapshot, ["Zed"])


def test_project_with_one_coder_reports_nothing_rather_than_failing():
    snapshot = _project()
    solo = replace(snapshot, excerpts=tuple(e for e in snapshot.excerpts if e.owner_id == A),
                   cmocs=tuple(c for c in snapshot.cmocs if c.owner_id == A), assignments=())
    report = study_code_agreement(solo)
    assert report.studies_double_coded == 0 and report.pooled.units == 0
    assert report.pooled.kappa is None and report.pooled.percent is None
    assert report.notes


def test_report_dict_is_json_ready():
    data = report_to_dict(study_code_agreement(_project()))
    text = json.dumps(data)
    again = json.loads(text)
    assert again["studies_double_coded"] == 3
    assert again["pooled"]["applied"] == {A: 4, B: 3}
    assert again["per_code"][0]["code_name"] == "Trust"
    assert again["overlaps"][0]["coder_a_name"] == "Ana"


# --------------------------------------------------------------------------------------------
# The written report


def test_report_as_csv_has_tidy_rows(tmp_path):
    out = write_agreement(study_code_agreement(_project()), tmp_path / "agreement.csv")
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    sections = Counter(r["section"] for r in rows)
    assert sections == {"code": 2, "pooled": 1, "char_overlap": 2, "left_out": 1}
    left = next(r for r in rows if r["section"] == "left_out")
    assert (left["study"], left["coder_a"], left["reason"]) == ("Dalkin 2015", "Ana", "one_coder")
    trust = next(r for r in rows if r["section"] == "code" and r["code"] == "Trust")
    assert float(trust["kappa"]) == pytest.approx(0.4) and trust["coder_a"] == "Ana"
    assert not list(tmp_path.glob("*.tmp"))


def test_report_as_word_in_chinese(tmp_path):
    import docx

    report = study_code_agreement(_project())
    out = write_agreement(report, tmp_path / "agreement.docx", lang="zh_CN")
    document = docx.Document(str(out))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "编码者间一致性" in text
    code_table, overlap_table = document.tables
    header = [c.text for c in code_table.rows[0].cells]
    assert header[0] == "编码"
    body = [[c.text for c in row.cells] for row in code_table.rows[1:]]
    assert body[0][:3] == ["信任", "3", "0.400"]  # the starter code as the desk names it
    assert body[-1][0] == "全部编码（合并）"
    assert len(overlap_table.rows) == 3
    assert "Trust" not in "\n".join(c.text for row in overlap_table.rows for c in row.cells)


def test_undefined_figures_are_written_as_undefined(tmp_path):
    snapshot = _project()
    solo = replace(snapshot, excerpts=(), cmocs=(), assignments=())
    import docx

    out = write_agreement(report_to_dict(study_code_agreement(solo)), tmp_path / "a.docx")
    row = [c.text for c in docx.Document(str(out)).tables[0].rows[-1].cells]
    assert row[1:] == ["0", "undefined", "undefined", "undefined"]


def test_report_file_mistakes_leave_existing_file_alone(tmp_path):
    report = study_code_agreement(_project())
    with pytest.raises(ValidationError, match=r"\.docx or \.csv"):
        write_agreement(report, tmp_path / "agreement.pdf")
    with pytest.raises(CmoDeskError, match="does not exist"):
        write_agreement(report, tmp_path / "missing" / "agreement.csv")
    target = tmp_path / "agreement.docx"
    target.mkdir()  # a folder where the file should go: replacing it fails
    with pytest.raises(CmoDeskError, match="Cannot save"):
        write_agreement(report, target)
    assert target.is_dir() and not list(tmp_path.glob("*.tmp"))


# --------------------------------------------------------------------------------------------
# What the figures are computed over


def _unfinished_project() -> ProjectSnapshot:
    """Both coders were assigned Booth and Chang. Both submitted Booth; Bo has begun Chang but
    not submitted it. Ana alone coded Dalkin. Wong was coded by nobody."""
    snapshot = _project()
    excerpts = (
        Excerpt("u1", document_id="d1", study_id="s1", start=0, end=100, owner_id=A, code_ids=("k1",)),
        Excerpt("u2", document_id="d1", study_id="s1", start=0, end=90, owner_id=B, code_ids=("k1",)),
        Excerpt("u3", study_id="s2", owner_id=A, code_ids=("k1", "k2")),
        Excerpt("u4", study_id="s2", owner_id=B, code_ids=("k1",)),
        Excerpt("u5", study_id="s3", owner_id=A, code_ids=("k2",)),
    )
    assignments = tuple(
        Assignment(f"as-{sid}-{who}", study_id=sid, coder_id=who, status=status)
        for sid, who, status in (("s1", A, "submitted"), ("s1", B, "submitted"),
                                 ("s2", A, "submitted"), ("s2", B, "assigned"))
    )
    return replace(snapshot, excerpts=excerpts, cmocs=(), assignments=assignments)


def test_a_study_a_coder_has_not_submitted_is_left_out_and_named():
    """Bo's half-done Chang would count every code he has not reached yet as a disagreement."""
    report = study_code_agreement(_unfinished_project())
    assert report.studies_double_coded == 1
    assert report.pooled.units == 1 and [r.code_name for r in report.per_code] == ["Trust"]
    assert report.per_code[0].percent == 100.0
    assert {o.study_label for o in report.overlaps} == {"Booth 2016"}
    left = {(x.study_label, x.reason, x.coder_names) for x in report.left_out}
    assert left == {("Chang 2021", "not_submitted", ("Bo",)),
                    ("Dalkin 2015", "one_coder", ("Ana",))}
    notes = "\n".join(report.notes)
    assert "Chang 2021 (Bo)" in notes and "Dalkin 2015 (Ana)" in notes
    assert "Wong 2013" not in notes
    data = json.loads(json.dumps(report_to_dict(report)))
    assert {(x["study_label"], x["reason"]) for x in data["left_out"]} == {
        ("Chang 2021", "not_submitted"), ("Dalkin 2015", "one_coder")}


def test_a_study_submitted_by_both_counts_once_both_submit():
    snapshot = _unfinished_project()
    done = replace(snapshot, assignments=tuple(
        replace(a, status="submitted") for a in snapshot.assignments))
    report = study_code_agreement(done)
    assert report.studies_double_coded == 2
    stigma = next(r for r in report.per_code if r.code_name == "Stigma")
    assert (stigma.units, stigma.percent, stigma.applied) == (2, 50.0, (1, 0))
    assert [(x.study_label, x.reason) for x in report.left_out] == [("Dalkin 2015", "one_coder")]


def test_codings_with_a_code_no_longer_in_the_codebook_are_counted_as_left_out():
    """A code deleted on the coordinator's laptop while Ana applied it on hers: her coding is not
    in the figures, and the report says how many codings that leaves out."""
    snapshot = _project()
    gone = replace(snapshot, excerpts=snapshot.excerpts + (
        Excerpt("g1", document_id="d1", study_id="s1", start=600, end=650, owner_id=A,
                code_ids=("deleted-code",)),))
    report = study_code_agreement(gone)
    assert report.per_code == study_code_agreement(snapshot).per_code
    assert report.codings_without_code == 1
    assert any("codebook, not counted: 1." in n for n in report.notes)
    assert study_code_agreement(snapshot).codings_without_code == 0
