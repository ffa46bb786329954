"""Matching full-text files to the studies they report."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cmo_desk.domain.records import Study
from cmo_desk.importers.dedupe import similar_title, title_words
from cmo_desk.importers.fulltext import ExtractedText
from cmo_desk.importers.textnorm import normalise_doi

#: Title similarity from which a file is taken to be a study's full text. Checked against the
#: corpus: different articles on one topic score well below 0.6, the same title with a
#: typo or a dropped subtitle above 0.9.
TITLE_THRESHOLD = 0.85
#: How far into the text (characters) a title line is looked for.
TITLE_SEARCH_CHARS = 3000

How = Literal["doi", "title", "new"]


@dataclass(frozen=True)
class LinkDecision:
    path: str
    study_id: str | None
    how: How
    score: float
    #: For "new": the title to give the study made from this file.
    title: str | None = None
    doi: str | None = None


def title_from_file(path: str | os.PathLike[str], extracted: ExtractedText) -> str:
    """The title for a study made from a file: PDF metadata, else the first line, else the name."""
    if extracted.title:
        return extracted.title
    for line in extracted.text[:TITLE_SEARCH_CHARS].splitlines():
        line = " ".join(line.split())
        if len(line) >= 4:
            return line[:300]
    return Path(path).stem.replace("_", " ")


def _candidate_titles(extracted: ExtractedText) -> list[str]:
    candidates = [extracted.title] if extracted.title else []
    lines = [" ".join(line.split()) for line in extracted.text[:TITLE_SEARCH_CHARS].splitlines()]
    lines = [line for line in lines if line]
    # Titles often wrap over two or three lines.
    for i, line in enumerate(lines[:25]):
        candidates.append(line)
        if i + 1 < len(lines):
            candidates.append(line + " " + lines[i + 1])
        if i + 2 < len(lines):
            candidates.append(" ".join(lines[i : i + 3]))
    return [c for c in candidates if len(c) >= 12]


def link_files(
    extracted: Sequence[tuple[str | os.PathLike[str], ExtractedText]], studies: Iterable[Study]
) -> list[LinkDecision]:
    """Decide for each file which study it belongs to: by DOI, else by title, else a new study.

    Each study receives at most one file by title (the best-scoring); DOI matches always link."""
    studies = [s for s in studies if not s.deleted and not s.merged_into]
    by_doi = {normalise_doi(s.doi): s.id for s in studies if normalise_doi(s.doi)}
    decisions: list[LinkDecision | None] = [None] * len(extracted)
    title_scores: list[tuple[float, int, str]] = []
    study_words = [set(title_words(s.title or "")) for s in studies]
    for index, (path, text) in enumerate(extracted):
        doi = normalise_doi(text.doi)
        if doi and doi in by_doi:
            decisions[index] = LinkDecision(str(path), by_doi[doi], "doi", 1.0, doi=doi)
            continue
        candidates = _candidate_titles(text)
        opening_words = set(title_words(" ".join(candidates)))
        for study, words in zip(studies, study_words):
            # Cheap filter first: most of the title's words must appear in the file's opening.
            if not words or len(words & opening_words) < 0.7 * len(words):
                continue
            best = max((similar_title(study.title, c) for c in candidates), default=0.0)
            if best >= TITLE_THRESHOLD:
                title_scores.append((best, index, study.id))
    taken: set[str] = set()
    for score, index, study_id in sorted(title_scores, key=lambda t: -t[0]):
        if decisions[index] is not None or study_id in taken:
            continue
        decisions[index] = LinkDecision(str(extracted[index][0]), study_id, "title", round(score, 3))
        taken.add(study_id)
    result: list[LinkDecision] = []
    for index, decision in enumerate(decisions):
        if decision is None:
            path, text = extracted[index]
            decision = LinkDecision(
                str(path), None, "new", 0.0, title=title_from_file(path, text), doi=normalise_doi(text.doi)
            )
        result.append(decision)
    return result
