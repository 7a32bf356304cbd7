"""Static figures (matplotlib, no display needed)."""
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

METHOD_COLORS = {"none": "tab:gray", "l1": "tab:red", "l2": "tab:blue", "l1l2": "tab:purple"}


def fit_figure(data, grid, preds, path, title):
    """The data (train, test, outliers) and one fitted line per method: preds = {label: y(grid)}."""
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    tr, te, out = data.train & ~data.outlier, ~data.train, data.outlier
    ax.scatter(data.x[tr], data.y[tr], s=22, c="k", label="train")
    ax.scatter(data.x[out], data.y[out], s=40, facecolors="none", edgecolors="tab:orange",
               linewidths=1.5, label="train (outlier)")
    ax.scatter(data.x[te], data.y[te], s=30, marker="s", c="tab:green", label="test")
    for label, p in preds.items():
        ax.plot(grid, p, lw=2, c=METHOD_COLORS.get(label.split()[0]), label=label)
    ax.set(xlabel="x", ylabel="y", title=title)
    ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _methods(rec):
    return list(dict.fromkeys(rec["methods"]))


def sparsity_figure(rec, path):
    """Fraction of |w| < zero_tol per layer over training, each run a thin line, the mean thick."""
    tol, layers = float(rec["zero_tol"]), rec["layers"]
    epochs = rec["frame_steps"] / int(rec["steps_per_epoch"])
    fig, axes = plt.subplots(1, len(layers), figsize=(3.2 * len(layers), 3.2), dpi=100, sharey=True)
    for ax, name, k in zip(np.atleast_1d(axes), layers, rec["kernels"]):
        frac = (np.abs(k) < tol).reshape(k.shape[0], k.shape[1], -1).mean(-1)  # [F, R]
        for m in _methods(rec):
            sel = rec["methods"] == m
            ax.plot(epochs, frac[:, sel], c=METHOD_COLORS.get(m), lw=0.6, alpha=0.4)
            ax.plot(epochs, frac[:, sel].mean(1), c=METHOD_COLORS.get(m), lw=2, label=m)
        ax.set(title=f"{name} W {k.shape[2]}x{k.shape[3]}", xlabel="epoch", ylim=(-0.02, 1.02))
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].set_ylabel(f"fraction of weights with |w| < {tol:g}")
    np.atleast_1d(axes)[0].legend(frameon=False)
    _save(fig, path)


def weights_hist_figure(rec, path):
    """Final |w| of every kernel weight of every run, per method, on a log axis."""
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    final = np.concatenate([k[-1].reshape(k.shape[1], -1) for k in rec["kernels"]], axis=1)  # [R, n]
    bins = np.logspace(-6, 1, 50)
    for m in _methods(rec):
        w = np.abs(final[rec["methods"] == m]).ravel()
        w = w[np.isfinite(w)]  # a diverged run has no weights to show
        ax.hist(np.clip(w, bins[0], bins[-1]), bins=bins, histtype="step", lw=2,
                color=METHOD_COLORS.get(m), label=f"{m} ({len(w)} weights)")
    ax.axvline(float(rec["zero_tol"]), c="k", ls=":", label=f"|w| = {float(rec['zero_tol']):g}")
    ax.set(xscale="log", xlabel="|w| after training (values below 1e-6 in the first bin)",
           ylabel="count", title="Final kernel weight magnitudes")
    ax.legend(frameon=False)
    _save(fig, path)


def errors_figure(rec, path, blog_l1):
    """Test error of every run per method, with the blog's five L1 runs beside."""
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    methods = _methods(rec)
    for i, m in enumerate(methods):
        e = rec["test_error"][rec["methods"] == m]
        e = e[np.isfinite(e)]  # diverged runs are left out
        ax.scatter(np.full(len(e), i), e, c=METHOD_COLORS.get(m), s=40, zorder=3)
        if len(e):
            ax.hlines(e.mean(), i - 0.25, i + 0.25, colors=METHOD_COLORS.get(m), lw=2)
    ax.scatter(np.full(len(blog_l1), len(methods)), blog_l1, marker="x", c="tab:red", s=50, zorder=3)
    ax.hlines(np.mean(blog_l1), len(methods) - 0.25, len(methods) + 0.25, colors="tab:red", lw=2)
    ax.set_xticks(range(len(methods) + 1), [*methods, "l1 (blog)"])
    ax.set(ylabel="total absolute test error", title="Test error per run (bar: mean)")
    ax.grid(alpha=0.3, axis="y")
    _save(fig, path)


def _save(fig, path):
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
