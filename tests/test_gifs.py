"""Recorded frames, colour scale, the GIF files, the figures' data, and `reproduce gifs`."""

import shutil
import time

import numpy as np
import pytest
from PIL import Image

from l1l2.core import data, engine, model, regularizers, train
from l1l2.output import drawing, frames, gif_timing, gifs, palette, plots, sheet

D = data.load("data/line.csv")
P0 = model.stack([model.glorot_init((1, 10, 10, 10, 1), s) for s in range(2)])
PEN = regularizers.stack([regularizers.for_method(m, 0.3) for m in ("l1", "l2")])


def test_frame_k_is_the_weights_after_step_k():
    """Frames of the in-graph loop equal those the reference loop fetches with a separate
    sess.run."""
    x, y = D.x_train[:10], D.y_train[:10]
    steps = train.evaluation_steps(30, every=7)
    g = engine.train_graph(x, y, P0, PEN, lr=0.01, epochs=3, eval_steps=steps, record=True)
    r = train.train_reference(x, y, P0, PEN, lr=0.01, epochs=3, eval_steps=steps, record=True)
    assert g.frame_steps.tolist() == r.frame_steps.tolist() == [0, 7, 14, 21, 28, 30]
    for k in P0:
        assert g.frames[k].shape == (6, *P0[k].shape)
        np.testing.assert_array_equal(g.frames[k][0], P0[k])
        np.testing.assert_allclose(g.frames[k], r.frames[k], atol=1e-6)
        np.testing.assert_array_equal(g.frames[k][-1], g.params[k])


def test_frame_at_epoch_boundary_equals_a_shorter_training():
    long = engine.train_graph(
        D.x_train,
        D.y_train,
        P0,
        PEN,
        lr=0.01,
        epochs=3,
        record=True,
        eval_steps=train.evaluation_steps(120, every=40),
    )
    short = engine.train_graph(D.x_train, D.y_train, P0, PEN, lr=0.01, epochs=2)
    assert long.frame_steps.tolist() == [0, 40, 80, 120]
    for k in P0:
        np.testing.assert_array_equal(long.frames[k][2], short.params[k])


@pytest.mark.parametrize("n, total", [(101, 5.0), (7, 1.0), (1, 2.0), (226, 5.0)])
def test_durations_sum_to_total_and_hold_last(n, total):
    d = gif_timing.durations_ms(n, total)
    assert len(d) == n and sum(d) == round(total * 1000)
    assert all(x % 10 == 0 and x >= 20 for x in d) and d[-1] >= max(d)


def test_max_frames_is_the_most_that_keep_20ms():
    # by hand, 0.1 s = 10 cs: 4 frames -> last max(1, round(20/5) = 4), 3 x 2 cs = 6, total 10;
    # 5 frames -> last max(1, round(20/6) = 3) + 4 x 2 = 11 > 10
    assert gif_timing.max_frames(0.1) == 4
    for total in (0.1, 1.0, 5.0):
        n = gif_timing.max_frames(total)
        assert min(gif_timing.durations_ms(n, total)) >= 20
        with pytest.raises(ValueError):
            gif_timing.durations_ms(n + 1, total)


def test_pick_frames_spreads_evenly_and_keeps_the_ends():
    assert gif_timing.pick_frames(6, 5.0).tolist() == list(range(6))
    keep = gif_timing.pick_frames(1001, 1.0)
    assert len(keep) == gif_timing.max_frames(1.0) and keep[0] == 0 and keep[-1] == 1000
    assert len(set(keep.tolist())) == len(keep) and (np.diff(keep) >= 1).all()


def test_durations_follow_weights_with_a_floor():
    # by hand: 100 cs; last = max(10% = 10, 2 shares = round(200/7) = 29); five frames get 2 cs each
    # and split the spare 61 cs as 9:0:4:1:0 = 39.2, 0, 17.4, 4.4, 0 -> 39, 0, 18, 4, 0
    # (largest remainder)
    d = gif_timing.durations_ms(6, 1.0, weights=np.array([9.0, 0.0, 4.0, 1.0, 0.0, 1.0]))
    assert d == [410, 20, 200, 60, 20, 290]


