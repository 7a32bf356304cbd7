"""The weight GIFs of a run: the kernels of run 0 of every method while they train, and L1's above
L2's from the same initial weights (write_all); the memory that takes (drawing_gb).

matplotlib draws what never changes once: each panel's tile (title, unit ticks, axis labels),
each scale's colour bar, each GIF's title. That picture is mapped once to one palette; a frame is
a copy of it with the heatmaps pasted in (each weight a block of one colour-map level) and its
caption, pasted from pieces of text drawn once. Every frame uses that one palette: no
quantization per frame, no banding. A frame is stored as the rectangle that changed (gif_parts),
encoded by Pillow's GIF utilities.
"""

import importlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from ..lazy import Lazy
from .plots import METHOD_COLORS, mpl

iio = Lazy(lambda: importlib.import_module("imageio.v3"))  # imported on first use, like mpl
image = Lazy(lambda: importlib.import_module("PIL.Image"))
pil_gif = Lazy(lambda: importlib.import_module("PIL.GifImagePlugin"))

# ---- frame times -------------------------------------------------------------------------------

MIN_CS = 2  # browsers play GIF frames shorter than 20 ms at 100 ms: no frame gets less


def _last_cs(n_frames: int, total_cs: int, hold: float) -> int:
    """The held last frame: a `hold` fraction of the total, and at least two equal shares."""
    return max(round(total_cs * hold), round(2 * total_cs / (n_frames + 1)))


