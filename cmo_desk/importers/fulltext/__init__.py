"""Full texts -> plain text with page boundaries, keeping the original bytes.

Pages are joined with a blank line ("\\n\\n") rather than a form feed: a form feed is illegal in
XML, and the text ends up in Word and QDPX exports. ``page_starts[i]`` is the character offset at
which page ``i + 1`` begins, so ``Document.page_at(offset)`` can cite pages.

Heavy libraries (pypdfium2, lxml, charset-normalizer) are imported inside the functions that need
them, so that opening the desk does not pay for them; so are the readers of zipped formats (DOCX,
ODT: ``containers``) and of web pages, which a folder of PDFs does not need.
"""

from cmo_desk.importers.fulltext.extracted import (
    FIRST_PAGE_CHARS,
    MEDIA_TYPES,
    PAGE_SEPARATOR,
    SUPPORTED_EXTENSIONS,
    CancelCallback,
    ExtractedText,
    ProgressCallback,
    join_pages,
)
from cmo_desk.importers.fulltext.pdf import MAX_PDF_PAGES
from cmo_desk.importers.fulltext.plaintext import decode_text
from cmo_desk.importers.fulltext.reading import (
    MAX_FILE_BYTES,
    extract_bytes,
    extract_file,
    supported_extensions,
)
from cmo_desk.importers.fulltext.titles import looks_like_junk_title

__all__ = [
    "CancelCallback",
    "ExtractedText",
    "FIRST_PAGE_CHARS",
    "MAX_FILE_BYTES",
    "MAX_PDF_PAGES",
    "MEDIA_TYPES",
    "PAGE_SEPARATOR",
    "ProgressCallback",
    "SUPPORTED_EXTENSIONS",
    "decode_text",
    "extract_bytes",
    "extract_file",
    "join_pages",
    "looks_like_junk_title",
    "supported_extensions",
]
