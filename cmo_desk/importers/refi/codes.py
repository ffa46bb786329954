"""A REFI-QDA codebook and its users: codes (with their kind, role codes set apart), coders."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from cmo_desk.domain.errors import ImportFailed
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.ids import coder_id, new_id
from cmo_desk.domain.initials import initials_of
from cmo_desk.domain.records import Code, CodeKind, Coder, Role
from cmo_desk.importers.refi.model import KIND_SET_PREFIX, ROLE_GROUP_NAME, RefiReader
from cmo_desk.importers.refi.xmltree import child_named, child_text, children_named, guid_attr

_KIND_WORDS = {
    "context": CodeKind.CONTEXT.value,
    "contexts": CodeKind.CONTEXT.value,
    "mechanism": CodeKind.MECHANISM.value,
    "mechanisms": CodeKind.MECHANISM.value,
    "outcome": CodeKind.OUTCOME.value,
    "outcomes": CodeKind.OUTCOME.value,
    "intervention": CodeKind.INTERVENTION.value,
    "interventions": CodeKind.INTERVENTION.value,
}
_ROLE_WORDS = {
    "context": Role.CONTEXT.value,
    "mechanism": Role.MECHANISM.value,
    "outcome": Role.OUTCOME.value,
    "intervention": Role.INTERVENTION.value,
}
_COLOR_RE = re.compile(r"^#([0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})$")
#: Deepest code tree read: real codebooks nest a handful of levels; a crafted one 20,000.
MAX_CODE_DEPTH = 100


def _color(value: str | None) -> str | None:
    if not value or not _COLOR_RE.match(value.strip()):
        return None
    value = value.strip().upper()
    if len(value) == 4:
        value = "#" + "".join(ch * 2 for ch in value[1:])
    return value


def _split_description(description: str | None) -> tuple[str | None, str | None, str | None]:
    """Definition, inclusion notes, exclusion notes (the last paragraph may hold the notes)."""
    if not description or not description.strip():
        return None, None, None
    text = description.strip().replace("\r\n", "\n")
    paragraphs = text.split("\n\n")
    last = paragraphs[-1].split("\n")
    include = exclude = None
    if all(line.startswith(("Include: ", "Exclude: ")) for line in last):
        for line in last:
            if line.startswith("Include: "):
                include = line[len("Include: ") :].strip() or None
            else:
                exclude = line[len("Exclude: ") :].strip() or None
        paragraphs = paragraphs[:-1]
    definition = "\n\n".join(paragraphs).strip() or None
    return definition, include, exclude


def _check_code_depth(codes_el: ET.Element, label: str) -> None:
    stack = [(el, 1) for el in children_named(codes_el, "Code")]
    while stack:
        el, depth = stack.pop()
        if depth > MAX_CODE_DEPTH:
            raise ImportFailed(
                tr("{file} nests codes more than {limit} levels deep, which no codebook needs; it is not "
                   "imported. Export it again from the program that made it.").format(
                    file=label, limit=MAX_CODE_DEPTH)
            )
        stack.extend((child, depth + 1) for child in children_named(el, "Code"))


def read_users(reader: RefiReader, root: ET.Element) -> None:
    users = child_named(root, "Users")
    if users is None:
        return
    seen: set[str] = set()
    for user in children_named(users, "User"):
        guid = guid_attr(user)
        name = " ".join((user.get("name") or user.get("id") or "").split())
        if not name:
            name = "REFI user " + (guid or "?")[:8]
        cid = coder_id(name)
        if guid:
            reader.users[guid] = cid
        if cid not in seen:
            seen.add(cid)
            reader.result.coders.append(Coder(id=cid, name=name, initials=initials_of(name)))


def _explicit_kinds(sets: list[ET.Element], member_attrs: tuple[str, ...]) -> dict[str, str]:
    """Code GUID -> kind, from code sets named "CMO kind: Context" and the like."""
    explicit_kind: dict[str, str] = {}
    for s in sets:
        name = (s.get("name") or "").strip()
        if not name.casefold().startswith(KIND_SET_PREFIX):
            continue
        kind = _KIND_WORDS.get(name[len(KIND_SET_PREFIX) :].strip().casefold())
        if kind is None:
            continue
        for member in children_named(s, "MemberCode"):
            for attr in member_attrs:
                guid = guid_attr(member, attr)
                if guid:
                    explicit_kind[guid] = kind
    return explicit_kind


#: A code waiting to be read: its element, its parent's id, the kind its ancestors give it, and
#: whether it sits in the "CMO role" group.
_Pending = tuple[ET.Element, str | None, str | None, bool]


def read_codes(reader: RefiReader, codes_el: ET.Element | None, sets: list[ET.Element],
               member_attrs: tuple[str, ...]) -> None:
    if codes_el is None:
        return
    explicit_kind = _explicit_kinds(sets, member_attrs)
    # Iterative walk: a hostile file may nest codes deeper than Python's recursion allows.
    _check_code_depth(codes_el, reader.label)
    stack: list[_Pending] = [(el, None, None, False) for el in reversed(children_named(codes_el, "Code"))]
    while stack:
        stack.extend(reversed(_read_code(reader, stack.pop(), explicit_kind)))


def _read_code(reader: RefiReader, pending: _Pending, explicit_kind: dict[str, str]) -> list[_Pending]:
    """Read one code into ``reader``; returns its children, still to be read."""
    el, parent_id, inherited_kind, in_role_group = pending
    name = " ".join((el.get("name") or "").split())
    guid = guid_attr(el)
    if parent_id is None and not in_role_group and name.casefold() == ROLE_GROUP_NAME:
        return [(child, None, None, True) for child in children_named(el, "Code")]
    if in_role_group:
        role = _ROLE_WORDS.get(name.casefold())
        if role and guid:
            reader.role_codes[guid] = role
            return []
    if not name:
        reader.count(tr("{count} codes without a name were not imported."))
        return []
    own_kind = _KIND_WORDS.get(name.casefold())
    kind = (guid and explicit_kind.get(guid)) or own_kind or inherited_kind or CodeKind.OTHER.value
    definition, include, exclude = _split_description(child_text(el, "Description"))
    code_id = new_id()
    if guid:
        reader.codes[guid] = code_id
    reader.result.codes.append(
        Code(
            id=code_id,
            name=name,
            kind=kind,
            parent_id=parent_id,
            definition=definition,
            include_notes=include,
            exclude_notes=exclude,
            color=_color(el.get("color")),
            sort_order=len(reader.result.codes),
        )
    )
    return [(child, code_id, own_kind or inherited_kind, False) for child in children_named(el, "Code")]
