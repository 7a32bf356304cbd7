"""Bad input of every kind: exit 2, one line naming the problem, no traceback, outputs kept."""

import os

import numpy as np
import pytest

from l1l2.cli import main
from l1l2.core import checkpoints

GOOD = "data/line.csv"


def files(tmp):
    """Bad inputs that need a file on disk; returns {name: path}."""
    (tmp / "empty.csv").write_text("")
    (tmp / "nan.csv").write_text("x,y,split\n1,nan,train\n2,3,test\n")
    (tmp / "cols.csv").write_text("a,b,c\n1,2,train\n")
    (tmp / "text.csv").write_text("x,y,split\none,2,train\n2,3,test\n")
    (tmp / "notrain.csv").write_text("x,y,split\n1,2,test\n")
    (tmp / "binary.csv").write_bytes(bytes(range(128, 256)) * 10)
    with open(tmp / "huge.csv", "wb") as f:
        f.truncate(50_000_000)  # sparse: big without writing it
    (tmp / "adir").mkdir()
    (tmp / "plainfile").write_text("not a folder")
    (tmp / "recording.npz").write_bytes(b"garbage, not a zip archive")
    checkpoints.save(
        tmp / "ck",
        {
            "dense1/W": np.ones((1, 2), np.float32),
            "dense1/b": np.zeros(2, np.float32),
            "dense2/W": np.ones((2, 1), np.float32),
            "dense2/b": np.zeros(1, np.float32),
        },
    )
    (tmp / "ck" / "model.data-00000-of-00001").write_bytes(b"\0" * 8)  # damaged
    (tmp / "f32.csv").write_text("x,y,split\n1,1e39,train\n2,3,test\n")  # beyond float32
    os.mkfifo(tmp / "fifo.csv")  # open() would block
    return tmp


