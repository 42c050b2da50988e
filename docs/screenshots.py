"""Regenerate the README's card screenshots from the shipped deck (not run in tests).

    python docs/screenshots.py [--chromium /usr/bin/chromium]

Builds decks/mlops.yaml in memory, renders it through Anki's own engine (needs the `anki`
package), and photographs single cards with headless Chromium, offline:
- docs/images/card-question.png: the back of a question card with a code block,
- docs/images/card-term.png: the front of a term's cloze card (the gap to fill).
Each image is cropped to the card and stored as a palette PNG (small, sharp text).

It also prints the shipped checklist as Chromium prints it (A4, `--print-to-pdf`) and turns
the pages into PNGs with poppler's `pdftoppm`:
- docs/images/checklist-first-page.png: the first lesson's page, at 96 dpi,
- docs/images/checklist-pages.png: every page, small, side by side (how many, how full).
`--checklist` makes only these two.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Literal

from PIL import Image, ImageChops

from mlops_cards.checklist import checklist_files
from mlops_cards.extract import find_lessons
from mlops_cards.manifest import load_manifest
from mlops_cards.merge import merge_lesson
from mlops_cards.preview import PreviewCard, card_page, make_preview
from mlops_cards.resolve import deck_manifests

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
WIDTH = 640  # about a desktop Anki window's card column; phones get the same layout
MARGIN = 12  # pixels kept around the card's content when cropping

# (output name, lesson file, card kind, item key, card template, side)
SHOTS: list[tuple[str, str, str, str, str, Literal["front", "back"]]] = [
    ("card-question.png", "04-testing.md", "question", "Q2", "Question", "back"),
    (
        "card-term.png",
        "08-monitoring-models-in-production.md",
        "cloze",
        "Delayed labels",
        "Cloze",
        "front",
    ),
]


# Headless and offline: without the background-networking flags Chromium keeps trying to
# reach hosts this machine cannot see.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def find_card(
    cards: list[tuple[str, PreviewCard]], lesson: str, kind: str, key: str, template: str
) -> PreviewCard:
    for path, card in cards:
        if Path(path).name == lesson and (card.kind, card.key, card.template) == (
            kind,
            key,
            template,
        ):
            return card
    raise SystemExit(f"no {kind} card {key!r} ({template}) in {lesson}: update SHOTS")


def screenshot(chromium: str, page: Path, png: Path, profile: Path) -> None:
    subprocess.run(
        [
            chromium,
            *FLAGS,
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            f"--window-size={WIDTH},2000",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )


def crop_and_save(raw: Path, target: Path) -> None:
    """Crop away the empty page below the card and store a small palette PNG."""
    with Image.open(raw) as image:
        rgb = image.convert("RGB")
    background = Image.new("RGB", rgb.size, rgb.getpixel((0, 0)))
    box = ImageChops.difference(rgb, background).getbbox()
    if box is None:
        raise SystemExit(f"{raw}: the screenshot is blank")
    bottom = min(rgb.height, box[3] + MARGIN + 8)
    card = rgb.crop((0, 0, rgb.width, bottom))
    card.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)


THUMB_WIDTH = 210  # pixels per page in checklist-pages.png
THUMBS_PER_ROW = 5


def checklist_pages(chromium: str, tmp: Path) -> None:
    """Print the shipped checklist with Chromium and store its pages as PNGs."""
    manifest = load_manifest(ROOT / "decks" / "mlops.yaml")
    lessons, errors = find_lessons([str(p) for p in manifest.lessons])
    if errors:
        raise SystemExit("\n".join(map(str, errors)))
    contents = [merge_lesson(lesson) for lesson in lessons]
    files = checklist_files(
        manifest.name,
        contents,
        manifest.output,
        ["html"],
        kinds=manifest.cards,
        card_templates=manifest.templates,
    )
    page = tmp / "checklist.html"
    page.write_bytes(files[f"{manifest.output}-checklist.html"])
    pdf = tmp / "checklist.pdf"
    subprocess.run(
        [
            chromium,
            *FLAGS,
            f"--user-data-dir={tmp / 'profile'}",
            f"--print-to-pdf={pdf}",
            "--no-pdf-header-footer",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    subprocess.run(["pdftoppm", "-r", "96", "-png", str(pdf), str(tmp / "page")], check=True)
    pngs = sorted(tmp.glob("page-*.png"), key=lambda p: int(p.stem.split("-")[1]))
    images = [Image.open(png).convert("RGB") for png in pngs]
    first = IMAGES / "checklist-first-page.png"
    images[1].quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(first, optimize=True)
    height = round(images[0].height * THUMB_WIDTH / images[0].width)
    rows = -(-len(images) // THUMBS_PER_ROW)
    gap = 8
    sheet = Image.new(
        "RGB",
        (THUMBS_PER_ROW * (THUMB_WIDTH + gap) + gap, rows * (height + gap) + gap),
        (233, 231, 225),
    )
    for n, image in enumerate(images):
        thumb = image.resize((THUMB_WIDTH, height), Image.Resampling.LANCZOS)
        x, y = n % THUMBS_PER_ROW, n // THUMBS_PER_ROW
        sheet.paste(thumb, (gap + x * (THUMB_WIDTH + gap), gap + y * (height + gap)))
    pages = IMAGES / "checklist-pages.png"
    sheet.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(pages, optimize=True)
    for target in (first, pages):
        sys.stdout.write(f"wrote {target} ({target.stat().st_size // 1024} KB)\n")
    sys.stdout.write(f"the checklist prints as {len(images)} A4 pages\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--checklist", action="store_true", help="only the checklist's pages")
    args = parser.parse_args()
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mlops-cards-pages-") as tmp:
        checklist_pages(args.chromium, Path(tmp))
    if args.checklist:
        return
    manifests = deck_manifests([str(ROOT / "decks" / "mlops.yaml")], IMAGES / "x.html")
    preview = make_preview(manifests, "anki")
    cards = [
        (lesson.path, card)
        for deck in preview.decks
        for lesson in deck.lessons
        for card in lesson.cards
    ]
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mlops-cards-shots-") as tmp:
        for name, lesson, kind, key, template, side in SHOTS:
            card = find_card(cards, lesson, kind, key, template)
            page = Path(tmp) / f"{name}.html"
            page.write_text(card_page(card, side=side), encoding="utf-8")
            raw = Path(tmp) / name
            screenshot(args.chromium, page, raw, Path(tmp) / "profile")
            crop_and_save(raw, IMAGES / name)
            size = (IMAGES / name).stat().st_size
            sys.stdout.write(f"wrote {IMAGES / name} ({size // 1024} KB)\n")


if __name__ == "__main__":
    main()
