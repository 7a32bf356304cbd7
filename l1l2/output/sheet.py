"""Where everything of a GIF goes, in pixels, and the static sheet: what never changes from frame
to frame (title, panel titles, unit ticks, axis labels, row labels, colour bar), drawn once per
GIF with Pillow and mapped to palette indices.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.ticker import MaxNLocator
from PIL import Image, ImageDraw

from .palette import BLACK, METHOD_INDEX, PALETTE, to_levels, to_palette
from .text import (
    INK,
    LABEL_PT,
    PANEL_PT,
    PX,
    ROW_PT,
    TICK_PT,
    TITLE_PT,
    draw_text,
    font,
    half_digit,
    text_px,
    upright,
)

# ---- layout, in pixels -------------------------------------------------------------------------

PANEL_PX, MAX_CELL, MAX_PANEL_PX = 200, 24, 240  # a 10-unit axis: 20 px a unit
MIN_AXIS_PX = 12  # a 1-unit axis beside 300-unit ones still shows
HEADER = 60  # the title line and the caption line
CAPTION_Y, CAPTION_H = 32, 24
TICK_LEN = 3
TOP = 26  # the panel title above a heatmap
BOTTOM = TICK_LEN + 2 + round(TICK_PT * PX) + 3 + round(LABEL_PT * PX) + 8  # ticks, x label
ROW_LABEL_W = 56
CBAR_W, CBAR_BAND, CBAR_NOTES = 14, 120, 18  # bar width, the band right of the panels; notes
Y_LABEL, X_LABEL = "input unit", "output unit"


def cell_px(shapes: Sequence[tuple[int, int]]) -> int:
    """Pixels per unit, the same in every panel of a GIF so the panels compare: a 10-unit axis
    gets 20 px; wide layers get at least 1 px a unit (then MAX_PANEL_PX caps the panel)."""
    return int(np.clip(PANEL_PX // max(max(s) for s in shapes), 1, MAX_CELL))


def axis_px(n: int, cell: int) -> int:
    """Length of an axis of n units: n cells, at least MIN_AXIS_PX, at most MAX_PANEL_PX."""
    return min(MAX_PANEL_PX, n * max(cell, -(-MIN_AXIS_PX // n)))


def unit_ticks(n: int, px: int) -> np.ndarray:
    """Unit indices to label along an axis of n units drawn px long: every unit up to 12, else
    a round step that leaves room for the labels."""
    room = max(1, min(12, px // (6 * len(str(n - 1)) + 8)))
    step = next(
        s
        for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000)
        if n / s <= room or s == 10_000
    )
    return np.arange(0, n, step)


@dataclass
class Layout:
    """Where everything of one GIF goes, in pixels from the top-left corner."""

    size: tuple  # (width, height)
    boxes: list  # per panel: (x0, y0, w, h) of its heatmap
    flat: list  # per panel: True if too short for an upright "input unit"
    cbar: tuple  # (x0, y0, w, h) of the colour bar
    caption: tuple  # (x0, y0, w, h) of the per-frame caption strip
    row_centres: list  # y of each grid row's middle, for the row labels


def _ticks_w(rows):
    return text_px(str(rows - 1), TICK_PT) + TICK_LEN + 4


def _slot(title, shape, w, h):
    """(left pad, slot width, slot height, flat) of one panel: room for its ticks, axis labels
    and title, the heatmap centred under a title (or x label) wider than itself."""
    flat = h < text_px(Y_LABEL, LABEL_PT) + 8
    ylabel_w = text_px(Y_LABEL, LABEL_PT) + 4 if flat else LABEL_PT * PX + 4
    overhang = max(text_px(title, PANEL_PT), text_px(X_LABEL, LABEL_PT)) / 2 - w / 2 + 8
    left, right = max(_ticks_w(shape[0]) + ylabel_w, overhang), max(12, overhang)
    return int(left), int(left + w + right), TOP + h + BOTTOM, flat


def layout(
    titles: Sequence[str],
    shapes: Sequence[tuple[int, int]],
    grid: tuple[int, int],
    row_labels: Sequence[tuple[str, str]] = (),
    texts: Sequence[str] = (),
) -> Layout:
    """Panels on a grid of (rows, cols), one cell size for all, the colour bar on the right; wide
    enough for every text in `texts` (title, captions)."""
    cell = cell_px(shapes)
    wh = [(axis_px(c, cell), axis_px(r, cell)) for r, c in shapes]
    slots = [_slot(t, s, w, h) for t, s, (w, h) in zip(titles, shapes, wh)]
    n_rows, n_cols = grid
    col_w, row_h = [0] * n_cols, [TOP + BOTTOM] * n_rows
    for i, (_, sw, sh, _) in enumerate(slots):
        col_w[i % n_cols] = max(col_w[i % n_cols], sw)
        row_h[i // n_cols] = max(row_h[i // n_cols], sh)
    left = ROW_LABEL_W if row_labels else 8
    content_w = left + sum(col_w) + CBAR_BAND
    width = int(max(content_w, max((text_px(t, TITLE_PT, True) for t in texts), default=0) + 24))
    x_grid = left + (width - content_w) // 2
    grid_h = max(sum(row_h), TOP + BOTTOM + CBAR_NOTES + 120)  # room for a colour bar
    boxes = []
    for i, ((w, h), (pad, sw, sh, _)) in enumerate(zip(wh, slots)):
        r, c = divmod(i, n_cols)
        x0 = x_grid + sum(col_w[:c]) + (col_w[c] - sw) // 2 + pad
        y0 = HEADER + sum(row_h[:r]) + (row_h[r] - sh) // 2 + TOP
        boxes.append((x0, y0, w, h))
    cbar = (x_grid + sum(col_w) + 12, HEADER + TOP, CBAR_W, grid_h - TOP - BOTTOM - CBAR_NOTES)
    centres = [HEADER + sum(row_h[:r]) + row_h[r] // 2 for r in range(n_rows)]
    return Layout(
        (width, HEADER + grid_h + 4),
        boxes,
        [s[3] for s in slots],
        cbar,
        (0, CAPTION_Y, width, CAPTION_H),
        centres,
    )


# ---- the static sheet: everything but the heatmaps and the caption, drawn once ------------------


def _panel_texts(img, draw, title, shape, box, flat):
    """Title, unit ticks (rows: input units, columns: output units, from 0) and axis labels."""
    x0, y0, w, h = box
    rows, cols = shape
    base = y0 + h + TICK_LEN + 2 + round(TICK_PT * PX * 0.8)
    for i in unit_ticks(cols, w):
        x = x0 + int((i + 0.5) * w / cols)
        draw.line([(x, y0 + h + 1), (x, y0 + h + TICK_LEN)], fill=INK)
        draw_text(draw, (x, base), str(i), TICK_PT, "ms")
    draw_text(draw, (x0 + w / 2, base + 3 + round(LABEL_PT * PX * 0.8)), X_LABEL, LABEL_PT, "ms")
    for i in unit_ticks(rows, h):
        y = y0 + int((i + 0.5) * h / rows)
        draw.line([(x0 - TICK_LEN - 1, y), (x0 - 2, y)], fill=INK)
        draw_text(draw, (x0 - TICK_LEN - 3, y + half_digit(TICK_PT)), str(i), TICK_PT, "rs")
    label_x = x0 - _ticks_w(rows) - 2
    if flat:
        draw_text(draw, (label_x, y0 + h / 2 + half_digit(LABEL_PT)), Y_LABEL, LABEL_PT, "rs")
    else:
        upright(img, (label_x - LABEL_PT * PX / 2, y0 + h / 2), Y_LABEL, LABEL_PT)
    draw_text(draw, (x0 + w / 2, y0 - 8), title, PANEL_PT, "ms")


def cbar_ticks(vmax: float) -> tuple:
    """Round tick values within -vmax..vmax, symmetric about 0, and their labels."""
    values = MaxNLocator(nbins=8, symmetric=True).tick_values(-vmax, vmax)
    values = values[np.abs(values) <= vmax * (1 + 1e-9)]
    step = np.diff(values).min() if len(values) > 1 else vmax
    decimals = max(0, -int(np.floor(np.log10(step))))
    return values, [f"{v:.{decimals}f}".replace("-", "\u2212") if v else "0" for v in values]


def _cbar_texts(img, draw, box, vmax, notes):
    """Ticks and values right of the bar, 'weight value' beside them, notes below."""
    x0, y0, w, h = box
    values, labels = cbar_ticks(vmax)
    for v, label in zip(values, labels):
        y = y0 + round((vmax - v) / (2 * vmax) * (h - 1))
        draw.line([(x0 + w + 1, y), (x0 + w + TICK_LEN, y)], fill=INK)
        draw_text(draw, (x0 + w + TICK_LEN + 3, y + half_digit(TICK_PT)), label, TICK_PT, "ls")
    right = x0 + w + TICK_LEN + 3 + max(text_px(s, TICK_PT) for s in labels) + 4
    upright(img, (right + LABEL_PT * PX / 2, y0 + h / 2), "weight value", LABEL_PT)
    draw.multiline_text((x0, y0 + h + 6), notes, font=font(TICK_PT), fill=INK, spacing=2)


def _frame(index, box, colour=BLACK):
    """A 1-px line just outside a box."""
    x0, y0, w, h = box
    index[y0 - 1, x0 - 1 : x0 + w + 1] = index[y0 + h, x0 - 1 : x0 + w + 1] = colour
    index[y0 - 1 : y0 + h + 1, x0 - 1] = index[y0 - 1 : y0 + h + 1, x0 + w] = colour


def colour_bar(h: int, w: int, vmax: float) -> np.ndarray:
    """The colour bar's pixels: row y shows the level of vmax - 2 vmax y / (h - 1), so +vmax at
    the top, -vmax at the bottom and, when h >= N_LEVELS, every level in between."""
    level = to_levels(np.linspace(vmax, -vmax, h), vmax)
    return np.repeat(level[:, None], w, axis=1)


def draw_sheet(
    lay: Layout,
    titles: Sequence[str],
    shapes: Sequence[tuple[int, int]],
    vmax: float,
    title: str,
    row_labels: Sequence[tuple[str, str]] = (),
    notes: str = "",
) -> np.ndarray:
    """The frame without heatmaps and caption, as palette indices: the texts drawn once with
    Pillow and mapped to the palette; the colour bar and the frames pasted as indices."""
    img = Image.new("RGB", lay.size, "white")
    draw = ImageDraw.Draw(img)
    for t, shape, box, flat in zip(titles, shapes, lay.boxes, lay.flat):
        _panel_texts(img, draw, t, shape, box, flat)
    _cbar_texts(img, draw, lay.cbar, vmax, notes)
    draw_text(draw, (lay.size[0] / 2, 10), title, TITLE_PT, "ma", bold=True)
    for y, (label, method) in zip(lay.row_centres, row_labels):
        colour = tuple(int(c) for c in PALETTE[METHOD_INDEX.get(method, BLACK)])
        draw_text(draw, (10, y), label, ROW_PT, "lm", fill=colour, bold=True)
    index = to_palette(np.asarray(img))
    for box in lay.boxes:
        _frame(index, box)
    x0, y0, w, h = lay.cbar
    index[y0 : y0 + h, x0 : x0 + w] = colour_bar(h, w, vmax)
    _frame(index, lay.cbar)
    return index
