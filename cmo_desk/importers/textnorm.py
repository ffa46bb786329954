"""Small text helpers shared by the importers: cleaning extracted text, DOIs, titles."""

from __future__ import annotations

import re
import unicodedata

#: Typographic ligatures that PDF fonts and some Word documents carry as single code points. Only
#: these are compatibility-decomposed: NFKC over the whole text would fold full-width CJK punctuation
#: and Arabic presentation forms that coders quote verbatim.
_LIGATURES = {chr(cp): unicodedata.normalize("NFKC", chr(cp)) for cp in range(0xFB00, 0xFB07)}
_LIGATURE_RE = re.compile("[" + "".join(_LIGATURES) + "]")

#: C0/C1 control characters except tab and newline, plus the non-characters U+FFFE/U+FFFF, which
#: are illegal in XML and would break the Word and QDPX exports.
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")
_TRAILING_SPACE_RE = re.compile(r"[ \t\u00a0]+\n")
#: ``(?<!\w)`` makes each word a single attempt: without it a run of letters with no hyphen
#: (40,000 in a row, or Chinese without punctuation) is retried from every letter, in quadratic time.
_LINE_END_HYPHEN_RE = re.compile(r"(?<!\w)(\w+)-\n(\w+)")
_HYPHENATED_RE = re.compile(r"(?<!\w)\w+-\w+")
_WORD_RE = re.compile(r"\w")
_WORD_OR_HYPHEN_RUN_RE = re.compile(r"[\w-]*")
_SOFT_HYPHEN_BREAK_RE = re.compile("\u00ad[ \t]*\n[ \t]*")

DOI_RE = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>{}]+)", re.IGNORECASE)
_DOI_PREFIX_RE = re.compile(
    r"^\s*(?:doi\s*:\s*|https?://(?:dx\.)?doi\.org/|doi\.org/)+", re.IGNORECASE
)
_SHORT_DOI_RE = re.compile(r"^10/[a-z0-9]+$", re.IGNORECASE)
#: What an ASCII title's key drops: all but letters and digits (the ASCII of categories L and N).
_NOT_ASCII_ALNUM_RE = re.compile(r"[^a-z0-9]+")


#: The characters of ``_CONTROL_RE`` that are ASCII, as bytes.
_ASCII_CONTROLS = bytes([*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F])


def fix_ligatures(text: str) -> str:
    if text.isascii():  # (a flag of the string, not a scan) no ligature is ASCII
        return text
    return _LIGATURE_RE.sub(lambda m: _LIGATURES[m.group()], text)


def strip_controls(text: str) -> str:
    if text.isascii():  # the same characters removed, by a scan in C
        return text.encode("ascii").translate(None, _ASCII_CONTROLS).decode("ascii")
    return _CONTROL_RE.sub("", text)


def strip_line_end_spaces(text: str) -> str:
    """Spaces, tabs and no-break spaces at the end of a line removed (``_TRAILING_SPACE_RE``
    replaced by a line break), line by line: a regex tried at every space took longer."""
    if " \n" not in text and "\t\n" not in text and "\u00a0\n" not in text:
        return text
    lines = text.split("\n")
    last = lines.pop()  # no line break follows it: kept as it is
    lines = [line.rstrip(" \t\u00a0") for line in lines]
    lines.append(last)
    return "\n".join(lines)


