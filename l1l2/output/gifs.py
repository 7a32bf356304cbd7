"""Animated weight heatmaps: one matplotlib figure, updated in place, frames written by imageio.

The figure (titles, colourbar, axes) is drawn once; each frame only swaps the
heatmap data and the caption and blits them onto the saved background.
"""
import imageio.v3 as iio
import matplotlib
import numpy as np
from PIL import Image

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

CMAP = "RdBu_r"  # diverging, white at 0


def symmetric_scale(*stacks):
    """One colour limit for a whole animation: the largest finite |w| over every frame and panel."""
    finite = [np.abs(s[np.isfinite(s)]).max(initial=0.0) for s in stacks]
    return float(max(finite, default=0.0)) or 1.0


MIN_CS = 2  # browsers play GIF frames shorter than 20 ms at 100 ms: no frame gets less


def _last_cs(n_frames, total_cs, hold):
    """The held last frame: a `hold` fraction of the total, and at least two equal shares."""
    return max(round(total_cs * hold), round(2 * total_cs / (n_frames + 1)))


def max_frames(total_s, hold=0.1):
    """The most frames a GIF of total_s can show with every frame at least 20 ms."""
    total_cs = round(total_s * 100)
    return max(n for n in range(1, total_cs // MIN_CS + 2)
               if total_cs - _last_cs(n, total_cs, hold) >= MIN_CS * (n - 1))


def pick_frames(n_frames, total_s, hold=0.1):
    """Indices of the frames to show: all, or an even selection (first and last kept) that fits total_s."""
    k = min(n_frames, max_frames(total_s, hold))
    return np.round(np.linspace(0, n_frames - 1, k)).astype(int) if k > 1 else np.array([n_frames - 1])


def durations_ms(n_frames, total_s, hold=0.1, weights=None):
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


def motion(panels):
    """Per frame, how much the weights moved since the previous frame (sqrt of the summed |change|;
    the first frame gets the largest value): GIF time goes where the weights change."""
    change = sum(np.nansum(np.abs(np.diff(f, axis=0)).reshape(len(f) - 1, -1), axis=1) for _, f in panels)
    change = np.sqrt(np.asarray(change, float))
    return np.concatenate([[change.max(initial=0.0)], change])


def figure_pixels(grid, row_labels=False, panel_in=2.9, dpi=80) -> int:
    """Pixels of an Animator's figure (the same margins as Animator)."""
    left, right, top, bottom = 0.3 + 0.4 * row_labels, 1.2, 0.75, 0.2
    return round((left + grid[1] * panel_in + right) * dpi) * round((top + grid[0] * panel_in
                                                                     + bottom) * dpi)


def drawing_gb(n_layers: int, n_frames: int, total_s: float) -> float:
    """Memory write_all needs at its peak, the L1-vs-L2 GIF (the widest): each kept frame as RGB,
    its palette indices and Pillow's copy (5 bytes a pixel), and the canvas with its saved
    background (8 bytes a pixel). A hundred layers of 100 epochs need about 6 GB."""
    kept = min(n_frames, max_frames(total_s))
    pixels = figure_pixels((2, n_layers), row_labels=True)
    return pixels * (5 * kept + 8) / 1e9


class Animator:
    """A grid of heatmap panels; render(f) gives frame f as an RGB array."""

    def __init__(self, panels, captions, vmax, grid, row_labels=(), panel_in=2.9, dpi=80):
        # panels: [(title, frames [F, rows, cols])]; captions: [F] strings
        self.panels, self.captions = panels, captions
        left, right, top, bottom = 0.3 + 0.4 * bool(row_labels), 1.2, 0.75, 0.2  # margins, inches
        w, h = left + grid[1] * panel_in + right, top + grid[0] * panel_in + bottom
        self.fig = plt.figure(figsize=(w, h), dpi=dpi)
        gs = self.fig.add_gridspec(grid[0], grid[1], left=left / w, right=1 - right / w,
                                   top=1 - top / h, bottom=bottom / h, wspace=0.3, hspace=0.35)
        self.images = []
        for i, (title, frames) in enumerate(panels):
            ax = self.fig.add_subplot(gs[i // grid[1], i % grid[1]])
            im = ax.imshow(frames[0], cmap=CMAP, vmin=-vmax, vmax=vmax, interpolation="nearest",
                           animated=True)
            ax.set_title(title, fontsize=10)
            ax.set_xticks([]), ax.set_yticks([])
            ax.set_xlabel("unit", fontsize=8), ax.set_ylabel("input", fontsize=8)
            self.images.append(im)
        for r, label in enumerate(row_labels):
            y = 1 - (top + (r + 0.5) * panel_in) / h
            self.fig.text(0.25 / w, y, label, va="center", fontsize=13, weight="bold")
        cax = self.fig.add_axes([1 - (right - 0.25) / w, 0.15, 0.18 / w, 1 - 0.3 - top / h])
        self.fig.colorbar(self.images[0], cax=cax).set_label("weight", labelpad=2)
        self.caption = self.fig.text(0.5, 1 - 0.3 / h, "", ha="center", va="center", fontsize=11,
                                     animated=True)
        self.fig.canvas.draw()
        self.background = self.fig.canvas.copy_from_bbox(self.fig.bbox)

    def render(self, f):
        canvas = self.fig.canvas
        canvas.restore_region(self.background)
        for im, (_, frames) in zip(self.images, self.panels):
            im.set_data(frames[f])
            im.axes.draw_artist(im)
        self.caption.set_text(self.captions[f])
        self.fig.draw_artist(self.caption)
        return np.asarray(canvas.buffer_rgba())[..., :3].copy()

    def close(self):
        plt.close(self.fig)


def write_gif(path, frames, durations):
    """Write RGB frames as a looping GIF with the given durations (ms); one shared palette, no dithering."""
    palette = Image.fromarray(np.concatenate([frames[0], frames[-1]])).quantize(
        256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    index = np.stack([np.asarray(Image.fromarray(f).quantize(palette=palette, dither=Image.Dither.NONE))
                      for f in frames])
    # mode "L" + palette: Pillow writes the indices as they are (fast) with our colours
    iio.imwrite(path, index, plugin="pillow", mode="L", extension=".gif",
                palette=bytes(palette.getpalette()[:768]), duration=durations,
                loop=0, optimize=False)


def frame_labels(rec):
    """'initial weights', then 'epoch E  step S' for each later frame."""
    spe = int(rec["steps_per_epoch"])
    return ["initial weights"] + [f"epoch {s / spe:g}  step {s}" for s in rec["frame_steps"][1:]]


def mean_costs(rec, r):
    """Per frame: the mean training cost over the SGD steps since the previous frame (nan for frame 0)."""
    steps = rec["frame_steps"]
    return [np.nan] + [rec["step_cost"][a:b, r].mean() for a, b in zip(steps[:-1], steps[1:])]


def captions(rec, r, lam):
    m = rec["methods"][r]
    return [f"{m}  lambda={lam:g}  {label}" + (f"  cost {c:.2f}" if np.isfinite(c) else "")
            for label, c in zip(frame_labels(rec), mean_costs(rec, r))]


def layer_panels(rec, r, prefix=""):
    return [(f"{prefix}{name} W {k.shape[2]}x{k.shape[3]}", k[:, r])
            for name, k in zip(rec["layers"], rec["kernels"])]


def animate(path, panels, captions_, grid, total_s, row_labels=()):
    """Render the panels' frames (as many as fit in total_s) into a GIF; return the last frame (RGB)."""
    keep = pick_frames(len(captions_), total_s)
    panels, captions_ = [(title, f[keep]) for title, f in panels], [captions_[i] for i in keep]
    vmax = symmetric_scale(*[frames for _, frames in panels])
    anim = Animator(panels, captions_, vmax, grid, row_labels)
    try:
        frames = [anim.render(f) for f in range(len(captions_))]
    finally:
        anim.close()
    write_gif(path, frames, durations_ms(len(frames), total_s, weights=motion(panels)))
    return frames[-1]


def write_all(folder, rec, total_s):
    """weights_<method>.gif for run 0 of every method, and weights_l1_vs_l2.gif; a PNG of each last frame."""
    folder.mkdir(parents=True, exist_ok=True)
    first = {m: i for i, (m, k) in enumerate(zip(rec["methods"], rec["runs"])) if k == 0}
    lam, n_layers = float(rec["lam"]), len(rec["layers"])
    for m, r in first.items():
        last = animate(folder / f"weights_{m}.gif", layer_panels(rec, r),
                       captions(rec, r, lam if m != "none" else 0), (2, -(-n_layers // 2)), total_s)
        iio.imwrite(folder / f"weights_{m}.png", last)
    if "l1" in first and "l2" in first:
        a, b = first["l1"], first["l2"]
        caps = [f"L1 vs L2  lambda={lam:g}  seed {rec['seeds'][a]}  {label}"
                + (f"  cost {ca:.2f} / {cb:.2f}" if np.isfinite(ca) else "")
                for label, ca, cb in zip(frame_labels(rec), mean_costs(rec, a), mean_costs(rec, b))]
        last = animate(folder / "weights_l1_vs_l2.gif", layer_panels(rec, a) + layer_panels(rec, b),
                       caps, (2, n_layers), total_s, row_labels=("L1", "L2"))  # a row per method
        iio.imwrite(folder / "weights_l1_vs_l2.png", last)
