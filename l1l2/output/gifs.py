"""Animated weight heatmaps, drawn as arrays of palette indices and written as GIFs.

Why arrays: redrawing every frame with matplotlib and quantizing it to 256 colours took ~11 s
for the default run's four GIFs and banded the colour bar. Here what never changes (titles,
unit ticks, axis labels, colour bar) is drawn once per GIF, with Pillow in matplotlib's font;
each frame only changes the heatmaps, where every weight is one of N_LEVELS colour-map levels and
every unit a block of pixels, and a caption pasted from cached pieces of text. Every pixel is a
palette index from the start: no quantization, exact colours, a colour bar with the very levels
the heatmaps use. The GIF stores, after the first frame, only the rectangle that changed.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.ticker import MaxNLocator
from PIL import GifImagePlugin, Image, ImageDraw, ImageFont

from .plots import METHOD_COLORS

CMAP = "RdBu_r"  # diverging, white at 0


def symmetric_scale(*stacks: np.ndarray) -> float:
    """One colour limit for a whole animation: the largest finite |w| over every frame and panel."""
    finite = [np.abs(s[np.isfinite(s)]).max(initial=0.0) for s in stacks]
    return float(max(finite, default=0.0)) or 1.0


# ---- frame timing ------------------------------------------------------------------------------

MIN_CS = 2  # browsers play GIF frames shorter than 20 ms at 100 ms: no frame gets less


def _last_cs(n_frames, total_cs, hold):
    """The held last frame: a `hold` fraction of the total, and at least two equal shares."""
    return max(round(total_cs * hold), round(2 * total_cs / (n_frames + 1)))


def max_frames(total_s: float, hold: float = 0.1) -> int:
    """The most frames a GIF of total_s can show with every frame at least 20 ms."""
    total_cs = round(total_s * 100)
    return max(
        n
        for n in range(1, total_cs // MIN_CS + 2)
        if total_cs - _last_cs(n, total_cs, hold) >= MIN_CS * (n - 1)
    )


def pick_frames(n_frames: int, total_s: float, hold: float = 0.1) -> np.ndarray:
    """Indices of the frames to show: all, or an even selection (first and last kept) that fits
    total_s."""
    k = min(n_frames, max_frames(total_s, hold))
    if k <= 1:
        return np.array([n_frames - 1])
    return np.round(np.linspace(0, n_frames - 1, k)).astype(int)


def durations_ms(
    n_frames: int, total_s: float, hold: float = 0.1, weights: np.ndarray | None = None
) -> list:
    """Per-frame durations in ms, multiples of 10 (GIF's unit), summing to total_s. The last frame
    is held (see _last_cs); the others get 20 ms each and split the rest in proportion to
    `weights` (equally by default). Refuses more frames than max_frames(total_s)."""
    total_cs = round(total_s * 100)
    if n_frames == 1:
        return [10 * total_cs]
    last = _last_cs(n_frames, total_cs, hold)
    spare = total_cs - last - MIN_CS * (n_frames - 1)
    if spare < 0:
        raise ValueError(f"{n_frames} frames do not fit in {total_s} s at {10 * MIN_CS} ms each")
    w = np.ones(n_frames - 1) if weights is None else np.asarray(weights[:-1], float)
    if not w.sum() > 0:
        w = np.ones(n_frames - 1)
    extra = spare * w / w.sum()
    cs = np.floor(extra).astype(int)
    cs[np.argsort(cs - extra)[: spare - cs.sum()]] += 1  # largest remainders get the leftover
    return [10 * int(MIN_CS + c) for c in cs] + [10 * last]


def motion(panels: list[tuple[str, np.ndarray]]) -> np.ndarray:
    """Per frame, how much the weights moved since the previous frame (sqrt of the summed
    |change|; the first frame gets the largest value): GIF time goes where the weights change."""
    change = sum(
        np.nansum(np.abs(np.diff(f, axis=0)).reshape(len(f) - 1, -1), axis=1) for _, f in panels
    )
    change = np.sqrt(np.asarray(change, float))
    return np.concatenate([[change.max(initial=0.0)], change])


def drawing_gb(sizes: Sequence[int], n_frames: int, total_s: float) -> float:
    """Memory the GIFs need at their peak, the L1-vs-L2 GIF (two models): the colour level of
    every weight in every frame kept (a byte each), the float temporaries of the largest layer
    while it is mapped to levels, and the static sheet (a panel is at most MAX_PANEL_PX
    square, whatever the layer's width)."""
    kept = min(n_frames, max_frames(total_s))
    layers = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
    sheet_px = 2 * len(layers) * (MAX_PANEL_PX + 150) ** 2
    return (kept * (2 * sum(layers) + 24 * max(layers)) + 8 * sheet_px) / 1e9


# ---- the palette: colour-map levels, greys for text, the method colours -----------------------

N_GREYS = 17  # black to white: text and its anti-aliasing, lines, background
N_LEVELS = 233  # colour-map levels; odd, so the middle one is centred on 0
GREY0 = N_LEVELS  # index of black; the greys follow, up to white
WHITE = GREY0 + N_GREYS - 1
BLACK = NOT_FINITE = GREY0  # a weight that is nan or inf is drawn black
METHOD_INDEX = {m: WHITE + 1 + i for i, m in enumerate(METHOD_COLORS)}
UNCHANGED = WHITE + 1 + len(METHOD_COLORS)  # transparent in a GIF: "as in the previous frame"


def _unique(colours):
    """Nudge repeated colours to the nearest free blue: then every colour names one index, and
    a GIF read back as colours (viewers, tests) still tells every level apart."""
    seen, out = set(), colours.astype(int)
    for c in out:
        blue = c[2]
        for step in (0, *(s * d for s in range(1, 256) for d in (1, -1))):  # nearest free blue
            c[2] = blue + step
            if 0 <= c[2] <= 255 and tuple(c) not in seen:
                break
        seen.add(tuple(c))
    return out.astype(np.uint8)


def _palette():
    cmap = matplotlib.colormaps[CMAP]
    levels = cmap((np.arange(N_LEVELS) + 0.5) / N_LEVELS)[:, :3]
    greys = np.repeat(np.linspace(0, 1, N_GREYS)[:, None], 3, axis=1)
    methods = [matplotlib.colors.to_rgb(c) for c in METHOD_COLORS.values()]
    spare = np.ones((256 - UNCHANGED, 3))  # never drawn
    return _unique(np.round(np.concatenate([levels, greys, methods, spare]) * 255))


PALETTE = _palette()  # [256, 3] uint8: index -> RGB
GREY_LUT = (GREY0 + np.round(np.arange(256) / 255 * (N_GREYS - 1))).astype(np.uint8)  # L -> index


def level_edges(vmax: float) -> np.ndarray:
    """The N_LEVELS + 1 weight values that bound the colour levels: level i shows weights in
    [edges[i], edges[i + 1]); the top level also shows vmax itself."""
    return np.linspace(-vmax, vmax, N_LEVELS + 1)


def to_levels(w: np.ndarray, vmax: float) -> np.ndarray:
    """Palette index of each weight: its colour level on the scale -vmax..vmax (values outside
    are clipped to the end levels), NOT_FINITE for nan and inf."""
    w = np.asarray(w, float)
    with np.errstate(invalid="ignore"):
        level = np.clip(np.floor((w + vmax) * (N_LEVELS / (2 * vmax))), 0, N_LEVELS - 1)
    return np.where(np.isfinite(w), level, NOT_FINITE).astype(np.uint8)


def to_palette(rgb: np.ndarray) -> np.ndarray:
    """Nearest palette index of every pixel of an RGB image (once per GIF, for the texts and
    lines; white, most of it, is taken as it is)."""
    rgb = rgb.astype(np.uint32)
    code = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    out = np.full(code.shape, WHITE, np.uint8)
    ink = code != 0xFFFFFF
    colours, inverse = np.unique(code[ink], return_inverse=True)
    rgb_u = np.stack([colours >> 16, (colours >> 8) & 255, colours & 255], axis=1).astype(int)
    drawable = PALETTE[:UNCHANGED].astype(int)
    dist = ((rgb_u[:, None, :] - drawable[None]) ** 2).sum(-1)
    out[ink] = np.argmin(dist, axis=1).astype(np.uint8)[inverse.ravel()]
    return out


# ---- text, drawn with Pillow in matplotlib's default font --------------------------------------

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
def _half_digit(pt):
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
    pen, base = (w - sum(p[3] for p in pieces)) / 2, round(h / 2 + _half_digit(pt))
    for mask, left, top, advance in pieces:
        _paste_max(cover, mask, round(pen) + left, base + top)
        pen += advance
    return GREY_LUT[255 - cover]


def _text(draw, xy, text, pt, anchor, fill=INK, bold=False):
    draw.text(xy, text, font=font(pt, bold), fill=fill, anchor=anchor)


def _upright(img, centre, text, pt, fill=INK):
    """Text turned a quarter anticlockwise (read from the bottom up), centred on `centre`."""
    mask, _, _, _ = _word(text, pt)
    mask = Image.fromarray(mask).transpose(Image.Transpose.ROTATE_90)
    img.paste(fill, (round(centre[0] - mask.width / 2), round(centre[1] - mask.height / 2)), mask)


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
        _text(draw, (x, base), str(i), TICK_PT, "ms")
    _text(draw, (x0 + w / 2, base + 3 + round(LABEL_PT * PX * 0.8)), X_LABEL, LABEL_PT, "ms")
    for i in unit_ticks(rows, h):
        y = y0 + int((i + 0.5) * h / rows)
        draw.line([(x0 - TICK_LEN - 1, y), (x0 - 2, y)], fill=INK)
        _text(draw, (x0 - TICK_LEN - 3, y + _half_digit(TICK_PT)), str(i), TICK_PT, "rs")
    label_x = x0 - _ticks_w(rows) - 2
    if flat:
        _text(draw, (label_x, y0 + h / 2 + _half_digit(LABEL_PT)), Y_LABEL, LABEL_PT, "rs")
    else:
        _upright(img, (label_x - LABEL_PT * PX / 2, y0 + h / 2), Y_LABEL, LABEL_PT)
    _text(draw, (x0 + w / 2, y0 - 8), title, PANEL_PT, "ms")


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
        _text(draw, (x0 + w + TICK_LEN + 3, y + _half_digit(TICK_PT)), label, TICK_PT, "ls")
    right = x0 + w + TICK_LEN + 3 + max(text_px(s, TICK_PT) for s in labels) + 4
    _upright(img, (right + LABEL_PT * PX / 2, y0 + h / 2), "weight value", LABEL_PT)
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
    _text(draw, (lay.size[0] / 2, 10), title, TITLE_PT, "ma", bold=True)
    for y, (label, method) in zip(lay.row_centres, row_labels):
        colour = tuple(int(c) for c in PALETTE[METHOD_INDEX.get(method, BLACK)])
        _text(draw, (10, y), label, ROW_PT, "lm", fill=colour, bold=True)
    index = to_palette(np.asarray(img))
    for box in lay.boxes:
        _frame(index, box)
    x0, y0, w, h = lay.cbar
    index[y0 : y0 + h, x0 : x0 + w] = colour_bar(h, w, vmax)
    _frame(index, lay.cbar)
    return index


# ---- frames -------------------------------------------------------------------------------------


def _pixel_map(n: int, px: int) -> np.ndarray:
    """For each of px pixels along an axis of n units, the unit it shows: blocks of px / n
    pixels, or, for a layer wider than its panel, every (n / px)-th unit."""
    return (np.arange(px) * n) // px


@dataclass
class Region:
    """A rectangle that changes from frame to frame: cells [F, rows, cols] of palette indices,
    pixel (y, x) of the rectangle showing cells[:, ys[y], xs[x]]. The heatmaps compare frames
    cell by cell (a 10x10 kernel is 100 cells, not 40 000 pixels)."""

    x0: int
    y0: int
    cells: np.ndarray
    ys: np.ndarray
    xs: np.ndarray

    def pixels(self, k: int, rows: slice = slice(None), cols: slice = slice(None)) -> np.ndarray:
        return self.cells[k][self.ys[rows]][:, self.xs[cols]]

    @cached_property
    def changes(self) -> tuple[np.ndarray, np.ndarray]:
        """(diff [F-1, rows, cols]: cells that differ from the frame before; spans [F-1, 4]: the
        first and past-the-last row and column of those cells, 0 0 0 0 where none), for all
        frames at once: NumPy over whole stacks, not a Python loop over frames."""
        diff = self.cells[1:] != self.cells[:-1]
        spans = []
        for hit in (diff.any(axis=2), diff.any(axis=1)):  # rows hit, columns hit
            first, last = hit.argmax(axis=1), hit.shape[1] - hit[:, ::-1].argmax(axis=1)
            spans += [np.where(hit.any(axis=1), first, 0), np.where(hit.any(axis=1), last, 0)]
        return diff, np.stack(spans, axis=1)


def heat_region(frames: np.ndarray, vmax: float, box: tuple[int, int, int, int]) -> Region:
    """A panel's heatmap in every frame: each weight its colour level, each unit a block."""
    x0, y0, w, h = box
    return Region(
        x0,
        y0,
        to_levels(frames, vmax),
        _pixel_map(frames.shape[1], h),
        _pixel_map(frames.shape[2], w),
    )


@dataclass
class Rendered:
    """An animation kept as its parts: the static sheet and the regions that change (heatmaps,
    caption). Whole frames are put together only on request (frame(k)): the GIF stores just
    what changed (see delta)."""

    sheet: np.ndarray  # [H, W] palette indices
    regions: list  # [Region], not overlapping
    layout: Layout
    vmax: float

    def __len__(self):
        return len(self.regions[0].cells)

    def frame(self, k: int) -> np.ndarray:
        """Frame k, whole, as palette indices [H, W]."""
        out = self.sheet.copy()
        for g in self.regions:
            out[g.y0 : g.y0 + len(g.ys), g.x0 : g.x0 + len(g.xs)] = g.pixels(k)
        return out


def render(
    panels: list[tuple[str, np.ndarray]],
    captions_: list[str],
    grid: tuple[int, int],
    title: str = "",
    row_labels: Sequence[tuple[str, str]] = (),
) -> Rendered:
    """Every frame of panels = [(title, frames [F, rows, cols])], all on one colour scale.
    row_labels: [(label, method)] drawn left of each grid row in the method's colour."""
    titles, stacks = [t for t, _ in panels], [np.asarray(f) for _, f in panels]
    shapes = [f.shape[1:] for f in stacks]
    vmax = symmetric_scale(*stacks)
    lay = layout(titles, shapes, grid, row_labels, [title, *captions_])
    bad = any(not np.isfinite(f).all() for f in stacks)
    notes = "one scale for\nall frames" + ("\nblack: not finite" if bad else "")
    sheet = draw_sheet(lay, titles, shapes, vmax, title, row_labels, notes)
    cx, cy, cw, ch = lay.caption
    strips = np.stack([caption_strip(text, cw, ch) for text in captions_])
    regions = [heat_region(f, vmax, box) for f, box in zip(stacks, lay.boxes)]
    regions.append(Region(cx, cy, strips, np.arange(ch), np.arange(cw)))
    return Rendered(sheet, regions, lay, vmax)


def _changed(g: Region, k: int):
    """(x, y, changed mask, pixels) of the smallest rectangle of region g around every pixel that
    differs between frames k - 1 and k, or None."""
    diff, spans = g.changes
    r0, r1, c0, c1 = spans[k - 1]
    if r1 == 0:
        return None
    ys = np.s_[np.searchsorted(g.ys, r0) : np.searchsorted(g.ys, r1 - 1, "right")]
    xs = np.s_[np.searchsorted(g.xs, c0) : np.searchsorted(g.xs, c1 - 1, "right")]
    mask = diff[k - 1][g.ys[ys]][:, g.xs[xs]]
    return g.x0 + xs.start, g.y0 + ys.start, mask, g.pixels(k, ys, xs)


def delta(r: Rendered, k: int) -> tuple:
    """Frame k (k >= 1) as the GIF stores it: ((x, y), crop), the smallest rectangle around every
    pixel that differs from frame k - 1, its unchanged pixels UNCHANGED (transparent: the viewer
    keeps frame k - 1's). Only the regions are compared; nothing else ever changes."""
    parts = [p for p in (_changed(g, k) for g in r.regions) if p is not None]
    if not parts:  # a frame that changes nothing: one transparent pixel keeps the frame count
        return (0, 0), np.full((1, 1), UNCHANGED, np.uint8)
    left, top = min(p[0] for p in parts), min(p[1] for p in parts)
    right = max(p[0] + p[2].shape[1] for p in parts)
    bottom = max(p[1] + p[2].shape[0] for p in parts)
    crop = np.full((bottom - top, right - left), UNCHANGED, np.uint8)
    for x, y, mask, cur in parts:
        h, w = mask.shape
        np.copyto(crop[y - top : y - top + h, x - left : x - left + w], cur, where=mask)
    return (int(left), int(top)), crop


def _image(index, palette=True):
    im = Image.fromarray(np.ascontiguousarray(index), "P")
    if palette:
        im.putpalette(PALETTE.tobytes())
    return im


def write_gif(path: str | Path, r: Rendered, durations: list[int]) -> None:
    """A looping GIF of the rendered frames with the given durations (ms): one global palette,
    colours exact (no quantization); after the first frame only the rectangle that changed
    (see delta). Pillow's own multi-frame writer would compare whole frames to find it."""
    first = _image(r.frame(0))
    header, _ = GifImagePlugin.getheader(first, info={"loop": 0})
    frame = {"disposal": 1, "transparency": UNCHANGED}  # 1: draw each frame over the last
    with open(path, "wb") as fp:
        fp.write(b"".join(header))
        for k, ms in enumerate(durations):
            offset, im = (0, 0), first
            if k:
                offset, crop = delta(r, k)
                im = _image(crop, palette=False)  # the global palette applies
            fp.write(b"".join(GifImagePlugin.getdata(im, offset, duration=ms, **frame)))
        fp.write(b";")


def write_png(path: str | Path, index: np.ndarray) -> None:
    _image(index).save(path, format="PNG")


def animate(
    path: str | Path,
    panels: list[tuple[str, np.ndarray]],
    captions_: list[str],
    grid: tuple[int, int],
    total_s: float,
    title: str = "",
    row_labels: Sequence[tuple[str, str]] = (),
) -> Rendered:
    """Render the panels' frames (as many as fit in total_s, see pick_frames) into a GIF, frame
    time following how much the weights move; return what was drawn."""
    keep = pick_frames(len(captions_), total_s)
    panels = [(t, np.asarray(f)[keep]) for t, f in panels]
    out = render(panels, [captions_[i] for i in keep], grid, title, row_labels)
    write_gif(path, out, durations_ms(len(keep), total_s, weights=motion(panels)))
    return out


# ---- what the frames say -----------------------------------------------------------------------

METHOD_NAMES = {"none": "no regularization", "l1": "L1", "l2": "L2", "l1l2": "L1+L2"}


def method_words(method: str, lam: float) -> str:
    """'L1 (lambda = 0.3)', or 'no regularization'."""
    name = METHOD_NAMES.get(method, method)
    return name if method == "none" else f"{name} (lambda = {lam:g})"


def frame_labels(rec: dict[str, Any]) -> list:
    """'initial weights', then 'epoch E of N' (or the step, between epochs) for later frames."""
    spe, steps = int(rec["steps_per_epoch"]), np.asarray(rec["frame_steps"])
    total = f" of {steps[-1] // spe}" if steps[-1] % spe == 0 else ""
    return ["initial weights"] + [
        f"epoch {s // spe}{total}" if s % spe == 0 else f"step {s} (epoch {s / spe:.2f})"
        for s in steps[1:]
    ]


def mean_costs(rec: dict[str, Any], r: int) -> list:
    """Per frame: the mean training cost over the SGD steps since the previous frame (nan for
    frame 0)."""
    steps = rec["frame_steps"]
    return [np.nan] + [rec["step_cost"][a:b, r].mean() for a, b in zip(steps[:-1], steps[1:])]


def frame_test_errors(rec: dict[str, Any]) -> np.ndarray | None:
    """[F, R] total absolute test error at every frame, if the recording has it, else None."""
    e = rec.get("frame_test_error")
    shape = (len(rec["frame_steps"]), len(rec["methods"]))
    return None if e is None or np.shape(e) != shape else np.asarray(e, float)


def frame_values(rec: dict[str, Any], models: list[int]) -> tuple[str, np.ndarray, str]:
    """(what, [F, len(models)] values, format) the captions show: the test error at each frame
    if recorded, else the mean training cost per step since the previous frame, named so it
    cannot be read as the total cost of results.csv."""
    errors = frame_test_errors(rec)
    if errors is not None:
        return "total absolute test error", errors[:, models], ".1f"
    spe, gaps = int(rec["steps_per_epoch"]), np.diff(rec["frame_steps"])
    since = "over the last epoch" if (gaps == spe).all() else "since the previous frame"
    costs = np.array([mean_costs(rec, r) for r in models], float).T
    return f"mean training cost per step {since}", costs, ".2f"


def _number(v, fmt):
    return format(v, fmt) if np.isfinite(v) else "not finite"


def captions(rec: dict[str, Any], models: Sequence[int], names: Sequence[str] = ()) -> list:
    """One caption per frame: the epoch and, for each model (named by `names` when several),
    the number frame_values chooses."""
    what, values, fmt = frame_values(rec, list(models))
    out = []
    for f, (label, row) in enumerate(zip(frame_labels(rec), values)):
        if f == 0 and np.isnan(row).all():
            out.append(label)  # no cost before the first step
        elif len(row) == 1:
            out.append(f"{label}  ·  {what} {_number(row[0], fmt)}")
        else:
            each = ", ".join(f"{n} {_number(v, fmt)}" for n, v in zip(names, row))
            out.append(f"{label}  ·  {what}: {each}")
    return out


def layer_panels(rec: dict[str, Any], r: int, prefix: str = "") -> list[tuple[str, np.ndarray]]:
    """One panel per kernel of model r: 'dense2 W (10x10)' and its frames [F, in, out]."""
    return [
        (f"{prefix}{name} W ({k.shape[2]}x{k.shape[3]})", k[:, r])
        for name, k in zip(rec["layers"], rec["kernels"])
    ]


def _run_words(rec, r):
    return f"run {rec['runs'][r]} (seed {rec['seeds'][r]})"


@dataclass
class Job:
    """One GIF to draw: weights_<name>.gif and .png."""

    name: str
    panels: list  # [(title, frames [F, rows, cols])]
    captions: list  # [F] strings
    grid: tuple  # (rows, cols) of panels
    title: str
    row_labels: tuple = ()


def jobs(rec: dict[str, Any]) -> list:
    """The default GIFs: the kernels of run 0 of every method, and L1 above L2 if both ran."""
    first = {m: i for i, (m, k) in enumerate(zip(rec["methods"], rec["runs"])) if k == 0}
    lam, n_layers = float(rec["lam"]), len(rec["layers"])
    out = [
        Job(
            m,
            layer_panels(rec, r),
            captions(rec, [r]),
            (2, -(-n_layers // 2)),
            f"{method_words(m, lam)}, {_run_words(rec, r)}: kernel weights while training",
        )
        for m, r in first.items()
    ]
    if "l1" in first and "l2" in first:
        a, b = first["l1"], first["l2"]
        seeds = rec["seeds"][a], rec["seeds"][b]
        start = (
            f"run {rec['runs'][a]} (seed {seeds[0]}), same initial weights"
            if seeds[0] == seeds[1]
            else f"seeds {seeds[0]} / {seeds[1]}"
        )
        out.append(
            Job(
                "l1_vs_l2",
                layer_panels(rec, a) + layer_panels(rec, b),
                captions(rec, [a, b], ("L1", "L2")),
                (2, n_layers),
                f"L1 (top) vs L2 (bottom), lambda = {lam:g}, {start}",
                (("L1", "l1"), ("L2", "l2")),
            )
        )  # a row per method
    return out


def write_all(folder: Path, rec: dict[str, Any], total_s: float) -> None:
    """weights_<method>.gif for run 0 of every method, and weights_l1_vs_l2.gif; a PNG of each
    last frame."""
    folder.mkdir(parents=True, exist_ok=True)
    for job in jobs(rec):
        out = animate(
            folder / f"weights_{job.name}.gif",
            job.panels,
            job.captions,
            job.grid,
            total_s,
            job.title,
            job.row_labels,
        )
        write_png(folder / f"weights_{job.name}.png", out.frame(len(out) - 1))
