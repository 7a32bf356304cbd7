"""Recorded frames, frame times, colours, what the GIFs show (read back from the files), the
figures' data, and `reproduce gifs`."""

import shutil

import imageio.v3 as iio
import numpy as np
import pytest

from l1l2.core import data, model, regularizers
from l1l2.core.sgd import SGD
from l1l2.core.train import train
from l1l2.output import drawing, gifs, plots

D = data.load("data/line.csv")
P0 = model.stack([model.glorot_init((1, 10, 10, 10, 1), s) for s in range(2)])
PEN = regularizers.stack([regularizers.for_method(m, 0.3) for m in ("l1", "l2")])


def test_frame_k_is_the_weights_after_step_k():
    """Frames of the in-graph loop (after every step) equal those the reference loop fetches
    with a separate sess.run."""
    x, y = D.x_train[:10], D.y_train[:10]
    spec = SGD(epochs=3, every_step=True, record=True)
    g, r = (train(x, y, P0, PEN, spec, engine=e) for e in ("graph", "reference"))
    assert g.frame_steps.tolist() == r.frame_steps.tolist() == list(range(31))
    for k in P0:
        assert g.frames[k].shape == (31, *P0[k].shape)
        np.testing.assert_array_equal(g.frames[k][0], P0[k])
        np.testing.assert_allclose(g.frames[k], r.frames[k], atol=1e-6)
        np.testing.assert_array_equal(g.frames[k][-1], g.params[k])


def test_frame_at_epoch_boundary_equals_a_shorter_training():
    long = train(D.x_train, D.y_train, P0, PEN, SGD(epochs=3, every_epoch=True, record=True))
    short = train(D.x_train, D.y_train, P0, PEN, SGD(epochs=2))
    assert long.frame_steps.tolist() == [0, 40, 80, 120]
    for k in P0:
        np.testing.assert_array_equal(long.frames[k][2], short.params[k])


@pytest.mark.parametrize("n, total", [(101, 5.0), (7, 1.0), (1, 2.0), (226, 5.0)])
def test_durations_sum_to_total_and_hold_last(n, total):
    d = gifs.durations_ms(n, total)
    assert len(d) == n and sum(d) == round(total * 1000)
    assert all(x % 10 == 0 and x >= 20 for x in d) and d[-1] >= max(d)


def test_max_frames_is_the_most_that_keep_20ms():
    # by hand, 0.1 s = 10 cs: 4 frames -> last max(1, round(20/5) = 4), 3 x 2 cs = 6, total 10;
    # 5 frames -> last max(1, round(20/6) = 3) + 4 x 2 = 11 > 10
    assert gifs.max_frames(0.1) == 4
    for total in (0.1, 1.0, 5.0):
        n = gifs.max_frames(total)
        assert min(gifs.durations_ms(n, total)) >= 20
        with pytest.raises(ValueError):
            gifs.durations_ms(n + 1, total)


def test_pick_frames_spreads_evenly_and_keeps_the_ends():
    assert gifs.pick_frames(6, 5.0).tolist() == list(range(6))
    keep = gifs.pick_frames(1001, 1.0)
    assert len(keep) == gifs.max_frames(1.0) and keep[0] == 0 and keep[-1] == 1000
    assert len(set(keep.tolist())) == len(keep) and (np.diff(keep) >= 1).all()


def test_durations_follow_weights_with_a_floor():
    # by hand: 100 cs; last = max(10% = 10, 2 shares = round(200/7) = 29); five frames get 2 cs each
    # and split the spare 61 cs as 9:0:4:1:0 = 39.2, 0, 17.4, 4.4, 0 -> 39, 0, 18, 4, 0
    # (largest remainder)
    d = gifs.durations_ms(6, 1.0, weights=np.array([9.0, 0.0, 4.0, 1.0, 0.0, 1.0]))
    assert d == [410, 20, 200, 60, 20, 290]


def test_motion_is_the_change_between_frames():
    f = np.zeros((4, 2, 2))
    f[1] += 1.0  # 4 weights move by 1
    f[3] += 0.25  # from frame 2 (back at 0) by 0.25 each
    m = gifs.motion([f])
    np.testing.assert_allclose(m, [2.0, 2.0, 2.0, 1.0])


