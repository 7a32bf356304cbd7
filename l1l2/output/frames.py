"""A GIF's frames: rendered as the static sheet plus the regions that change (each heatmap, where
every weight is a colour level and every unit a block of pixels, and the caption), then written
as a GIF by hand: one global palette, and after the first frame only the rectangle that changed.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from PIL import GifImagePlugin, Image

from .gif_timing import durations_ms, motion, pick_frames
from .palette import PALETTE, UNCHANGED, symmetric_scale, to_levels
from .sheet import Layout, draw_sheet, layout
from .text import caption_strip


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
