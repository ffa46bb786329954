"""Matching full-text files to the studies they report."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import Literal

from cmo_desk.domain.i18n import tr
from cmo_desk.domain.records import Study
from cmo_desk.importers.dedupe import similar_title, title_word_set, title_words
from cmo_desk.importers.fulltext import ExtractedText, looks_like_junk_title
from cmo_desk.importers.textnorm import normalise_doi, normalise_title

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
    #: For "new": a study the file may belong to, for the user to confirm, and why it was not linked.
    proposed_study_id: str | None = None
    reasons: tuple[str, ...] = ()


def title_from_file(path: str | os.PathLike[str], extracted: ExtractedText) -> str:
    """The title for a study made from a file: PDF metadata, else the first line, else the name."""
    if extracted.title:
        return extracted.title
    for line in extracted.text[:TITLE_SEARCH_CHARS].splitlines():
        line = " ".join(line.split())
        if len(line) >= 4 and not looks_like_junk_title(line):
            return line[:300]
    return Path(path).stem.replace("_", " ")


#: Lines of the opening that may hold the title block (titles wrap over up to five or six lines).
TITLE_BLOCK_LINES = 6
#: How far into the text the year and first author are looked for (about the first page).
OPENING_CHARS = 6000
#: Title similarity below which a file is not even proposed for a study.
PROPOSE_THRESHOLD = 0.6
_NEGATIONS = frozenset({"not", "no", "non", "without", "never", "nor", "lack", "absence"})
_YEAR_RE = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")


def _candidate_titles(extracted: ExtractedText) -> list[str]:
    """The metadata title and every run of 1 to TITLE_BLOCK_LINES lines near the top: the whole
    title block is among them, so a title is never compared cut short."""
    candidates = [extracted.title] if extracted.title else []
    lines = [" ".join(line.split()) for line in extracted.text[:TITLE_SEARCH_CHARS].splitlines()]
    lines = [line for line in lines if line]
    for i in range(min(len(lines), 25)):
        for n in range(1, TITLE_BLOCK_LINES + 1):
            if i + n <= len(lines):
                candidates.append(" ".join(lines[i : i + n]))
    return [c for c in dict.fromkeys(candidates) if len(c) >= 12]


def _title_score(title: str, candidate: str) -> float:
    """Similarity of whole titles (no credit for one being the start of the other)."""
    key_a, key_b = normalise_title(title), normalise_title(candidate)
    if not key_a or not key_b:
        return 0.0
    if key_a == key_b:
        return 1.0
    return similar_title(title, candidate) if not (key_a.startswith(key_b) or key_b.startswith(key_a)) else (
        SequenceMatcher(None, key_a, key_b, autojunk=False).ratio()
    )


def _opening_words(text: str) -> set[str]:
    return {normalise_title(w) for w in re.split(r"[\s,;·•.()\[\]]+", text) if w}


def _doubts(study: Study, extracted: ExtractedText, matched: str, opening: str) -> list[str]:
    """Why a title match is not enough to link (empty when year, first author and DOI agree)."""
    reasons: list[str] = []
    file_doi, study_doi = normalise_doi(extracted.doi), normalise_doi(study.doi)
    if file_doi and study_doi and file_doi != study_doi:
        reasons.append(tr("the file's DOI ({file}) differs from the study's ({study})").format(
            file=file_doi, study=study_doi))
    differing = set(title_words(matched)) ^ set(title_words(study.title or ""))
    negations = sorted(differing & _NEGATIONS)
    if negations:
        reasons.append(tr("one title says \u201c{words}\u201d and the other does not").format(
            words=", ".join(negations)))
    years = {int(y) for y in _YEAR_RE.findall(opening)}
    if study.year is None:
        reasons.append(tr("the study has no year to compare"))
    elif not any(abs(y - study.year) <= 1 for y in years):
        reasons.append(tr("the study's year ({year}) is not on the file's first page").format(year=study.year))
    from cmo_desk.importers.references import surname  # (loaded once a title matches)

    first = surname(study.authors[0]) if study.authors else ""
    first_key = normalise_title(first)
    if not first_key:
        reasons.append(tr("the study has no first author to compare"))
    elif first_key not in _opening_words(opening) and first_key not in normalise_title(opening[:OPENING_CHARS]):
        reasons.append(tr("the study's first author ({author}) is not on the file's first page").format(author=first))
    return reasons


def _title_matches(text: ExtractedText, titled: list[tuple[Study, set[str]]]
                   ) -> list[tuple[bool, float, str, tuple[str, ...]]]:
    """(sure, title similarity, study id, reasons not to link) of each study whose title the
    file's opening resembles enough to propose; ``titled``: the studies with their title words."""
    if not titled:
        return []
    found: list[tuple[bool, float, str, tuple[str, ...]]] = []
    candidates = _candidate_titles(text)
    opening_words = title_word_set(" ".join(candidates))
    opening = text.text[:OPENING_CHARS]
    for study, words in titled:
        # Cheap filter first: most of the title's words must appear in the file's opening.
        if len(words & opening_words) < 0.6 * len(words):
            continue
        scored = [(_title_score(study.title or "", c), c) for c in candidates]
        best, matched = max(scored, default=(0.0, ""))
        if best < PROPOSE_THRESHOLD:
            continue
        reasons = _doubts(study, text, matched, opening)
        if best < TITLE_THRESHOLD:
            reasons.insert(0, tr("the titles differ (similarity {score:.0%})").format(score=best))
        found.append((not reasons, best, study.id, tuple(reasons)))
    return found


