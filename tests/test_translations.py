"""Every user-visible string has its translation in every shipped language, placeholders and plurals intact."""

from __future__ import annotations

import gettext
import json
import string
import warnings
from pathlib import Path

import pytest

from cmo_desk.domain import catalogues, i18n
from cmo_desk.domain.i18n import catalogue, normalise_language, system_language, tr, trn

PACKAGE = Path(__file__).resolve().parents[1] / "cmo_desk"
NEW_LANGUAGES = ["es", "fr", "pt_BR", "ru"]
TRANSLATED = ["zh_CN", *NEW_LANGUAGES]


def _tr_literals() -> dict[str, str]:
    return {k: v[0] for k, v in catalogues.extract(PACKAGE).items() if isinstance(k, str)}


def _pending_in_areas() -> set[str]:
    """Strings that arrived in a JSON area file and are not in the .po catalogue yet."""
    pending: set[str] = set()
    for lang in i18n.LANGUAGES:
        for strings in i18n.area_files(lang).values():
            pending.update(strings)
    return pending


def _entries(lang: str) -> tuple[str, list[catalogues.Entry]]:
    return catalogues.read_po(catalogues.po_path(lang))


def _fields(text: str) -> list[str]:
    return sorted(f for _, f, _, _ in string.Formatter().parse(text) if f is not None)


def test_every_tr_string_has_chinese() -> None:
    zh = catalogue("zh_CN")
    missing = {s: where for s, where in _tr_literals().items() if s not in zh}
    assert not missing, f"{len(missing)} strings lack zh_CN: " + "; ".join(
        f"{w}: {s!r}" for s, w in list(missing.items())[:15])


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_string_is_translated(lang: str) -> None:
    """Every tr()/trn() string in the code and every catalogue entry has this language's translation."""
    header, entries = _entries(lang)
    done = {e.key for e in entries if e.translated}
    pending = _pending_in_areas()
    wanted = set(catalogues.extract(PACKAGE)) | {e.key for e in _entries("zh_CN")[1]}
    missing = sorted(str(k) for k in wanted - done if k not in pending and not (
        lang == "zh_CN" and isinstance(k, str) and k in catalogue("zh_CN")))
    assert not missing, f"{len(missing)} strings lack {lang}: {missing[:15]}"
    waiting = sorted(k for k in wanted & pending if k not in done)
    if waiting:  # strings from a JSON area file: fold it into the catalogues and translate them
        warnings.warn(f"{len(waiting)} strings wait in resources/i18n/*/*.json for {lang}; run "
                      "'python -m cmo_desk.domain.catalogues fold' and translate them", stacklevel=1)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_placeholders_survive_translation(lang: str) -> None:
    _, entries = _entries(lang)
    for e in entries:
        sources = [e.msgid] if e.msgid_plural is None else [e.msgid_plural]
        expected = _fields(sources[0])
        for target in e.msgstr:
            if not target:
                continue
            try:
                got = _fields(target)
            except ValueError:
                raise AssertionError(f"bad braces in the {lang} of {e.msgid!r}: {target!r}") from None
            if e.msgid_plural is not None and lang != "zh_CN":
                # a singular form may spell the number out ("one change") only where n is 1
                assert set(got) <= set(expected), (lang, e.msgid, target)
            else:
                assert got == expected, (lang, e.msgid, target)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_json_area_strings_agree_with_the_catalogue(lang: str) -> None:
    """A string shared by two area files, or by an area file and the catalogue, reads the same."""
    _, entries = _entries(lang)
    seen = {e.msgid: ("cmo_desk.po", e.msgstr[0]) for e in entries if e.translated and e.msgid_plural is None}
    clashes = []
    for name, strings in i18n.area_files(lang).items():
        for source, target in strings.items():
            if source in seen and seen[source][1] != target:
                clashes.append((source, seen[source], (name, target)))
            seen.setdefault(source, (name, target))
    assert not clashes, clashes


