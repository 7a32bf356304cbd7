"""How long each frame of a GIF shows: every frame at least 20 ms (browsers play shorter ones at
100 ms), the last one held, the others sharing the rest by how much the weights move; and how
many frames fit in a GIF's length, picked evenly when not all do.
"""

import numpy as np

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
