"""Whether a line or a file's metadata can be a study's title, or is a file name, publisher
boilerplate, an identifier or a page range."""

from __future__ import annotations

import re

from cmo_desk.importers.textnorm import strip_controls

_FILENAME_LIKE_TITLE = re.compile(
    r"(^microsoft (word|powerpoint) - )|(\.(docx?|pdf|txt|tex|dvi|rtf|odt|indd|qxd|ps)$)|"
    r"^(untitled|title|document\d*|doi:.*|\s*)$",
    re.IGNORECASE,
)



def usable_title(title: str | None) -> str | None:
    """``title`` with its spacing tidied, or None when it looks like a file name, a placeholder or
    junk."""
    if not title:
        return None
    title = " ".join(strip_controls(title).split())
    if len(title) < 4 or _FILENAME_LIKE_TITLE.search(title) or looks_like_junk_title(title):
        return None
    return title


#: Lines at the top of a first page, or PDF metadata, that are not a study's title.
_JUNK_TITLE_RE = re.compile(
    r"publishing corporation|^(hindawi|elsevier|springer|biomed central|bmc|wiley|plos one|frontiers)\b|"
    r"^(research|original|review|short|brief)( article| report| communication)?$|open access$|"
    r"^arxiv:|\d{8,}|\d\s*\.\.\s*\d|^(volume|vol\.)\s*\d|^page \d|^\d+$",
    re.IGNORECASE,
)
ARTICLE_TYPE_PREFIX_RE = re.compile(
    r"^(research|original|review|short|brief)( article| report| communication)?\s+(?=[A-Z])", re.IGNORECASE
)


def looks_like_junk_title(text: str) -> bool:
    """Publisher boilerplate, identifiers and page ranges ("Hindawi Publishing Corporation",
    "6489122611071476 1..10"), or a line that is mostly not letters."""
    text = " ".join(text.split())
    letters = sum(ch.isalpha() for ch in text)
    return bool(_JUNK_TITLE_RE.search(text)) or letters < max(4, len(text.replace(" ", "")) // 2)
