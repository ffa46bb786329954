"""Text preparation for full-text search that also finds Chinese, Japanese and Korean words.

SQLite's unicode61 tokenizer splits on spaces and punctuation, which CJK text does not use. Each
CJK character is therefore indexed as its own token, and a query's CJK runs become phrases of
single characters, so "同伴" finds "同伴教育" and Hangul words are found inside longer runs.
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


def index_text(text: str) -> str:
    """The text as stored in the index: CJK characters separated by spaces."""
    return _CJK_CHAR.sub(r" \1 ", text)


def unspace(snippet: str) -> str:
    """Undo ``index_text`` spacing for display (snippet markers [ ] may sit between characters)."""
    cjk_or_mark = f"[{_CJK}\\[\\]]"
    joined = re.sub(f"(?<={cjk_or_mark}) +(?={cjk_or_mark})", "", snippet)
    return re.sub(r"  +", " ", joined).strip()


def fts_query(query: str) -> str:
    """A user's words as an FTS5 query: every word must occur; CJK runs match as phrases."""
    parts = []
    for token in _TOKEN.findall(query):
        token = token.strip('"').replace('"', "")
        words = index_text(token).split()
        words = [w for w in (re.sub(r"[^\w]", " ", w).strip() for w in words) if w]
        if not words:
            continue
        phrase = " ".join(w for chunk in words for w in chunk.split())
        parts.append('"' + phrase + '"')
    return " AND ".join(parts)