def clean_text(text: str, hyphenated_words: frozenset[str] = frozenset()) -> str:
    """Normalise extracted text without changing what a reader sees as the words.

    Line endings become LF; soft hyphens vanish (joining the word when they sit at a line end);
    a word broken with a hyphen at a line end is rejoined unless the document elsewhere writes it
    with a hyphen (``hyphenated_words``, lower case, e.g. ``"dual-encoder"``).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SOFT_HYPHEN_BREAK_RE.sub("", text).replace("\u00ad", "")
    text = fix_ligatures(text)
    text = strip_controls(text)
    text = strip_line_end_spaces(text)

    def join(match: re.Match[str]) -> str:
        left, right = match.group(1), match.group(2)
        if not (left[-1].isalpha() and right[0].isalpha() and right[0].islower()):
            return match.group(0)
        if f"{left}-{right}".lower() in hyphenated_words:
            return f"{left}-{right}"
        return left + right

    if "-\n" not in text:  # nothing to rejoin (most pages): skip the scan
        return text
    return _LINE_END_HYPHEN_RE.sub(join, text)


def hyphenated_vocabulary(text: str) -> frozenset[str]:
    """Hyphenated words written on one line: evidence that a hyphen at a line break is real.

    Only the runs of word characters and hyphens that hold a hyphen are searched (found from
    each hyphen, in C): a match of ``_HYPHENATED_RE`` lies within one such run, and the search
    of each run finds what the search of the whole text finds there."""
    runs: list[str] = []
    done = 0  # where the last run ended
    hyphen = text.find("-")
    while hyphen != -1:
        start = hyphen
        while start > done and (text[start - 1] == "-" or _WORD_RE.match(text[start - 1])):
            start -= 1
        end = _WORD_OR_HYPHEN_RUN_RE.match(text, hyphen).end()
        runs.append(text[start:end])
        done = end
        hyphen = text.find("-", end)
    if not runs:
        return frozenset()
    return frozenset(m.group(0).lower() for m in _HYPHENATED_RE.finditer("\n".join(runs)))


def normalise_doi(value: str | None) -> str | None:
    """Lower-case DOI without resolver prefix; shortDOIs (``10/abc``) are kept as they are."""
    if not value:
        return None
    doi = _DOI_PREFIX_RE.sub("", str(value).strip())
    doi = doi.strip().rstrip(".,;)]").strip()
    if not doi:
        return None
    if not doi.startswith("10.") and not _SHORT_DOI_RE.match(doi):
        match = DOI_RE.search(doi)
        if not match:
            return None
        doi = match.group(1).rstrip(".,;)]")
    return doi.lower()


def find_doi(text: str) -> str | None:
    """The first DOI written in a piece of text."""
    match = DOI_RE.search(text)
    if not match:
        return None
    doi = match.group(1)
    # A DOI printed at a line end may carry the sentence's punctuation or a closing bracket.
    while doi and doi[-1] in ".,;:)]}'\u2019\u201d":
        if doi[-1] == ")" and doi.count("(") > doi.count(")") - 1 and "(" in doi:
            break
        doi = doi[:-1]
    return normalise_doi(doi)


def normalise_title(title: str | None) -> str:
    """Case-, accent-, punctuation- and space-insensitive key for comparing titles."""
    if not title:
        return ""
    if title.isascii():  # the same key without a Unicode lookup per character
        return _NOT_ASCII_ALNUM_RE.sub("", title.lower())
    decomposed = unicodedata.normalize("NFKD", title.casefold())
    return "".join(
        ch
        for ch in decomposed
        if not unicodedata.combining(ch)
        and unicodedata.category(ch)[0] in ("L", "N")
    )


#: A line that ends inside a sentence (a letter, digit, comma or the like) followed by one that
#: begins in lower case: one paragraph broken by the page layout. ``[^\W\d_]`` is any letter.
_WRAPPED_LINE_RE = re.compile(r"(?<=[^\W_]|[,;)\]’”])[ \t]*\n(?=[^\W\d_])")
_CJK_RE = re.compile("[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff]")
#: The commonest such break, decided without a call per line: after an ASCII letter, digit or
#: closing mark and before an ASCII lower-case letter (neither side can be CJK).
_WRAPPED_ASCII_RE = re.compile(r"(?<=[A-Za-z0-9,;)\]’”])[ \t]*\n(?=[a-z])")
#: Those of them without spaces before the break (the most, once line ends are cleaned), by a
#: pattern that starts with the break itself: the search skips to each break in C.
_WRAPPED_ASCII_TIGHT_RE = re.compile(r"\n(?=[a-z])(?<=[A-Za-z0-9,;)\]’”]\n)")
#: The two sides of ``_WRAPPED_LINE_RE``, tested one character at a time.
_WRAP_BEFORE_RE = re.compile(r"[^\W_]|[,;)\]’”]")
_WRAP_AFTER_RE = re.compile(r"[^\W\d_]")
#: "R E S EAR CH", "R EVI EW": a heading set in spaced capitals, at the start of a line.
_LETTER_SPACED_RE = re.compile(r"(?m)^((?:[A-Z]{1,3} ){2,}[A-Z]{1,3})(?= [^\s]|$)")


def reflow(text: str) -> str:
    """Join the lines of a paragraph that the layout broke ("control over their\\nstaff" becomes
    "control over their staff"); lines that end a sentence, and lines of Chinese, Japanese or
    Korean, keep their breaks. Never adds or removes anything but the break itself."""

    # ``_WRAPPED_LINE_RE`` applied at each line break in turn (a scan of the whole text with its
    # look-behind took a fifth of a PDF's reading); the common ASCII case goes first, in C.
    text = _WRAPPED_ASCII_TIGHT_RE.sub(" ", text)
    if " \n" in text or "\t\n" in text:
        text = _WRAPPED_ASCII_RE.sub(" ", text)
    parts: list[str] = []
    kept = 0
    end = text.find("\n")
    while end != -1:
        start = end  # the break with the spaces and tabs before it
        while start > 0 and text[start - 1] in " \t":
            start -= 1
        before, after = text[start - 1 : start], text[end + 1 : end + 2]
        if (before and _WRAP_BEFORE_RE.match(before) and after and _WRAP_AFTER_RE.match(after)
                and after.islower() and not _CJK_RE.match(before) and not _CJK_RE.match(after)):
            parts.append(text[kept:start])
            parts.append(" ")
            kept = end + 1
        end = text.find("\n", end + 1)
    parts.append(text[kept:])
    return "".join(parts)


#: Words publishers set in spaced capitals; only these are closed up, so that "WHO U N AIDS" or
#: initials stay as written.
_SPACED_HEADINGS = frozenset(
    "research review article original abstract introduction background methods results discussion "
    "conclusion conclusions references open access case report commentary editorial letter protocol "
    "study systematic brief short communication perspective debate methodology".split()
)


def join_letter_spacing(text: str) -> str:
    """Close up headings set in spaced capitals ("R E S EAR CH" becomes "RESEARCH")."""

    def close(match: re.Match[str]) -> str:
        tokens = match.group(1).split(" ")
        words: list[str] = []
        i = 0
        while i < len(tokens):
            for end in range(len(tokens), i + 1, -1):
                word = "".join(tokens[i:end])
                if word.casefold() in _SPACED_HEADINGS:
                    words.append(word)
                    i = end
                    break
            else:
                words.append(tokens[i])
                i += 1
        return " ".join(words)

    return _LETTER_SPACED_RE.sub(close, text)
