"""Print each stored figure's smallest text, in pixels, as the site's content column shows it.

Usage: python -m tools.figure_sizes chapters/*.ipynb

Reads the font size and resolution that ``tools/execute_notebooks.py`` records in every
figure's PNG, and assumes the column is 688 px wide (the page at 1280 px). The site test
measures the same thing in the browser; this is the quick check while redrawing a figure.
"""

from __future__ import annotations

import base64
import io
import sys
from pathlib import Path

import nbformat
from PIL import Image

from tools.execute_notebooks import DPI_KEY, FONT_KEY

#: The content column as the site shows it at 1280 px, at the notebooks' 100 dpi.
COLUMN_PX = 688
#: The smallest text a figure may show, in CSS pixels, once scaled to the column (the site test's bound).
MIN_TEXT_PX = 9.0


def shown_text_px(info: dict, shown_width: float, natural_width: float) -> float:
    """The height in CSS pixels of a PNG's smallest text, shown ``shown_width`` px wide.

    ``info`` is the PNG's text chunks (``PIL.Image.info``), with the font size and resolution
    that ``tools/execute_notebooks.py`` recorded; an image is never shown wider than it is.
    """
    return float(info[FONT_KEY]) / 72 * float(info[DPI_KEY]) * min(1.0, shown_width / natural_width)


def report(path: Path) -> int:
    """Print one line per figure of ``path``; return how many are too small or unrecorded."""
    bad = 0
    for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" not in data:
                continue
            image = Image.open(io.BytesIO(base64.b64decode(data["image/png"])))
            name = cell.metadata.get("mystnb", {}).get("figure", {}).get("name", "(no name)")
            if FONT_KEY not in image.info:
                print(f"{path.name} cell {index} {name}: {image.width} px wide, no font recorded")
                bad += 1
                continue
            px = shown_text_px(image.info, COLUMN_PX, image.width)
            flag = "" if px >= MIN_TEXT_PX else f"  <-- under {MIN_TEXT_PX:g} px"
            bad += bool(flag)
            print(f"{path.name} cell {index} {name}: {image.width} px wide, smallest text "
                  f"{float(image.info[FONT_KEY]):g} pt = {px:.1f} px{flag}")
    return bad


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(1 if sum(report(Path(name)) for name in sys.argv[1:]) else 0)
