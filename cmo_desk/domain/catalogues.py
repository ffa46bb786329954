"""The translation catalogues: gettext ``.po`` files translators edit, compiled ``.mo`` files the program reads.

Each language has ``resources/i18n/<lang>/cmo_desk.po`` and its compiled ``cmo_desk.mo`` (both committed, so a
source checkout, an editable install and a wheel all work with no build step; a test checks the ``.mo`` matches
its ``.po``). ``resources/i18n/cmo_desk.pot`` is the template a new language starts from.

Maintenance, from a source checkout::

    python -m cmo_desk.domain.catalogues update          # add new tr()/trn() strings to every .po, recompile
    python -m cmo_desk.domain.catalogues fold FILE.json  # move an area file's translations into its .po
    python -m cmo_desk.domain.catalogues compile         # recompile every .mo from its .po

Pure standard library (``ast`` for extraction, the GNU ``.mo`` layout for compiling), so no tool is needed at run
time or to build.
"""

from __future__ import annotations

import ast
import json
import re
import struct
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cmo_desk.domain.resources import resource_path

DOMAIN = "cmo_desk"

# gettext plural rules (C expressions, as in every .po header).
PLURAL_FORMS: dict[str, str] = {
    "zh_CN": "nplurals=1; plural=0;",
    "es": "nplurals=2; plural=(n != 1);",
    "fr": "nplurals=2; plural=(n > 1);",
    "pt_BR": "nplurals=2; plural=(n > 1);",
    "ru": ("nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && "
           "(n%100<10 || n%100>=20) ? 1 : 2);"),
}
LANGUAGE_NAMES = {"zh_CN": "Chinese (Simplified)", "es": "Spanish", "fr": "French",
                  "pt_BR": "Portuguese (Brazil)", "ru": "Russian"}


@dataclass
class Entry:
    msgid: str
    msgstr: list[str] = field(default_factory=lambda: [""])
    msgid_plural: str | None = None
    comments: list[str] = field(default_factory=list)  # "#: file" and "#." lines, kept verbatim
    fuzzy: bool = False

    @property
    def key(self) -> str | tuple[str, str]:
        return (self.msgid, self.msgid_plural) if self.msgid_plural is not None else self.msgid

    @property
    def translated(self) -> bool:
        return not self.fuzzy and all(self.msgstr)


# ---------------------------------------------------------------------------------------------- paths

def i18n_dir() -> Path:
    return resource_path("i18n")


def po_path(lang: str) -> Path:
    return i18n_dir() / lang / f"{DOMAIN}.po"


def mo_path(lang: str) -> Path:
    return i18n_dir() / lang / f"{DOMAIN}.mo"


def catalogue_languages() -> list[str]:
    return sorted(p.parent.name for p in i18n_dir().glob(f"*/{DOMAIN}.po"))


