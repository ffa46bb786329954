"""Study labels ("Booth 2016", "Booth 2016a") and the family names they are made from."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace

from cmo_desk.domain.i18n import tr
from cmo_desk.domain.records import Study


def surname(author: str) -> str:
    """The family name of an author as written in reference files ("Booth, A." / "A Booth" /
    "Booth A" / a literal organisation or CJK name)."""
    author = author.strip()
    if "," in author:
        return author.split(",", 1)[0].strip()
    parts = author.split()
    if len(parts) <= 1:
        return author
    # MEDLINE style "Booth A" / "Booth AJ": trailing initials.
    if re.fullmatch(r"(?:[A-Z]\.?-?){1,4}", parts[-1]):
        return " ".join(parts[:-1])
    return parts[-1]


def make_label(study: Study) -> str:
    """"Surname Year" ("Booth 2016"); "Anon" / "n.d." when unknown."""
    name = surname(study.authors[0]) if study.authors else ""
    if not name:
        name = tr("Anon")
    if len(name) > 40:
        name = name[:40].rstrip()
    return f"{name} {study.year if study.year is not None else tr('n.d.')}"


def label_suffix(index: int) -> str:
    """The letters that tell apart studies of the same label: "a" for 0, "b" for 1 ... "aa" for 26."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(ord("a") + rem) + letters
    return letters


def assign_labels(studies: Iterable[Study], taken: Iterable[str] = ()) -> list[Study]:
    """Give each study a "Surname Year" label, with a/b/c... suffixes where two would read the
    same, also against ``taken`` (labels already in the project). A list is relabelled in place
    (each study is replaced as it is labelled, so seventy thousand are never held twice)."""
    if not isinstance(studies, list):
        studies = list(studies)
    taken_set = {t.casefold() for t in taken}
    bases = [make_label(s) for s in studies]
    counts = Counter(b.casefold() for b in bases)
    used: set[str] = set(taken_set)
    next_suffix: Counter[str] = Counter()
    for index, (study, base) in enumerate(zip(studies, bases)):
        key = base.casefold()
        if counts[key] == 1 and key not in taken_set:
            label = base
        else:
            while True:
                label = base + label_suffix(next_suffix[key])
                next_suffix[key] += 1
                if label.casefold() not in used:
                    break
        used.add(label.casefold())
        studies[index] = replace(study, label=label)
    return studies
