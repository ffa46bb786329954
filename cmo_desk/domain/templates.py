"""Per-study form templates: loading and checking them, with messages that name the problem.

A template is JSON (see ``schemas/form-template.schema.json``). Ordinal fields with a
justification store two form values: ``<key>`` (the rating) and ``<key>_justification``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from cmo_desk.domain.errors import ValidationError
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.resources import schema_path

FIELD_TYPES = ("text", "long_text", "number", "bool", "choice", "multi_choice", "list", "ordinal")
_KEY = re.compile(r"^[a-z0-9_]+$")
_TEMPLATE_KEYS = {"id", "title", "title_zh_CN", "version", "description", "sections"}
_SECTION_KEYS = {"key", "title", "title_zh_CN", "fields"}
_FIELD_KEYS = {"key", "label", "label_zh_CN", "type", "options", "other_allowed", "help",
               "justification", "in_table"}
DEFAULT_TEMPLATE_FILE = "peer-involvement-review.json"


def validate_template(data: Any, source: str = "The template") -> dict[str, Any]:
    """Return the template if it is well formed, else raise ValidationError naming the problem."""

    def fail(where: str, problem: str) -> None:
        raise ValidationError(f"{source} is not a valid form template: {where} {problem}. "
                              "Fix it (see schemas/form-template.schema.json) and try again.")

    if not isinstance(data, dict):
        fail("the top level", "must be a JSON object")
    for key in ("id", "title", "sections"):
        if key not in data:
            fail("the top level", f"has no '{key}'")
    unknown = set(data) - _TEMPLATE_KEYS
    if unknown:
        fail("the top level", f"has unknown keys {sorted(unknown)}")
    if not isinstance(data["title"], str) or not data["title"].strip():
        fail("'title'", "must be a non-empty text")
    sections = data["sections"]
    if not isinstance(sections, list) or not sections:
        fail("'sections'", "must be a non-empty list")
    seen_fields: set[str] = set()
    seen_sections: set[str] = set()
    for i, section in enumerate(sections, 1):
        where = f"section {i}"
        if not isinstance(section, dict):
            fail(where, "must be an object")
        for key in ("key", "title", "fields"):
            if key not in section:
                fail(where, f"has no '{key}'")
        where = f"section '{section['key']}'"
        if not isinstance(section["key"], str) or not _KEY.match(section["key"]):
            fail(where, "has a key that is not lowercase letters, digits and _")
        if section["key"] in seen_sections:
            fail(where, "appears twice")
        seen_sections.add(section["key"])
        unknown = set(section) - _SECTION_KEYS
        if unknown:
            fail(where, f"has unknown keys {sorted(unknown)}")
        if not isinstance(section["fields"], list) or not section["fields"]:
            fail(where, "must have a non-empty list of fields")
        for j, field in enumerate(section["fields"], 1):
            fwhere = f"field {j} of {where}"
            if not isinstance(field, dict):
                fail(fwhere, "must be an object")
            for key in ("key", "label", "type"):
                if key not in field:
                    fail(fwhere, f"has no '{key}'")
            fwhere = f"field '{field['key']}'"
            if not isinstance(field["key"], str) or not _KEY.match(field["key"]):
                fail(fwhere, "has a key that is not lowercase letters, digits and _")
            if field["key"] in seen_fields:
                fail(fwhere, "appears twice (field keys must be unique)")
            seen_fields.add(field["key"])
            unknown = set(field) - _FIELD_KEYS
            if unknown:
                fail(fwhere, f"has unknown keys {sorted(unknown)}")
            if field["type"] not in FIELD_TYPES:
                fail(fwhere, f"has type '{field['type']}', which is not one of {list(FIELD_TYPES)}")
            if field["type"] in ("choice", "multi_choice", "ordinal"):
                opts = field.get("options")
                if not isinstance(opts, list) or not opts or not all(
                        isinstance(o, str) for o in opts):
                    fail(fwhere, "needs a non-empty list of text 'options'")
    return data


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
