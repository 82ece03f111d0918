"""`compare.png`: test MAE against sparsity, one line per method, the dense model for reference.

Seeded methods (random) are drawn as the mean over seeds with a band from the lowest to the
highest seed. The PNG carries no software version, so the same results give the same bytes.
"""

from __future__ import annotations

import os
from collections import defaultdict

from matplotlib.figure import Figure

from dynst_cli.atomic import write_png

COLOURS = {"dynst": "#1f77b4", "random": "#7f7f7f", "variance": "#2ca02c", "qr": "#d62728"}
FIGSIZE_IN = (7.0, 4.5)


def mae_by_sparsity(results: list[dict], method: str) -> tuple[list[float], list[list[float]]]:
    """Sparsities (ascending) of `method` and the test MAE of each seed at each of them."""
    by_sparsity = defaultdict(list)
    for row in results:
        if row["method"] == method:
            by_sparsity[float(row["sparsity"])].append(float(row["mae"]))
    sparsities = sorted(by_sparsity)
    return sparsities, [by_sparsity[s] for s in sparsities]


def compare_figure(results: list[dict], dense: dict) -> Figure:
    """Test MAE against sparsity per method; mean and min-max band where there are seeds."""
    figure = Figure(figsize=FIGSIZE_IN, layout="constrained")
    axes = figure.add_subplot()
    for method in dict.fromkeys(row["method"] for row in results):
        x, maes = mae_by_sparsity(results, method)
        colour = COLOURS.get(method)
        mean = [sum(v) / len(v) for v in maes]
        seeded = any(len(v) > 1 for v in maes)
        label = f"{method} (mean, min-max over seeds)" if seeded else method
        axes.plot(x, mean, marker="o", color=colour, label=label)
        if seeded:
            low, high = [min(v) for v in maes], [max(v) for v in maes]
            axes.fill_between(x, low, high, color=colour, alpha=0.2, linewidth=0)
    axes.axhline(float(dense["mae"]), color="black", linestyle="--", linewidth=1, label="dense")
    axes.set_xlabel("sparsity (fraction of sensors switched off)")
    axes.set_ylabel("test MAE (test split)")
    axes.set_title("Which sensors to keep: DynST against rival keep sets", fontsize=10)
    axes.grid(True, color="#dddddd", linewidth=0.5)
    axes.legend(fontsize=8)
    return figure


def write_compare_figure(results: list[dict], dense: dict, path: str | os.PathLike) -> None:
    """Write `compare_figure` to `path` as PNG, atomically."""
    write_png(compare_figure(results, dense), path)
