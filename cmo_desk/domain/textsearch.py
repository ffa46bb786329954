"""Text preparation for full-text search that also finds Chinese, Japanese and Korean words.

SQLite's unicode61 tokenizer splits on spaces and punctuation, which CJK text does not use. Each
CJK character is therefore indexed as its own token, and a query's CJK runs become phrases of
single characters, so "同伴" finds "同伴教育" and Hangul words are found inside longer runs.

Other words match as word beginnings ("Malawi" finds "Malawians"); a word in double quotes
matches whole. Arabic is folded the same way in the index and in queries, so that a word is found
as a reader sees it: vowel marks (tashkeel) and tatweel removed, every alef (أ إ آ ٱ) as ا, and
"لا" written "ال" — PDF extraction often gives the lam-alef ligature alef first ("المشكالت" for
"المشكلات"), so both orders are indexed as one.
"""

from __future__ import annotations

import re

_CJK = (
    "\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f"
)
_CJK_CHAR = re.compile(f"([{_CJK}])")
_CJK_SPACED = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")
_TOKEN = re.compile(r'"[^"]*"|\S+')
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed\u0640]")
_ALEFS = str.maketrans({"\u0623": "\u0627", "\u0625": "\u0627", "\u0622": "\u0627", "\u0671": "\u0627"})
_ARABIC = re.compile("[\u0600-\u06ff]")
_LAM_ALEF = "\u0644\u0627"
_ALEF_LAM = "\u0627\u0644"


def fold_arabic(text: str) -> str:
    """Arabic as the search index holds it (same length or shorter; other scripts untouched)."""
    if not _ARABIC.search(text):  # (a scan in C: every imported page passes here)
        return text
    text = _ARABIC_MARKS.sub("", text).translate(_ALEFS)
    return text.replace(_LAM_ALEF, _ALEF_LAM)


def index_text(text: str) -> str:
    """The text as stored in the index: CJK characters separated by spaces, Arabic folded."""
    return _CJK_CHAR.sub(r" \1 ", fold_arabic(text))


def unspace(snippet: str) -> str:
    """Undo ``index_text`` spacing for display (snippet markers [ ] may sit between characters)."""
    cjk_or_mark = f"[{_CJK}\\[\\]]"
    joined = re.sub(f"(?<={cjk_or_mark}) +(?={cjk_or_mark})", "", snippet)
    return re.sub(r"  +", " ", joined).strip()


def fts_query(query: str) -> str:
    """A user's words as an FTS5 query: every word must occur, as the beginning of a word unless
    quoted; CJK runs match as phrases."""
    parts = []
    for token in _TOKEN.findall(query):
        exact = len(token) > 1 and token.startswith('"') and token.endswith('"')
        token = token.strip('"').replace('"', "")
        words = index_text(token).split()
        words = [w for w in (re.sub(r"[^\w]", " ", w).strip() for w in words) if w]
        if not words:
            continue
        phrase = " ".join(w for chunk in words for w in chunk.split())
        # A word's beginning matches longer words; CJK characters are whole tokens already.
        prefix = not exact and not _CJK_CHAR.search(phrase.split()[-1])
        parts.append('"' + phrase + '"' + (" *" if prefix else ""))
    return " AND ".join(parts)
