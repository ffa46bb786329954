"""What `cmo-desk import` tells a team: every reference it skipped as a duplicate is named with the
study it matched, so a near-miss can be checked, not only counted."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmo_desk.cli.main import run

FIRST = """TY  - JOUR
AU  - Booth, Robert E.
TI  - HIV incidence among people who inject drugs in Ukraine
PY  - 2016
DO  - 10.1016/J.DRUGALCDEP.2016.02.030
ER  - 
TY  - JOUR
AU  - 张, 伟
TI  - 同伴教育对注射吸毒者美沙酮维持治疗的影响
PY  - 2019
ER  - 
"""
SECOND = """TY  - JOUR
AU  - Booth, R
TI  - HIV incidence among people who inject drugs in Ukraine.
PY  - 2016
DO  - https://doi.org/10.1016/j.drugalcdep.2016.02.030
ER  - 
TY  - JOUR
AU  - Zhang, Wei
TI  - 同伴教育对注射吸毒者美沙酮维持治疗的影响。
PY  - 2019
ER  - 
TY  - JOUR
AU  - Amin, N
TI  - Peer outreach in Dhaka
PY  - 2020
ER  - 
"""


def test_each_skipped_duplicate_reference_is_named_with_the_study_it_matched(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "review.cmo"
    first, second = tmp_path / "pubmed.ris", tmp_path / "embase.ris"
    first.write_text(FIRST, encoding="utf-8")
    second.write_text(SECOND, encoding="utf-8")
    assert run(["new", str(project), "--coder", "Ana"]) == 0
    assert run(["import", str(project), str(first), "--coder", "Ana"]) == 0
    capsys.readouterr()
    assert run(["import", str(project), str(second), "--coder", "Ana"]) == 0
    out = capsys.readouterr().out
    assert "Duplicates skipped: 2 (2 references, 0 files)" in out
    lines = out.splitlines()
    listed = lines[lines.index("References already in the project (not imported again):") + 1:]
    assert listed[:2] == [
        f"  {second}: HIV incidence among people who inject drugs in Ukraine. (Booth 2016)",
        f"  {second}: 同伴教育对注射吸毒者美沙酮维持治疗的影响。 (张 2019)",
    ]
    assert "Peer outreach in Dhaka" not in out  # a new study, not a duplicate