# ------------------------------------------------------------------------------------------ .po text

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unquote(text: str, where: str) -> str:
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError(f"{where}: expected a quoted string, found {text!r}")
    out, body, i = [], text[1:-1], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            out.append(_ESCAPES.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _quote(text: str) -> str:
    esc = text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\r", "\\r")
    if "\n" not in text:
        return '"' + esc.replace("\n", "\\n") + '"'
    parts = esc.split("\n")
    lines = [p + "\\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
    return '""\n' + "\n".join(f'"{line}"' for line in lines)


def parse_po(text: str, where: str = "<po>") -> tuple[str, list[Entry]]:
    """Return the header (msgstr of the empty msgid) and the entries, in file order."""
    entries: list[Entry] = []
    header = ""
    comments: list[str] = []
    fuzzy = False
    cur: dict[str, object] | None = None
    last: tuple[str, int] | None = None

    def finish() -> None:
        nonlocal cur, comments, fuzzy, header
        if cur is None:
            return
        msgid = str(cur.get("msgid", ""))
        strs = cur.get("msgstr", {})
        assert isinstance(strs, dict)
        ordered = [strs[i] for i in sorted(strs)] or [""]
        if msgid == "" and cur.get("msgid_plural") is None:
            header = ordered[0]
        else:
            plural = cur.get("msgid_plural")
            entries.append(Entry(msgid, ordered, str(plural) if plural is not None else None,
                                 comments, fuzzy))
        cur, comments, fuzzy = None, [], False

    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        at = f"{where}:{number}"
        if not line:
            continue
        if line.startswith("#~"):
            continue  # obsolete entries are dropped
        if line.startswith("#"):
            if cur is not None and "msgstr" in cur:
                finish()
            if line.startswith("#,"):
                fuzzy = fuzzy or "fuzzy" in line
            else:
                comments.append(line)
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            if cur is None or last is None:
                raise ValueError(f"{at}: continuation line without a keyword")
            value = _unquote(line, at)
            if last[0] == "msgstr":
                strs = cur["msgstr"]
                assert isinstance(strs, dict)
                strs[last[1]] += value
            else:
                cur[last[0]] = str(cur[last[0]]) + value
            continue
        if keyword == "msgid":
            if cur is not None and "msgstr" in cur:
                finish()
            cur = cur or {}
            cur["msgid"] = _unquote(rest, at)
            cur["msgstr"] = cur.get("msgstr", {})
            cur.pop("msgstr")
            last = ("msgid", 0)
        elif keyword == "msgid_plural" and cur is not None:
            cur["msgid_plural"] = _unquote(rest, at)
            last = ("msgid_plural", 0)
        elif keyword == "msgctxt":
            raise ValueError(f"{at}: msgctxt is not used in these catalogues")
        elif keyword.startswith("msgstr") and cur is not None:
            m = re.fullmatch(r"msgstr(?:\[(\d+)\])?", keyword)
            if not m:
                raise ValueError(f"{at}: unknown keyword {keyword!r}")
            index = int(m.group(1) or 0)
            strs = cur.setdefault("msgstr", {})
            assert isinstance(strs, dict)
            strs[index] = _unquote(rest, at)
            last = ("msgstr", index)
        else:
            raise ValueError(f"{at}: cannot read {line[:40]!r}")
    if cur is not None:
        finish()
    return header, entries


def read_po(path: Path) -> tuple[str, list[Entry]]:
    return parse_po(path.read_text(encoding="utf-8"), str(path))


def format_po(header: str, entries: Iterable[Entry]) -> str:
    out = ['msgid ""', "msgstr " + _quote(header), ""]
    for e in entries:
        out.extend(e.comments)
        if e.fuzzy:
            out.append("#, fuzzy")
        out.append("msgid " + _quote(e.msgid))
        if e.msgid_plural is not None:
            out.append("msgid_plural " + _quote(e.msgid_plural))
            for i, s in enumerate(e.msgstr):
                out.append(f"msgstr[{i}] " + _quote(s))
        else:
            out.append("msgstr " + _quote(e.msgstr[0] if e.msgstr else ""))
        out.append("")
    return "\n".join(out)


def write_po(path: Path, header: str, entries: Iterable[Entry]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(format_po(header, entries), encoding="utf-8", newline="\n")


def make_header(lang: str | None) -> str:
    lines = [f"Project-Id-Version: {DOMAIN}", "MIME-Version: 1.0",
             "Content-Type: text/plain; charset=UTF-8", "Content-Transfer-Encoding: 8bit"]
    if lang:
        lines += [f"Language: {lang}", f"Plural-Forms: {PLURAL_FORMS.get(lang, 'nplurals=2; plural=(n != 1);')}"]
    return "\n".join(lines) + "\n"


def nplurals(header: str) -> int:
    m = re.search(r"nplurals\s*=\s*(\d+)", header)
    return int(m.group(1)) if m else 2


# ------------------------------------------------------------------------------------------ .mo bytes

def compile_mo(header: str, entries: Iterable[Entry]) -> bytes:
    """GNU .mo bytes for the translated, non-fuzzy entries (sorted, so the output is reproducible)."""
    pairs: dict[bytes, bytes] = {b"": header.encode("utf-8")}
    for e in entries:
        if not e.translated:
            continue
        if e.msgid_plural is not None:
            key = (e.msgid + "\0" + e.msgid_plural).encode("utf-8")
            pairs[key] = "\0".join(e.msgstr).encode("utf-8")
        else:
            pairs[e.msgid.encode("utf-8")] = e.msgstr[0].encode("utf-8")
    keys = sorted(pairs)
    n = len(keys)
    ids = strs = b""
    offsets: list[tuple[int, int, int, int]] = []
    for k in keys:
        offsets.append((len(ids), len(k), len(strs), len(pairs[k])))
        ids += k + b"\0"
        strs += pairs[k] + b"\0"
    key_start = 7 * 4 + 16 * n
    value_start = key_start + len(ids)
    koffsets: list[int] = []
    voffsets: list[int] = []
    for o1, l1, o2, l2 in offsets:
        koffsets += [l1, o1 + key_start]
        voffsets += [l2, o2 + value_start]
    return (struct.pack("Iiiiiii", 0x950412DE, 0, n, 7 * 4, 7 * 4 + n * 8, 0, 0)
            + struct.pack(f"{len(koffsets)}i", *koffsets) + struct.pack(f"{len(voffsets)}i", *voffsets)
            + ids + strs)


def compile_language(lang: str) -> Path:
    header, entries = read_po(po_path(lang))
    data = compile_mo(header, entries)
    target = mo_path(lang)
    if not target.exists() or target.read_bytes() != data:
        target.write_bytes(data)  # a source file kept in git, written by a maintainer
    return target


# ---------------------------------------------------------------------------------------- extraction

def extract(package: Path | None = None) -> dict[str | tuple[str, str], list[str]]:
    """Every literal ``tr("...")`` and ``trn("...", "...", n)`` in the package, with where it is used."""
    package = package or Path(__file__).resolve().parents[1]
    found: dict[str | tuple[str, str], list[str]] = {}
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package.parent).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args):
                continue
            args = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None
                    for a in node.args[:2]]
            if node.func.id == "tr" and args[0] is not None:
                found.setdefault(args[0], []).append(f"{rel}:{node.lineno}")
            elif node.func.id == "trn" and len(args) == 2 and None not in args:
                found.setdefault((str(args[0]), str(args[1])), []).append(f"{rel}:{node.lineno}")
    return found