def synthetic_rec(n_frames=101, seed=0):
    """A recording shaped like the default run's (none, l1, l2 x 2 runs, 1-10-10-10-1, 40 steps
    an epoch), weights of realistic size: Glorot-like start shared by a seed, a random drift, and
    L1 pulling all but one path to a +-0.003 hover within ~25 epochs."""
    rng = np.random.default_rng(seed)
    methods, runs = np.repeat(["none", "l1", "l2"], 2), np.tile([0, 1], 3)
    epochs = np.arange(n_frames)[:, None, None, None]
    kernels = []
    for a, b in ((1, 10), (10, 10), (10, 10), (10, 1)):
        start = rng.normal(0, np.sqrt(2 / (a + b)), size=(1, 2, a, b))[:, runs % 2]
        k = start + np.cumsum(rng.normal(0, 0.02, size=(n_frames, 6, a, b)), axis=0)
        keep = rng.random((a, b)) < 0.1
        fade = np.exp(-epochs / 5.0) + rng.uniform(-0.003, 0.003, size=k.shape)
        k[:, methods == "l1"] = np.where(keep, k, k * fade)[:, methods == "l1"]
        kernels.append(k.astype(np.float32))
    return {
        "layers": np.array([f"dense{i}" for i in range(1, 5)]),
        "kernels": kernels,
        "frame_steps": np.arange(n_frames) * 40,
        "steps_per_epoch": 40,
        "step_cost": rng.uniform(1, 6, size=(40 * (n_frames - 1), 6)).astype(np.float32),
        "methods": methods,
        "runs": runs,
        "seeds": runs.copy(),
        "lam": 0.3,
        "zero_tol": 0.01,
        "test_error": rng.uniform(5, 50, size=6),
        "frame_test_error": rng.uniform(5, 50, size=(n_frames, 6)),
    }


def read_gif(path):
    """Every frame of a GIF as a viewer shows it (RGB [F, H, W, 3]) and each frame's duration."""
    return iio.imread(path, index=None, plugin="pillow", mode="RGB"), durations_of(path)


def durations_of(path):
    """Each frame's duration in ms as the GIF stores it (frame by frame, without decoding all
    frames again for each)."""
    with iio.imopen(path, "r", plugin="pillow") as gif:
        return [gif.metadata(index=i)["duration"] for i in range(iio.improps(path).shape[0])]


def centre(box, shape, i, j):
    """Pixel (y, x) at the middle of cell (row i, column j) of a heatmap's box."""
    x0, y0, x1, y1 = box
    return y0 + int((i + 0.5) * (y1 - y0) / shape[0]), x0 + int((j + 0.5) * (x1 - x0) / shape[1])


def job(name, groups, cols, n_frames):
    return gifs.Job(name, f"title of {name}", groups, cols, [f"epoch {k}" for k in range(n_frames)])


