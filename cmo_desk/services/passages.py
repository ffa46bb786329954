"""When a newly selected passage is one the coder has already marked.

A selection made by hand rarely lands on exactly the same characters twice; applying a code to
it must not leave two near-identical excerpts (say 438–521 and 438–522) that both count in
retrieval and agreement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cmo_desk.domain import records as rec


def same_passage(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    """Both ends within a few characters (3, or 5 % of the longer span)."""
    tolerance = max(3, max(a_end - a_start, b_end - b_start) // 20)
    return abs(a_start - b_start) <= tolerance and abs(a_end - b_end) <= tolerance


@dataclass(frozen=True)
class Holder:
    excerpt: rec.Excerpt
    #: True when the selection is (nearly) the excerpt itself, False when it lies inside it
    same: bool


def holder_of(excerpts: Iterable[rec.Excerpt], document_id: str, start: int, end: int,
              owner_id: str | None) -> Holder | None:
    """The coder's own excerpt that is, or contains, the passage ``start``–``end``.

    The same passage wins over a containing one; among containing ones, the shortest.
    """
    same: list[rec.Excerpt] = []
    inside: list[rec.Excerpt] = []
    for ex in excerpts:
        if ex.document_id != document_id or ex.owner_id != owner_id or ex.start is None \
                or ex.end is None:
            continue
        if same_passage(ex.start, ex.end, start, end):
            same.append(ex)
        elif ex.start <= start and end <= ex.end:
            inside.append(ex)
    if same:
        best = min(same, key=lambda e: (abs((e.start or 0) - start) + abs((e.end or 0) - end), e.id))
        return Holder(best, True)
    if inside:
        return Holder(min(inside, key=lambda e: ((e.end or 0) - (e.start or 0), e.id)), False)
    return None
