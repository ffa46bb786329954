"""Translations for every user-visible string, in the desk, the CLI and the Word exports.

Strings are written in English in the code and wrapped in ``tr()``; the JSON files in ``resources/i18n/<lang>/``
(one per area of the program) map them to another language. Qt-free, so exporters and the CLI translate the same way as the desk.
A test checks that every ``tr("...")`` literal in the package has a Simplified Chinese entry.
"""

from __future__ import annotations

import json
import os
from functools import cache

from cmo_desk.domain.resources import resource_path

LANGUAGES: dict[str, str] = {"en": "English", "zh_CN": "简体中文"}

_current = "en"


def normalise_language(lang: str | None) -> str:
    if not lang:
        return "en"
    lang = lang.replace("-", "_")
    if lang in LANGUAGES:
        return lang
    if lang.lower().startswith("zh"):
        return "zh_CN"
    return "en"


@cache
def catalogue(lang: str) -> dict[str, str]:
    if lang == "en":
        return {}
    merged: dict[str, str] = {}
    folder = resource_path("i18n", lang)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            continue
        merged.update({k: v for k, v in data.items() if isinstance(v, str) and v})
    return merged


def set_language(lang: str | None) -> str:
    global _current
    _current = normalise_language(lang or os.environ.get("CMO_DESK_LANG"))
    return _current


def current_language() -> str:
    return _current


def tr(text: str, lang: str | None = None) -> str:
    """Translate ``text`` into ``lang`` (default: the current language). Unknown text is kept."""
    return catalogue(normalise_language(lang) if lang else _current).get(text, text)
