"""Image-only PDFs made from known text, as a scanner would make them, and the character error rate."""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path

FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", str(Path.home() / ".fonts"))
LATIN_FONTS = ("DejaVuSerif.ttf", "DejaVuSans.ttf", "LiberationSerif-Regular.ttf")
CJK_FONTS = ("NotoSansCJK-Regular.ttc", "NotoSerifCJK-Regular.ttc", "wqy-zenhei.ttc",
             "wqy-microhei.ttc", "DroidSansFallbackFull.ttf")

ENGLISH = [
    "Peer workers reported that trust was built slowly,",
    "through repeated contact at the needle exchange and",
    "in the evening outreach sessions. Where police were",
    "present near the site, fewer people came, and those",
    "who did stayed for a shorter time.",
]
RUSSIAN = [
    "Равные консультанты рассказали, что доверие",
    "возникало постепенно, через повторные встречи",
    "в пункте обмена шприцев и на вечерних выездах.",
    "Когда рядом находилась полиция, людей приходило",
    "меньше, и они оставались ненадолго.",
]
CHINESE = [
    "同伴工作者表示，信任是在针具交换点",
    "和晚间外展活动中通过反复接触逐渐建立的。",
    "当警察出现在附近时，前来的人更少，",
    "而且停留的时间也更短。",
]


def find_font(names: tuple[str, ...]) -> str | None:
    for folder in FONT_DIRS:
        base = Path(folder)
        if not base.is_dir():
            continue
        for name in names:
            hits = list(base.rglob(name))
            if hits:
                return str(hits[0])
    return None


def scanned_pdf(pages: list[list[str]], font_path: str, dpi: int = 200) -> bytes:
    """An image-only PDF: each page a grey-scale picture of its lines, no text layer."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(font_path, size=int(dpi * 12 / 72))
    images = []
    for lines in pages:
        image = Image.new("L", (int(8.27 * dpi), int(11.69 * dpi)), 255)
        draw = ImageDraw.Draw(image)
        y = dpi
        for line in lines:
            draw.text((dpi, y), line, font=font, fill=0)
            y += int(dpi * 12 / 72 * 1.6)
        images.append(image)
    out = io.BytesIO()
    images[0].save(out, "PDF", resolution=float(dpi), save_all=True, append_images=images[1:])
    return out.getvalue()


def _normal(text: str, cjk: bool) -> str:
    text = unicodedata.normalize("NFC", text)
    return "".join(text.split()) if cjk else " ".join(text.split())


def character_error_rate(expected: str, got: str, cjk: bool = False) -> float:
    a, b = _normal(expected, cjk), _normal(got, cjk)
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1] / max(1, len(a))
