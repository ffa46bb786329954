"""Per-study form templates: loading and checking them, with messages that name the problem.

A template is JSON (see ``schemas/form-template.schema.json``). Ordinal fields with a
justification store two form values: ``<key>`` (the rating) and ``<key>_justification``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from cmo_desk.domain.errors import ValidationError
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.resources import schema_path

FIELD_TYPES = ("text", "long_text", "number", "bool", "choice", "multi_choice", "list", "ordinal")
SCHEMA_FILE = "form-template.schema.json"
DEFAULT_TEMPLATE_FILE = "peer-involvement-review.json"

#: what a pattern in the schema asks for, in words
_PATTERN_WORDS = {
    "^[a-z0-9_]+$": "lowercase letters, digits and _",
    "^[a-z0-9][a-z0-9_-]*$": "lowercase letters, digits, - and _, starting with a letter or digit",
}
_TYPE_WORDS = {"object": "an object", "array": "a list", "string": "a text",
               "integer": "a whole number", "boolean": "true or false"}


@cache
def _validator() -> Any:
    """A validator for the shipped JSON Schema of form templates (read once)."""
    from jsonschema import Draft202012Validator

    schema = json.loads(schema_path(SCHEMA_FILE).read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def validate_template(data: Any, source: str = "The template") -> dict[str, Any]:
    """Return the template if it is well formed, else raise ValidationError naming the problem.

    Two steps: the shape the JSON Schema in ``schemas/`` describes, then what a schema cannot say
    (section and field keys are unique).
    """
    problem = _schema_problem(data) or _duplicate_key_problem(data)
    if problem:
        where, what = problem
        raise ValidationError(f"{source} is not a valid form template: {where} {what}. "
                              "Fix it (see schemas/form-template.schema.json) and try again.")
    template: dict[str, Any] = data
    return template


def _schema_problem(data: Any) -> tuple[str, str] | None:
    """Where and what is wrong by the schema: the most telling error, None when there is none."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(data))
    if error is None:
        return None
    path = list(error.absolute_path)
    return _where(data, path), _what(error, path)


#: properties whose problem names them itself ("has a key that...", "has type...", "needs options")
_SELF_NAMING = ("key", "type", "options")


def _where(data: Any, path: list[str | int]) -> str:
    """Name the part of the template at ``path``: a section or field by its key when it has one."""
    if len(path) >= 2 and path[0] == "sections" and isinstance(path[1], int):
        section = data["sections"][path[1]]
        where = _named("section", section, path[1])
        rest = path[2:]
        if len(path) >= 4 and path[2] == "fields" and isinstance(path[3], int):
            field = section["fields"][path[3]]
            named = _named("field", field, path[3])
            where = named if _key_of(field) else f"{named} of {where}"
            rest = path[4:]
        return f"'{rest[0]}' of {where}" if rest and rest[0] not in _SELF_NAMING else where
    if path:
        return f"'{path[0]}'"
    return "the top level"


def _key_of(item: Any) -> str | None:
    key = item.get("key") if isinstance(item, dict) else None
    return key if isinstance(key, str) and key else None


def _named(kind: str, item: Any, index: int) -> str:
    key = _key_of(item)
    return f"{kind} '{key}'" if key else f"{kind} {index + 1}"


def _what(error: Any, path: list[str | int]) -> str:
    """The problem in words, from the schema rule that failed."""
    rule, wanted, instance = error.validator, error.validator_value, error.instance
    if "options" in path or (rule == "required" and "options" in wanted):
        return "needs a non-empty list of text 'options'"
    if rule == "required":
        missing = next(k for k in wanted if k not in instance)
        return f"has no '{missing}'"
    if rule == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        return f"has unknown keys {sorted(set(instance) - known)}"
    if rule == "enum" and path and path[-1] == "type":
        return f"has type '{instance}', which is not one of {list(FIELD_TYPES)}"
    if rule == "enum":
        return f"is '{instance}', which is not one of {list(wanted)}"
    if rule == "pattern":
        words = _PATTERN_WORDS.get(wanted, f"text matching {wanted}")
        return f"has a key that is not {words}" if path and path[-1] == "key" else f"must be {words}"
    if rule == "type":
        return "must be a JSON object" if not path else f"must be {_TYPE_WORDS.get(wanted, wanted)}"
    if rule in ("minItems", "minLength"):
        kind = "list" if rule == "minItems" else "text"
        return f"must be a non-empty {kind}"
    if rule == "minimum":
        return f"must be at least {wanted}"
    return str(error.message)


def _duplicate_key_problem(data: dict[str, Any]) -> tuple[str, str] | None:
    """A section key, or a field key anywhere in the template, used twice."""
    seen_sections: set[str] = set()
    seen_fields: set[str] = set()
    for section in data["sections"]:
        if section["key"] in seen_sections:
            return f"section '{section['key']}'", "appears twice"
        seen_sections.add(section["key"])
        for field in section["fields"]:
            if field["key"] in seen_fields:
                return f"field '{field['key']}'", "appears twice (field keys must be unique)"
            seen_fields.add(field["key"])
    return None


def load_template(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise ValidationError(f"Cannot read the template {path}: {err.strerror}.") from None
    except UnicodeDecodeError:
        raise ValidationError(f"The template {path} is not UTF-8 text. Save it as UTF-8 JSON.") \
            from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as err:
        raise ValidationError(
            f"The template {path.name} is not valid JSON (line {err.lineno}, column {err.colno}: "
            f"{err.msg}). Fix it and try again.") from None
    return validate_template(data, f"The template {path.name}")


def default_template() -> dict[str, Any]:
    return load_template(schema_path(DEFAULT_TEMPLATE_FILE))


def template_fields(template: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Every field of a template in order, each with its section key added."""
    out = []
    for section in (template or {}).get("sections", []):
        for field in section.get("fields", []):
            out.append({**field, "section": section["key"]})
    return out


def field_label(field: dict[str, Any], lang: str) -> str:
    if lang == "zh_CN" and field.get("label_zh_CN"):
        return str(field["label_zh_CN"])
    label = str(field.get("label", field.get("key", "")))
    return tr(label, lang) if lang != "en" else label
