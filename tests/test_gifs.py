"""Recorded frames, colour scale, the GIF files, and `reproduce gifs`."""
import shutil

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

from conftest import run_reproduce
from l1l2.core import data, model, regularizers, train, engine
from l1l2.output import gifs

D = data.load("data/line.csv")
P0 = model.stack([model.glorot_init((1, 10, 10, 10, 1), s) for s in range(2)])
PEN = regularizers.stack([regularizers.for_method(m, 0.3) for m in ("l1", "l2")])


def test_frame_k_is_the_weights_after_step_k():
    """Frames of the in-graph loop equal those the reference loop fetches with a separate sess.run."""
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
    long = engine.train_graph(D.x_train, D.y_train, P0, PEN, lr=0.01, epochs=3, record=True,
                              eval_steps=train.evaluation_steps(120, every=40))
    short = engine.train_graph(D.x_train, D.y_train, P0, PEN, lr=0.01, epochs=2)
    assert long.frame_steps.tolist() == [0, 40, 80, 120]
    for k in P0:
        np.testing.assert_array_equal(long.frames[k][2], short.params[k])


def test_colour_scale_is_symmetric_and_fixed():
    rng = np.random.default_rng(1)
    panels = [("a", rng.normal(size=(5, 3, 4))), ("b", 3 * rng.normal(size=(5, 4, 1)))]
    vmax = gifs.symmetric_scale(*[f for _, f in panels])
    assert vmax == np.abs(panels[1][1]).max()
    anim = gifs.Animator(panels, [str(i) for i in range(5)], vmax, (1, 2))
    for f in range(5):
        frame = anim.render(f)
        assert [im.get_clim() for im in anim.images] == [(-vmax, vmax)] * 2
    assert frame.ndim == 3 and frame.shape[2] == 3
    anim.close()


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
    # and split the spare 61 cs as 9:0:4:1:0 = 39.2, 0, 17.4, 4.4, 0 -> 39, 0, 18, 4, 0 (largest remainder)
    d = gifs.durations_ms(6, 1.0, weights=np.array([9.0, 0.0, 4.0, 1.0, 0.0, 1.0]))
    assert d == [410, 20, 200, 60, 20, 290]


def test_motion_is_the_change_between_frames():
    f = np.zeros((4, 2, 2))
    f[1] += 1.0   # 4 weights move by 1
    f[3] += 0.25  # from frame 2 (back at 0) by 0.25 each
    m = gifs.motion([("a", f)])
    np.testing.assert_allclose(m, [2.0, 2.0, 2.0, 1.0])


def test_gif_reads_back(tmp_path):
    rng = np.random.default_rng(2)
    panels = [(f"dense{k}", rng.normal(size=(12, 3, 3))) for k in range(4)]
    last = gifs.animate(tmp_path / "a.gif", panels, [f"frame {i}" for i in range(12)], (2, 2), 1.5)
    frames = iio.imread(tmp_path / "a.gif", index=None)
    assert frames.shape[0] == 12 and frames.shape[1:3] == last.shape[:2]
    with Image.open(tmp_path / "a.gif") as im:
        assert im.info["loop"] == 0
        durations = []
        for i in range(im.n_frames):
            im.seek(i)
            durations.append(im.info["duration"])
    assert abs(sum(durations) - 1500) <= max(durations)
    # the palette keeps colours: the last frame read back is close to the rendered one
    assert np.abs(frames[-1].astype(int) - last).mean() < 3


def test_short_gif_drops_frames_rather_than_go_below_20ms(tmp_path):
    """101 recorded frames in 1 s: browsers would play 0 and 10 ms frames at 100 ms (a 10 s GIF)."""
    f = np.cumsum(np.random.default_rng(3).normal(size=(101, 2, 2)), axis=0)
    gifs.animate(tmp_path / "a.gif", [("a", f)], [f"frame {i}" for i in range(101)], (1, 1), 1.0)
    with Image.open(tmp_path / "a.gif") as im:
        durations = []
        for i in range(im.n_frames):
            im.seek(i)
            durations.append(im.info["duration"])
    assert len(durations) == gifs.max_frames(1.0) < 101
    assert sum(durations) == 1000 and min(durations) >= 20


def test_reproduce_gifs_redraws_from_recording(quick_run, tmp_path):
    shutil.copy(quick_run / "recording.npz", tmp_path)
    res = run_reproduce("gifs", "--out", tmp_path, "--gif-seconds", "2", "--force")  # a copy
    assert res.returncode == 0, res.stderr
    for m in ("none", "l1", "l2"):
        with Image.open(tmp_path / "gifs" / f"weights_{m}.gif") as im:
            assert im.n_frames == 6  # 5 epochs + the initial weights
    assert (tmp_path / "gifs" / "weights_l1_vs_l2.gif").exists()
    assert (tmp_path / "figures" / "sparsity.png").exists()


def test_reproduce_gifs_without_recording_is_one_line(tmp_path):
    res = run_reproduce("gifs", "--out", tmp_path)
    assert res.returncode == 2 and "no recording at" in res.stderr
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr


def test_quick_run_writes_gifs_under_2mb(quick_run):
    for name in ("weights_none", "weights_l1", "weights_l2", "weights_l1_vs_l2"):
        gif = quick_run / "gifs" / f"{name}.gif"
        assert 0 < gif.stat().st_size < 2e6 and (quick_run / "gifs" / f"{name}.png").exists()
    for fig in ("fit", "sparsity", "weights_hist", "errors"):
        assert (quick_run / "figures" / f"{fig}.png").exists()


def test_full_length_gifs_stay_under_2mb(tmp_path):
    """The default run's GIFs: 101 frames of 100 epochs of L1 and L2 from the same weights."""
    p0 = model.stack([model.glorot_init((1, 10, 10, 10, 1), 0)] * 2)
    t = engine.train_graph(D.x_train, D.y_train, p0, PEN, lr=0.01, epochs=100, record=True,
                           eval_steps=train.evaluation_steps(4000, every=40))
    layers = model.layer_names(t.params)
    rec = {"layers": np.array(layers), "kernels": [t.frames[f"{n}/W"] for n in layers],
           "frame_steps": t.frame_steps, "step_cost": t.step_cost, "steps_per_epoch": len(D.x_train),
           "methods": np.array(["l1", "l2"]), "runs": np.array([0, 0]), "seeds": np.array([0, 0]), "lam": 0.3}
    gifs.write_all(tmp_path, rec, 5.0)
    sizes = {f.name: f.stat().st_size for f in tmp_path.glob("*.gif")}
    assert len(sizes) == 3 and max(sizes.values()) < 2e6, sizes
    with Image.open(tmp_path / "weights_l1_vs_l2.gif") as im:
        assert im.n_frames == 101


@pytest.mark.parametrize("sizes", ["1,5,5,5,5,1", "1,3,1"])
def test_gifs_lay_out_any_number_of_layers(tmp_path, capsys, sizes):
    """Per method: 2 rows of layers; side by side: a row of all layers per method (was fixed at 4 layers)."""
    from l1l2.cli import main
    main(["--quick", "--sizes", sizes, "--methods", "l1,l2", "--no-progress", "--no-tensorboard", "--no-prune",
          "--out", str(tmp_path)])
    for name in ("weights_l1", "weights_l1_vs_l2"):
        with Image.open(tmp_path / "gifs" / f"{name}.gif") as im:
            assert im.n_frames == 6
