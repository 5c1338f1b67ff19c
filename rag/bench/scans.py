"""Scanned pages made here, for the OCR tests and its accuracy figure: text rendered to an image
with Pillow (DejaVu fonts, which matplotlib ships), speckle noise and a slight rotation, saved as
an image-only PDF (no text layer) or as a photo-like PNG (uneven light, more noise).

``python -m rag.bench.scans`` reads generated pages with rag's OCR path and prints the character
accuracy against their source text: 1 - (edit distance / source length), white space runs
counted as one space.
"""

from __future__ import annotations

import argparse
import random
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DPI = 200
PAGE = (int(8.27 * DPI), int(11.69 * DPI))  # A4

GERMAN_PAGES = [
    ("Die Fähre von Nordby", [
        "Die Fähre zwischen Nordby und Vik fährt seit 1978 jeden Tag. Im Sommer legt sie um sieben "
        "Uhr morgens ab und kehrt um achtzehn Uhr zurück.",
        "Das neue Schiff Aurora trägt 240 Fahrgäste und 60 Autos. Es wurde in Danzig gebaut und "
        "fährt mit Batterien.",
    ]),
    ("Der Leuchtturm von Skarvik", [
        "Der Leuchtturm von Skarvik wurde im Jahr 1952 von der Wärterin Ingrid Holm rot und weiß "
        "gestrichen. Seitdem ist er von weit draußen auf dem Meer zu sehen.",
        "Heute wird das Licht vom Hafenamt in Nordby gesteuert, und im Turm ist ein kleines Museum.",
    ]),
]

ENGLISH_PAGE = ("Notice to visitors", [
    "The harbour museum of Nordby opens at ten in the morning from April to October. Guided tours "
    "of the old pilot boat start every hour.",
    "Tickets cost eight euros for adults; children under twelve enter for free.",
])


def font(size: int, bold: bool = False) -> Any:
    import matplotlib
    from PIL import ImageFont

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name), size)


def _wrap(draw: Any, text: str, typeface: Any, width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and draw.textlength(candidate, font=typeface) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    return lines + ([line] if line else [])


def render_page(heading: str, paragraphs: Sequence[str], seed: int = 0, rotation: float = 0.7,
                noise: float = 0.004, photo: bool = False, size: tuple[int, int] = PAGE,
                speck: int = 1, blur: float = 0.0) -> Any:
    """A page image (mode "L") holding ``heading`` and ``paragraphs``, with ``speck``-pixel specks
    on a ``noise`` share of the page, ``blur`` and rotation; ``photo`` adds uneven light and grey
    paper."""
    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(seed)
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    margin = int(size[0] * 0.12)
    body, title = font(int(DPI * 0.16)), font(int(DPI * 0.22), bold=True)
    y = margin
    draw.text((margin, y), heading, fill=0, font=title)
    y += int(DPI * 0.5)
    for paragraph in paragraphs:
        for line in _wrap(draw, paragraph, body, size[0] - 2 * margin):
            draw.text((margin, y), line, fill=20, font=body)
            y += int(DPI * 0.24)
        y += int(DPI * 0.18)
    pixels: Any = image.load()
    for _ in range(int(size[0] * size[1] * noise)):  # dust and toner specks
        x, yy = rng.randrange(size[0]), rng.randrange(size[1])
        value = rng.choice((0, 60, 255))
        for dx in range(speck):
            for dy in range(speck):
                pixels[min(x + dx, size[0] - 1), min(yy + dy, size[1] - 1)] = value
    if photo:  # light falling off towards one corner, grey paper, a soft focus
        shade = Image.linear_gradient("L").resize(size).point(lambda v: 255 - v // 4)
        image = Image.composite(image, Image.new("L", size, 200), shade.point(lambda v: 255 if v > 0 else 0))
        image = Image.blend(image, shade, 0.25).filter(ImageFilter.GaussianBlur(0.8))
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    return image.rotate(rotation, resample=Image.Resampling.BICUBIC, expand=False,
                        fillcolor=235 if photo else 255)


def source_text(heading: str, paragraphs: Sequence[str]) -> str:
    return "\n\n".join([heading, *paragraphs])


def make_scanned_pdf(path: Path, pages: Sequence[tuple[str, Sequence[str]]] = GERMAN_PAGES,
                     blank_pages: int = 0, **damage: Any) -> Path:
    """An image-only PDF (no text layer) of ``pages``, then ``blank_pages`` empty scans;
    ``damage``: more of :func:`render_page`'s noise options."""
    images = [render_page(h, p, seed=i, **{"rotation": 0.7 if i % 2 == 0 else -0.5, **damage})
              for i, (h, p) in enumerate(pages)]
    images += [render_page("", [], seed=99 + i, rotation=0) for i in range(blank_pages)]
    rgb = [im.convert("RGB") for im in images]
    rgb[0].save(path, "PDF", resolution=DPI, save_all=True, append_images=rgb[1:])
    for im in images:
        im.close()
    return path


# The harder pages of the accuracy figure: 2x2-pixel specks on 0.6% of the page, a blur, 1.5°.
HARD: dict[str, Any] = {"noise": 0.006, "speck": 2, "blur": 0.6, "rotation": 1.5}


def make_photo_png(path: Path, page: tuple[str, Sequence[str]] = ENGLISH_PAGE, **damage: Any) -> Path:
    image = render_page(page[0], page[1], **{"seed": 7, "rotation": 1.2, "noise": 0.006, "photo": True,
                                              **damage})
    image.save(path)
    return path


def normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def character_accuracy(read: str, source: str) -> float:
    """1 - edit distance / source length, white space runs as one space."""
    read, source = normalised(read), normalised(source)
    return max(0.0, 1.0 - edit_distance(read, source) / max(1, len(source)))


def page_texts(document: Any) -> list[str]:
    """Each page's text of a loaded document (``Document.pages`` split its text)."""
    starts = list(document.pages) + [len(document.text)]
    return [document.text[starts[i] : starts[i + 1]] for i in range(len(document.pages))]


def main(argv: Sequence[str] | None = None) -> int:
    import tempfile

    from rag.ingest.files import load_document

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rag-scans-") as tmp:
        folder = Path(tmp)
        rows = []
        started = time.perf_counter()
        for label, damage in (("", {}), (" hard", HARD)):
            pdf = load_document(make_scanned_pdf(folder / f"scan{label.strip()}.pdf", **damage), folder)
            for number, (text, page) in enumerate(zip(page_texts(pdf), GERMAN_PAGES, strict=True), start=1):
                source = source_text(*page)
                rows.append((f"scanned PDF{label} (German), page {number}",
                             character_accuracy(text, source), len(normalised(source))))
            png = load_document(make_photo_png(folder / f"notice{label.strip()}.png", **damage), folder)
            rows.append((f"photo-like PNG{label} (English)",
                         character_accuracy(png.text, source_text(*ENGLISH_PAGE)),
                         len(normalised(source_text(*ENGLISH_PAGE)))))
        seconds = time.perf_counter() - started
    total = sum(chars for _, _, chars in rows)
    for name, accuracy, chars in rows:
        print(f"{name:40s} {accuracy:6.2%}  ({chars} characters)")
    overall = sum(acc * chars for _, acc, chars in rows) / total
    print(f"{'all pages (weighted by length)':40s} {overall:6.2%}  ({total} characters, {seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
