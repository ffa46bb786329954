"""Translations for every user-visible string, in the desk, the CLI and the Word exports.

Strings are written in English in the code and wrapped in ``tr()`` (or ``trn()`` when a count decides the
form). Each language's gettext catalogue, ``resources/i18n/<lang>/cmo_desk.po`` compiled to ``cmo_desk.mo``,
maps them to that language and is read with the standard ``gettext`` module. Area files
``resources/i18n/<lang>/<area>.json`` (English text to translation) are read as well, for strings not yet
folded into the catalogue (``python -m cmo_desk.domain.catalogues fold FILE.json`` folds one).
Qt-free, so exporters and the CLI translate the same way as the desk. Tests check that every ``tr("...")``
literal has an entry in every language.
"""

from __future__ import annotations

import gettext
import json
import locale
import os
import re
import unicodedata
from collections.abc import Mapping
from functools import cache

from cmo_desk.domain.resources import resource_path

DOMAIN = "cmo_desk"

# Shown in the language picker in each language's own name.
LANGUAGES: dict[str, str] = {
    "en": "English",
    "zh_CN": "简体中文",
    "es": "Español",
    "fr": "Français",
    "pt_BR": "Português (Brasil)",
    "ru": "Русский",
}
# Languages whose text needs a CJK font to show as anything but boxes.
CJK_LANGUAGES = frozenset({"zh_CN"})

_current = "en"


def normalise_language(lang: str | None) -> str:
    """The shipped language closest to a locale name such as ``ru_RU.UTF-8``, ``pt-PT`` or ``zh_TW``."""
    if not lang:
        return "en"
    lang = lang.replace("-", "_").split(".")[0].split("@")[0]
    if lang in LANGUAGES:
        return lang
    low = lang.lower()
    if low.startswith("zh"):
        return "zh_CN"
    if low.startswith("pt"):
        return "pt_BR"  # the one Portuguese catalogue; better than English for pt_PT, pt_AO, pt_MZ
    base = low.split("_")[0]
    for code in LANGUAGES:
        if code.lower() == base:
            return code
    return "en"


def system_language(env: Mapping[str, str] | None = None, names: tuple[str, ...] = ()) -> str:
    """The language of this computer: the first of ``names`` (e.g. Qt's ``QLocale.uiLanguages()``) that
    CMO Desk speaks, else the locale variables, else the C library's locale; English when none fits."""
    env = os.environ if env is None else env
    candidates = list(names)
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var)
        if value:
            candidates += value.split(":") if var == "LANGUAGE" else [value]
    if not env:
        try:
            candidates.append(locale.getlocale()[0] or "")
        except ValueError:
            pass
    for name in candidates:
        if name and name not in ("C", "POSIX") and not name.startswith("C."):
            found = normalise_language(name)
            if found != "en" or name.lower().startswith("en"):
                return found
    return "en"


@cache
def _translations(lang: str) -> gettext.NullTranslations:
    path = resource_path("i18n", lang, f"{DOMAIN}.mo")
    if lang != "en" and path.is_file():
        try:
            with open(path, "rb") as fh:
                return gettext.GNUTranslations(fh)
        except (OSError, ValueError):
            pass
    return gettext.NullTranslations()


@cache
def area_files(lang: str) -> dict[str, dict[str, str]]:
    """Strings from ``resources/i18n/<lang>/*.json`` area files, by file name."""
    areas: dict[str, dict[str, str]] = {}
    folder = resource_path("i18n", lang)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            areas[path.name] = {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str) and v}
    return areas


@cache
def catalogue(lang: str) -> dict[str, str]:
    """Every singular string ``lang`` translates: the compiled catalogue, then area files for the rest."""
    if lang == "en":
        return {}
    merged: dict[str, str] = {}
    raw = getattr(_translations(lang), "_catalog", {})
    merged.update({k: v for k, v in raw.items() if isinstance(k, str) and k and v})
    for strings in area_files(lang).values():
        for k, v in strings.items():
            merged.setdefault(k, v)
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


