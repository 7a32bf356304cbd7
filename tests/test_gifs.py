"""Recorded frames, colour scale, the GIF files, and `reproduce gifs`."""
import shutil

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

from conftest import run_reproduce
from l1l2 import data, gifs, model, regularizers, train

D = data.load("data/line.csv")
P0 = model.stack([model.glorot_init((1, 10, 10, 10, 1), s) for s in range(2)])
PEN = regularizers.stack([regularizers.for_method(m, 0.3) for m in ("l1", "l2")])


def test_frame_k_is_the_weights_after_step_k():
    """Frames of the in-graph loop equal those the reference loop fetches with a separate sess.run."""
    x, y = D.x_train[:10], D.y_train[:10]
    g = train.train_graph(x, y, P0, PEN, lr=0.01, epochs=3, chunk=7, record=True)
    r = train.train_reference(x, y, P0, PEN, lr=0.01, epochs=3, chunk=7, record=True)
    assert g.frame_steps.tolist() == r.frame_steps.tolist() == [0, 7, 14, 21, 28, 30]
    for k in P0:
        assert g.frames[k].shape == (6, *P0[k].shape)
        np.testing.assert_array_equal(g.frames[k][0], P0[k])
        np.testing.assert_allclose(g.frames[k], r.frames[k], atol=1e-6)
        np.testing.assert_array_equal(g.frames[k][-1], g.params[k])


def test_frame_at_epoch_boundary_equals_a_shorter_training():
    long = train.train_graph(D.x_train, D.y_train, P0, PEN, lr=0.01, epochs=3, record=True)
    short = train.train_graph(D.x_train, D.y_train, P0, PEN, lr=0.01, epochs=2)
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


@pytest.mark.parametrize("n, total", [(101, 5.0), (7, 1.0), (1, 2.0), (300, 5.0)])
def test_durations_sum_to_total_and_hold_last(n, total):
    d = gifs.durations_ms(n, total)
    assert len(d) == n and sum(d) == round(total * 1000)
    assert all(x % 10 == 0 for x in d) and d[-1] >= max(d)


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


def test_reproduce_gifs_redraws_from_recording(quick_run, tmp_path):
    shutil.copy(quick_run / "recording.npz", tmp_path)
    res = run_reproduce("gifs", "--out", tmp_path, "--gif-seconds", "2")
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
