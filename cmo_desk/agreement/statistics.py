"""Agreement statistics: Cohen's kappa, Krippendorff's alpha and NVivo's character overlap.

Undefined statistics are ``None``, never 0 or 1; percent agreement is a percentage (0-100), kappa
and alpha are on their usual -1..1 scale. ``agreement.agreement`` applies them to a project.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from cmo_desk.domain.errors import ValidationError
from cmo_desk.domain.i18n import tr

# --------------------------------------------------------------------------------------------
# Two raters, nominal


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Cohen's kappa for two raters who rated the same units on a nominal scale.

    ``a[i]`` and ``b[i]`` are the two ratings of unit ``i`` (booleans or any hashable category).
    Returns None when kappa is undefined: no units, or chance agreement is already certain because
    both raters used one and the same category throughout (then percent agreement is 100 %).
    """
    if len(a) != len(b):
        raise ValidationError(
            tr("Cannot compare two coders who rated a different number of units ({a} and {b}); give both coders' ratings for the same units.").format(a=len(a), b=len(b))
        )
    n = len(a)
    if n == 0:
        return None
    observed = sum(1 for x, y in zip(a, b) if x == y) / n
    counts_a = Counter(a)
    counts_b = Counter(b)
    expected = sum(counts_a[c] * counts_b.get(c, 0) for c in counts_a) / (n * n)
    if math.isclose(expected, 1.0, rel_tol=0.0, abs_tol=1e-12):
        return None
    return (observed - expected) / (1.0 - expected)


def percent_agreement(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Share of units on which two raters gave the same rating, in percent (None without units)."""
    if len(a) != len(b):
        raise ValidationError(
            tr("Cannot compare two coders who rated a different number of units ({a} and {b}); give both coders' ratings for the same units.").format(a=len(a), b=len(b))
        )
    if not a:
        return None
    return 100.0 * sum(1 for x, y in zip(a, b) if x == y) / len(a)


# --------------------------------------------------------------------------------------------
# Any number of raters, nominal, missing values allowed


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _alpha_from_weighted_units(units: Iterable[tuple[Mapping[Hashable, int], int]]) -> float | None:
    """Krippendorff's nominal alpha from the value counts of each unit.

    Each item is (value -> number of coders who gave it in that unit, how many such units). Working
    from counts lets the character-overlap alpha treat a million identical characters at once.
    Coincidence-matrix form: alpha = 1 - (n - 1) * sum_u D_u / sum_{c != k} n_c n_k, where
    D_u = (m_u^2 - sum_c n_uc^2) / (m_u - 1) is unit u's share of off-diagonal coincidences.
    """
    value_totals: Counter[Hashable] = Counter()
    observed_disagreement = 0.0
    for counts, weight in units:
        if weight <= 0:
            continue
        m = sum(counts.values())
        if m < 2:
            continue  # a value nobody else rated cannot be paired with anything
        squares = sum(c * c for c in counts.values())
        observed_disagreement += weight * (m * m - squares) / (m - 1)
        for value, c in counts.items():
            value_totals[value] += weight * c
    n = sum(value_totals.values())
    expected_pairs = n * n - sum(c * c for c in value_totals.values())
    if n < 2 or expected_pairs <= 0:
        return None
    return 1.0 - (n - 1) * observed_disagreement / expected_pairs


def krippendorff_alpha_nominal(units: Sequence[Sequence[Hashable | None]]) -> float | None:
    """Krippendorff's alpha for nominal data, any number of coders, missing values allowed.

    ``units[u]`` holds the values the coders gave unit ``u``; None (or NaN) means that coder did not
    rate it. Units with fewer than two values are ignored, as the coefficient requires. Returns None
    when alpha is undefined: fewer than two pairable values, or only one category was ever used.
    """
    weighted = []
    for unit in units:
        counts = Counter(v for v in unit if not _is_missing(v))
        if sum(counts.values()) >= 2:
            weighted.append((counts, 1))
    return _alpha_from_weighted_units(weighted)


# --------------------------------------------------------------------------------------------
# Character overlap (NVivo's coding comparison)


@dataclass(frozen=True)
class OverlapResult:
    """How two coders' marks on one text compare, character by character.

    ``percent`` is (both + neither) / length in percent; ``kappa`` is NVivo's
    (TA - sum EF) / (TU - sum EF); ``alpha_binary`` is Krippendorff's alpha with every character as
    a unit and "marked / not marked" as the values. All three are None when the text is empty;
    kappa and alpha are also None when undefined (both coders marked nothing, or everything).
    """

    percent: float | None
    kappa: float | None
    alpha_binary: float | None
    a_chars: int
    b_chars: int
    both: int
    neither: int
    length: int = 0


Span = tuple[int | None, int | None]


def union_spans(spans: Iterable[Span], length: int) -> list[tuple[int, int]]:
    """Merge (start, end) half-open spans into sorted disjoint ones, clipped to 0..length.

    Spans that are empty, reversed or lack an end are dropped: they mark no characters.
    """
    clipped = []
    for start, end in spans:
        if start is None or end is None:
            continue
        s, e = max(0, int(start)), min(length, int(end))
        if s < e:
            clipped.append((s, e))
    clipped.sort()
    merged: list[tuple[int, int]] = []
    for s, e in clipped:
        if merged and s <= merged[-1][1]:
            if e > merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def intersection_size(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> int:
    """Characters two sorted, merged span lists have in common."""
    i = j = total = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if lo < hi:
            total += hi - lo
        if a[i][1] <= b[j][1]:
            i += 1
        else:
            j += 1
    return total


def _size(spans: list[tuple[int, int]]) -> int:
    return sum(e - s for s, e in spans)


def char_overlap(length: int, a_spans: Iterable[Span], b_spans: Iterable[Span]) -> OverlapResult:
    """Compare two coders' marked character ranges on a text of ``length`` characters.

    Spans are (start, end) offsets, end exclusive; a coder's overlapping spans count each character
    once. Worked check: 1000 characters, A marks 150, B marks 100, 50 of them shared -> 85 %,
    kappa 0.318, binary alpha 0.315.
    """
    if length is None or length < 0:
        raise ValidationError(
            tr("A text length cannot be negative ({length}); use the length of the document's text.")
            .format(length=length)
        )
    a = union_spans(a_spans, length)
    b = union_spans(b_spans, length)
    a_chars, b_chars = _size(a), _size(b)
    both = intersection_size(a, b)
    neither = length - (a_chars + b_chars - both)
    if length == 0:
        return OverlapResult(None, None, None, 0, 0, 0, 0, 0)
    total_agreement = both + neither
    percent = 100.0 * total_agreement / length
    expected = a_chars * b_chars / length + (length - a_chars) * (length - b_chars) / length
    denominator = length - expected
    kappa = None if math.isclose(denominator, 0.0, abs_tol=1e-9) else (total_agreement - expected) / denominator
    alpha = _alpha_from_weighted_units(
        [
            ({True: 2}, both),
            ({False: 2}, neither),
            ({True: 1, False: 1}, a_chars - both),
            ({True: 1, False: 1}, b_chars - both),
        ]
    )
    return OverlapResult(percent, kappa, alpha, a_chars, b_chars, both, neither, length)