def test_motion_is_the_change_between_frames():
    f = np.zeros((4, 2, 2))
    f[1] += 1.0  # 4 weights move by 1
    f[3] += 0.25  # from frame 2 (back at 0) by 0.25 each
    m = gif_timing.motion([("a", f)])
    np.testing.assert_allclose(m, [2.0, 2.0, 2.0, 1.0])


def synthetic_rec(n_frames=101, frame_test_error=False, seed=0):
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
    rec = {
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
    }
    if frame_test_error:
        rec["frame_test_error"] = rng.uniform(5, 50, size=(n_frames, 6))
    return rec


def read_frames(path):
    """Every frame of a GIF as a viewer shows it (RGB, earlier frames showing through)."""
    with Image.open(path) as im:
        out = []
        for i in range(im.n_frames):
            im.seek(i)
            out.append(np.asarray(im.convert("RGB")))
        return out


def durations_of(path):
    with Image.open(path) as im:
        out = []
        for i in range(im.n_frames):
            im.seek(i)
            out.append(im.info["duration"])
        return out


def cell_centre(box, shape, i, j):
    """Pixel (y, x) at the middle of cell (row i, column j) of a heatmap box."""
    x0, y0, w, h = box
    return y0 + int((i + 0.5) * h / shape[0]), x0 + int((j + 0.5) * w / shape[1])


def test_levels_cover_the_scale_and_white_is_zero():
    vmax = 1.7
    w = np.concatenate([np.linspace(-vmax, vmax, 1001), [0.0, np.nan, np.inf]])
    idx = palette.to_levels(w, vmax)
    edges = palette.level_edges(vmax)
    lv = idx[:1001].astype(int)
    assert lv.min() == 0 and lv.max() == palette.N_LEVELS - 1
    assert ((edges[lv] <= w[:1001] + 1e-12) & ((w[:1001] < edges[lv + 1]) | (lv == lv.max()))).all()
    assert idx[-2] == idx[-1] == palette.NOT_FINITE
    assert tuple(palette.PALETTE[palette.NOT_FINITE]) == (0, 0, 0)
    zero = palette.PALETTE[idx[1001]]
    assert idx[1001] == palette.N_LEVELS // 2 and zero.min() >= 240  # white at 0
    red, blue = palette.PALETTE[palette.N_LEVELS - 1].astype(int), palette.PALETTE[0].astype(int)
    assert red[0] > red[2] and blue[2] > blue[0]  # RdBu_r
    assert len({tuple(c) for c in palette.PALETTE}) == 256  # one index per colour


def test_gif_pixels_are_the_weights_through_the_palette(tmp_path):
    """Read back from the file, every cell's pixel is the palette colour of the level that holds
    the weight on the animation's one symmetric scale, in every frame; no other colours."""
    rng = np.random.default_rng(2)
    panels = [("a", rng.normal(size=(12, 3, 4))), ("b", 3 * rng.normal(size=(12, 4, 1)))]
    panels[0][1][5, 1, 2] = np.nan
    out = frames.animate(tmp_path / "a.gif", panels, [f"epoch {i}" for i in range(12)], (1, 2), 1.5)
    assert out.vmax == np.nanmax(np.abs(panels[1][1]))
    shown = read_frames(tmp_path / "a.gif")
    assert len(shown) == 12
    colour_to_index = {tuple(c): i for i, c in enumerate(palette.PALETTE)}
    edges = palette.level_edges(out.vmax)
    for k, rgb in enumerate(shown):
        np.testing.assert_array_equal(rgb, palette.PALETTE[out.frame(k)])  # exact colours
        for (_, f), box in zip(panels, out.layout.boxes):
            for i, j in np.ndindex(f.shape[1:]):
                index = colour_to_index[tuple(rgb[cell_centre(box, f.shape[1:], i, j)])]
                w = f[k, i, j]
                if not np.isfinite(w):
                    assert index == palette.NOT_FINITE
                    continue
                assert index < palette.N_LEVELS and edges[index] <= w <= edges[index + 1]
    with Image.open(tmp_path / "a.gif") as im:
        assert im.info["loop"] == 0
    assert sum(durations_of(tmp_path / "a.gif")) == 1500


