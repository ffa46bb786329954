"""Reading scanned pages: optical character recognition that never touches the network.

Two engines, both offline:

- **Tesseract**, when the ``tesseract`` program is installed (Debian/Ubuntu: ``tesseract-ocr`` plus
  ``tesseract-ocr-rus``, ``tesseract-ocr-chi-sim``, … for each language). Its language models are
  files on the machine; nothing is fetched when it runs.
- **RapidOCR** (``pip install ".[ocr]"``), whose Chinese and English models ship inside the
  package.

Pages are rendered one at a time (memory stays bounded whatever the page count), recognised, and
returned with a confidence per page, so the desk can tell coders to check quotes against the page
image. Heavy libraries are imported only when recognition runs.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from cmo_desk.domain.errors import Cancelled, ImportFailed
from cmo_desk.domain.i18n import tr

ProgressCallback = Callable[[int, int], None]
CancelCallback = Callable[[], bool]

#: Resolution pages are rendered at for recognition (Tesseract reads 200–300 dpi best).
RENDER_DPI = 300
#: A page wider or taller than this many pixels once rendered is scaled down (a poster-sized page
#: would otherwise take gigabytes).
MAX_PIXELS_SIDE = 7000
#: One page may take this long before recognition of it is abandoned.
PAGE_TIMEOUT_S = 180

#: Languages a user may ask for, by Tesseract's names, with the script they are written in.
LANGUAGES: dict[str, str] = {
    "eng": "Latin",
    "spa": "Latin",
    "fra": "Latin",
    "por": "Latin",
    "rus": "Cyrillic",
    "ukr": "Cyrillic",
    "chi_sim": "Chinese",
    "ara": "Arabic",
}
#: What is recognised when the user does not say: the Latin and Cyrillic languages that are
#: installed (Chinese is asked for explicitly: mixing it in lowers accuracy on Latin text).
DEFAULT_LANGUAGES = ("eng", "rus")


@dataclass(frozen=True)
class RecognisedText:
    pages: list[str]
    #: Mean confidence of the words of each page, 0–1 (0 for a page where nothing was read).
    confidences: list[float]
    #: Engine name and version, e.g. "Tesseract 5.3.0 (eng+rus)".
    engine: str
    warnings: list[str] = field(default_factory=list)


class OcrUnavailable(ImportFailed):
    """No engine can read the requested languages on this machine."""


@cache
def tesseract_program() -> str | None:
    return shutil.which("tesseract")


@cache
def tesseract_languages() -> frozenset[str]:
    program = tesseract_program()
    if not program:
        return frozenset()
    try:
        out = subprocess.run([program, "--list-langs"], capture_output=True, text=True,
                             timeout=30, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(line.strip() for line in out.splitlines()[1:] if line.strip())


@cache
def tesseract_version() -> str:
    program = tesseract_program()
    if not program:
        return ""
    try:
        out = subprocess.run([program, "--version"], capture_output=True, text=True,
                             timeout=30, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    first = out.splitlines()[0] if out else ""
    return first.replace("tesseract", "").strip()


def rapidocr_available() -> bool:
    try:
        import importlib.util

        return importlib.util.find_spec("rapidocr_onnxruntime") is not None
    except (ImportError, ValueError):
        return False


def available_languages() -> list[str]:
    """Languages this machine can recognise, in the order of :data:`LANGUAGES`."""
    langs = set(tesseract_languages())
    if rapidocr_available():
        langs |= {"eng", "chi_sim"}
    return [code for code in LANGUAGES if code in langs]


def how_to_install() -> str:
    return tr(
        "Text recognition (OCR) is not installed. Install Tesseract with the languages you need "
        "(Debian/Ubuntu: sudo apt install tesseract-ocr tesseract-ocr-rus tesseract-ocr-chi-sim), "
        "or the OCR extra (pip install \"cmo-desk[ocr]\"), then try again."
    )


def choose_languages(requested: list[str] | None) -> list[str]:
    """The languages to recognise: those requested (all must be installed), else the defaults that
    are installed. Raises :class:`OcrUnavailable` with what to install."""
    available = available_languages()
    if not available:
        raise OcrUnavailable(how_to_install())
    if requested:
        unknown = [code for code in requested if code not in LANGUAGES]
        if unknown:
            raise ImportFailed(
                tr("Unknown OCR language {langs}. Choose from: {choices}.").format(
                    langs=", ".join(unknown), choices=", ".join(LANGUAGES)))
        missing = [code for code in requested if code not in available]
        if missing:
            raise OcrUnavailable(
                tr("The OCR language {langs} is not installed on this computer (installed: "
                   "{installed}). On Debian/Ubuntu install tesseract-ocr-{package}.").format(
                    langs=", ".join(missing), installed=", ".join(available),
                    package=missing[0].replace("_", "-")))
        return list(requested)
    chosen = [code for code in DEFAULT_LANGUAGES if code in available]
    return chosen or available[:1]


def recognise_pdf(
    data: bytes,
    filename: str,
    languages: list[str] | None = None,
    password: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCallback | None = None,
) -> RecognisedText:
    """Recognise the text of every page of a PDF, one page at a time."""
    import pypdfium2 as pdfium

    langs = choose_languages(languages)
    engine = _engine_for(langs)
    try:
        document = pdfium.PdfDocument(data, password=password)
    except pdfium.PdfiumError:
        raise ImportFailed(
            tr("{name} cannot be opened as a PDF for text recognition.").format(name=filename)
        ) from None
    pages: list[str] = []
    confidences: list[float] = []
    failed: list[int] = []
    try:
        total = len(document)
        for index in range(total):
            if cancel and cancel():
                raise Cancelled(tr("Text recognition was cancelled; nothing was changed."))
            page = document[index]
            try:
                width, height = page.get_size()
                scale = min(RENDER_DPI / 72, MAX_PIXELS_SIDE / max(width, height, 1))
                bitmap = page.render(scale=scale, grayscale=True)
                image = _GreyImage.from_bitmap(bitmap)
                bitmap.close()
            finally:
                page.close()
            try:
                text, confidence = engine.read(image, langs)
            except ImportFailed:
                raise
            except (OSError, subprocess.SubprocessError, ValueError):
                text, confidence = "", 0.0
                failed.append(index + 1)
            pages.append(text)
            confidences.append(confidence)
            if progress:
                progress(index + 1, total)
    finally:
        document.close()
    warnings = [tr("Text recognised by OCR ({engine}); check quotes against the page image.").format(
        engine=engine.name(langs))]
    if failed:
        warnings.append(tr("Pages {pages} could not be recognised.").format(
            pages=", ".join(str(p) for p in failed)))
    return RecognisedText(pages, confidences, engine.name(langs), warnings)


@dataclass(frozen=True)
class _GreyImage:
    """A rendered page: 8-bit grey pixels, row by row (no image library needed)."""

    width: int
    height: int
    pixels: bytes

    @classmethod
    def from_bitmap(cls, bitmap: object) -> _GreyImage:
        width, height = bitmap.width, bitmap.height  # type: ignore[attr-defined]
        stride = bitmap.stride  # type: ignore[attr-defined]
        raw = bytes(bitmap.buffer)  # type: ignore[attr-defined]
        if stride != width:
            raw = b"".join(raw[row * stride:row * stride + width] for row in range(height))
        return cls(width, height, raw)

    def save_pgm(self, path: Path) -> None:
        with open(path, "wb") as fh:
            fh.write(b"P5\n%d %d\n255\n" % (self.width, self.height))
            fh.write(self.pixels)


class _Tesseract:
    def name(self, langs: list[str]) -> str:
        return f"Tesseract {tesseract_version()} ({'+'.join(langs)})"

    def read(self, image: _GreyImage, langs: list[str]) -> tuple[str, float]:
        program = tesseract_program()
        if not program:
            raise OcrUnavailable(how_to_install())
        with tempfile.TemporaryDirectory(prefix="cmo-ocr-") as tmp:
            png = Path(tmp) / "page.pgm"
            image.save_pgm(png)
            env = dict(os.environ, OMP_THREAD_LIMIT="1")
            result = subprocess.run(
                [program, str(png), "stdout", "-l", "+".join(langs), "--psm", "3", "tsv"],
                capture_output=True, timeout=PAGE_TIMEOUT_S, check=False, env=env,
            )
        if result.returncode != 0:
            raise ValueError(result.stderr.decode("utf-8", "replace")[:200])
        return tsv_to_text(result.stdout.decode("utf-8", "replace"),
                           cjk=any(LANGUAGES.get(code) == "Chinese" for code in langs))


class _Rapid:
    def name(self, langs: list[str]) -> str:
        return "RapidOCR (onnxruntime)"

    @staticmethod
    @cache
    def _reader() -> object:
        from rapidocr_onnxruntime import RapidOCR  # type: ignore[import-not-found]

        return RapidOCR()

    def read(self, image: _GreyImage, langs: list[str]) -> tuple[str, float]:
        import numpy as np

        grey = np.frombuffer(image.pixels, dtype=np.uint8).reshape(image.height, image.width)
        result, _ = self._reader()(np.stack([grey] * 3, axis=-1))  # type: ignore[operator]
        if not result:
            return "", 0.0
        lines = sorted(result, key=lambda r: (round(r[0][0][1] / 20), r[0][0][0]))
        text = "\n".join(str(r[1]) for r in lines)
        confidence = sum(float(r[2]) for r in lines) / len(lines)
        return text, confidence


def _engine_for(langs: list[str]) -> _Tesseract | _Rapid:
    if all(code in tesseract_languages() for code in langs):
        return _Tesseract()
    if rapidocr_available() and set(langs) <= {"eng", "chi_sim"}:
        return _Rapid()
    raise OcrUnavailable(how_to_install())


def tsv_to_text(tsv: str, cjk: bool = False) -> tuple[str, float]:
    """Tesseract's TSV output -> the page's text (lines kept, blocks and paragraphs separated by a
    blank line) and the mean confidence (0–1) of its words."""
    reader = csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE)
    paragraphs: list[list[list[str]]] = []
    current_para: tuple[str, str, str] | None = None
    current_line: tuple[str, str, str, str] | None = None
    confidences: list[float] = []
    for row in reader:
        word = (row.get("text") or "").strip()
        if row.get("level") != "5" or not word:
            continue
        try:
            conf = float(row.get("conf") or -1)
        except ValueError:
            conf = -1
        if conf >= 0:
            confidences.append(conf / 100)
        para = (row["page_num"], row["block_num"], row["par_num"])
        line = (*para, row["line_num"])
        if para != current_para:
            paragraphs.append([])
            current_para = para
            current_line = None
        if line != current_line:
            paragraphs[-1].append([])
            current_line = line
        paragraphs[-1][-1].append(word)
    joiner = "" if cjk else " "
    text = "\n\n".join("\n".join(_join_words(words, joiner) for words in para)
                       for para in paragraphs)
    confidence = sum(confidences) / len(confidences) if confidences else 0.0
    return text, round(confidence, 3)


def _join_words(words: list[str], joiner: str) -> str:
    if joiner:
        return joiner.join(words)
    # Chinese: no spaces between CJK characters, but keep them between Latin words.
    out = ""
    for word in words:
        if out and out[-1].isascii() and out[-1].isalnum() and word[:1].isascii() and word[:1].isalnum():
            out += " "
        out += word
    return out
