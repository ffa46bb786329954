"""Where a REFI-QDA selection starts and ends.

The standard says positions count characters but not which: NVivo (and other .NET and Java
programs) count UTF-16 code units, CMO Desk and QualCoder count code points. The two readings
differ only after a character outside the Basic Multilingual Plane (most emoji, rare CJK), so
they are told apart on the selections they put in different places: the reading whose
selections agree with their names (programs name a selection by its first words) and start and
end on word boundaries wins.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]")
_ELLIPSIS = ("\u2026", "...")


class Utf16Offsets:
    """Converts UTF-16 code-unit offsets of ``text`` to code-point offsets."""

    def __init__(self, text: str) -> None:
        # UTF-16 offset of each astral character (it occupies that unit and the next).
        self.astral = [m.start() + k for k, m in enumerate(_ASTRAL_RE.finditer(text))]

    def to_code_points(self, unit: int) -> int | None:
        """None when the offset falls between the two halves of a surrogate pair."""
        k = bisect.bisect_left(self.astral, unit)
        if k and self.astral[k - 1] == unit - 1:
            return None
        return unit - k


def _on_boundary(text: str, pos: int) -> bool:
    if pos <= 0 or pos >= len(text):
        return True
    return not (text[pos - 1].isalnum() and text[pos].isalnum())


def _name_fits(name: str | None, quote: str) -> bool | None:
    """Whether a selection's name agrees with its text; None when the name says nothing."""
    label = " ".join((name or "").split())
    for tail in _ELLIPSIS:
        label = label.removesuffix(tail).rstrip()
    if len(label) < 3:
        return None
    quote = " ".join(quote.split())
    return quote.startswith(label) or label.startswith(quote)


def _fit(text: str, start: int | None, end: int | None, name: str | None) -> int:
    """How well a reading of a selection fits the text: 0 (out of range or mid-character) to 3."""
    if start is None or end is None or not 0 <= start <= end <= len(text):
        return 0
    named = _name_fits(name, text[start:end])
    if named is False:
        return 0
    score = 1 + (_on_boundary(text, start) and _on_boundary(text, end))
    return score + (named is True)


@dataclass(frozen=True)
class OffsetReading:
    utf16: bool
    #: Selections the two readings place differently, and how many of them fit the chosen one.
    differing: int = 0
    fitting: int = 0


def choose_offset_unit(text: str, selections: list[tuple[int, int, str | None]], trust_code_points: bool
                       ) -> tuple[OffsetReading, Utf16Offsets | None]:
    """Whether the selections in ``text`` count code points or UTF-16 code units (then with the
    converter): the reading that fits their names and word boundaries better."""
    if trust_code_points or not _ASTRAL_RE.search(text):
        return OffsetReading(utf16=False), None
    conv = Utf16Offsets(text)
    cp_score = u16_score = differing = cp_fit = u16_fit = 0
    for start, end, name in selections:
        u_start, u_end = conv.to_code_points(start), conv.to_code_points(end)
        if (u_start, u_end) == (start, end):
            continue
        differing += 1
        a, b = _fit(text, start, end, name), _fit(text, u_start, u_end, name)
        cp_score += a
        u16_score += b
        cp_fit += a >= 2
        u16_fit += b >= 2
    if u16_score > cp_score:
        return OffsetReading(True, differing, u16_fit), conv
    return OffsetReading(False, differing, cp_fit if cp_score > u16_score else 0), None