def test_palette_levels_cover_the_scale_white_at_zero():
    vmax = 1.7
    w = np.linspace(-vmax, vmax, 1001)
    lv = gifs.to_levels(w, vmax).astype(int)
    edges = np.linspace(-vmax, vmax, gifs.N_LEVELS + 1)
    assert lv.min() == 0 and lv.max() == gifs.N_LEVELS - 1 and (np.diff(lv) >= 0).all()
    assert ((edges[lv] <= w + 1e-12) & ((w < edges[lv + 1]) | (lv == lv.max()))).all()
    assert (gifs.to_levels(np.array([np.nan, np.inf, -np.inf]), vmax) == gifs.NOT_FINITE).all()
    assert tuple(gifs.palette()[gifs.NOT_FINITE]) == (0, 0, 0)
    assert gifs.to_levels(np.array([0.0]), vmax)[0] == gifs.N_LEVELS // 2
    assert gifs.palette()[gifs.N_LEVELS // 2].min() >= 240  # white at 0
    red, blue = gifs.palette()[gifs.N_LEVELS - 1].astype(int), gifs.palette()[0].astype(int)
    assert red[0] > red[2] + 50 and blue[2] > blue[0] + 50  # RdBu_r: dark red, dark blue
    assert len({tuple(c) for c in gifs.palette()}) == len(gifs.palette())  # one index per colour


def test_gif_cells_show_the_weights_in_every_frame(tmp_path):
    """Read back from the file: the centre of every cell is the colour of the weight's level on
    its row's symmetric scale (red positive, blue negative, white-ish at 0, black not finite),
    frame after frame; the PNG is the last frame."""
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(12, 3, 4)), 0.01 * rng.normal(size=(12, 4, 1))
    a[5, 1, 2], a[:, 0, 0], b[:, 1, 0] = np.nan, 0.0, np.linspace(-0.02, 0.02, 12)
    groups = [("L1", "l1", [("a", a)]), ("L2", "l2", [("b", b)])]
    drawn = gifs.render(job("t", groups, 1, 12), 1.5)
    assert drawn.scales == [np.nanmax(np.abs(a)), np.abs(b).max()]  # each row its own scale
    rec = {"methods": np.array(["l1"]), "runs": np.array([0]), "seeds": np.array([0])}
    rec.update(lam=0.3, layers=np.array(["a"]), kernels=[a[:, None]], steps_per_epoch=1)
    rec.update(frame_steps=np.arange(12), frame_test_error=np.ones((12, 1)))
    gifs.write_all(tmp_path, rec, 1.5)
    shown, durations = read_gif(tmp_path / "weights_l1.gif")
    assert len(shown) == 12 and sum(durations) == 1500 and min(durations) >= 20
    np.testing.assert_array_equal(iio.imread(tmp_path / "weights_l1.png"), shown[-1])
    path = tmp_path / "t.gif"
    gifs.write_gif(path, drawn)
    shown, _ = read_gif(path)
    np.testing.assert_array_equal(shown, gifs.palette()[drawn.frames])  # exact colours
    for stack, vmax, box in zip((a, b), drawn.scales, drawn.boxes):
        for k, i, j in np.ndindex(stack.shape):
            r, g, bl = shown[(k, *centre(box, stack.shape[1:], i, j))].astype(int)
            w = stack[k, i, j]
            level = gifs.to_levels(np.array([w]), vmax)[0]
            assert (r, g, bl) == tuple(gifs.palette()[level])
            if not np.isfinite(w):
                assert r == g == bl == 0
            elif abs(w) < 0.02 * vmax:
                assert min(r, g, bl) >= 235, (w, r, g, bl)
            elif w > 0.2 * vmax:
                assert r > bl + 30, (w, r, g, bl)
            elif w < -0.2 * vmax:
                assert bl > r + 30, (w, r, g, bl)


def test_gif_bytes_are_pillows_own(tmp_path):
    """write_gif writes the bytes Pillow's own writer gives for the same frames (frames equal to
    the one before merged into it, one changed pixel, a whole changed frame), and the frames read
    back are those drawn."""
    from PIL import Image

    rng = np.random.default_rng(4)
    frames = rng.integers(0, gifs.UNCHANGED, size=(6, 20, 30), dtype=np.uint8)
    frames[2] = frames[1]  # no change
    frames[3], frames[4] = frames[2], frames[2]
    frames[3, 7, 11] = frames[3, 7, 11] + 1  # one pixel
    frames[4, 2:9, 5:25] = 0  # a rectangle
    drawn = gifs.Drawn(frames, [40, 30, 20, 50, 60, 70], [], [])
    gifs.write_gif(tmp_path / "ours.gif", drawn)
    pictures = [Image.fromarray(f, "L") for f in frames]
    pictures[0].save(
        tmp_path / "pillow.gif",
        save_all=True,
        append_images=pictures[1:],
        loop=0,
        optimize=True,
        palette=gifs.palette().tobytes(),
        duration=drawn.durations,
        transparency=gifs.UNCHANGED,
        disposal=1,
    )
    assert (tmp_path / "ours.gif").read_bytes() == (tmp_path / "pillow.gif").read_bytes()
    shown, durations = read_gif(tmp_path / "ours.gif")
    assert durations == [40, 50, 50, 60, 70]  # frame 2 equals frame 1: shown with it
    np.testing.assert_array_equal(shown, gifs.palette()[frames[[0, 1, 3, 4, 5]]])