def _blank(key: str | tuple[str, str], forms: int, comments: list[str]) -> Entry:
    if isinstance(key, tuple):
        return Entry(key[0], [""] * forms, key[1], comments)
    return Entry(key, [""], None, comments)


def update(extra: Iterable[str] = ()) -> list[str]:
    """Add every extracted string (and ``extra`` ones) missing from a language's .po; rewrite the .pot.

    Nothing is removed: codebook names and study-form options are translated through ``tr(variable)``
    and live in the catalogue without a literal in the code. Returns one line per changed file."""
    found = extract()
    for text in extra:
        found.setdefault(text, [])
    report = []
    pot_entries: dict[str | tuple[str, str], Entry] = {}
    for lang in catalogue_languages():
        header, entries = read_po(po_path(lang))
        have = {e.key for e in entries}
        forms = nplurals(header)
        added = [_blank(k, forms, [f"#: {w}" for w in where[:3]])
                 for k, where in found.items() if k not in have]
        for e in entries + added:
            pot_entries.setdefault(e.key, _blank(e.key, 2, e.comments))
        if added:
            write_po(po_path(lang), header, entries + added)
            report.append(f"{po_path(lang)}: {len(added)} new strings to translate")
        compile_language(lang)
    write_po(i18n_dir() / f"{DOMAIN}.pot", make_header(None), pot_entries.values())
    return report


def fold_json(path: Path) -> str:
    """Move a ``resources/i18n/<lang>/<area>.json`` file's translations into ``<lang>``'s .po.

    Its strings are also added, untranslated, to every other language's .po (so translators see them),
    the .mo files are recompiled and the JSON file is removed. A string the .po already translates
    differently is reported and the .po's translation is kept."""
    lang = path.parent.name
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected an object of English text to translation")
    header, entries = read_po(po_path(lang))
    by_key = {e.key: e for e in entries}
    added = clashes = 0
    for source, target in data.items():
        if not (isinstance(source, str) and isinstance(target, str) and target):
            continue
        e = by_key.get(source)
        if e is None:
            e = Entry(source, [target], None, [f"#. from {path.name}"])
            entries.append(e)
            by_key[source] = e
            added += 1
        elif not e.translated:
            e.msgstr, e.fuzzy = [target], False
            added += 1
        elif e.msgstr[0] != target:
            clashes += 1
            print(f"{path.name}: kept the catalogue's translation of {source!r}", file=sys.stderr)
    write_po(po_path(lang), header, entries)
    compile_language(lang)
    path.unlink()
    update(extra=[s for s in data if isinstance(s, str)])
    return f"{path.name}: {added} strings folded into {po_path(lang).name} ({clashes} kept as they were)"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in ("update", "fold", "compile"):
        print("usage: python -m cmo_desk.domain.catalogues update | compile | fold AREA.json...",
              file=sys.stderr)
        return 2
    if args[0] == "compile":
        for lang in catalogue_languages():
            print(compile_language(lang))
    elif args[0] == "update":
        print("\n".join(update()) or "every catalogue already lists every string")
    else:
        for name in args[1:] or sorted(str(p) for p in i18n_dir().glob("*/*.json")):
            print(fold_json(Path(name)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