def link_files(
    extracted: Sequence[tuple[str | os.PathLike[str], ExtractedText]], studies: Iterable[Study]
) -> list[LinkDecision]:
    """Decide for each file which study it belongs to.

    A DOI match links. A title match links only when the whole title agrees, the study's year
    (±1) and first author are on the file's first page and the DOIs do not conflict; a title match
    short of that is left unlinked (a new study is made from the file) and the study is proposed,
    with the reasons, for the user to confirm. Each study receives at most one file by title."""
    studies = [s for s in studies if not s.deleted and not s.merged_into]
    by_doi = {normalise_doi(s.doi): s.id for s in studies if normalise_doi(s.doi)}
    by_id = {s.id: s for s in studies}
    decisions: list[LinkDecision | None] = [None] * len(extracted)
    title_scores: list[tuple[bool, float, int, str, tuple[str, ...]]] = []
    # Made when a file first needs a title match: for seventy thousand references they are the
    # largest thing an import of references alone would otherwise build.
    titled: list[tuple[Study, set[str]]] | None = None
    for index, (path, text) in enumerate(extracted):
        doi = normalise_doi(text.doi)
        if doi and doi in by_doi:
            decisions[index] = LinkDecision(str(path), by_doi[doi], "doi", 1.0, doi=doi)
            continue
        if titled is None:  # only the studies with a title can match one
            titled = [(s, words) for s in studies if (words := set(title_words(s.title or "")))]
        title_scores.extend((sure, best, index, study_id, reasons)
                            for sure, best, study_id, reasons in _title_matches(text, titled))
    taken: set[str] = set()
    proposals: dict[int, tuple[str, tuple[str, ...], float]] = {}
    for sure, score, index, study_id, reasons in sorted(title_scores, key=lambda t: (not t[0], -t[1])):
        if decisions[index] is not None or study_id in taken:
            continue
        if sure:
            decisions[index] = LinkDecision(str(extracted[index][0]), study_id, "title", round(score, 3))
            taken.add(study_id)
        elif index not in proposals:
            proposals[index] = (study_id, reasons, score)
    result: list[LinkDecision] = []
    for index, decision in enumerate(decisions):
        if decision is None:
            path, text = extracted[index]
            proposed = proposals.get(index)
            decision = LinkDecision(
                str(path), None, "new", 0.0, title=title_from_file(path, text), doi=normalise_doi(text.doi),
                proposed_study_id=proposed[0] if proposed and proposed[0] in by_id else None,
                reasons=proposed[1] if proposed else (),
            )
        result.append(decision)
    return result
