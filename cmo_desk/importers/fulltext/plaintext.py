"""Plain text of unknown encoding: byte-order marks, UTF-16 without one, UTF-8, then a guess
between the code pages of Western and Central European text."""

from __future__ import annotations

from cmo_desk.domain.errors import ImportFailed
from cmo_desk.domain.i18n import tr
from cmo_desk.importers.fulltext.extracted import ExtractedText, finish_extraction
from cmo_desk.importers.textnorm import clean_text

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


#: How telling a letter is of the languages each code page serves (1 common, 0.5 rarer): a cp1250
#: reading is believed over cp1252 only when its letters are the likelier ones (otherwise Western
#: text is misread: "naïve" as "naďve", "Seán" as "Seįn").
_WESTERN_LETTERS = dict.fromkeys("éáíóúàèçñãõâêôüöäïëîûßÉÁÍÓÚÀÈÇÑÃÕÂÊÔÜÖÄÏËÎÛ", 1.0) | dict.fromkeys(
    "ìòùåæøÌÒÙÅÆØýÝ", 0.5
)
_CENTRAL_EUROPEAN_LETTERS = dict.fromkeys("čřšžěůłąęśćńźżőűățșşČŘŠŽĚŮŁĄĘŚĆŃŹŻŐŰĂȚȘŞ", 1.0) | dict.fromkeys(
    "ďťňľĺŕţĎŤŇĽĹŔŢ", 0.5
)
_CENTRAL_EUROPEAN_PAGES = frozenset({"cp1250", "iso8859_2", "latin_2", "mac_latin2", "cp852"})


def _letter_scores(western: str, central: str) -> tuple[float, float]:
    """How telling the letters are where the two readings differ."""
    pairs = [(a, b) for a, b in zip(western, central) if a != b]
    return (sum(_WESTERN_LETTERS.get(a, 0.0) for a, _ in pairs),
            sum(_CENTRAL_EUROPEAN_LETTERS.get(b, 0.0) for _, b in pairs))


def _bomless_utf16(data: bytes) -> str | None:
    """"utf-16-le"/"utf-16-be" when the bytes read as UTF-16 without a byte-order mark."""
    sample = data[:8192]
    if len(sample) < 8:
        return None
    sample = sample[: len(sample) - len(sample) % 2]
    even, odd = sample[0::2], sample[1::2]
    zeros_even, zeros_odd = even.count(0), odd.count(0)
    half = len(even)
    for encoding, zeros, other in (("utf-16-le", zeros_odd, zeros_even), ("utf-16-be", zeros_even, zeros_odd)):
        if zeros >= 2 and zeros * 5 >= half and other <= half // 100:
            try:
                data[: len(data) - len(data) % 2].decode(encoding)
            except UnicodeDecodeError:
                continue
            return encoding
    return None


def _guess_single_byte(data: bytes, sample: bytes) -> str:
    from charset_normalizer import from_bytes

    matches = list(from_bytes(sample))
    best = matches[0].encoding if matches else "cp1252"
    try:
        western = data.decode("cp1252")
    except UnicodeDecodeError:
        western = None
    if western is None:
        return best
    if best in _CENTRAL_EUROPEAN_PAGES:
        try:
            central = data.decode(best)
        except (UnicodeDecodeError, LookupError):
            return "cp1252"
        west, centre = _letter_scores(western, central)
        if centre > west:
            return best
    # Western European text decodes as many code pages; cp1252 is by far the most common for it.
    return "cp1252"


def decode_text(data: bytes, filename: str) -> tuple[str, list[str]]:
    """Decode bytes of unknown encoding: BOM, then UTF-16 without a BOM, then UTF-8, then a guess
    (with a warning)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            body = data[len(bom):] if encoding != "utf-8-sig" else data
            return body.decode(encoding, errors="replace"), []
    utf16 = _bomless_utf16(data)
    if utf16 is not None:
        return data.decode(utf16, errors="replace"), []
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    sample = data[:2_000_000]
    controls = sum(1 for byte in sample[:65536] if byte < 9 or 13 < byte < 32)
    if controls > len(sample[:65536]) // 50:
        raise ImportFailed(
            tr("{name} is not readable text (it looks like binary data). Check that it is the right file.").format(
                name=filename
            )
        )
    encoding = _guess_single_byte(data, sample)
    text = data.decode(encoding, errors="replace")
    warning = tr("The file is not UTF-8; it was read as {encoding} (a guess). Check accented letters.").format(
        encoding=encoding
    )
    return text, [warning]


def extract_txt(data: bytes, filename: str) -> ExtractedText:
    """The text of a plain-text file, its encoding detected."""
    text, warnings = decode_text(data, filename)
    if "\x00" in text[:4096] and text.count("\x00") > len(text) // 10:
        raise ImportFailed(
            tr("{name} is not readable text (it looks like binary data). Check that it is the right file.").format(
                name=filename
            )
        )
    text = clean_text(text)
    if not text.strip():
        raise ImportFailed(
            tr("{name} is empty: it holds no text, so no study was made from it. Check that it is the right file.").format(
                name=filename
            )
        )
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), None)
    title = first_line if first_line and len(first_line) <= 300 else None
    return finish_extraction([text], "text/plain", "cmo-desk text", data, warnings, title, None)
