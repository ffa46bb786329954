"""Where a REFI-QDA selection starts and ends.

What the unit is, from the evidence:

- The standard (REFI-QDA 1.5, 25-09-2019, section 10.2 "Text selections"): "Selections in a text
  file are defined by the first and the last character (Unicode codepoint) in the file. The first
  codepoint in the file has the number 0 (zero)." Section 9.1.2: plain text is UTF-8. The schema
  (Project-mrt2019.xsd) only says ``xsd:integer``. So CMO Desk writes code points, of a text with
  LF line ends and no byte order mark, which every reading below agrees on.
- NVivo counts otherwise. A real export of NVivo 12.6 for Windows (a public project with two
  Hungarian sources: a UTF-8 BOM, CRLF line ends, about 890 emoji each, 303 selections, all
  unnamed) puts 300 of its 303 selections on word boundaries, 281 of them on whole lines, when
  read as UTF-16 code units with CRLF as two units and the BOM not counted; read as code points
  only 49 are on word boundaries (as code points of the text with LF line ends: 23; with the BOM
  counted: 213, and 16 inside a surrogate pair).
- ATLAS.ti and MAXQDA count a CRLF line end as one character: QualCoder's importer turns off its
  CRLF correction for files whose origin is ATLAS.ti ("Atlas stored correct positions ... as
  though it is \\n"), and its exporter offers to write CRLF for MAXQDA without changing any
  position. QualCoder itself reads the text with Python's universal newlines (LF) and counts code
  points.

So a file from another program is read in whichever of code points or UTF-16 code units, with a
CRLF as one or two, puts its selections best: on the words their names begin with, and on word
boundaries. The readings differ only after a character outside the Basic Multilingual Plane or a
CRLF; when they place no selection differently the standard's reading is used. The text kept has
LF line ends (as every other CMO Desk document), the positions are code points of it. CMO Desk's
own files are read as written: code points of the text exactly as it is in the file.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]")
_WIDE_RE = re.compile("\r\n|[\U00010000-\U0010ffff]")
_ELLIPSIS = ("\u2026", "...")


def lf_line_ends(text: str) -> str:
    """``text`` with CRLF and CR line ends as LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


@dataclass(frozen=True)
class Reading:
    """One way a program counts positions: UTF-16 code units or code points, and a CRLF line end
    as two units or one."""

    utf16: bool
    crlf_as_two: bool


#: The standard's reading first: it is used when the others fit no better.
READINGS = (Reading(False, True), Reading(False, False), Reading(True, True), Reading(True, False))


class PositionMap:
    """Turns positions counted in a ``Reading`` of a file's text into code-point positions of the
    text with LF line ends."""

    def __init__(self, raw: str, reading: Reading) -> None:
        # Position (in the reading's units) of each character of the LF text that takes two units.
        self.wide: list[int] = []
        shrink = 0  # CRLFs so far: the LF text is that much shorter than the raw one
        for m in _WIDE_RE.finditer(raw):
            at = m.start() - shrink
            if m.group() == "\r\n":
                shrink += 1
                if reading.crlf_as_two:
                    self.wide.append(at + len(self.wide))
            elif reading.utf16:
                self.wide.append(at + len(self.wide))

    def to_code_points(self, unit: int) -> int | None:
        """None when the position falls inside a character (a surrogate pair, a CRLF)."""
        k = bisect.bisect_left(self.wide, unit)
        if k and self.wide[k - 1] == unit - 1:
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
    reading: Reading
    #: Selections the readings place differently, and how many of them fit the chosen one.
    differing: int = 0
    fitting: int = 0


Span = tuple[int | None, int | None]


def choose_offset_unit(raw: str, selections: list[tuple[int, int, str | None]], trust_code_points: bool
                       ) -> tuple[str, list[Span], OffsetReading]:
    """The text to keep and each selection's code-point positions in it, read in the way that fits
    the selections best (``trust_code_points``: as written, for CMO Desk's own files).

    A position that falls inside a character is None; one outside the text is left as it is, for
    the caller to refuse."""
    standard = OffsetReading(READINGS[0])
    if trust_code_points:
        return raw, [(s, e) for s, e, _ in selections], standard
    text = lf_line_ends(raw)
    has_astral = _ASTRAL_RE.search(raw) is not None
    candidates = [r for r in READINGS if (has_astral or not r.utf16) and ("\r\n" in raw or r.crlf_as_two)]
    placed = []
    for reading in candidates:
        conv = PositionMap(raw, reading)
        placed.append([(conv.to_code_points(s), conv.to_code_points(e)) for s, e, _ in selections])
    differing = [i for i in range(len(selections)) if len({p[i] for p in placed}) > 1]
    if not differing:
        return text, placed[0], standard
    scores = [[_fit(text, *p[i], selections[i][2]) for i in differing] for p in placed]
    totals = [sum(s) for s in scores]
    best = max(range(len(candidates)), key=lambda c: (totals[c], -c))
    tied = any(totals[c] == totals[best] and placed[c] != placed[best] for c in range(len(candidates)) if c != best)
    fitting = 0 if tied else sum(s >= 2 for s in scores[best])
    return text, placed[best], OffsetReading(candidates[best], len(differing), fitting)