@pytest.mark.parametrize("lang", TRANSLATED)
def test_compiled_catalogue_matches_its_po(lang: str) -> None:
    header, entries = _entries(lang)
    assert catalogues.mo_path(lang).read_bytes() == catalogues.compile_mo(header, entries), (
        f"resources/i18n/{lang}/cmo_desk.mo is stale: run 'python -m cmo_desk.domain.catalogues compile'")
    with open(catalogues.mo_path(lang), "rb") as fh:
        loaded = gettext.GNUTranslations(fh)
    for e in entries:
        if e.translated and e.msgid_plural is None:
            assert loaded.gettext(e.msgid) == e.msgstr[0]
    assert f"Language: {lang}" in header and catalogues.PLURAL_FORMS[lang] in header


def test_template_lists_every_string() -> None:
    _, template = catalogues.read_po(catalogues.i18n_dir() / "cmo_desk.pot")
    listed = {e.key for e in template}
    assert set(catalogues.extract(PACKAGE)) - listed - _pending_in_areas() == set()
    assert not any(e.translated for e in template)


def test_tr_switches_language() -> None:
    assert tr("A code needs a name.", "en") == "A code needs a name."
    for lang in TRANSLATED:
        assert tr("A code needs a name.", lang) not in ("", "A code needs a name."), lang
    assert len({tr("Codebook", lang) for lang in i18n.LANGUAGES}) == len(i18n.LANGUAGES)


@pytest.mark.parametrize(("n", "form"), [(1, 0), (2, 1), (4, 1), (5, 2), (11, 2), (12, 2), (14, 2),
                                         (21, 0), (22, 1), (25, 2), (101, 0), (111, 2), (0, 2)])
def test_russian_has_three_plural_forms(n: int, form: int) -> None:
    _, entries = _entries("ru")
    entry = next(e for e in entries if e.msgid == "{n} page found")
    assert len(set(entry.msgstr)) == 3
    assert trn("{n} page found", "{n} pages found", n, "ru") == entry.msgstr[form]


def test_english_and_other_plurals() -> None:
    assert trn("{n} page found", "{n} pages found", 1, "en").format(n=1) == "1 page found"
    assert trn("{n} page found", "{n} pages found", 0, "en").format(n=0) == "0 pages found"
    one = trn("{n} page found", "{n} pages found", 1, "fr")
    assert one == trn("{n} page found", "{n} pages found", 0, "fr")  # French counts 0 as singular
    assert one != trn("{n} page found", "{n} pages found", 2, "fr")
    assert trn("{n} page found", "{n} pages found", 1, "es") != trn("{n} page found", "{n} pages found", 0, "es")
    assert trn("{n} page found", "{n} pages found", 1, "zh_CN") == trn(
        "{n} page found", "{n} pages found", 7, "zh_CN")
    # a count nobody translated still speaks grammatical English
    assert trn("{n} apple", "{n} apples", 1, "ru") == "{n} apple"


@pytest.mark.parametrize(("given", "expected"), [
    ("ru_RU.UTF-8", "ru"), ("ru-UA", "ru"), ("pt_PT", "pt_BR"), ("pt-BR", "pt_BR"), ("es_AR", "es"),
    ("fr_CI.utf8", "fr"), ("zh_TW", "zh_CN"), ("zh-Hans-CN", "zh_CN"), ("de_DE", "en"), ("", "en"),
    (None, "en"), ("en_GB", "en"), ("sr@latin", "en")])
def test_locale_names_map_to_a_shipped_language(given: str | None, expected: str) -> None:
    assert normalise_language(given) == expected


def test_system_language_comes_from_the_locale() -> None:
    assert system_language({"LANG": "ru_RU.UTF-8"}) == "ru"
    assert system_language({"LANGUAGE": "de:fr", "LANG": "de_DE.UTF-8"}) == "fr"
    assert system_language({"LC_ALL": "C.UTF-8", "LANG": "es_MX.UTF-8"}) == "es"
    assert system_language({"LANG": "de_DE.UTF-8"}) == "en"
    assert system_language({"LANG": "en_US.UTF-8"}, names=("pt-BR", "en-US")) == "pt_BR"