def trn(singular: str, plural: str, n: int, lang: str | None = None) -> str:
    """The form of a counted message that fits ``n`` in ``lang`` (Russian has three, Chinese one).

    Returns the template; the caller fills it, e.g. ``trn("{n} page found", "{n} pages found", n).format(n=n)``."""
    return _translations(normalise_language(lang) if lang else _current).ngettext(singular, plural, n)


# A paragraph's direction is that of its first strong character, as in the Unicode bidi algorithm
# (rule P2): Hebrew, Arabic, Syriac, Thaana and N'Ko letters make it right-to-left.
_STRONG = (
    "[A-Za-z\u00c0-\u024f\u0370-\u052f\u3040-\u9fff\uac00-\ud7af"
    "\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]"
)
_RTL = "[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]"


@cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    # compiled when first needed: compiling the wide ranges costs every start several milliseconds
    return re.compile(_STRONG), re.compile(_RTL)


def is_rtl(text: str) -> bool:
    """Whether a paragraph of ``text`` reads right-to-left."""
    strong, rtl = _patterns()
    first = strong.search(text)
    return bool(first and rtl.match(first.group()))


def mostly_rtl(text: str, paragraphs: int = 200) -> bool:
    """Whether most of the first ``paragraphs`` non-empty paragraphs of ``text`` read right-to-left."""
    strong = _patterns()[0]
    seen = rtl = 0
    for line in text.split("\n"):
        if not strong.search(line):
            continue
        seen += 1
        rtl += is_rtl(line)
        if seen >= paragraphs:
            break
    return seen > 0 and rtl * 2 > seen


def char_columns(ch: str) -> int:
    """How many columns of a terminal (or of fixed-width text) a character takes: two for Chinese,
    Japanese and Korean characters and for wide emoji, none for a combining mark, else one."""
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 2
    return 0 if unicodedata.combining(ch) else 1


def text_columns(text: str) -> int:
    return sum(char_columns(ch) for ch in text)


def fit_columns(text: str, width: int, align: str = "<") -> str:
    """``text`` padded with spaces (``align`` ``<`` left, ``>`` right) to fill ``width`` terminal columns,
    shortened with an ellipsis when it would take more."""
    if text_columns(text) > width:
        kept, used = [], 0
        for ch in text:
            if used + char_columns(ch) > width - 1:
                break
            kept.append(ch)
            used += char_columns(ch)
        text = "".join(kept) + "\u2026"
    pad = " " * (width - text_columns(text))
    return pad + text if align == ">" else text + pad


def argparse_words(text: str) -> str:
    """argparse's own messages and headings in the chosen language (Python ships no translation
    of them); argparse fills their %-placeholders after this."""
    known = {
        "the following arguments are required: %s": tr("the following arguments are required: %s"),
        "unrecognized arguments: %s": tr("unrecognized arguments: %s"),
        "argument %(argument_name)s: %(message)s": tr("argument %(argument_name)s: %(message)s"),
        "invalid choice: %(value)r (choose from %(choices)s)":
            tr("invalid choice: %(value)r (choose from %(choices)s)"),
        "invalid %(type)s value: %(value)r": tr("invalid %(type)s value: %(value)r"),
        "expected one argument": tr("expected one argument"),
        "one of the arguments %s is required": tr("one of the arguments %s is required"),
        "ambiguous option: %(option)s could match %(matches)s":
            tr("ambiguous option: %(option)s could match %(matches)s"),
        "usage: ": tr("usage: "),
        "positional arguments": tr("positional arguments"),
        "options": tr("options"),
        "show this help message and exit": tr("show this help message and exit"),
    }
    return known.get(text, text)


def translate_argparse() -> None:
    """Have argparse say its messages and headings through ``argparse_words`` (it looks them up
    each time it uses them, so the language chosen later still applies)."""
    import argparse

    argparse._ = argparse_words  # type: ignore[attr-defined]