def test_l2_row_is_not_pale_under_l1s_scale():
    """L2's weights, 100x smaller than L1's, still reach the saturated ends of their row's scale."""
    rng = np.random.default_rng(0)
    big, small = rng.normal(size=(3, 10, 10)), 0.01 * rng.normal(size=(3, 10, 10))
    drawn = gifs.render(
        job("x", [("L1", "l1", [("a", big)]), ("L2", "l2", [("a", small)])], 1, 3), 1
    )
    x0, y0, x1, y1 = drawn.boxes[1]
    levels = drawn.frames[:, y0:y1, x0:x1].astype(int)  # its largest |w| at an end of the scale
    assert np.abs(levels - gifs.N_LEVELS // 2).max() == gifs.N_LEVELS // 2


def test_colour_bar_labels_are_their_tick_positions():
    """Every label of the colour bar reads as the value at its tick (was: ticks at 0.25, 0.5,
    0.75 labelled 0.2, 0.5, 0.8), symmetric about 0, within the scale."""
    for vmax in (0.87, 1.3, 2.0, 0.0034, 3e-5, 123.0, 12345.0):
        fig = gifs.colour_bar(vmax)
        fig.canvas.draw()
        ax = fig.axes[0]
        lo, hi = ax.get_ylim()
        ticks = [
            (loc, label.get_text())
            for loc, label in zip(ax.get_yticks(), ax.get_yticklabels())
            if lo <= loc <= hi
        ]
        assert len(ticks) >= 3 and (lo, hi) == (-vmax, vmax), (vmax, ticks)
        for loc, text in ticks:
            assert float(text.replace("\u2212", "-")) == pytest.approx(loc, abs=1e-9 * vmax)
        locs = np.array([loc for loc, _ in ticks])
        np.testing.assert_allclose(locs, -locs[::-1], atol=1e-12 * vmax)
    rgb = gifs.bar_tile(2.0)  # red on top, blue at the bottom
    column = rgb[gifs.ABOVE + 2 : gifs.ABOVE + gifs.SLOT - 2, 9].astype(int)
    assert column[0, 0] > column[0, 2] + 50 and column[-1, 2] > column[-1, 0] + 50


def test_panels_show_unit_indices_and_axis_labels():
    assert gifs.unit_ticks(10).tolist() == list(range(10))
    assert gifs.unit_ticks(1).tolist() == [0]
    assert gifs.unit_ticks(100).tolist() == list(range(0, 100, 20))
    assert gifs.unit_ticks(1000).tolist() == list(range(0, 1000, 200))
    shapes = [(1, 10), (10, 10), (10, 1), (1000, 3)]
    panels = [(f"dense{i} W ({r}x{c})", r, c) for i, (r, c) in enumerate(shapes)]
    fig, axes = gifs.panels_figure(panels)
    fig.canvas.draw()
    for ax, (title, rows, cols) in zip(axes, panels):
        xs = [t.get_text() for t in ax.get_xticklabels()]
        ys = [t.get_text() for t in ax.get_yticklabels()]
        assert xs == [str(i) for i in gifs.unit_ticks(cols)], xs
        assert ys == [str(i) for i in gifs.unit_ticks(rows)], ys
        assert ax.get_xlabel() == "output unit" and ax.get_ylabel() == "input unit"
        assert ax.get_title() == title
    tiles, boxes = gifs.panel_tiles(tuple(panels))
    for tile, (x0, y0, x1, y1), (_, rows, cols) in zip(tiles, boxes, panels):
        assert tile.shape == (gifs.CELL[1], gifs.CELL[0], 3)
        if (rows, cols) == (10, 10):  # square cells, 18 px a unit
            assert (x1 - x0, y1 - y0) == (180, 180)
        if (rows, cols) == (1, 10):  # a strip no flatter than 8:1
            assert (x1 - x0, y1 - y0) == (180, 22)
        ink = (tile < 128).any(axis=2)
        assert ink[y1 + 4 : y1 + 30, x0:x1].any() and ink[y0:y1, : x0 - 4].any()  # ticks, labels
        assert ink[: y0 - 4, x0:x1].any()  # title


def test_captions_say_the_epoch_and_the_test_error():
    rec = synthetic_rec()
    caps = gifs.captions(rec, [2])
    assert (
        caps[0]
        == f"initial weights  ·  total absolute test error {rec['frame_test_error'][0, 2]:.1f}"
    )
    error = rec["frame_test_error"][37, 2]
    assert caps[37] == f"epoch 37 of 100  ·  total absolute test error {error:.1f}"
    two = gifs.captions(rec, [2, 4], ("L1", "L2"))[37]
    e2, e4 = rec["frame_test_error"][37, [2, 4]]
    assert two == f"epoch 37 of 100  ·  total absolute test error L1 {e2:.1f}, L2 {e4:.1f}"
    rec["frame_test_error"][5, 2] = np.nan
    assert gifs.captions(rec, [2])[5].endswith("error not finite")


def test_captions_are_drawn_in_the_caption_strip():
    """A caption is centred text in its strip; a longer number makes it wider."""
    strip = gifs.caption_strip("epoch 7 of 100  ·  total absolute test error 12.3", 600)
    ink = np.nonzero((strip != gifs.WHITE).any(axis=0))[0]
    assert strip.shape == (gifs.CAPTION_ROWS[1] - gifs.CAPTION_ROWS[0], 600)
    assert abs((ink[0] + ink[-1]) / 2 - 300) <= 3 and 250 < ink[-1] - ink[0] < 500
    assert gifs.text_px("epoch 70") > gifs.text_px("epoch 7") > gifs.text_px("epoch")


def test_titles_name_the_method_lambda_and_seed():
    rec = synthetic_rec(3)
    rec["seeds"] = rec["seeds"] + 7
    titles = {j.name: j.title for j in gifs.jobs(rec)}
    assert list(titles) == ["none", "l1", "l2", "l1_vs_l2"]
    assert titles["none"].startswith("no regularization, run 0 (seed 7)")
    assert titles["l1"].startswith("L1 (lambda = 0.3), run 0 (seed 7)")
    assert titles["l2"].startswith("L2 (lambda = 0.3), run 0 (seed 7)")
    assert titles["l1_vs_l2"] == (
        "L1 (top) vs L2 (bottom), lambda = 0.3, run 0 (seed 7), same initial weights"
    )


def test_default_gifs_show_every_frame_for_five_seconds(tmp_path):
    """The default run's four GIFs (101 frames, 5 s) from synthetic weights of realistic size:
    every frame kept, durations summing to 5 s, the last held, under 2 MB, the PNG the last
    frame; in the L1-vs-L2 GIF L1's row above L2's."""
    rec = synthetic_rec(101)
    gifs.write_all(tmp_path, rec, 5.0)
    for name in ("none", "l1", "l2", "l1_vs_l2"):
        durations = durations_of(tmp_path / f"weights_{name}.gif")
        assert len(durations) == 101 and sum(durations) == 5000, name
        assert durations[-1] == max(durations) >= 500 and min(durations) >= 20
        assert (tmp_path / f"weights_{name}.gif").stat().st_size < 2e6
    last = iio.imread(tmp_path / "weights_l1_vs_l2.gif", index=100, plugin="pillow", mode="RGB")
    np.testing.assert_array_equal(iio.imread(tmp_path / "weights_l1_vs_l2.png"), last)
    drawn = gifs.render([j for j in gifs.jobs(rec) if j.name == "l1_vs_l2"][0], 5.0)
    for top, bottom in zip(drawn.boxes[:4], drawn.boxes[4:]):  # L1's row above L2's
        assert top[3] < bottom[1] and (top[0], top[2]) == (bottom[0], bottom[2])


def test_non_finite_weights_are_black_and_said_so(tmp_path):
    f = np.ones((4, 2, 3))
    f[2:, 0, 1] = np.nan
    f[3] = np.inf
    drawn = gifs.render(job("n", [("", "l1", [("a", f)])], 1, 4), 1.0)
    assert drawn.scales == [1.0]
    y, x = centre(drawn.boxes[0], (2, 3), 0, 1)
    top = gifs.N_LEVELS - 1
    assert [drawn.frames[k, y, x] for k in range(4)] == [top, top, gifs.NOT_FINITE, gifs.NOT_FINITE]
    bare = gifs.render(job("n", [("", "l1", [("a", np.ones((4, 2, 3)))])], 1, 4), 1.0)
    footer = slice(-gifs.FOOTER, None)
    assert (drawn.frames[0, footer] != gifs.WHITE).sum() > (
        bare.frames[0, footer] != gifs.WHITE
    ).sum()


def test_errors_figure_places_every_run_apart():
    """Equal errors (as three L1 runs of the default run nearly are) still get their own spot."""
    rec = {
        "methods": np.repeat(["none", "l1"], 5),
        "runs": np.tile(np.arange(5), 2),
        "test_error": np.array([1, 2, 3, 4, np.nan, 11, 11, 11, 30, 40.0]),
    }
    cols = plots.error_points(rec, [5, 6, 7, 8, 9])
    assert [c[0] for c in cols] == ["none\n(1 diverged)", "l1", "l1 (blog,\nits own data)"]
    for i, (_, _, _, _, x, _) in enumerate(cols):
        assert len(set(np.round(x, 6))) == len(x) and np.all(np.abs(x - i) < 0.5)
    assert cols[0][3].tolist() == [0, 1, 2, 3] and cols[1][3].tolist() == [0, 1, 2, 3, 4]
    assert cols[1][5].tolist() == [11, 11, 11, 30, 40]
    assert plots.samples_words({**rec, "n_test": 10}) == "the 10 test samples"
    assert plots.samples_words(rec) == "the test samples"


def test_weight_histogram_counts_runs_pooled():
    rec = synthetic_rec(3)
    rec["kernels"][1][-1, 3] = np.nan  # l1 run 1 diverged
    w, runs, bad = plots.pooled_final_weights(rec, "l1")
    assert (runs, bad, len(w)) == (1, 1, 220)
    w, runs, bad = plots.pooled_final_weights(rec, "l2")
    assert (runs, bad, len(w)) == (2, 0, 440)


def test_short_gif_drops_frames_rather_than_go_below_20ms(tmp_path):
    """101 recorded frames in 1 s: browsers would play 0 and 10 ms frames at 100 ms (a 10 s GIF)."""
    f = np.cumsum(np.random.default_rng(3).normal(size=(101, 2, 2)), axis=0)
    drawn = gifs.render(job("s", [("", "l1", [("a", f)])], 1, 101), 1.0)
    path = tmp_path / "s.gif"
    gifs.write_gif(path, drawn)
    shown, durations = read_gif(path)
    assert len(shown) == len(durations) == gifs.max_frames(1.0) < 101
    assert sum(durations) == 1000 and min(durations) >= 20


def test_reproduce_gifs_redraws_from_recording(quick_run, tmp_path, capsys):
    from l1l2.cli import main

    shutil.copy(quick_run / "recording.npz", tmp_path)
    main(["gifs", "--out", str(tmp_path), "--gif-seconds", "2", "--force"])  # a copy: --force
    for m in ("none", "l1", "l2", "l1_vs_l2"):
        durations = durations_of(tmp_path / "gifs" / f"weights_{m}.gif")
        assert len(durations) == 6 and sum(durations) == 2000  # 5 epochs + the initial weights
    assert (tmp_path / "figures" / "sparsity.png").exists()


def test_reproduce_gifs_without_recording_is_one_line(tmp_path, capsys):
    from l1l2.cli import main

    with pytest.raises(SystemExit) as e:
        main(["gifs", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "no recording at" in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_quick_run_gifs_show_its_recorded_weights(quick_run):
    """The quick run's GIFs: a frame per recorded epoch, the last frame as drawn from the last
    recorded weights, L1 and L2 from the same initial weights; the figures beside them."""
    from l1l2.output import recording

    rec = recording.load(quick_run / "recording.npz")
    (_, _, l1), (_, _, l2) = gifs.jobs(rec)[-1].groups  # L1 vs L2: the same initial weights
    for (t1, f1), (t2, f2) in zip(l1, l2):
        assert t1 == t2 and np.array_equal(f1[0], f2[0]) and not np.array_equal(f1[-1], f2[-1])
    for j in gifs.jobs(rec):
        shown, _ = read_gif(quick_run / "gifs" / f"weights_{j.name}.gif")
        drawn = gifs.render(j, 5.0)
        assert (
            len(shown) == len(rec["frame_steps"]) and shown[0].shape[:2] == drawn.frames.shape[1:]
        )
        np.testing.assert_array_equal(shown[-1], gifs.palette()[drawn.frames[-1]])
        np.testing.assert_array_equal(
            iio.imread(quick_run / "gifs" / f"weights_{j.name}.png"), shown[-1]
        )
    for fig in ("fit", "sparsity", "weights_hist", "errors"):
        assert (quick_run / "figures" / f"{fig}.png").exists()


@pytest.mark.parametrize("sizes", [(1, 5, 5, 5, 5, 1), (1, 3, 1), (1, 40, 1)])
def test_gifs_lay_out_any_number_of_layers(tmp_path, sizes):
    """Per method two rows of layers, side by side a row of all layers per method; every heatmap
    inside the frame, none overlapping another or the caption; every text fits; the figures
    draw any depth too."""
    rng = np.random.default_rng(0)
    rec = {
        **synthetic_rec(n_frames=6),
        "layers": np.array([f"dense{i}" for i in range(1, len(sizes))]),
        "kernels": [
            rng.normal(size=(6, 6, a, b)).astype(np.float32) for a, b in zip(sizes[:-1], sizes[1:])
        ],
    }
    drawing.figures(tmp_path, rec, 5.0)
    for name in ("none", "l1", "l2", "l1_vs_l2"):
        assert iio.improps(tmp_path / "gifs" / f"weights_{name}.gif").shape[0] == 6
    for j in gifs.jobs(rec):
        drawn = gifs.render(j, 5.0)
        _, height, width = drawn.frames.shape
        texts = [gifs.text_px(j.title, 12, "bold"), *map(gifs.text_px, j.captions)]
        assert max(texts) < width
        taken = np.zeros((height, width), bool)
        taken[slice(*gifs.CAPTION_ROWS)] = True
        for x0, y0, x1, y1 in drawn.boxes:
            assert 0 < x0 < x1 < width and gifs.CAPTION_ROWS[1] < y0 < y1 < height
            assert not taken[y0 - 1 : y1 + 1, x0 - 1 : x1 + 1].any()
            taken[y0 - 1 : y1 + 1, x0 - 1 : x1 + 1] = True
    assert len(list((tmp_path / "figures").glob("*.png"))) == 3


@pytest.mark.parametrize("sizes", [(1, 10, 10, 10, 1), (1, 3, 1)])
def test_the_panels_drawn_ahead_are_those_the_gifs_show(sizes):
    """The drawing worker draws the GIFs' panels from the network's sizes while TensorFlow loads:
    every GIF of a recording of that network finds them drawn."""
    rng = np.random.default_rng(0)
    rec = {
        **synthetic_rec(n_frames=3),
        "layers": np.array(model.layer_names(model.glorot_init(sizes, 0))),
        "kernels": [
            rng.normal(size=(3, 6, a, b)).astype(np.float32) for a, b in zip(sizes[:-1], sizes[1:])
        ],
    }
    gifs.panel_tiles.cache_clear()
    drawing.warm_up(sizes)
    for j in gifs.jobs(rec):
        gifs.render(j, 1.0)
    info = gifs.panel_tiles.cache_info()
    gifs.panel_tiles.cache_clear()
    assert (info.misses, info.hits) == (1, len(gifs.jobs(rec)))
