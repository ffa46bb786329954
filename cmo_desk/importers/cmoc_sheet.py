"""CMOC spreadsheets (.csv, .xlsx) -> rows, and finding a row's quote in a study's text."""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from cmo_desk.domain.errors import ImportFailed
from cmo_desk.domain.i18n import tr
from cmo_desk.importers.textnorm import fix_ligatures

COLUMNS = (
    "study",
    "context",
    "mechanism_resource",
    "mechanism_reasoning",
    "outcome",
    "statement",
    "quote",
    "page",
    "codes",
    "coder",
)
REQUIRED = ("study",)
#: Limits on what is read of a spreadsheet: far beyond any CMOC sheet, far below what exhausts memory.
MAX_ROWS = 50_000
MAX_COLUMNS = 64

#: Other headings teams use for the same columns (compared after normalising case and spacing).
_ALIASES = {
    "study_label": "study",
    "study_id": "study",
    "reference": "study",
    "source": "study",
    "c": "context",
    "mechanism_(resource)": "mechanism_resource",
    "resource": "mechanism_resource",
    "m_resource": "mechanism_resource",
    "mechanism_(reasoning)": "mechanism_reasoning",
    "reasoning": "mechanism_reasoning",
    "m_reasoning": "mechanism_reasoning",
    "o": "outcome",
    "cmoc": "statement",
    "cmoc_statement": "statement",
    "cmo_statement": "statement",
    "configuration": "statement",
    "excerpt": "quote",
    "quotation": "quote",
    "evidence": "quote",
    "page_number": "page",
    "pages": "page",
    "p": "page",
    "code": "codes",
    "tags": "codes",
    "coded_by": "coder",
    "reviewer": "coder",
    "extractor": "coder",
}


@dataclass(frozen=True)
class SheetCmoc:
    """A CMOC as one row of a CMOC spreadsheet gives it, before it is matched to the project."""

    #: Row number as the spreadsheet shows it (the header is row 1).
    row_number: int
    study: str
    context: str | None = None
    mechanism_resource: str | None = None
    mechanism_reasoning: str | None = None
    outcome: str | None = None
    statement: str | None = None
    quote: str | None = None
    page: int | None = None
    codes: list[str] = field(default_factory=list)
    coder: str | None = None


def normalise_header(header: Any) -> str:
    name = "_".join(str(header or "").strip().lower().replace("-", " ").split())
    return _ALIASES.get(name, name)