def max_frames(total_s: float, hold: float = 0.1) -> int:
    """The most frames a GIF of total_s can show with every frame at least 20 ms."""
    cs = round(total_s * 100)
    return max(
        n for n in range(1, cs // MIN_CS + 2) if cs - _last_cs(n, cs, hold) >= MIN_CS * (n - 1)
    )


def pick_frames(n_frames: int, total_s: float, hold: float = 0.1) -> np.ndarray:
    """Indices of the frames to show: all, or an even selection that fits total_s (first and last
    kept)."""
    k = min(n_frames, max_frames(total_s, hold))
    return np.round(np.linspace(0, n_frames - 1, max(k, 2))[-k:]).astype(int)  # k = 1: the last


def durations_ms(
    n_frames: int, total_s: float, hold: float = 0.1, weights: np.ndarray | None = None
) -> list[int]:
    """Per-frame durations in ms, multiples of 10 (GIF's unit), summing to total_s: the last frame
    held (see _last_cs), the others 20 ms each and the rest shared in proportion to `weights`
    (equally by default). Refuses more frames than max_frames(total_s)."""
    cs = round(total_s * 100)
    if n_frames == 1:
        return [10 * cs]
    last = _last_cs(n_frames, cs, hold)
    spare = cs - last - MIN_CS * (n_frames - 1)
    if spare < 0:
        raise ValueError(f"{n_frames} frames do not fit in {total_s} s at {10 * MIN_CS} ms each")
    w = np.ones(n_frames - 1) if weights is None else np.asarray(weights[:-1], float)
    extra = spare * (w / w.sum() if w.sum() > 0 else np.full(n_frames - 1, 1 / (n_frames - 1)))
    share = np.floor(extra).astype(int)
    share[np.argsort(share - extra)[: spare - share.sum()]] += 1  # largest remainders round up
    return [10 * int(MIN_CS + c) for c in share] + [10 * last]


def motion(stacks: Sequence[np.ndarray]) -> np.ndarray:
    """Per frame, how much the weights of all stacks [F, rows, cols] moved since the frame before
    (sqrt of the summed |change|, non-finite changes 0; frame 0 gets the largest): GIF time goes
    where they change."""
    finite = lambda d: np.nan_to_num(d, nan=0.0, posinf=0.0, neginf=0.0)  # from or to nan: 0
    change = np.sqrt(sum(np.abs(finite(np.diff(f, axis=0))).sum(axis=(1, 2)) for f in stacks))
    return np.concatenate([[change.max(initial=0.0)], change])


# ---- what the GIFs show ------------------------------------------------------------------------

METHOD_NAMES = {"none": "no regularization", "l1": "L1", "l2": "L2", "l1l2": "L1+L2"}


def method_words(method: str, lam: float) -> str:
    """'L1 (lambda = 0.3)', or 'no regularization'."""
    name = METHOD_NAMES.get(method, method)
    return name if method == "none" else f"{name} (lambda = {lam:g})"


def frame_labels(rec: dict[str, Any]) -> list[str]:
    """'initial weights', then 'epoch E of N' (or the step, between epochs) for later frames."""
    spe, steps = int(rec["steps_per_epoch"]), np.asarray(rec["frame_steps"])
    total = f" of {steps[-1] // spe}" if steps[-1] % spe == 0 else ""
    return ["initial weights"] + [
        f"epoch {s // spe}{total}" if s % spe == 0 else f"step {s} (epoch {s / spe:.2f})"
        for s in steps[1:]
    ]


def captions(rec: dict[str, Any], models: Sequence[int], names: Sequence[str] = ()) -> list[str]:
    """Per frame: its epoch and the total absolute test error of each model at that frame (named
    by `names` when several)."""
    errors = np.asarray(rec["frame_test_error"], float)[:, list(models)]
    num = lambda v: f"{v:.1f}" if np.isfinite(v) else "not finite"
    each = lambda row: ", ".join(f"{n} {num(v)}" for n, v in zip(names, row)) or num(row[0])
    return [
        f"{label}  ·  total absolute test error {each(row)}"
        for label, row in zip(frame_labels(rec), errors)
    ]


def panel_title(layer: str, rows: int, cols: int) -> str:
    """The title of a kernel's heatmap panel."""
    return f"{layer} W ({rows}x{cols})"


def draw_ahead(sizes: Sequence[int]) -> None:
    """Draw the panels of a network of these sizes (panel_tiles) before its weights are known."""
    layers = [f"dense{k}" for k in range(1, len(sizes))]  # model.layer_names of such a network
    panel_tiles(tuple((panel_title(*p), *p[1:]) for p in zip(layers, sizes[:-1], sizes[1:])))


@dataclass
class Job:
    """One GIF, weights_<name>.gif: groups [(row label, method, [(panel title, frames [F, rows,
    cols])])], each with its own colour scale and bar, their panels `cols` a row."""

    name: str
    title: str
    groups: list
    cols: int
    captions: list


def jobs(rec: dict[str, Any]) -> list[Job]:
    """The GIFs of a recording: the kernels of run 0 of every method (in two rows), and L1's above
    L2's (a row each) when both ran."""
    first = {m: r for r, (m, k) in enumerate(zip(rec["methods"], rec["runs"])) if k == 0}
    lam, n_layers = float(rec["lam"]), len(rec["layers"])
    panels = lambda r: [
        (panel_title(name, *k.shape[2:]), k[:, r]) for name, k in zip(rec["layers"], rec["kernels"])
    ]
    run = lambda r: f"run {rec['runs'][r]} (seed {rec['seeds'][r]})"
    out = []
    for m, r in first.items():
        title = f"{method_words(m, lam)}, {run(r)}: kernel weights"
        out.append(Job(m, title, [("", m, panels(r))], -(-n_layers // 2), captions(rec, [r])))
    if "l1" in first and "l2" in first:
        a, b = first["l1"], first["l2"]
        same = rec["seeds"][a] == rec["seeds"][b]
        start = f"{run(a)}, same initial weights" if same else f"{run(a)} / {run(b)}"
        title = f"L1 (top) vs L2 (bottom), lambda = {lam:g}, {start}"
        groups = [("L1", "l1", panels(a)), ("L2", "l2", panels(b))]
        out.append(Job("l1_vs_l2", title, groups, n_layers, captions(rec, [a, b], ("L1", "L2"))))
    return out


# ---- colours -----------------------------------------------------------------------------------

# One palette for every frame: colour-map levels, greys, the method colours and UNCHANGED. 128
# colours, not 256: Pillow matches the palette against itself on every frame, in time quadratic
# in its size (at 256 colours writing a GIF took a third longer here).
N_LEVELS, N_GREYS = 107, 16  # levels: odd, so the middle one (white) is centred on 0
BLACK = NOT_FINITE = N_LEVELS  # a weight that is nan or inf is drawn black
WHITE = N_LEVELS + N_GREYS - 1
UNCHANGED = WHITE + len(METHOD_COLORS) + 1  # transparent: the pixel shows the frame before


@cache
def cmap() -> "mpl.colors.Colormap":
    """The colour map of the weights, in N_LEVELS levels: red positive, blue negative."""
    return mpl.colormaps["RdBu_r"].resampled(N_LEVELS)


@cache
def palette() -> np.ndarray:
    """[128, 3] uint8, every colour once: the levels, the greys, the method colours, UNCHANGED."""
    rgb = [cmap()(np.arange(N_LEVELS))[:, :3], np.linspace([0] * 3, [1] * 3, N_GREYS)]
    rgb += [[mpl.colors.to_rgb(c) for c in METHOD_COLORS.values()], [(1 / 255, 2 / 255, 3 / 255)]]
    return np.round(255 * np.concatenate(rgb)).astype(np.uint8)


GREY_INDEX = (N_LEVELS + np.round(np.arange(256) / 255 * (N_GREYS - 1))).astype(np.uint8)


def symmetric_scale(*stacks: np.ndarray) -> float:
    """One colour limit for every frame of the stacks: the largest finite |w| (1 if none)."""
    return float(max(np.abs(s[np.isfinite(s)]).max(initial=0.0) for s in stacks)) or 1.0


def to_levels(w: np.ndarray, vmax: float) -> np.ndarray:
    """Palette index of each weight: its colour-map level on the scale -vmax..vmax (clipped at the
    ends), NOT_FINITE for nan and inf."""
    w = np.asarray(w, float)
    with np.errstate(invalid="ignore"):
        level = np.clip(np.floor((w + vmax) * (N_LEVELS / (2 * vmax))), 0, N_LEVELS - 1)
    return np.where(np.isfinite(w), level, NOT_FINITE).astype(np.uint8)


def to_palette(rgb: np.ndarray) -> np.ndarray:
    """Nearest palette index of every pixel of an RGB picture (each distinct colour looked up
    once; white, most of the picture, taken as it is)."""
    code = rgb.astype(np.int64) @ np.array([1 << 16, 1 << 8, 1])
    out, ink = np.full(code.shape, WHITE, np.uint8), code != 0xFFFFFF
    colours, inverse = np.unique(code[ink], return_inverse=True)
    rgb_u = np.stack([colours >> 16, (colours >> 8) & 255, colours & 255], axis=1)
    dist = ((rgb_u[:, None, :] - palette()[None].astype(np.int64)) ** 2).sum(axis=2)
    out[ink] = np.argmin(dist, axis=1).astype(np.uint8)[inverse.ravel()]
    return out


# ---- text: captions pasted from pieces ---------------------------------------------------------

DPI, CAPTION_PT, CAPTION_ROWS, BASELINE = 100, 11, (30, 54), 17  # a frame's rows 30-53: caption


@cache
def _ink(text: str, size: float = CAPTION_PT, weight: str = "normal") -> tuple:
    """Text drawn by FreeType in matplotlib's font (DejaVu Sans), as matplotlib draws it:
    (coverage [h, w], left edge and top row from the pen on the baseline, advance), in pixels."""
    font = mpl.font_manager.get_font(
        mpl.font_manager.findfont(mpl.font_manager.FontProperties(weight=weight))
    )
    font.set_size(size, DPI)
    font.set_text(text, 0.0, flags=mpl.backends.backend_agg.get_hinting_flag())
    font.draw_glyphs_to_bitmap(antialiased=True)
    ink = np.array(font.get_image())
    advance = sum(
        font.load_char(ord(c), flags=mpl.backends.backend_agg.get_hinting_flag()).horiAdvance
        for c in text
    )
    return ink, font.get_bitmap_offset()[0] / 64, font.get_descent() / 64 - len(ink), advance / 64


def _pieces(text: str, size: float = CAPTION_PT, weight: str = "normal") -> list:
    """Text as pieces drawn once each: runs without digits, and single digits. FreeType takes ~2
    ms for a whole caption here, pasting cached pieces 0.1 ms."""
    return [_ink(p, size, weight) for p in re.split(r"(\d)", text) if p]


def text_px(text: str, size: float = CAPTION_PT, weight: str = "normal") -> float:
    """Width of a line of text in pixels."""
    return sum(p[3] for p in _pieces(text, size, weight))


def caption_strip(text: str, width: int) -> np.ndarray:
    """A caption centred on its strip of the frame (CAPTION_ROWS), as palette indices."""
    cover = np.zeros((CAPTION_ROWS[1] - CAPTION_ROWS[0], width), np.uint8)
    pen = (width - text_px(text)) / 2
    for ink, left, top, advance in _pieces(text):
        x, y = max(0, round(pen + left)), BASELINE + round(top)
        part = cover[y : y + ink.shape[0], x : x + ink.shape[1]]
        np.maximum(part, ink[: part.shape[0], : part.shape[1]], out=part)
        pen += advance
    return GREY_INDEX[255 - cover]


# ---- the picture that never changes ------------------------------------------------------------

SLOT, LEFT, ABOVE, BELOW, RIGHT = 180, 50, 24, 40, 10  # px: a panel's square, room for its texts
CELL = (LEFT + SLOT + RIGHT, ABOVE + SLOT + BELOW)  # a panel's tile, width and height
HEADER, FOOTER, ROW_LABEL, CBAR = 58, 20, 40, 80
ROW_LABEL_STYLE = dict(size=15, weight="bold", va="center")


def unit_ticks(n: int) -> np.ndarray:
    """Unit indices to label on an axis of n units: every unit up to 12, else a round step
    leaving at most 8 labels."""
    steps = [s * 10**e for e in range(7) for s in (1, 2, 5)]
    return np.arange(0, n, next(s for s in steps if n / s <= (12 if s == 1 else 8)))


def tick_label(value: float, _pos: int | None = None) -> str:
    """A colour-bar label: the tick's own value (6 significant digits: never rounded to another
    tick's), with a true minus sign."""
    return f"{value:.6g}".replace("-", "\u2212") if value else "0"


def _figure(width: int, height: int) -> "mpl.figure.Figure":
    """A figure of width x height pixels, drawn by Agg."""
    fig = mpl.figure.Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    mpl.backends.backend_agg.FigureCanvasAgg(fig)
    return fig


def _axes(fig: "mpl.figure.Figure", x: float, y: float, w: float, h: float) -> "mpl.axes.Axes":
    """Axes of w x h pixels, the top-left corner at x, y pixels from the figure's."""
    width, height = fig.canvas.get_width_height()
    return fig.add_axes((x / width, 1 - (y + h) / height, w / width, h / height))


def _rgb(fig: "mpl.figure.Figure") -> np.ndarray:
    """The figure drawn, as RGB pixels [H, W, 3]."""
    fig.canvas.draw()
    return np.array(fig.canvas.buffer_rgba())[..., :3]


def panels_figure(panels: Sequence[tuple[str, int, int]]) -> tuple["mpl.figure.Figure", list]:
    """The panels (title, rows, cols) side by side, each on a CELL tile: a heatmap's axes with
    unit indices on both axes (rows: input units, columns: output units), cells about square (at
    most 8:1), no frame, no colours yet (each frame pastes them)."""
    fig, axes = _figure(len(panels) * CELL[0], CELL[1]), []
    for i, (title, rows, cols) in enumerate(panels):
        ax = _axes(fig, i * CELL[0] + LEFT, ABOVE, SLOT, SLOT)
        ax.set(xlim=(-0.5, cols - 0.5), ylim=(rows - 0.5, -0.5), xticks=unit_ticks(cols))
        ax.set(yticks=unit_ticks(rows), xlabel="output unit", ylabel="input unit")
        ax.set_box_aspect(float(np.clip(rows / cols, 1 / 8, 8)))
        ax.set_title(title, fontsize=10, pad=4)
        ax.xaxis.label.set_size(9), ax.yaxis.label.set_size(9)
        ax.tick_params(labelsize=8, length=3, pad=1.5)
        ax.set_frame_on(False)
        axes.append(ax)
    return fig, axes


@cache
def panel_tiles(panels: tuple[tuple[str, int, int], ...]) -> tuple[list, list]:
    """panels_figure drawn once: (RGB tile of each panel, its heatmap's box (x0, y0, x1, y1) in
    pixels from the tile's top-left corner)."""
    fig, axes = panels_figure(panels)
    rgb, (w, h) = _rgb(fig), CELL
    boxes = [
        (round(b.x0) - i * w, round(h - b.y1), round(b.x1) - i * w, round(h - b.y0))
        for i, b in enumerate(ax.get_window_extent() for ax in axes)
    ]
    return [rgb[:, i * w : (i + 1) * w] for i in range(len(panels))], boxes


def colour_bar(vmax: float) -> "mpl.figure.Figure":
    """A colour bar of -vmax..vmax, ticks labelled with their values, on a CBAR x CELL tile."""
    fig = _figure(CBAR, CELL[1])
    ax = _axes(fig, 2, ABOVE, 14, SLOT)
    fig.colorbar(
        mpl.cm.ScalarMappable(mpl.colors.Normalize(-vmax, vmax), cmap()),
        cax=ax,
        format=mpl.ticker.FuncFormatter(tick_label),
    )
    ax.tick_params(labelsize=8, length=3, pad=1.5)
    ax.set_ylabel("weight value", fontsize=9, labelpad=2)
    return fig


@cache
def bar_tile(vmax: float) -> np.ndarray:
    """colour_bar(vmax) drawn, RGB: once for every GIF that shows that scale."""
    return _rgb(colour_bar(vmax))


def picture(job: Job, scales: Sequence[float], note: str) -> tuple[np.ndarray, list]:
    """A GIF's picture without weights and caption, RGB, and each heatmap's box: the panel tiles
    job.cols a row, each group's rows with its label on the left and its colour bar on the right;
    the title on top, room for the caption below it, `note` at the bottom."""
    rows = [-(-len(panels) // job.cols) for _, _, panels in job.groups]
    label_w = ROW_LABEL * any(label for label, _, _ in job.groups)
    grid_w = label_w + job.cols * CELL[0] + CBAR
    texts = [text_px(job.title, 12, "bold"), text_px(note, 9), *map(text_px, job.captions)]
    width, height = int(max(grid_w, max(texts) + 20)), HEADER + sum(rows) * CELL[1] + FOOTER
    fig, x0 = _figure(width, height), (width - grid_w) // 2 + label_w
    tops = HEADER + np.cumsum([0, *rows]) * CELL[1]
    for (label, method, _), top, n_rows in zip(job.groups, tops, rows):
        xy = ((x0 - label_w + 4) / width, 1 - (top + n_rows * CELL[1] / 2) / height)
        fig.text(*xy, label, color=METHOD_COLORS.get(method, "k"), **ROW_LABEL_STYLE)
    fig.text(0.5, 1 - 15 / height, job.title, ha="center", va="center", size=12, weight="bold")
    fig.text(0.5, FOOTER / 2 / height, note, ha="center", va="center", size=9)
    rgb, boxes = _rgb(fig), []
    keys = [[(t, *f.shape[1:]) for t, f in panels] for _, _, panels in job.groups]
    unique = tuple(dict.fromkeys(k for g in keys for k in g))  # L1's and L2's are the same
    tiles, in_tile = panel_tiles(unique)
    for group, top, n_rows, vmax in zip(keys, tops, rows, scales):
        for k, key in enumerate(group):
            x, y, i = x0 + k % job.cols * CELL[0], top + k // job.cols * CELL[1], unique.index(key)
            rgb[y : y + CELL[1], x : x + CELL[0]] = tiles[i]
            boxes.append(tuple(int(v) for v in np.add(in_tile[i], (x, y, x, y))))
        y, x = top + (n_rows - 1) * CELL[1] // 2, x0 + job.cols * CELL[0]
        rgb[y : y + CELL[1], x : x + CBAR] = bar_tile(vmax)
    return rgb, boxes


# ---- frames and files --------------------------------------------------------------------------


@dataclass
class Drawn:
    """A GIF as drawn: frames [F, H, W] of palette indices, their durations in ms, each heatmap's
    box (x0, y0, x1, y1) in pixels and each group's colour scale."""

    frames: np.ndarray
    durations: list
    boxes: list
    scales: list


def paste(frames: np.ndarray, stack: np.ndarray, vmax: float, box: tuple) -> None:
    """Every frame of a heatmap into its box, each weight a block of its colour level, a black
    line around (one weight a pixel, evenly picked, when the layer is wider than the box)."""
    x0, y0, x1, y1 = box
    (uy, iy), (ux, ix) = (
        np.unique(np.arange(px) * units // px, return_inverse=True)
        for px, units in ((y1 - y0, stack.shape[1]), (x1 - x0, stack.shape[2]))
    )
    frames[:, y0:y1, x0:x1] = to_levels(stack[:, uy][:, :, ux], vmax)[:, iy][:, :, ix]
    frames[:, [y0 - 1, y1], x0 - 1 : x1 + 1] = frames[:, y0 - 1 : y1 + 1, [x0 - 1, x1]] = BLACK


def render(job: Job, total_s: float) -> Drawn:
    """The frames of a GIF that fit in total_s (see pick_frames), and how long each shows (time
    goes where the weights move)."""
    keep = pick_frames(len(job.captions), total_s)
    groups = [[np.asarray(f)[keep] for _, f in panels] for _, _, panels in job.groups]
    scales, stacks = [symmetric_scale(*g) for g in groups], [s for g in groups for s in g]
    bad = not all(np.isfinite(s).all() for s in stacks)
    note = f"colour: weight value, one symmetric scale{' per row' * (len(groups) > 1)} for all "
    note += "frames" + "; black: not a finite number" * bad
    rgb, boxes = picture(job, scales, note)
    frames = np.repeat(to_palette(rgb)[None], len(keep), axis=0)
    for stack, vmax, box in zip(stacks, [v for g, v in zip(groups, scales) for _ in g], boxes):
        paste(frames, stack, vmax, box)
    for k, i in enumerate(keep):
        frames[k, slice(*CAPTION_ROWS)] = caption_strip(job.captions[i], rgb.shape[1])
    return Drawn(frames, durations_ms(len(keep), total_s, weights=motion(stacks)), boxes, scales)


GIF_INFO = dict(transparency=UNCHANGED, disposal=1)  # disposal 1: the next frame draws over


def gif_parts(frames: np.ndarray, durations: Sequence[int]) -> list[tuple[int, int, Any, int]]:
    """The frames as a GIF stores them, each (x, y, pixels, duration): the first whole, each later
    one the smallest rectangle that changed (offset x, y), its unchanged pixels UNCHANGED
    (transparent); a frame equal to the one before adds its duration to that one's."""
    parts = [(0, 0, frames[0], int(durations[0]))]
    for k in range(1, len(frames)):
        changed = frames[k] != frames[k - 1]
        rows, cols = (np.flatnonzero(changed.any(axis=a)) for a in (1, 0))
        if not len(rows):
            parts[-1] = (*parts[-1][:3], parts[-1][3] + int(durations[k]))
            continue
        box = np.s_[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        # where(changed, frame, UNCHANGED) in uint8 arithmetic (it wraps around): 2x as fast
        pixels = np.uint8(UNCHANGED) + (frames[k][box] - np.uint8(UNCHANGED)) * changed[box]
        parts.append((int(cols[0]), int(rows[0]), pixels, int(durations[k])))
    return parts


def write_gif(path: Path, d: "Drawn") -> None:
    """A looping GIF of the drawn frames, every one with the one palette, stored as gif_parts.
    The bytes are those Pillow's own writer gives for these frames (save_all, optimize, the
    palette, GIF_INFO), which in addition matches every frame's palette against itself: the
    default run's four GIFs take 0.44 s here instead of 0.70 s."""
    first = image.fromarray(d.frames[0], "L")
    out, _ = pil_gif.getheader(first, palette().tobytes(), dict(GIF_INFO, loop=0))
    for x, y, pixels, ms in gif_parts(d.frames, d.durations):
        out += pil_gif.getdata(image.fromarray(pixels, "L"), (x, y), duration=ms, **GIF_INFO)
    path.write_bytes(b"".join([*out, b";"]))  # ";": the end of the file


def write_all(folder: Path, rec: dict[str, Any], gif_seconds: float) -> None:
    """weights_<name>.gif for every job (see jobs, write_gif) and its last frame as
    weights_<name>.png beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    for job in jobs(rec):
        d, path = render(job, gif_seconds), folder / f"weights_{job.name}"
        write_gif(path.with_suffix(".gif"), d)
        iio.imwrite(path.with_suffix(".png"), palette()[d.frames[-1]], compress_level=1)
    panel_tiles.cache_clear(), bar_tile.cache_clear()  # each call draws its own: honest timings


def drawing_gb(sizes: Sequence[int], n_frames: int, gif_seconds: float) -> float:
    """Memory the GIFs need at their peak, the L1-vs-L2 GIF: the shown frames of both models'
    kernels (float32), 12 bytes a weight of the largest layer while its scale and motion are
    found, the frames about four times over on their way to the file (a panel is at most SLOT
    pixels square, whatever the layer's width)."""
    kept = min(n_frames, max_frames(gif_seconds))
    layers = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
    frame_px = (ROW_LABEL + len(layers) * CELL[0] + CBAR) * (HEADER + 2 * CELL[1] + FOOTER)
    return kept * (8 * sum(layers) + 12 * max(layers) + 4 * frame_px) / 1e9
