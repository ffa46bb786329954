"""Finding an excerpt again in a text that was extracted or recognised anew.

An excerpt keeps its quote and a little text on either side, so when a document's text is
replaced (recognised again, re-extracted) the passage can be found by what it says rather than
by offsets that no longer mean anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: How many characters on either side of its quote an excerpt keeps (``before`` and ``after``).
CONTEXT_CHARS = 40
#: How many of the surrounding characters are compared to choose between repeated quotes.
CONTEXT_COMPARED = 40


def context_around(text: str, start: int, end: int) -> tuple[str, str]:
    """The text an excerpt keeps on either side of ``text[start:end]``: up to ``CONTEXT_CHARS``
    characters before and after, fewer at the ends of the text."""
    return text[max(0, start - CONTEXT_CHARS):start], text[end:end + CONTEXT_CHARS]


@dataclass(frozen=True)
class Anchor:
    start: int
    end: int
    #: True when the quote was found letter for letter; False when only its words were (spacing
    #: or line breaks differ).
    exact: bool


def _common_suffix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(reversed(a), reversed(b)):
        if x != y:
            break
        n += 1
    return n


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _words_pattern(quote: str) -> re.Pattern[str] | None:
    words = quote.split()
    if not words:
        return None
    return re.compile(r"\s+".join(re.escape(w) for w in words))


def find_anchor(
    text: str,
    quote: str,
    before: str = "",
    after: str = "",
    old_start: int | None = None,
    old_length: int | None = None,
) -> Anchor | None:
    """Where ``quote`` stands in ``text``: letter for letter if it can, else word for word with any
    spacing. Among several places, the one whose surroundings best match ``before``/``after``
    wins, then the one nearest the old position (scaled to the new text's length)."""
    if not quote or not quote.strip():
        return None
    candidates: list[tuple[int, int, bool]] = []
    index = text.find(quote)
    while index != -1:
        candidates.append((index, index + len(quote), True))
        index = text.find(quote, index + 1)
    if not candidates:
        pattern = _words_pattern(quote)
        if pattern is None:
            return None
        candidates = [(m.start(), m.end(), False) for m in pattern.finditer(text)]
    if not candidates:
        return None
    before_n = " ".join(before.split())[-CONTEXT_COMPARED:]
    after_n = " ".join(after.split())[:CONTEXT_COMPARED]
    expected = None
    if old_start is not None and old_length:
        expected = old_start * len(text) / max(old_length, 1)

    def score(c: tuple[int, int, bool]) -> tuple[int, float]:
        start, end, _ = c
        left = " ".join(text[max(0, start - 2 * CONTEXT_COMPARED):start].split())
        right = " ".join(text[end:end + 2 * CONTEXT_COMPARED].split())
        context = _common_suffix(left, before_n) + _common_prefix(right, after_n)
        distance = abs(start - expected) if expected is not None else 0.0
        return (context, -distance)

    start, end, exact = max(candidates, key=score)
    return Anchor(start, end, exact)
