"""The GIFs' 256 colours, one palette for every frame: N_LEVELS levels of the colour map for the
weights, greys for text and lines, the method colours, and UNCHANGED (transparent: "as in the
previous frame"); weights mapped to levels, and an RGB image mapped to palette indices.
"""

import matplotlib
import numpy as np

from .plots import METHOD_COLORS

CMAP = "RdBu_r"  # diverging, white at 0


def symmetric_scale(*stacks: np.ndarray) -> float:
    """One colour limit for a whole animation: the largest finite |w| over every frame and panel."""
    finite = [np.abs(s[np.isfinite(s)]).max(initial=0.0) for s in stacks]
    return float(max(finite, default=0.0)) or 1.0


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
