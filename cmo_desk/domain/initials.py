"""Coders' initials: one rule for the whole program, unique within a project.

``initials_of(name)`` gives the plain initials of one name ("Lan Nguyen" -> "LN"): what a new coder
record stores. ``unique_initials(coders)`` gives every coder of a project initials that no other
coder of that project shares: "Lan Nguyen" and "Lena Nowak" become "LaN" and "LeN"; "Ana Petrova"
and "Anna Pavlova" become "APe" and "APa". Tables, legends and the desk show these, so a reader
can always tell whose value or CMOC a row shows. Pure: the same coders give the same initials on
every computer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from cmo_desk.domain.records import Coder

_SPLIT = re.compile(r"[\s.\-_]+")


def _parts(name: str | None) -> list[str]:
    return [p for p in _SPLIT.split(name or "") if p]


def initials_of(name: str | None) -> str:
    """First letters of the first and last name, upper case; two letters of a single name."""
    parts = _parts(name)
    if not parts:
        return "?"
    if len(parts) == 1:
        return parts[0][:2].upper()
    return (parts[0][0] + parts[-1][0]).upper()


def _candidates(coder: Coder, base: str) -> list[str]:
    """Ever longer initials for one coder, from the plain ones to a good part of the name."""
    parts = _parts(coder.name)
    out = [base]
    if len(parts) >= 2:
        first, last = parts[0], parts[-1]
        out += [
            first[:2].capitalize() + last[0].upper(),
            first[0].upper() + last[:2].capitalize(),
            first[:2].capitalize() + last[:2].capitalize(),
            first[:3].capitalize() + last[:3].capitalize(),
        ]
    elif parts:
        out += [parts[0][:3].capitalize(), parts[0][:4].capitalize()]
    return out


def unique_initials(coders: Iterable[Coder]) -> dict[str, str]:
    """Coder id -> initials no other coder of ``coders`` has (compared ignoring case).

    A coder keeps the stored initials (or those of the name) when no one else has them. Coders who
    share them get the shortest longer form that tells all of them apart; if even their names
    cannot, a number follows, in the order of their ids.
    """
    listed = sorted({c.id: c for c in coders}.values(), key=lambda c: c.id)
    base = {c.id: " ".join((c.initials or "").split()) or initials_of(c.name) for c in listed}
    groups: dict[str, list[Coder]] = {}
    for coder in listed:
        groups.setdefault(base[coder.id].casefold(), []).append(coder)
    result = {c.id: base[c.id] for c in listed if len(groups[base[c.id].casefold()]) == 1}
    taken = {v.casefold() for v in result.values()}
    for members in (g for g in groups.values() if len(g) > 1):
        options = {c.id: _candidates(c, base[c.id]) for c in members}
        depth = max(len(o) for o in options.values())
        chosen: dict[str, str] | None = None
        for level in range(1, depth):
            pick = {cid: opts[min(level, len(opts) - 1)] for cid, opts in options.items()}
            folded = [v.casefold() for v in pick.values()]
            if len(set(folded)) == len(folded) and not set(folded) & taken:
                chosen = pick
                break
        if chosen is None:
            chosen = {}
            for n, coder in enumerate(members, 1):
                candidate = base[coder.id] if n == 1 else f"{base[coder.id]}{n}"
                while candidate.casefold() in taken:
                    candidate += "'"
                chosen[coder.id] = candidate
                taken.add(candidate.casefold())
        result.update(chosen)
        taken |= {v.casefold() for v in chosen.values()}
    return result


def with_unique_initials(coders: Iterable[Coder]) -> list[Coder]:
    """The coders, each carrying the initials ``unique_initials`` gives them, for display."""
    import dataclasses

    listed = list(coders)
    unique = unique_initials(listed)
    return [dataclasses.replace(c, initials=unique[c.id]) for c in listed]
