"""The programme-theory diagram: context -> mechanism -> outcome for each review CMOC.

One deterministic layout (no font metrics, no randomness: the same theory gives the same bytes)
is written as SVG by hand and drawn as PNG with Pillow, so the exporters need neither Qt nor a
network. Text is wrapped by counting characters, counting wide (CJK) characters as two.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from cmo_desk.domain.errors import ExportFailed
from cmo_desk.domain.i18n import char_columns, tr
from cmo_desk.domain.synthesis import TheoryEvidence
from cmo_desk.exporters import atomic_target
from cmo_desk.exporters.textclean import one_line

BOX_W = 250
GAP = 60
LABEL_W = 80
MARGIN = 20
LINE_H = 17
FONT_SIZE = 13
PAD = 8
WRAP = 32  # narrow characters per line in a box
MAX_LINES = 6
TITLE_H = 34
HEAD_H = 24

FILL = {"context": "#e8f5e9", "mechanism": "#e3f2fd", "outcome": "#ffebee"}
STROKE = {"context": "#2e7d32", "mechanism": "#1565c0", "outcome": "#c62828"}


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int
    kind: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Label:
    x: int
    y: int
    text: str
    bold: bool = False
    size: int = FONT_SIZE


@dataclass(frozen=True)
class Arrow:
    x1: int
    y1: int
    x2: int
    y2: int


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    boxes: tuple[Box, ...]
    labels: tuple[Label, ...]
    arrows: tuple[Arrow, ...]


def wrap(text: str, limit: int = WRAP, max_lines: int = MAX_LINES) -> tuple[str, ...]:
    """Break text into lines of at most ``limit`` narrow characters, at spaces where possible."""
    text = one_line(text)
    lines: list[str] = []
    line, width = "", 0
    for word in text.split(" "):
        for piece in _split_wide(word, limit):
            w = sum(char_columns(c) for c in piece)
            sep = 1 if line and not _is_wide(line[-1]) and not _is_wide(piece[:1]) else 0
            if line and width + sep + w > limit:
                lines.append(line)
                line, width = piece, w
            else:
                line += " " * sep + piece
                width += sep + w
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(0, len(lines[-1]) - 1)] + "…"
    return tuple(lines)


def _is_wide(ch: str) -> bool:
    return bool(ch) and char_columns(ch) == 2


def _split_wide(word: str, limit: int) -> list[str]:
    """Pieces of a word to place on lines: wide (CJK) text has no spaces, so it flows one
    character at a time; a Latin word longer than a line is cut into line-sized pieces."""
    if any(_is_wide(c) for c in word):
        return list(word)
    return [word[i:i + limit] for i in range(0, len(word), limit)] or [""]


def layout(theory: TheoryEvidence, lang: str = "en") -> Layout:
    """Rows of context -> mechanism -> outcome boxes, one row per review CMOC, in label order."""
    t = theory.theory
    title = " ".join(x for x in (t.label or "", f"({t.version})" if t.version else "") if x)
    labels = [Label(MARGIN, MARGIN + 18, title, bold=True, size=16)]
    x_c = MARGIN + LABEL_W
    xs = {"context": x_c, "mechanism": x_c + BOX_W + GAP, "outcome": x_c + 2 * (BOX_W + GAP)}
    y = MARGIN + TITLE_H
    for kind, head in (("context", tr("Context", lang)), ("mechanism", tr("Mechanism", lang)),
                       ("outcome", tr("Outcome", lang))):
        labels.append(Label(xs[kind], y + 14, head, bold=True))
    y += HEAD_H
    boxes: list[Box] = []
    arrows: list[Arrow] = []
    if not theory.review_cmocs:
        labels.append(Label(x_c, y + 20, tr("No review CMOCs yet.", lang)))
        y += 40
    for r in theory.review_cmocs:
        rc = r.record
        mech = "; ".join(x for x in (rc.mechanism_resource, rc.mechanism_reasoning) if x)
        outcome = rc.outcome or ""
        if rc.outcome_direction:
            outcome = f"{outcome} ({rc.outcome_direction})"
        texts = {"context": wrap(rc.context or "—"), "mechanism": wrap(mech or "—"),
                 "outcome": wrap(outcome or "—")}
        h = max(len(v) for v in texts.values()) * LINE_H + 2 * PAD
        for kind, lines in texts.items():
            boxes.append(Box(xs[kind], y, BOX_W, h, kind, lines))
        mid = y + h // 2
        arrows.append(Arrow(xs["context"] + BOX_W, mid, xs["mechanism"], mid))
        arrows.append(Arrow(xs["mechanism"] + BOX_W, mid, xs["outcome"], mid))
        labels.append(Label(MARGIN, mid + 5, rc.label or "", bold=True))
        y += h + 16
    width = xs["outcome"] + BOX_W + MARGIN
    return Layout(width, y + MARGIN - 16, tuple(boxes), tuple(labels), tuple(arrows))


# -- SVG ---------------------------------------------------------------------------------------


def to_svg(lay: Layout) -> str:
    font = "DejaVu Sans, Noto Sans, Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif"
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{lay.width}" height="{lay.height}" '
        f'viewBox="0 0 {lay.width} {lay.height}" font-family="{font}" '
        f'font-size="{FONT_SIZE}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#424242"/></marker>'
        '</defs>',
        f'<rect width="{lay.width}" height="{lay.height}" fill="#ffffff"/>',
    ]
    for b in lay.boxes:
        out.append(f'<rect x="{b.x}" y="{b.y}" width="{b.w}" height="{b.h}" rx="6" '
                   f'fill="{FILL[b.kind]}" stroke="{STROKE[b.kind]}" stroke-width="1.5"/>')
        for i, line in enumerate(b.lines):
            out.append(f'<text x="{b.x + PAD}" y="{b.y + PAD + (i + 1) * LINE_H - 4}">'
                       f'{escape(line)}</text>')
    for a in lay.arrows:
        out.append(f'<line x1="{a.x1}" y1="{a.y1}" x2="{a.x2 - 2}" y2="{a.y2}" '
                   'stroke="#424242" stroke-width="1.5" marker-end="url(#arrow)"/>')
    for lb in lay.labels:
        weight = ' font-weight="bold"' if lb.bold else ""
        size = f' font-size="{lb.size}"' if lb.size != FONT_SIZE else ""
        out.append(f'<text x="{lb.x}" y="{lb.y}"{weight}{size}>{escape(lb.text)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


# -- PNG ---------------------------------------------------------------------------------------

_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "/Library/Fonts",
              "/System/Library/Fonts", os.path.expanduser("~/.fonts"),
              os.path.join(os.environ.get("WINDIR", "C:\\Windows"), "Fonts"))
_LATIN = ("DejaVuSans.ttf", "NotoSans-Regular.ttf", "arial.ttf", "Arial.ttf",
          "LiberationSans-Regular.ttf", "Helvetica.ttc")
_LATIN_BOLD = ("DejaVuSans-Bold.ttf", "NotoSans-Bold.ttf", "arialbd.ttf", "Arial Bold.ttf",
               "LiberationSans-Bold.ttf")
_CJK = ("NotoSansCJK-Regular.ttc", "NotoSansSC-Regular.otf", "wqy-microhei.ttc",
        "wqy-zenhei.ttc", "msyh.ttc", "simhei.ttf", "PingFang.ttc", "STHeiti Light.ttc",
        "DroidSansFallbackFull.ttf")


def _find_font(names: tuple[str, ...]) -> str | None:
    wanted = {n.lower() for n in names}
    for folder in _FONT_DIRS:
        if not os.path.isdir(folder):
            continue
        for root, _dirs, files in sorted(os.walk(folder)):
            for f in sorted(files):
                if f.lower() in wanted:
                    return os.path.join(root, f)
    return None


def _fonts(lay: Layout) -> tuple[object, object, bool]:
    from PIL import ImageFont

    text = "".join(lb.text for lb in lay.labels) + "".join("".join(b.lines) for b in lay.boxes)
    wide = any(_is_wide(c) for c in text)
    regular = (_find_font(_CJK) if wide else None) or _find_font(_LATIN)
    bold = (_find_font(_CJK) if wide else None) or _find_font(_LATIN_BOLD) or regular
    missing_wide = wide and _find_font(_CJK) is None

    def load(path: str | None, size: int) -> object:
        if path:
            return ImageFont.truetype(path, size)
        return ImageFont.load_default(size)

    return (lambda size: load(regular, size)), (lambda size: load(bold, size)), missing_wide


def to_png(lay: Layout, scale: int = 2) -> tuple[bytes, list[str]]:
    """The diagram as PNG bytes, with notes (a missing font for Chinese text)."""
    from PIL import Image, ImageDraw

    regular, bold, missing_wide = _fonts(lay)
    img = Image.new("RGB", (lay.width * scale, lay.height * scale), "#ffffff")
    draw = ImageDraw.Draw(img)
    s = scale
    for b in lay.boxes:
        draw.rounded_rectangle((b.x * s, b.y * s, (b.x + b.w) * s, (b.y + b.h) * s),
                               radius=6 * s, fill=FILL[b.kind], outline=STROKE[b.kind],
                               width=2 * s // 2 + 1)
        font = regular(FONT_SIZE * s)  # type: ignore[operator]
        for i, line in enumerate(b.lines):
            draw.text(((b.x + PAD) * s, (b.y + PAD + (i + 1) * LINE_H - 4) * s), line,
                      fill="#212121", font=font, anchor="ls")
    for a in lay.arrows:
        draw.line((a.x1 * s, a.y1 * s, (a.x2 - 8) * s, a.y2 * s), fill="#424242", width=2 * s)
        draw.polygon([(a.x2 * s, a.y2 * s), ((a.x2 - 10) * s, (a.y2 - 5) * s),
                      ((a.x2 - 10) * s, (a.y2 + 5) * s)], fill="#424242")
    for lb in lay.labels:
        font = (bold if lb.bold else regular)(lb.size * s)  # type: ignore[operator]
        draw.text((lb.x * s, lb.y * s), lb.text, fill="#212121", font=font, anchor="ls")
    buf = io.BytesIO()
    # A diagram has few colours: as a palette image it is half the bytes and encodes ten times
    # faster than full colour (a 50-CMOC theory in well under a second).
    img = img.quantize(colors=48, method=Image.Quantize.FASTOCTREE)
    img.save(buf, format="PNG", compress_level=1)
    notes = []
    if missing_wide:
        notes.append(tr("No Chinese font was found on this computer, so Chinese text in the "
                        "PNG diagram may show as boxes; the SVG diagram shows it correctly."))
    return buf.getvalue(), notes


def write_diagram(theories: tuple[TheoryEvidence, ...], path: str | os.PathLike[str],
                  lang: str = "en") -> tuple[Path, list[str]]:
    """Write the diagram of every theory, one under another, as .svg or .png."""
    target = Path(path)
    suffix = target.suffix.lower()
    lay = stack([layout(t, lang) for t in theories])
    notes: list[str] = []
    with atomic_target(target) as tmp:
        try:
            if suffix == ".svg":
                tmp.write_text(to_svg(lay), encoding="utf-8")
            else:
                data, notes = to_png(lay)
                tmp.write_bytes(data)
        except OSError as err:
            raise ExportFailed(tr("Cannot write {path}: {reason}. Free some space or choose "
                                  "another folder.").format(path=target,
                                                            reason=err.strerror or err)) from err
    return target, notes


def stack(layouts: list[Layout]) -> Layout:
    """Several theories' layouts one under another, as one picture."""
    if not layouts:
        return Layout(400, 60, (), (Label(MARGIN, 36, tr("No programme theories yet.")),), ())
    boxes: list[Box] = []
    labels: list[Label] = []
    arrows: list[Arrow] = []
    dy = 0
    for lay in layouts:
        boxes += [Box(b.x, b.y + dy, b.w, b.h, b.kind, b.lines) for b in lay.boxes]
        labels += [Label(lb.x, lb.y + dy, lb.text, lb.bold, lb.size) for lb in lay.labels]
        arrows += [Arrow(a.x1, a.y1 + dy, a.x2, a.y2 + dy) for a in lay.arrows]
        dy += lay.height
    return Layout(max(lay.width for lay in layouts), dy, tuple(boxes), tuple(labels),
                  tuple(arrows))
