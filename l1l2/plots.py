"""Static figures (matplotlib, no display needed)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

METHOD_COLORS = {"none": "tab:gray", "l1": "tab:red", "l2": "tab:blue"}


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