def test_colour_bar_shows_every_level_in_order_with_labels():
    f = np.linspace(-2, 1, 300).reshape(3, 10, 10)
    out = frames.render([("a", f), ("b", f / 2)], ["x"] * 3, (2, 1))
    x0, y0, w, h = out.layout.cbar
    column = out.frame(0)[y0 : y0 + h, x0 + w // 2].astype(int)
    assert column[0] == palette.N_LEVELS - 1 and column[-1] == 0  # red on top
    assert (np.diff(column) <= 0).all() and len(set(column)) == palette.N_LEVELS  # smooth
    values, labels = sheet.cbar_ticks(2.0)
    assert 0 in values and (np.abs(values) <= 2.0).all()
    np.testing.assert_allclose(values, -values[::-1])  # symmetric
    assert "0" in labels and len(labels) >= 3
    right = out.frame(0)[y0 : y0 + h, x0 + w + 4 : x0 + w + 60]
    assert (right != palette.WHITE).any()  # tick labels drawn


def test_unit_ticks_and_axis_labels_are_drawn():
    assert sheet.unit_ticks(10, 200).tolist() == list(range(10))
    assert sheet.unit_ticks(1, 20).tolist() == [0]
    assert sheet.unit_ticks(100, 200).tolist() == list(range(0, 100, 10))
    shapes = [(1, 10), (10, 10), (10, 10), (10, 1)]
    panels = [(f"dense{i + 1} W ({r}x{c})", np.zeros((2, r, c))) for i, (r, c) in enumerate(shapes)]
    out = frames.render(panels, ["a", "b"], (2, 2), "title")
    first = out.frame(0)
    for (x0, y0, w, h), (rows, cols) in zip(out.layout.boxes, shapes):
        assert w == 20 * cols and h == 20 * rows  # 20 px a unit
        for j in range(cols):  # a tick under each
            assert first[y0 + h + 2, x0 + int((j + 0.5) * w / cols)] == palette.BLACK
        for i in range(rows):  # and left of each row
            assert first[y0 + int((i + 0.5) * h / rows), x0 - 3] == palette.BLACK
        assert (first[y0 + h + 6 : y0 + h + 32, x0 : x0 + w] != palette.WHITE).any()  # labels below
        assert (first[y0 - 20 : y0 - 4, x0 : x0 + w] != palette.WHITE).any()  # title above
        assert (first[y0 : y0 + h, x0 - 40 : x0 - 8] != palette.WHITE).any()  # input unit


def test_captions_say_the_epoch_and_a_named_number():
    rec = synthetic_rec(frame_test_error=True)
    caps = gifs.captions(rec, [2])
    assert caps[0].startswith("initial weights")
    error = rec["frame_test_error"][37, 2]
    assert caps[37] == f"epoch 37 of 100  ·  total absolute test error {error:.1f}"
    two = gifs.captions(rec, [2, 4], ("L1", "L2"))[37]
    assert "L1 " in two and "L2 " in two and "epoch 37 of 100" in two
    del rec["frame_test_error"]
    caps = gifs.captions(rec, [2])
    assert caps[0] == "initial weights"
    cost = rec["step_cost"][36 * 40 : 37 * 40, 2].mean()
    assert caps[37] == (
        f"epoch 37 of 100  ·  mean training cost per step over the last epoch {cost:.2f}"
    )


def test_titles_name_the_method_lambda_and_seed():
    rec = synthetic_rec(3)
    rec["seeds"] = rec["seeds"] + 7
    titles = {job.name: job.title for job in gifs.jobs(rec)}
    assert list(titles) == ["none", "l1", "l2", "l1_vs_l2"]
    assert titles["none"].startswith("no regularization, run 0 (seed 7)")
    assert titles["l1"].startswith("L1 (lambda = 0.3), run 0 (seed 7)")
    assert titles["l2"].startswith("L2 (lambda = 0.3), run 0 (seed 7)")
    assert "lambda = 0.3" in titles["l1_vs_l2"] and "seed 7" in titles["l1_vs_l2"]


def test_full_length_gifs_stay_under_2mb(tmp_path):
    """The default run's four GIFs (101 frames each, 5 s) from synthetic weights of realistic
    size: under 2 MB each, every frame kept, drawn fast."""
    rec = synthetic_rec(101, frame_test_error=True)
    started = time.process_time()
    gifs.write_all(tmp_path, rec, 5.0)
    assert time.process_time() - started < 6  # ~1 s here; matplotlib per frame took ~10 s
    sizes = {f.name: f.stat().st_size for f in tmp_path.glob("*.gif")}
    assert len(sizes) == 4 and max(sizes.values()) < 2e6, sizes
    for name in sizes:
        with Image.open(tmp_path / name) as im:
            assert im.n_frames == 101
        assert (tmp_path / name.replace(".gif", ".png")).exists()


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
    frames.animate(tmp_path / "a.gif", [("a", f)], [f"frame {i}" for i in range(101)], (1, 1), 1.0)
    durations = durations_of(tmp_path / "a.gif")
    assert len(durations) == gif_timing.max_frames(1.0) < 101
    assert sum(durations) == 1000 and min(durations) >= 20


def test_reproduce_gifs_redraws_from_recording(quick_run, tmp_path, capsys):
    from l1l2.cli import main

    shutil.copy(quick_run / "recording.npz", tmp_path)
    main(["gifs", "--out", str(tmp_path), "--gif-seconds", "2", "--force"])  # a copy: --force
    for m in ("none", "l1", "l2"):
        with Image.open(tmp_path / "gifs" / f"weights_{m}.gif") as im:
            assert im.n_frames == 6  # 5 epochs + the initial weights
    assert (tmp_path / "gifs" / "weights_l1_vs_l2.gif").exists()
    assert (tmp_path / "figures" / "sparsity.png").exists()


def test_reproduce_gifs_without_recording_is_one_line(tmp_path, capsys):
    from l1l2.cli import main

    with pytest.raises(SystemExit) as e:
        main(["gifs", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "no recording at" in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_quick_run_writes_gifs_under_2mb(quick_run):
    for name in ("weights_none", "weights_l1", "weights_l2", "weights_l1_vs_l2"):
        gif = quick_run / "gifs" / f"{name}.gif"
        assert 0 < gif.stat().st_size < 2e6 and (quick_run / "gifs" / f"{name}.png").exists()
    for fig in ("fit", "sparsity", "weights_hist", "errors"):
        assert (quick_run / "figures" / f"{fig}.png").exists()


@pytest.mark.parametrize("sizes", [(1, 5, 5, 5, 5, 1), (1, 3, 1)])
def test_gifs_lay_out_any_number_of_layers(tmp_path, sizes):
    """Per method: 2 rows of layers; side by side: a row of all layers per method (was fixed
    at 4 layers); the figures draw any depth too."""
    rng = np.random.default_rng(0)
    rec = {
        **synthetic_rec(n_frames=6),
        "layers": np.array([f"dense{i}" for i in range(1, len(sizes))]),
        "kernels": [
            rng.normal(size=(6, 6, a, b)).astype(np.float32) for a, b in zip(sizes[:-1], sizes[1:])
        ],
    }
    drawing.figures(tmp_path, rec, 5.0)
    for name in ("weights_l1", "weights_l1_vs_l2"):
        with Image.open(tmp_path / "gifs" / f"{name}.gif") as im:
            assert im.n_frames == 6
    assert len(list((tmp_path / "figures").glob("*.png"))) == 3