CASES = [  # (argv, fragment of the message); {t} is the folder of bad files
    (["--lr", "abc"], "expected a number, got 'abc'"),
    (["--lr", "-1"], "--lr must be positive"),
    (["--lr", "nan"], "expected a finite number"),
    (["--lam", "inf"], "expected a finite number"),
    (["--lam", "-0.1"], "--lam must be non-negative"),
    (["--runs", "0"], "--runs must be at least 1"),
    (["--runs", "2.5"], "expected an integer, got '2.5'"),
    (["--epochs", "-3"], "--epochs must be at least 1"),
    (["--sizes", "1,10,a,1"], "comma-separated list of int"),
    (["--sizes", "1,0,1"], "--sizes must be positive"),
    (["--sizes", "1"], "--sizes must start and end with 1"),
    (["--methods", ""], "--methods is empty"),
    (["--methods", "l1,l1"], "lists a method twice"),
    (["--methods", "l3"], "unknown method 'l3'"),
    (["--engine", "gpu"], "--engine must be reference, graph or compiled"),
    (["--engine", "compiled", "--bias-reg", "l1:0.1"], "--engine compiled trains kernel penalties"),
    (["--quick", "--tail-epochs", "6"], "--tail-epochs must be between 1 and --epochs (5)"),
    (["--lr-schedule", "step"], "--lr-schedule must be constant, linear or cosine"),
    (["--gif-seconds", "0"], "--gif-seconds must be between"),
    (["--zero-tol", "0"], "--zero-tol must be positive"),
    (["--bias-reg", "l3:0.1"], "--bias-reg: invalid regularizer 'l3:0.1'"),
    (["--kernel-reg", "l1:0.1,0.2"], "--kernel-reg: invalid regularizer 'l1:0.1,0.2'"),
    (["--activity-reg", "l1:-1"], "--activity-reg: invalid regularizer 'l1:-1'"),
    (["--bias-reg", "l1l2:0.1"], "--bias-reg: invalid regularizer 'l1l2:0.1'"),
    (["--activation", "softmax"], "--activation must be one of"),
    (["--activation", "relu:0.1"], "only leaky_relu takes a slope"),
    (["--activation", "leaky_relu:2"], "the slope of leaky_relu must be between 0 and 1"),
    (["--activation", "leaky_relu:x"], "expected a number, got 'x'"),
    (["--l1-update", "newton"], "--l1-update must be subgradient or proximal"),
    (["--order", "random"], "--order must be file or shuffle, got 'random'"),
    (["sweep", "--orders", "sorted"], "--orders must be file or shuffle"),
    (["--tail-epochs", "0"], "--tail-epochs must be between 1 and --epochs (100), got 0"),
    (["sweep", "--epochs", "5", "--tail-epochs", "6"], "--tail-epochs must be between 1 and"),
    (["--tail-epochs", "1.5"], "expected an integer, got '1.5'"),
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["--epoch", "5"], "unknown flag --epoch; did you mean --epochs?"),  # no abbreviations
    (["--seeds", "20"], "--seeds belongs to `reproduce sweep`, not to `reproduce`"),
    (["swep"], "unknown command 'swep'; did you mean 'sweep'?"),
    (["trian"], "unknown command 'trian'"),
    (["--quick", "--batch-size", "3"], "--batch-size 3 does not divide the 40 training samples"),
    (["--quick", "--data", "{t}/missing.csv"], "missing.csv: not found"),
    (["--quick", "--data", "{t}/empty.csv"], "empty.csv: is empty"),
    (["--quick", "--data", "{t}/adir"], "adir: is a directory"),
    (["--quick", "--data", "{t}/nan.csv"], "x and y must be finite"),
    (["--quick", "--data", "{t}/cols.csv"], "expected columns x,y,split"),
    (["--quick", "--data", "{t}/text.csv"], "x and y must be numbers"),
    (["--quick", "--data", "{t}/notrain.csv"], "the train split is empty"),
    (["--quick", "--data", "{t}/binary.csv"], "cannot be read as CSV text"),
    (["--quick", "--data", "{t}/huge.csv"], "is 50 MB, larger than"),
    (["--quick", "--out", "{t}/plainfile/out"], "cannot write to output folder"),
    (["gifs", "--out", "{t}/adir"], "no recording at"),
    (["gifs", "--out", "{t}"], "cannot be read"),
    (["gifs", "--gif-seconds", "-1"], "--gif-seconds must be between"),
    (["prune"], "--checkpoint is required"),
    (["prune", "--checkpoint", "{t}/adir"], "no checkpoint at"),
    (["prune", "--checkpoint", "{t}/ck"], "cannot be read"),
    (
        ["prune", "--checkpoint", "{t}/ck", "--retrain", "later"],
        "--retrain must be scratch, finetune or none",
    ),
    (["prune", "--checkpoint", "{t}/ck", "--activation", "swish"], "--activation must be one of"),
    (["sweep", "--seeds", "1"], "--seeds must be at least 2"),
    (["sweep", "--lams", "0.1,,x"], "comma-separated list of float"),
    (["data", "--hi", "0"], "--hi must be larger than --lo"),
    (["data", "--train-frac", "1"], "--train-frac must leave"),
    # found by fuzzing: malformed lists, empty paths, values far out of range, files that hang
    (["--sizes", "1,,10,1"], "an item is empty"),
    (["sweep", "--lams", "0.1,inf"], "expected a finite number, got 'inf'"),
    (["--out", ""], "--out must not be empty"),
    (["data", "--out", " "], "--out must not be empty"),
    (["data", "--out", "{t}/adir"], "it is a folder"),
    (["--seed", "-1"], "--seed must be between 0 and"),
    (["--epochs", "1000000000000"], "--epochs must be at most 100,000"),
    (["--runs", "1000000000"], "--runs x methods must be at most"),
    (["--runs", "1000", "--epochs", "2000"], "GB of memory, more than the 4 GB allowed"),
    (["--sizes", "1,100000,100000,1"], "--sizes allows at most 100 layers of at most 10,000 units"),
    (["--lr", "1e300"], "--lr must be at most"),
    (["--lam", "1e300"], "--lam must be at most"),
    (["sweep", "--seeds", "1000000000"], "more than the 1,000,000 allowed"),
    (["sweep", "--batch-size", "7"], "--batch-size 7 does not divide the 40 training samples"),
    (["leaky-vs-l1", "--hidden", "1000000000"], "--hidden must be at most"),
    (["l1-update", "--epochs", "1000000000000"], "--epochs must be at most"),
    (["data", "--n", "1000000000"], "--n must be between 2 and 100,000"),
    (["data", "--slope", "1e300"], "the data would not fit float32"),
    (["--quick", "--data", "{t}/fifo.csv"], "is not a regular file"),
    (["--quick", "--data", "/dev/zero"], "is not a regular file"),
    (["--quick", "--data", "{t}/f32.csv"], "must be finite float32 numbers"),
    (
        ["prune", "--checkpoint", "{t}/ck", "--activation", "prelu"],
        "pruning does not support --activation prelu",
    ),
    # paths that cannot be encoded, refused before the work (they raised after training)
    (["--quick", "--out", "{t}/\udcff"], "--out is not valid UTF-8"),
    (["--quick", "--data", "{t}/\udcff.csv"], "--data is not valid UTF-8"),
    (["data", "--out", "{t}/\udcff.csv"], "--out is not valid UTF-8"),
    (["data", "--out", "{t}/x.json"], "--out must not end in .json"),
]


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    return files(tmp_path_factory.mktemp("bad"))


@pytest.mark.parametrize("argv, fragment", CASES, ids=[" ".join(a) for a, _ in CASES])
def test_bad_input(bad, tmp_path, capsys, argv, fragment):
    argv = [a.replace("{t}", str(bad)) for a in argv]
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.csv").write_text("earlier\n")
    if "--out" not in argv and argv[:1] not in (["gifs"], ["data"]):
        argv += ["--out", str(out)]
    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2, err
    assert err.startswith("reproduce") and err.count("\n") == 1, err
    assert fragment in err and "Traceback" not in err, err
    assert sorted(p.name for p in out.iterdir()) == ["results.csv"]
    assert (out / "results.csv").read_text() == "earlier\n"
