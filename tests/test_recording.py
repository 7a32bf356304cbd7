"""recording.npz: a valid one round-trips; every damaged or foreign one is one RecordingError."""

import io
import json
import os
import signal
import zipfile

import numpy as np
import pytest

from l1l2.cli import main
from l1l2.output import drawing, recording
from l1l2.output.folder import CONTROL, staged

F, R, STEPS = 3, 2, 4  # frames, models, SGD steps of the hand-made recording


def valid():
    rng = np.random.default_rng(0)
    return {
        "layers": np.array(["dense1", "dense2"]),
        "kernels": [
            rng.normal(size=(F, R, 1, 3)).astype(np.float32),
            rng.normal(size=(F, R, 3, 1)).astype(np.float32),
        ],
        "frame_steps": np.array([0, 2, 4]),
        "step_cost": rng.random((STEPS, R)).astype(np.float32),
        "steps_per_epoch": 2,
        "methods": np.array(["l1", "l2"]),
        "runs": np.array([0, 0]),
        "seeds": np.array([7, 7]),
        "test_error": np.array([1.5, np.nan]),
        "lam": 0.3,
        "zero_tol": 0.01,
        "frame_test_error": rng.random((F, R)).astype(np.float32),
    }


def saved(**changes):
    """A maker: the valid recording with some entries replaced (None drops the entry)."""

    def make(path):
        rec = {**valid(), **changes}
        recording.save(path, {k: v for k, v in rec.items() if v is not None})

    return make


def kernels(fn):
    """saved() with every kernel replaced by fn(kernel)."""
    return saved(kernels=[fn(k) for k in valid()["kernels"]])


def no_models(path):
    rec = valid()
    recording.save(
        path,
        {
            **rec,
            "methods": np.array([], str),
            "runs": np.array([], int),
            "seeds": np.array([], int),
            "test_error": np.array([]),
            "step_cost": np.zeros((STEPS, 0)),
            "kernels": [k[:, :0] for k in rec["kernels"]],
        },
    )


def raw(data):
    def make(path):
        path.write_bytes(data)

    return make


