"""Text in the GIFs, drawn with Pillow in matplotlib's default font (DejaVu Sans) so it looks
like the figures': the sizes, the font, captions pasted from cached pieces of text (a caption
changes every frame), and labels turned upright.
"""

import re
from functools import cache, lru_cache
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .palette import GREY_LUT

DPI = 100
PX = DPI / 72  # pixels per point
TITLE_PT, CAPTION_PT, PANEL_PT, LABEL_PT, TICK_PT, ROW_PT = 12, 11, 10, 9, 8, 15
INK = (0, 0, 0)


@cache
def font(pt: float, bold: bool = False) -> ImageFont.FreeTypeFont:
    """DejaVu Sans, matplotlib's default, from matplotlib's own files: the GIFs' text looks like
    the figures' and needs no system font."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(
        str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name), round(pt * PX)
    )


def text_px(text: str, pt: float, bold: bool = False) -> float:
    return font(pt, bold).getlength(text)


@cache
def half_digit(pt: float) -> float:
    """Half the height of a digit: a label's baseline this far below a tick centres it."""
    return -font(pt).getbbox("0", anchor="ls")[1] / 2


@lru_cache(maxsize=8192)
def _word(word, pt):
    """A word's coverage (uint8 mask), its offset from the pen on the baseline, its advance: a
    caption is pasted from cached words, ~10x faster than Pillow drawing every caption."""
    f = font(pt)
    left, top, right, bottom = f.getbbox(word, anchor="ls")
    right, bottom = max(right, left + 1), max(bottom, top + 1)  # a run of spaces: no ink
    im = Image.new("L", (right - left, bottom - top), 0)
    ImageDraw.Draw(im).text((-left, -top), word, font=f, fill=255, anchor="ls")
    return np.asarray(im), left, top, f.getlength(word)


def _paste_max(cover, mask, x, y):
    """cover = max(cover, mask placed at (x, y)), clipped to cover."""
    h, w = cover.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + mask.shape[1], w), min(y + mask.shape[0], h)
    if x1 > x0 and y1 > y0:
        part = cover[y0:y1, x0:x1]
        np.maximum(part, mask[y0 - y : y1 - y, x0 - x : x1 - x], out=part)


def _pieces(text):
    """A caption in pieces to paste: runs without digits (the same in every frame: each drawn
    once, then cached) and single digits (numbers change every frame; digits have no kerning)."""
    return [p for p in re.split(r"(\d)", text) if p]


def caption_strip(text: str, w: int, h: int, pt: float = CAPTION_PT) -> np.ndarray:
    """A line of text centred in an h x w strip, as palette indices (greys)."""
    pieces = [_word(p, pt) for p in _pieces(text)]
    cover = np.zeros((h, w), np.uint8)
    pen, base = (w - sum(p[3] for p in pieces)) / 2, round(h / 2 + half_digit(pt))
    for mask, left, top, advance in pieces:
        _paste_max(cover, mask, round(pen) + left, base + top)
        pen += advance
    return GREY_LUT[255 - cover]


def draw_text(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    pt: float,
    anchor: str,
    fill: tuple = INK,
    bold: bool = False,
) -> None:
    """A line of text at xy, placed by Pillow's `anchor` (e.g. 'ms': middle, baseline)."""
    draw.text(xy, text, font=font(pt, bold), fill=fill, anchor=anchor)


def upright(
    img: Image.Image, centre: tuple[float, float], text: str, pt: float, fill: tuple = INK
) -> None:
    """Text turned a quarter anticlockwise (read from the bottom up), centred on `centre`."""
    mask, _, _, _ = _word(text, pt)
    mask = Image.fromarray(mask).transpose(Image.Transpose.ROTATE_90)
    img.paste(fill, (round(centre[0] - mask.width / 2), round(centre[1] - mask.height / 2)), mask)
