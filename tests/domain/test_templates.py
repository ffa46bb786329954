from __future__ import annotations

import json
from pathlib import Path

import pytest

from cmo_desk.domain.errors import ValidationError
from cmo_desk.domain.templates import default_template, load_template, validate_template


def test_default_template_is_valid_and_matches_the_review_form() -> None:
    t = default_template()
    keys = [f["key"] for s in t["sections"] for f in s["fields"]]
    for expected in ("countries", "income_group", "setting", "population", "peer_role", "design",
                     "relevance", "rigour", "richness"):
        assert expected in keys


def test_default_template_matches_json_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    root = Path(__file__).resolve().parents[2] / "schemas"
    schema = json.loads((root / "form-template.schema.json").read_text())
    jsonschema.validate(default_template(), schema)


@pytest.mark.parametrize("mutate, words", [
    (lambda t: t.pop("sections"), "no 'sections'"),
    (lambda t: t["sections"][0]["fields"][0].update(type="slider"), "type 'slider'"),
    (lambda t: t["sections"][1]["fields"].append(dict(t["sections"][0]["fields"][0])),
     "appears twice"),
    (lambda t: t["sections"][0]["fields"][3].pop("options"), "needs a non-empty list"),
    (lambda t: t.update(colour="red"), "unknown keys"),
])
def test_broken_template_names_the_problem(mutate, words) -> None:
    t = json.loads(json.dumps(default_template()))
    mutate(t)
    with pytest.raises(ValidationError, match=words):
        validate_template(t)


def test_template_file_that_is_not_json(tmp_path: Path) -> None:
    p = tmp_path / "t.json"
    p.write_text("{ not json", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"not valid JSON \(line 1"):
        load_template(p)