def zipped(members, compression=zipfile.ZIP_STORED):
    """A zip archive of {name: bytes}."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def npy(a):
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def corrupt_deflate(path):
    saved()(path)
    data = bytearray(path.read_bytes())
    data[60:80] = b"\xff" * 20  # inside the first member's compressed bytes
    path.write_bytes(bytes(data))


def layers_not_npy(path):
    """A valid recording whose layers member is plain text, not a .npy."""
    saved()(path)
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist() if n != "layers.npy"}
    path.write_bytes(zipped({**members, "layers": b"dense1,dense2"}))


def huge_header(path):
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (10000000000000,), }"
    header = header.ljust(117) + "\n"
    path.write_bytes(
        zipped(
            {
                "layers.npy": b"\x93NUMPY\x01\x00"
                + len(header).to_bytes(2, "little")
                + header.encode()
            }
        )
    )


def kernel_inf(path):
    """A recording with inf weights, as recording.save never writes one."""
    rec = valid()
    kernels = {f"kernel_{i}": np.where(k > 0, np.inf, k) for i, k in enumerate(rec.pop("kernels"))}
    np.savez_compressed(path, **rec, **kernels)


def fifo(path):
    os.mkfifo(path)


def directory(path):
    path.mkdir()


CASES = [  # (id, make(path), fragment of the message)
    ("layers 0-d", saved(layers=np.array("dense1")), "layers must be 1-D, got a scalar"),
    ("frame_steps 0-d", saved(frame_steps=np.array(0)), "frame_steps must be 1-D, got a scalar"),
    ("kernels 3-D", kernels(lambda k: k[:, :, 0, :]), "kernel_0 must be 4-D, got 3-D"),
    ("kernels 2-D", kernels(lambda k: k[:, 0, 0, :]), "kernel_0 must be 4-D, got 2-D"),
    ("step_cost 1-D", saved(step_cost=np.ones(STEPS)), "step_cost must be 2-D, got 1-D"),
    (
        "test_error short",
        saved(test_error=np.array([1.0])),
        "test_error has length 1, but methods has 2",
    ),
    (
        "steps_per_epoch 0",
        saved(steps_per_epoch=0),
        "steps_per_epoch must be a positive integer, got 0",
    ),
    (
        "steps_per_epoch text",
        saved(steps_per_epoch="x"),
        "steps_per_epoch must hold integers, got dtype <U1",
    ),
    ("steps_per_epoch float", saved(steps_per_epoch=2.5), "steps_per_epoch must hold integers"),
    (
        "zero frames",
        saved(frame_steps=np.array([], int), kernels=[k[:0] for k in valid()["kernels"]]),
        "has 0 frame(s)",
    ),
    (
        "one frame",
        saved(frame_steps=np.array([0]), kernels=[k[:1] for k in valid()["kernels"]]),
        "has 1 frame(s)",
    ),
    ("zero models", no_models, "has no models"),
    ("fifo", fifo, "is not a regular file"),
    ("directory", directory, "is a directory"),
    ("garbage", raw(b"garbage, not a zip archive"), "cannot be read: not an .npz (zip) archive"),
    ("empty file", raw(b""), "cannot be read: not an .npz (zip) archive"),
    ("a .npy", raw(npy(np.arange(3))), "cannot be read: not an .npz (zip) archive"),
    (
        "pickled objects",
        saved(methods=np.array(["l1", None], dtype=object)),
        "cannot be read (ValueError: Object arrays cannot be loaded",
    ),
    ("bad deflate", corrupt_deflate, "cannot be read (error: Error -3 while decompressing"),
    ("absurd header", huge_header, "cannot be read"),
    ("member not .npy", layers_not_npy, "layers is not a NumPy array"),
    ("lacks keys", saved(lam=None, seeds=None), "lacks lam, seeds"),
    ("no layers", saved(layers=np.array([], str), kernels=[]), "has no layers"),
    (
        "kernel missing",
        saved(layers=np.array(["dense1", "dense2", "dense3"])),
        "has kernels kernel_0, kernel_1 for 3 layers",
    ),
    (
        "kernel extra",
        saved(layers=np.array(["dense1"])),
        "has kernels kernel_0, kernel_1 for 1 layers",
    ),
    (
        "kernel frames",
        kernels(lambda k: k[:2]),
        "kernel_0's axis 0 has length 2, but frame_steps has 3",
    ),
    (
        "kernel models",
        kernels(lambda k: k[:, :1]),
        "kernel_0's axis 1 has length 1, but methods has 2",
    ),
    ("kernel empty", kernels(lambda k: k[:, :, :0]), "kernel_0 is empty (shape (3, 2, 0, 3))"),
    ("kernel complex", kernels(lambda k: k * 1j), "kernel_0 must hold numbers, got dtype complex"),
    (
        "step_cost columns",
        saved(step_cost=np.ones((STEPS, 3))),
        "step_cost's axis 1 has length 3, but methods",
    ),
    ("step_cost text", saved(step_cost=np.full((STEPS, R), "a")), "step_cost must hold numbers"),
    ("methods numbers", saved(methods=np.array([1, 2])), "methods must hold text"),
    ("runs floats", saved(runs=np.array([0.0, 0.0])), "runs must hold integers"),
    ("seeds short", saved(seeds=np.array([7])), "seeds has length 1, but methods has 2"),
    ("frame_steps start", saved(frame_steps=np.array([1, 2, 4])), "frame_steps must start at 0"),
    ("frame_steps repeat", saved(frame_steps=np.array([0, 2, 2])), "frame_steps must increase"),
    (
        "frame_steps unsigned",
        saved(frame_steps=np.array([0, 3, 2], np.uint8)),
        "frame_steps must increase",
    ),
    (
        "frame_steps beyond",
        saved(frame_steps=np.array([0, 2, 5])),
        "reaches step 5, beyond the 4 steps",
    ),
    ("lam nan", saved(lam=np.nan), "lam must be finite and non-negative, got nan"),
    ("lam negative", saved(lam=-0.1), "lam must be finite and non-negative"),
    ("lam list", saved(lam=np.array([0.3])), "lam must be a scalar, got 1-D"),
    ("zero_tol 0", saved(zero_tol=0.0), "zero_tol must be finite and positive, got 0.0"),
    ("zero_tol inf", saved(zero_tol=np.inf), "zero_tol must be finite and positive, got inf"),
    # crafted: each used to raise in the drawing code, or to draw what no network computes
    ("kernel inf", kernel_inf, "kernel_0 holds inf"),
    (
        "kernel beyond float32",
        kernels(lambda k: k.astype(np.float64) * 1e300),
        "kernel_0 holds inf or values beyond the float32 range",
    ),
    (
        "steps_per_epoch 2**62",
        saved(steps_per_epoch=2**62),
        "steps_per_epoch must be a positive integer of at most the 4 steps",
    ),
    ("n_test text", saved(n_test=np.array("x")), "n_test must hold integers"),
    ("n_test 0", saved(n_test=0), "n_test must be a positive integer"),
    ("protocol_data text", saved(protocol_data=np.array("yes")), "protocol_data must hold true"),
    (
        "kernels do not chain",
        saved(kernels=[np.ones((F, R, 1, 3)), np.ones((F, R, 5, 1))]),
        "kernel_1 has 5 rows, but kernel_0 has 3 columns",
    ),
    (
        "first kernel rows",
        saved(kernels=[np.ones((F, R, 2, 3)), np.ones((F, R, 3, 1))]),
        "kernel_0 has 2 rows, but the input has 1",
    ),
    (
        "last kernel columns",
        saved(kernels=[np.ones((F, R, 1, 3)), np.ones((F, R, 3, 2))]),
        "kernel_1 has 2 columns, but the output has 1",
    ),
    (
        "kernel too wide",
        saved(kernels=[np.ones((F, R, 1, 10_001)), np.ones((F, R, 10_001, 1))]),
        "at most 10,000 units",
    ),
    ("layers misnamed", saved(layers=np.array(["dense1", "x" * 100_000])), "layers must be"),
    ("methods unknown", saved(methods=np.array(["l1", "x" * 100_000])), "methods must be"),
]
IDS = [c[0] for c in CASES]


@pytest.fixture
def no_hang():
    """Fail instead of blocking forever (a FIFO opened for reading waits for a writer)."""

    def alarm(signum, frame):
        raise TimeoutError("blocked for 10 s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def test_valid_recording_round_trips(tmp_path):
    rec = valid()
    recording.save(tmp_path / recording.FILE, rec)
    back = recording.load(tmp_path / recording.FILE)
    assert sorted(back) == sorted(rec)
    for name, value in rec.items():
        if name != "kernels":
            np.testing.assert_array_equal(back[name], value)
    assert len(back["kernels"]) == 2
    for k_back, k in zip(back["kernels"], rec["kernels"]):
        assert k_back.dtype == k.dtype
        np.testing.assert_array_equal(k_back, k)


def test_a_weight_that_overflowed_is_saved_as_nan_like_the_rest_of_a_diverged_run(tmp_path):
    rec = valid()
    rec["kernels"][0][0, 0, 0, 0] = np.inf
    recording.save(tmp_path / recording.FILE, rec)
    assert np.isnan(recording.load(tmp_path / recording.FILE)["kernels"][0][0, 0, 0, 0])


def test_unsigned_and_extra_keys_still_load(tmp_path):
    recording.save(
        tmp_path / recording.FILE,
        {
            **valid(),
            "frame_steps": np.array([0, 2, 4], np.uint32),
            "note": np.array("from a later version"),
        },
    )
    back = recording.load(tmp_path / recording.FILE)
    assert back["frame_steps"].tolist() == [0, 2, 4] and back["note"] == "from a later version"


def test_missing_recording_says_run_first(tmp_path):
    with pytest.raises(recording.RecordingError, match="no recording at .*: run ./reproduce first"):
        recording.load(tmp_path / recording.FILE)


@pytest.mark.parametrize("make, fragment", [c[1:] for c in CASES], ids=IDS)
def test_damaged_recording_is_a_recording_error(tmp_path, no_hang, make, fragment):
    path = tmp_path / recording.FILE
    make(path)
    with pytest.raises(recording.RecordingError) as e:
        recording.load(path)
    assert str(e.value).startswith(f"recording {path}: "), e.value
    assert fragment in str(e.value), e.value


@pytest.mark.parametrize("make, fragment", [c[1:] for c in CASES], ids=IDS)
def test_damaged_recording_is_one_line_from_the_cli(tmp_path, capsys, no_hang, make, fragment):
    make(tmp_path / recording.FILE)
    with pytest.raises(SystemExit) as e:
        main(["gifs", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert e.value.code == 2, err
    assert err.startswith("reproduce gifs: error: recording ") and err.count("\n") == 1, err
    assert fragment in err and "Traceback" not in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == [recording.FILE]  # nothing drawn


def test_smallest_valid_recording_redraws(tmp_path, capsys):
    """The lower bounds load() allows (2 frames, 1 model, 1 layer of 1x1, 1 step) can be drawn."""
    recording.save(
        tmp_path / recording.FILE,
        {
            "layers": np.array(["dense1"]),
            "kernels": [np.full((2, 1, 1, 1), 0.5, np.float32)],
            "frame_steps": np.array([0, 1]),
            "step_cost": np.array([[2.0]]),
            "steps_per_epoch": 1,
            "methods": np.array(["l1"]),
            "runs": np.array([0]),
            "seeds": np.array([0]),
            "test_error": np.array([1.0]),
            "lam": 0.0,
            "zero_tol": 0.01,
            "frame_test_error": np.array([[3.0], [1.0]]),
        },
    )
    main(["gifs", "--out", str(tmp_path), "--gif-seconds", "0.1", "--force"])  # no manifest
    assert "redrew the figures and GIFs of" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "gifs").iterdir()) == [
        "weights_l1.gif",
        "weights_l1.png",
    ]
    assert len(list((tmp_path / "figures").iterdir())) == 3


def test_gifs_finishes_an_interrupted_commit_before_it_reads_the_recording(
    tmp_path, capsys, monkeypatch
):
    """A run killed during its commit: its recording (seeds 8) is staged, the journal says it
    replaces the committed one (seeds 7). The GIFs must come from the recording that is there
    once the commit is finished, never from the one it replaces."""
    with staged(tmp_path, owns=(recording.FILE,)) as stage:
        recording.save(stage / recording.FILE, valid())
    (tmp_path / CONTROL / "stage-killed").mkdir()
    staged_rec = {**valid(), "seeds": np.array([8, 8])}
    recording.save(tmp_path / CONTROL / "stage-killed" / recording.FILE, staged_rec)
    journal = {
        "stage": "stage-killed",
        "displaced": "displaced-killed",
        "steps": [["place", recording.FILE], ["manifest", ""], ["done", ""]],
    }
    (tmp_path / CONTROL / "journal.json").write_text(json.dumps(journal))
    drawn = []
    monkeypatch.setattr(drawing, "figures", lambda folder, rec, s: drawn.append(rec["seeds"]))
    main(["gifs", "--out", str(tmp_path)])
    assert "finished the commit of an interrupted run" in capsys.readouterr().err
    assert [list(s) for s in drawn] == [[8, 8]]


def test_gifs_refuses_a_recording_replaced_while_it_was_read(tmp_path, capsys, monkeypatch):
    """Another command committing between the read and the lock: the GIFs would be of the old
    recording beside the new one."""
    with staged(tmp_path, owns=(recording.FILE,)) as stage:
        recording.save(stage / recording.FILE, valid())

    def load_then_replaced(path, real=recording.load):
        rec = real(path)
        with staged(tmp_path, owns=(recording.FILE,)) as stage:  # the other command
            recording.save(stage / recording.FILE, {**valid(), "seeds": np.array([8, 8])})
        return rec

    monkeypatch.setattr(recording, "load", load_then_replaced)
    with pytest.raises(SystemExit) as e:
        main(["gifs", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.count("\n") == 1 and "was replaced while it was read" in err
    assert not (tmp_path / "gifs").exists()
