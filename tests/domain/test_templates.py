from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


def _field(t, section, index):
    return t["sections"][section]["fields"][index]


@pytest.mark.parametrize("mutate, where, what", [
    (lambda t: t.clear() or t.update(sections=[]), "the top level", "has no 'id'"),
    (lambda t: t.update(title=""), "'title'", "must be a non-empty text"),
    (lambda t: t.update(id="My Review"), "'id'", "must be lowercase letters"),
    (lambda t: t.update(version=0), "'version'", "must be at least 1"),
    (lambda t: t.update(sections=[]), "'sections'", "must be a non-empty list"),
    (lambda t: t["sections"].insert(1, "place"), "section 2", "must be an object"),
    (lambda t: t["sections"][1].update(key="Place 2"), "section 'Place 2'",
     "has a key that is not lowercase letters, digits and _"),
    (lambda t: t["sections"][1].update(fields=[]), "'fields' of section", "must be a non-empty list"),
    (lambda t: t["sections"].append(dict(t["sections"][0], fields=[dict(_field(t, 0, 0), key="zz")])),
     f"section '{default_template()['sections'][0]['key']}'", "appears twice"),
    (lambda t: _field(t, 0, 1).pop("key"), "field 2 of section", "has no 'key'"),
    (lambda t: _field(t, 0, 1).update(label=""), "'label' of field", "must be a non-empty text"),
    (lambda t: _field(t, 0, 3).update(options=["low", 2]), "field", "needs a non-empty list of text 'options'"),
    (lambda t: _field(t, 0, 1).update(in_table="yes"), "'in_table' of field", "must be true or false"),
])
def test_broken_template_says_where_and_what(mutate, where, what) -> None:
    t = json.loads(json.dumps(default_template()))
    mutate(t)
    with pytest.raises(ValidationError) as caught:
        validate_template(t, "The template review.json")
    message = str(caught.value)
    assert message.startswith("The template review.json is not a valid form template: ")
    assert f": {where}" in message and what in message
    assert "schemas/form-template.schema.json" in message


def test_a_template_that_is_not_an_object() -> None:
    with pytest.raises(ValidationError, match="the top level must be a JSON object"):
        validate_template(["not", "a", "template"])


def test_the_shipped_schema_is_itself_valid() -> None:
    from jsonschema import Draft202012Validator

    root = Path(__file__).resolve().parents[2] / "schemas"
    Draft202012Validator.check_schema(json.loads((root / "form-template.schema.json").read_text()))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["", "x", "Bad Key", "choice"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["key", "label", "type", "options", "fields", "title", "zz"]), inner, max_size=3),
    max_leaves=8,
)


def _nodes(value, path=()):
    yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _nodes(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _nodes(v, (*path, i))


@given(st.data())
def test_any_broken_template_is_refused_with_a_message_never_a_crash(data) -> None:
    t = json.loads(json.dumps(default_template()))
    path = data.draw(st.sampled_from(list(_nodes(t))[1:]))
    parent = t
    for step in path[:-1]:
        parent = parent[step]
    if data.draw(st.booleans(), label="remove") and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(JSON, label="value")
    try:
        assert validate_template(t) is t
    except ValidationError as err:
        assert str(err).startswith("The template is not a valid form template: ")
        assert str(err).endswith("Fix it (see schemas/form-template.schema.json) and try again.")
