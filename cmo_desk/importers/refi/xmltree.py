"""The XML of a REFI-QDA file: parsed safely, read without caring for namespaces."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as _safe_fromstring

from cmo_desk.domain.errors import ImportFailed
from cmo_desk.domain.i18n import tr
from cmo_desk.importers.safezip import MiB

MAX_XML_BYTES = 256 * MiB



def local_name(tag: object) -> str:
    """The tag's name without its namespace ("" for comments and processing instructions)."""
    if not isinstance(tag, str):
        return ""  # comments and processing instructions
    return tag.rsplit("}", 1)[-1]


def children_named(el: ET.Element, name: str) -> list[ET.Element]:
    """The children of ``el`` whose tag is ``name`` in any namespace."""
    return [c for c in el if local_name(c.tag) == name]


def child_named(el: ET.Element, name: str) -> ET.Element | None:
    """The first child of ``el`` whose tag is ``name`` in any namespace, or None."""
    for c in el:
        if local_name(c.tag) == name:
            return c
    return None


def child_text(el: ET.Element, name: str) -> str | None:
    """All the text inside the first child named ``name``, or None when there is no such child."""
    child = child_named(el, name)
    if child is None:
        return None
    return "".join(child.itertext())


def int_attr(el: ET.Element, attr: str) -> int | None:
    """Attribute ``attr`` as an integer, or None when missing or not a number."""
    raw = el.get(attr)
    if raw is None:
        return None
    try:
        return int(raw.strip())
    except ValueError:
        return None


def guid_attr(el: ET.Element, attr: str = "guid") -> str | None:
    """Attribute ``attr`` as an upper-case GUID without braces, or None when missing or blank."""
    raw = el.get(attr)
    if not raw:
        return None
    return raw.strip().strip("{}").upper() or None


def parse_xml(data: bytes, label: str) -> ET.Element:
    """Parse untrusted XML: any DOCTYPE is refused before an entity can be expanded."""
    try:
        return _safe_fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as err:
        raise ImportFailed(
            tr(
                "{file} declares a DOCTYPE or entities, which REFI-QDA files never need and which can "
                "be used to exhaust memory; it is not imported. Export it again from the program that "
                "made it."
            ).format(file=label)
        ) from err
    except ET.ParseError as err:
        line = getattr(err, "position", (None,))[0]
        raise ImportFailed(
            tr("{file} is not well-formed XML (near line {line}); it is damaged. Export it again.").format(
                file=label, line=line if line is not None else "?"
            )
        ) from err
    except (ValueError, LookupError, RecursionError) as err:
        # Unknown or lying encoding declarations and absurd nesting end up here.
        raise ImportFailed(
            tr("{file} cannot be read as XML; it is damaged. Export it again.").format(file=label)
        ) from err