def read_cmoc_sheet(path: str | os.PathLike[str]) -> tuple[list[SheetCmoc], list[str]]:
    """Read a CMOC spreadsheet. Raises ImportFailed when it cannot be read or lacks ``study``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".xlsm", ".tsv", ".txt"):
        raise ImportFailed(
            tr("{name}: CMOC spreadsheets must be .csv or .xlsx. Save the sheet in one of those formats.").format(
                name=path.name
            )
        )
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ImportFailed(
            tr("Cannot read {name}: {reason}. Check that the file exists and is not open elsewhere.").format(
                name=path.name, reason=err.strerror or err
            )
        ) from None
    if suffix in (".xlsx", ".xlsm"):
        table = _read_xlsx(data, path.name)
    else:
        table, warnings = _read_csv(data, path.name)
        rows, row_warnings = _rows(table, path.name)
        return rows, warnings + row_warnings
    return _rows(table, path.name)


def _read_csv(data: bytes, name: str) -> tuple[list[list[str]], list[str]]:
    from cmo_desk.importers.fulltext import decode_text

    text, warnings = decode_text(data, name)
    text = text.lstrip("\ufeff")
    sample = text[:20000]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        table = [row for row in csv.reader(io.StringIO(text, newline=""), dialect)]
    except csv.Error as err:
        raise ImportFailed(
            tr("{name} is not a readable CSV file ({reason}). Save it again from the spreadsheet program.").format(
                name=name, reason=err
            )
        ) from None
    return table, warnings


def _read_xlsx(data: bytes, name: str) -> list[list[Any]]:
    from cmo_desk.importers.fulltext.containers import open_zip_checked

    open_zip_checked(data, name, "Excel (.xlsx)").close()
    # openpyxl directly rather than pandas: cells keep their own types (no NaN, no float page numbers).
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds of errors on damaged files
        raise ImportFailed(
            tr("{name} is damaged or is not a real Excel file. Open it in Excel or LibreOffice and save it again.").format(
                name=name
            )
        ) from None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            return []
        # The sheet's declared size may be absurd (one cell at XFD1048576 in a 5 KB file would
        # make openpyxl fill in seventeen thousand million empty cells): read within limits.
        rows: list[list[Any]] = []
        for row in sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 1, max_col=MAX_COLUMNS):
            values = list(row)
            while values and values[-1] is None:
                values.pop()
            rows.append(values)
        if len(rows) > MAX_ROWS:
            raise ImportFailed(
                tr("{name} has more than {rows} rows; a CMOC sheet that long is not read. Split it into "
                   "smaller sheets.").format(name=name, rows=f"{MAX_ROWS:,}")
            )
        return rows[:MAX_ROWS]
    except ImportFailed:
        raise
    except Exception:  # noqa: BLE001 - rows are parsed lazily: damage shows up while reading them
        raise ImportFailed(
            tr("{name} is damaged or is not a real Excel file. Open it in Excel or LibreOffice and save it again.").format(
                name=name
            )
        ) from None
    finally:
        workbook.close()


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).replace("\r\n", "\n").strip()
    return text or None


def _page(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value) if value >= 0 else None
    match = re.search(r"\d+", str(value))
    return int(match.group()) if match else None


def _rows(table: list[list[Any]], name: str) -> tuple[list[SheetCmoc], list[str]]:
    # The header is the first row that is not empty.
    start = next((i for i, row in enumerate(table) if any(_cell(c) for c in row)), None)
    if start is None:
        raise ImportFailed(tr("{name} is empty. Add a header row and one row per CMOC.").format(name=name))
    headers = [normalise_header(h) for h in table[start]]
    missing = [c for c in REQUIRED if c not in headers]
    if missing:
        raise ImportFailed(
            tr("{name} has no '{column}' column. Add it (the study's label, DOI or title) and import again.").format(
                name=name, column=missing[0]
            )
        )
    positions = {h: headers.index(h) for h in COLUMNS if h in headers}
    warnings: list[str] = []
    unknown = [str(table[start][i]) for i, h in enumerate(headers) if h and h not in COLUMNS]
    if unknown:
        warnings.append(
            tr("Columns not used: {columns}. Known columns: {known}.").format(
                columns=", ".join(unknown), known=", ".join(COLUMNS)
            )
        )
    rows: list[SheetCmoc] = []
    for offset, raw in enumerate(table[start + 1 :], start=start + 2):
        values = {c: (raw[i] if i < len(raw) else None) for c, i in positions.items()}
        if not any(_cell(v) for v in values.values()):
            continue
        study = _cell(values.get("study"))
        if not study:
            warnings.append(tr("Row {row} has no study; skipped.").format(row=offset))
            continue
        page = _page(values.get("page"))
        if _cell(values.get("page")) and page is None:
            warnings.append(
                tr("Row {row}: page '{page}' is not a number; left empty.").format(
                    row=offset, page=_cell(values.get("page"))
                )
            )
        codes_text = _cell(values.get("codes")) or ""
        codes = [c.strip() for c in re.split(r"[;\n]", codes_text) if c.strip()]
        rows.append(
            SheetCmoc(
                row_number=offset,
                study=study,
                context=_cell(values.get("context")),
                mechanism_resource=_cell(values.get("mechanism_resource")),
                mechanism_reasoning=_cell(values.get("mechanism_reasoning")),
                outcome=_cell(values.get("outcome")),
                statement=_cell(values.get("statement")),
                quote=_cell(values.get("quote")),
                page=page,
                codes=list(dict.fromkeys(codes)),
                coder=_cell(values.get("coder")),
            )
        )
    return rows, warnings


# --- finding quotes ---------------------------------------------------------------------------

#: Characters ignored when comparing a quote with the text: spacing, hyphens and dashes (line-end
#: hyphenation, "well-known" vs "well known"), and every kind of quotation mark.
_IGNORED = frozenset(
    " \t\n\r\f\v\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b\u202f\u205f\u3000"
    "-\u00ad\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
    "'\"\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u00ab\u00bb\u2039\u203a`\u00b4\ufffe"
)
_ELLIPSIS_RE = re.compile(r"\s*(?:\[\s*(?:\.\s*){3}\]|\(\s*(?:\.\s*){3}\)|\.\s*\.\s*\.|…)\s*")


def _fold(ch: str) -> str:
    if ch in _IGNORED:
        return ""
    ch = fix_ligatures(ch).casefold()
    if ch.isascii():
        return ch
    return "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))


class QuoteLocator:
    """A document's text normalised once, for finding many quotes in it."""

    def __init__(self, text: str) -> None:
        chars: list[str] = []
        origin: list[int] = []
        for index, ch in enumerate(text):
            folded = _fold(ch)
            for c in folded:
                chars.append(c)
                origin.append(index)
        self.text = text
        self._folded = "".join(chars)
        self._origin = origin

    def _spans(self, needle: str, start: int = 0) -> list[int]:
        found = []
        position = self._folded.find(needle, start)
        while position >= 0:
            found.append(position)
            position = self._folded.find(needle, position + 1)
        return found

    def locate(
        self, quote: str, page: int | None = None, page_starts: list[int] | None = None
    ) -> tuple[int, int] | None:
        """(start, end) offsets of ``quote`` in the text, preferring an occurrence on ``page``.

        An ellipsis in the quote ("...", "[…]") stands for omitted words: the span runs from
        the first part to the last."""
        parts = [p for p in (("".join(_fold(c) for c in part)) for part in _ELLIPSIS_RE.split(quote)) if p]
        if not parts:
            return None
        candidates: list[tuple[int, int]] = []
        for first in self._spans(parts[0]):
            cursor = first + len(parts[0])
            ok = True
            for part in parts[1:]:
                nxt = self._folded.find(part, cursor)
                if nxt < 0:
                    ok = False
                    break
                cursor = nxt + len(part)
            if ok:
                candidates.append((self._origin[first], self._origin[cursor - 1] + 1))
            if len(candidates) >= 50:
                break
        if not candidates:
            return None
        if page is not None and page_starts:
            import bisect

            for span in candidates:
                if bisect.bisect_right(page_starts, span[0]) == page:
                    return span
        return candidates[0]


@lru_cache(maxsize=8)
def _locator(text: str) -> QuoteLocator:
    return QuoteLocator(text)


def locate_quote(
    text: str, quote: str, page: int | None = None, page_starts: list[int] | None = None
) -> tuple[int, int] | None:
    """Find ``quote`` in ``text`` despite differences in spacing, line breaks, hyphenation, case,
    accents, ligatures and quotation marks. Returns offsets into the original ``text``."""
    if not text or not quote or not quote.strip():
        return None
    return _locator(text).locate(quote, page, page_starts)
