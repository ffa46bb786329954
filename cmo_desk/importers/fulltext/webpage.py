"""Web pages (HTML): the text of the body in reading order, scripts and styles left out."""

from __future__ import annotations

import re
from typing import Any

from cmo_desk.domain.errors import ImportFailed
from cmo_desk.domain.i18n import tr
from cmo_desk.importers.fulltext.extracted import ExtractedText, finish_extraction, library_version
from cmo_desk.importers.fulltext.plaintext import decode_text
from cmo_desk.importers.textnorm import clean_text


_BLOCK_TAGS = frozenset(
    "p div section article header footer aside nav main h1 h2 h3 h4 h5 h6 ul ol li dl dt dd table "
    "thead tbody tfoot tr blockquote pre figure figcaption address hr form fieldset caption".split()
)
_SKIP_TAGS = frozenset("script style noscript template head svg math iframe object button select".split())


def extract_html(data: bytes, filename: str) -> ExtractedText:
    """The readable text of a saved web page, without scripts, styles or other parts that are not text."""
    import lxml.html
    from lxml import etree

    warnings: list[str] = []
    try:
        root = lxml.html.document_fromstring(data)
    except (etree.ParserError, ValueError, etree.XMLSyntaxError):
        text, warnings = decode_text(data, filename)
        try:
            root = lxml.html.document_fromstring(text)
        except (etree.ParserError, ValueError, etree.XMLSyntaxError):
            raise ImportFailed(
                tr("{name} could not be read as a web page. Save it as PDF or text and import that.").format(
                    name=filename
                )
            ) from None
    title = root.findtext(".//title")
    parts: list[str] = []

    def walk(element: Any, preformatted: bool) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        tag = tag.lower()
        if tag in _SKIP_TAGS:
            if element.tail:
                parts.append(_html_space(element.tail, preformatted))
            return
        block = tag in _BLOCK_TAGS
        pre = preformatted or tag == "pre"
        if block:
            parts.append("\n\n")
        elif tag == "br":
            parts.append("\n")
        elif tag in ("td", "th"):
            parts.append(" | ")
        if element.text and tag:
            parts.append(_html_space(element.text, pre))
        for child in element:
            walk(child, pre)
        if block:
            parts.append("\n\n")
        if element.tail:
            parts.append(_html_space(element.tail, preformatted))

    body = root.find("body")
    walk(body if body is not None else root, False)
    text = "".join(parts)
    text = re.sub(r"[ \t]*\n[ \t]*", "\n", text)
    text = re.sub(r"\n(\s*\|\s*)", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    text = clean_text(text)
    if not text:
        warnings.append(tr("The document has no text."))
    return finish_extraction([text], "text/html", f"lxml {library_version('lxml')} (html)", data, warnings, title, None)


def _html_space(text: str, preformatted: bool) -> str:
    return text if preformatted else re.sub(r"\s+", " ", text)
