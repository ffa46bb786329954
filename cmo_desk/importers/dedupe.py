"""Finding the same study twice: by DOI, PMID, or normalised title plus year."""

from __future__ import annotations

import re
from collections.abc import Iterable
from difflib import SequenceMatcher

from cmo_desk.domain.records import Study
from cmo_desk.importers.textnorm import normalise_doi, normalise_title

#: Titles shorter than this (once normalised) are too generic ("Editorial", "Introduction") to
#: prove two references are the same study.
MIN_TITLE_KEY = 12


def _keys(study: Study, doi: str | None) -> list[tuple[str, str]]:
    """``doi`` is the study's normalised DOI, given so that the index holds one copy of it."""
    keys: list[tuple[str, str]] = []
    if doi:
        keys.append(("doi", doi))
    if study.pmid and str(study.pmid).strip():
        keys.append(("pmid", str(study.pmid).strip()))
    title = normalise_title(study.title)
    if len(title) >= MIN_TITLE_KEY:
        keys.append(("title", f"{title}\x1f{study.year if study.year is not None else ''}"))
    return keys


class DuplicateIndex:
    """Identity keys of known studies; add studies as they are accepted."""

    def __init__(self, studies: Iterable[Study] = ()) -> None:
        self._ids: dict[tuple[str, str], tuple[str, str | None]] = {}
        for study in studies:
            self.add(study)

    def add(self, study: Study) -> None:
        if study.deleted or study.merged_into:
            return
        doi = normalise_doi(study.doi)
        for key in _keys(study, doi):
            self._ids.setdefault(key, (study.id, doi))

    def find(self, study: Study) -> str | None:
        doi = normalise_doi(study.doi)
        for key in _keys(study, doi):
            found = self._ids.get(key)
            if found is None or found[0] == study.id:
                continue
            if key[0] == "title" and doi and found[1] and doi != found[1]:
                continue  # same title, different DOIs: e.g. a conference paper and its journal version
            return found[0]
        return None


def find_duplicate(study: Study, existing: Iterable[Study]) -> str | None:
    """The id of a study in ``existing`` that is the same reference, or None."""
    return DuplicateIndex(existing).find(study)


def dedupe(new: Iterable[Study], existing: Iterable[Study] = ()) -> tuple[list[Study], list[tuple[Study, str]]]:
    """Split ``new`` into studies to add and (duplicate, id of the study it duplicates) pairs.

    A duplicate within ``new`` points at the id of its first occurrence (which is kept)."""
    index = DuplicateIndex(existing)
    kept: list[Study] = []
    duplicates: list[tuple[Study, str]] = []
    for study in new:
        match = index.find(study)
        if match is not None:
            duplicates.append((study, match))
            continue
        kept.append(study)
        index.add(study)
    return kept, duplicates


def similar_title(a: str | None, b: str | None) -> float:
    """Similarity of two titles in [0, 1], insensitive to case, accents, punctuation and spacing.

    Word overlap decides quickly for clearly different titles; character matching then scores
    near-identical ones (typos, a subtitle dropped)."""
    key_a, key_b = normalise_title(a), normalise_title(b)
    if not key_a or not key_b:
        return 0.0
    if key_a == key_b:
        return 1.0
    words_a = set(title_words(a or ""))
    words_b = set(title_words(b or ""))
    if words_a and words_b:
        overlap = len(words_a & words_b) / max(len(words_a), len(words_b))
        if overlap < 0.3:
            return overlap / 2
    shorter, longer = sorted((key_a, key_b), key=len)
    if len(shorter) >= 20 and longer.startswith(shorter):
        # "Title" vs "Title: a subtitle" — the same study cited without its subtitle.
        return max(0.9, SequenceMatcher(None, key_a, key_b, autojunk=False).ratio())
    return SequenceMatcher(None, key_a, key_b, autojunk=False).ratio()


def title_words(text: str) -> list[str]:
    """Normalised words of a title, for quick overlap checks."""
    return [w for w in (normalise_title(t) for t in re.split(r"\s+", text)) if w]


def title_word_set(text: str) -> set[str]:
    """``set(title_words(text))``, each distinct word normalised once (a file's opening repeats
    its lines in many candidate titles)."""
    words = {normalise_title(t) for t in set(re.split(r"\s+", text))}
    words.discard("")
    return words
