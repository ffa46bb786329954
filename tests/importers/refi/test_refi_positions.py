"""REFI-QDA selection positions land on exactly the quoted characters, whichever way the program
that wrote the file counted them: Unicode code points (the standard, QualCoder, CMO Desk), UTF-16
code units (NVivo), with a Windows line end as one character (ATLAS.ti, MAXQDA) or two (NVivo).
A position that fits no text refuses the file, naming the source, instead of importing the rest."""

from __future__ import annotations

import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmo_desk.domain.errors import ImportFailed
from cmo_desk.domain.records import Document, Excerpt
from cmo_desk.exporters.refi import write_qdpx
from cmo_desk.importers.refi import read_qdpx

from .conftest import ANNA, CORPUS

SOURCE_GUID = "44444444-4444-4444-4444-444444444444"


def _zip(path: Path, entries: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def _project(selections: list[tuple[int, int, str]], origin: str, source: str = "Interview 7") -> str:
    sels = "".join(
        f'<PlainTextSelection guid="55555555-5555-5555-5555-{n:012d}" name="{name}" '
        f'startPosition="{start}" endPosition="{end}"/>'
        for n, (start, end, name) in enumerate(selections)
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="p" origin="{origin}"><Sources>
  <TextSource guid="{SOURCE_GUID}" name="{source}" plainTextPath="internal://{SOURCE_GUID}.txt">{sels}</TextSource>
</Sources></Project>"""


def _cp(text: str, quote: str) -> tuple[int, int]:
    start = text.index(quote)
    return start, start + len(quote)


def _utf16(text: str, index: int) -> int:
    return len(text[:index].encode("utf-16-le")) // 2


# A transcript as Windows programs write it: CRLF line ends, a BOM, emoji, CJK, combining marks.
LINES = [
    "Entrevistadora: ¿Cómo llegó al programa?",
    "Participante: Una amiga me trajo \U0001F64F y la enfermera me escuchó.",
    "Entrevistadora: ¿Y después?",
    "Participante: Dejé de compartir jeringas. 在诊所里我感到安全。",
    "Nota: cafe\u0301 con la trabajadora de pares \U0001F469\u200D\u2695\uFE0F cada semana.",
]
TEXT_LF = "\n".join(LINES)
TEXT_CRLF = "\r\n".join(LINES)
QUOTES = [
    "Una amiga me trajo",
    "la enfermera me escuchó",
    "Dejé de compartir jeringas",
    "在诊所里我感到安全",
    "cafe\u0301 con la trabajadora de pares",
    "cada semana.",  # the very end of the text
]


def _imported_quotes(result) -> list[str]:
    (doc,) = result.documents
    for e in result.excerpts:
        assert doc.text[e.start : e.end] == e.quote
    return [e.quote for e in result.excerpts]


@pytest.mark.parametrize("named", [True, False])
def test_atlas_ti_counts_a_windows_line_end_as_one_character(tmp_path, named):
    # ATLAS.ti writes the text with CRLF but counts each line end as one character (QualCoder's
    # importer turns its CRLF check off for ATLAS.ti files for this reason).
    sels = [(*_cp(TEXT_LF, q), q[:12] if named else "") for q in QUOTES]
    path = _zip(tmp_path / "atlas.qdpx", {
        "project.qde": _project(sels, "ATLAS.ti 23.2.1"),
        f"sources/{SOURCE_GUID}.txt": b"\xef\xbb\xbf" + TEXT_CRLF.encode("utf-8"),
    })
    result = read_qdpx(path)
    assert _imported_quotes(result) == QUOTES
    assert "\r" not in result.documents[0].text
    assert not [line for line in result.skipped if "position" in line]


@pytest.mark.parametrize("named", [True, False])
def test_nvivo_counts_utf16_units_and_a_windows_line_end_as_two(tmp_path, named):
    # What NVivo 12.6 for Windows writes: a BOM, CRLF, UTF-16 offsets into the CRLF text, no names.
    sels = []
    for q in QUOTES:
        start, end = _cp(TEXT_CRLF, q)
        sels.append((_utf16(TEXT_CRLF, start), _utf16(TEXT_CRLF, end), q[:12] if named else ""))
    path = _zip(tmp_path / "nvivo.qdpx", {
        "project.qde": _project(sels, "NVivo for Windows 12.6"),
        f"sources/{SOURCE_GUID}.txt": b"\xef\xbb\xbf" + TEXT_CRLF.encode("utf-8"),
    })
    result = read_qdpx(path)
    assert _imported_quotes(result) == QUOTES
    assert "\r" not in result.documents[0].text


def test_code_points_over_the_file_with_two_character_line_ends(tmp_path):
    # The standard's own reading (code points of the file as it is), as a Python program writes it.
    sels = [(*_cp(TEXT_CRLF, q), q[:12]) for q in QUOTES]
    path = _zip(tmp_path / "cp.qdpx", {
        "project.qde": _project(sels, "QualCoder 3.6"),
        f"sources/{SOURCE_GUID}.txt": TEXT_CRLF.encode("utf-8"),
    })
    assert _imported_quotes(read_qdpx(path)) == QUOTES


def test_old_mac_line_ends_count_one_character_either_way(tmp_path):
    text_cr = "\r".join(LINES)
    sels = [(*_cp(text_cr, q), "") for q in QUOTES]
    path = _zip(tmp_path / "cr.qdpx", {
        "project.qde": _project(sels, "MAXQDA 2022"),
        f"sources/{SOURCE_GUID}.txt": text_cr.encode("utf-8"),
    })
    result = read_qdpx(path)
    assert _imported_quotes(result) == QUOTES
    assert result.documents[0].text == TEXT_LF


def test_a_zero_length_selection_keeps_its_place(tmp_path):
    start = TEXT_LF.index("Dejé")
    path = _zip(tmp_path / "zero.qdpx", {
        "project.qde": _project([(start, start, "")], "MAXQDA 2022"),
        f"sources/{SOURCE_GUID}.txt": TEXT_LF.encode("utf-8"),
    })
    (excerpt,) = read_qdpx(path).excerpts
    assert (excerpt.start, excerpt.end, excerpt.quote) == (start, start, "")


# Past the end in every reading: the text's length in UTF-16 code units, plus one.
PAST_THE_END = len(TEXT_LF.encode("utf-16-le")) // 2 + 1


@pytest.mark.parametrize(("start", "end"), [(5, 10_000), (-3, 4), (30, 20), (PAST_THE_END, PAST_THE_END)])
def test_a_position_outside_the_text_refuses_the_file_naming_the_source(tmp_path, start, end):
    # A hand-edited file: one selection past the end. Nothing is imported (no half of the file),
    # nothing is clamped, and the message says which source and which positions.
    sels = [(*_cp(TEXT_LF, "Una amiga me trajo"), ""), (start, end, "")]
    path = _zip(tmp_path / "edited.qdpx", {
        "project.qde": _project(sels, "MAXQDA 2022", source="Entrevista 7"),
        f"sources/{SOURCE_GUID}.txt": TEXT_LF.encode("utf-8"),
    })
    with pytest.raises(ImportFailed) as err:
        read_qdpx(path)
    message = str(err.value)
    assert "Entrevista 7" in message and str(start) in message and str(end) in message
    assert str(len(TEXT_LF)) in message


# --- CMO Desk -> .qdpx -> CMO Desk keeps every quote on the same characters ------------------

def _round_trip(tmp_path: Path, snapshot, text: str, spans: list[tuple[int, int]]):
    doc = Document(id="7e1d9b3c-3333-4e2a-b5f6-0000000000ee", study_id=snapshot.studies[0].id,
                   filename="ugly.txt", media_type="text/plain", sha256="x", text=text, page_starts=[0])
    excerpts = tuple(
        Excerpt(id=f"9e1d9b3c-3333-4e2a-b5f6-{n:012d}", document_id=doc.id, study_id=doc.study_id,
                start=s, end=e, quote=text[s:e], owner_id=ANNA)
        for n, (s, e) in enumerate(spans)
    )
    snap = replace(snapshot, documents=(doc,), excerpts=excerpts, cmocs=(), consensus=())
    out = tmp_path / "ugly.qdpx"
    write_qdpx(snap, out)
    imported = read_qdpx(out)
    (back,) = [d for d in imported.documents if d.filename == "ugly.txt"]
    assert back.text == text
    got = sorted((e.start, e.end, e.quote) for e in imported.excerpts if e.document_id == back.id)
    assert got == sorted((s, e, text[s:e]) for s, e in spans)


def test_a_text_that_starts_with_a_byte_order_mark_round_trips(tmp_path, snapshot):
    text = "\ufeffIntro \U0001F600 then the words."
    _round_trip(tmp_path, snapshot, text, [(0, 1), (1, 6), (len(text) - 6, len(text)), (3, 3)])


def test_ugly_texts_round_trip(tmp_path, snapshot):
    text = "\ufeff" + TEXT_CRLF + "\rlast\u0301 \U0001F600"
    spans = [_cp(text, q) for q in QUOTES] + [(len(text) - 2, len(text)), (len(text), len(text)), (0, 0)]
    _round_trip(tmp_path, snapshot, text, spans)


# Any text a document can hold (no lone surrogates, which no file can carry) and any spans in it.
_TEXTS = st.lists(
    st.one_of(
        st.characters(blacklist_categories=("Cs",)),
        st.sampled_from(["\r\n", "\r", "\n", "\ufeff", "\U0001F600", "\u0301", "诊", "\U00020000"]),
    ),
    max_size=60,
).map("".join)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), text=_TEXTS)
def test_any_text_and_spans_round_trip(tmp_path_factory, snapshot, data, text):
    bounds = st.integers(min_value=0, max_value=len(text))
    spans = data.draw(st.lists(st.tuples(bounds, bounds).map(sorted).map(tuple), max_size=5))
    _round_trip(tmp_path_factory.mktemp("rt"), snapshot, text, spans)


# --- what other programs may count differently is named in the export report ---------------

def _export_notes(tmp_path: Path, snapshot, text: str, quotes: list[str]) -> list[str]:
    doc = Document(id="7e1d9b3c-3333-4e2a-b5f6-0000000000ee", study_id=snapshot.studies[0].id,
                   filename="ugly.txt", media_type="text/plain", sha256="x", text=text, page_starts=[0])
    excerpts = tuple(
        Excerpt(id=f"9e1d9b3c-3333-4e2a-b5f6-{n:012d}", document_id=doc.id, study_id=doc.study_id,
                start=text.index(q), end=text.index(q) + len(q), quote=q, owner_id=ANNA)
        for n, q in enumerate(quotes)
    )
    snap = replace(snapshot, documents=(doc,), excerpts=excerpts, cmocs=(), consensus=())
    return [line for line in write_qdpx(snap, tmp_path / "n.qdpx") if "NVivo" in line]


def test_export_names_the_passages_nvivo_may_place_elsewhere(tmp_path, snapshot):
    # Two of the quotes come after an emoji: NVivo counts it as two units, the standard as one.
    notes = _export_notes(tmp_path, snapshot, TEXT_LF, ["Entrevistadora", "Dejé de compartir", "cada semana."])
    (line,) = notes
    assert "2" in line and "check" in line


def test_export_of_plain_texts_adds_no_such_note(tmp_path, snapshot):
    assert _export_notes(tmp_path, snapshot, "Plain words, 在诊所里, cafe\u0301.", ["Plain", "在诊所里"]) == []


# --- each way of counting, checked against the encodings themselves ---------------------------

@settings(max_examples=100, deadline=None)
@given(raw=_TEXTS, utf16=st.booleans(), crlf_as_two=st.booleans())
def test_every_reading_maps_each_character_boundary_back(raw, utf16, crlf_as_two):
    from cmo_desk.importers.refi.positions import PositionMap, Reading, lf_line_ends

    text = lf_line_ends(raw)
    conv = PositionMap(raw, Reading(utf16, crlf_as_two))
    # Where each character of the LF text starts in the raw text.
    raw_at, r = [], 0
    for ch in text:
        raw_at.append(r)
        r += 2 if ch == "\n" and raw.startswith("\r\n", r) else 1
    raw_at.append(len(raw))
    units_at = []
    for at in raw_at:
        prefix = raw[:at] if crlf_as_two else lf_line_ends(raw[:at])
        units_at.append(len(prefix.encode("utf-16-le")) // 2 if utf16 else len(prefix))
    for index, units in enumerate(units_at):
        assert conv.to_code_points(units) == index
        if index < len(text) and units_at[index + 1] - units == 2:  # inside a two-unit character
            assert conv.to_code_points(units + 1) is None


# --- a real NVivo export, when the shared corpus has it ---------------------------------------

NVIVO_REAL = CORPUS / "qdpx" / "nvivo12-windows-emoji-crlf.qdpx"


@pytest.mark.skipif(not NVIVO_REAL.exists(), reason="the NVivo 12.6 export is not in the corpus")
def test_a_real_nvivo_export_lands_on_word_boundaries():
    """github:DEpt-metagenom/pyqdpx oltas0517.qdpx (blob ba5034b1, MIT): NVivo 12.6 for Windows,
    a BOM, CRLF, about 890 emoji per source, 303 unnamed selections. As UTF-16 units 300 of them
    start and end on word boundaries; as code points 49."""
    result = read_qdpx(NVIVO_REAL)
    assert len(result.excerpts) == 303
    assert not [line for line in result.skipped if "position" in line]
    texts = {d.id: d.text for d in result.documents}
    assert not any("\r" in t for t in texts.values())

    def on_boundary(text: str, pos: int) -> bool:
        return pos <= 0 or pos >= len(text) or not (text[pos - 1].isalnum() and text[pos].isalnum())

    fitting = [e for e in result.excerpts
               if on_boundary(texts[e.document_id], e.start) and on_boundary(texts[e.document_id], e.end)]
    assert len(fitting) >= 300