def test_json_area_file_is_read_and_folds_into_the_catalogue(tmp_path: Path, monkeypatch) -> None:
    """An area file from a branch that predates the catalogues is read, and folding moves it in."""
    root = tmp_path / "resources" / "i18n"
    for lang in TRANSLATED:
        (root / lang).mkdir(parents=True)
        for name in ("cmo_desk.po", "cmo_desk.mo"):
            (root / lang / name).write_bytes(catalogues.po_path(lang).parent.joinpath(name).read_bytes())
    area = {"A string only an area file knows": "只有区域文件认识的字符串", "A code needs a name.": "编码需要一个名称。"}
    (root / "zh_CN" / "ocr.json").write_text(json.dumps(area, ensure_ascii=False), encoding="utf-8")

    def fake_resource_path(*parts: str) -> Path:
        return tmp_path.joinpath("resources", *parts)

    monkeypatch.setattr(i18n, "resource_path", fake_resource_path)
    monkeypatch.setattr(catalogues, "resource_path", fake_resource_path)
    for cached in (i18n.catalogue, i18n.area_files, i18n._translations):
        cached.cache_clear()
    try:
        assert tr("A string only an area file knows", "zh_CN") == "只有区域文件认识的字符串"
        assert tr("A string only an area file knows", "ru") == "A string only an area file knows"

        catalogues.fold_json(root / "zh_CN" / "ocr.json")
        assert not (root / "zh_CN" / "ocr.json").exists()
        for cached in (i18n.catalogue, i18n.area_files, i18n._translations):
            cached.cache_clear()
        assert tr("A string only an area file knows", "zh_CN") == "只有区域文件认识的字符串"
        _, ru = catalogues.read_po(root / "ru" / "cmo_desk.po")
        waiting = next(e for e in ru if e.msgid == "A string only an area file knows")
        assert not waiting.translated and len(waiting.msgstr) == 1
        _, zh = catalogues.read_po(root / "zh_CN" / "cmo_desk.po")
        assert sum(e.msgid == "A code needs a name." for e in zh) == 1
        header, entries = catalogues.read_po(root / "zh_CN" / "cmo_desk.po")
        assert (root / "zh_CN" / "cmo_desk.mo").read_bytes() == catalogues.compile_mo(header, entries)
    finally:
        for cached in (i18n.catalogue, i18n.area_files, i18n._translations):
            cached.cache_clear()


def test_po_round_trip_keeps_awkward_text() -> None:
    entries = [catalogues.Entry('Say "hi"\\n\tthen\nleave', ["说“hi”\\n\t然后\n离开"]),
               catalogues.Entry("{n} file", ["{n} файл", "{n} файла", "{n} файлов"], "{n} files"),
               catalogues.Entry("trailing newline\n", ["结尾换行\n"]), catalogues.Entry("😀 emoji", [""])]
    text = catalogues.format_po(catalogues.make_header("ru"), entries)
    header, back = catalogues.parse_po(text)
    assert [(e.msgid, e.msgid_plural, e.msgstr) for e in back] == [
        (e.msgid, e.msgid_plural, e.msgstr) for e in entries]
    assert catalogues.nplurals(header) == 3
    with pytest.raises(ValueError, match=":3"):
        catalogues.parse_po('msgid ""\nmsgstr ""\nmsgid unquoted\nmsgstr ""\n')


@pytest.mark.parametrize("lang", TRANSLATED)
def test_study_form_template_reads_in_every_language(lang: str) -> None:
    """The shipped study form's section titles, field labels and choices are in every catalogue."""
    from cmo_desk.domain.resources import schema_path
    from cmo_desk.domain.templates import field_label

    template = json.loads(schema_path("peer-involvement-review.json").read_text(encoding="utf-8"))
    wanted = []
    for section in template["sections"]:
        wanted.append(section["title"])
        for f in section.get("fields", []):
            wanted.append(f["label"])
            expected = f["label_zh_CN"] if lang == "zh_CN" and f.get("label_zh_CN") else tr(f["label"], lang)
            assert field_label(f, lang) == expected
            wanted += [o for o in f.get("options") or [] if isinstance(o, str)]
    missing = sorted({w for w in wanted if w not in catalogue(lang)})
    assert not missing, missing
