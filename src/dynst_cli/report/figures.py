"""The report's figures as inline PNG `data:` URIs: trade-off curve, comparison, stability.

The curve and the comparison are the figures `prune` and `compare` write themselves
(`plan.curve`, `compare.figure`), drawn again from the same numbers so the page needs no file
beside it.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from matplotlib.figure import Figure

from dynst_cli.compare.figure import compare_figure
from dynst_cli.plan.curve import curve_figure

STABILITY_FIGSIZE_IN = (7.0, 3.2)
FIGURE_DPI = 100  # screen resolution: keeps the page small (the METR-LA demo is well under 5 MB)


def png_data_uri(figure: Figure) -> str:
    """`figure` as ``data:image/png;base64,...`` (no metadata, so the same figure, same text)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=FIGURE_DPI, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def tradeoff_uri(plans: list[dict]) -> str | None:
    """Test MAE/RMSE against sparsity over `plans` (dense dashed); None for fewer than two."""
    sparsities = {p["sparsity"] for p in plans}
    if len(sparsities) < 2:
        return None
    rows = [
        {"sparsity": p["sparsity"], "n_keep": p["n_keep"], **p["metrics"]["test"]} for p in plans
    ]
    rows.sort(key=lambda row: row["sparsity"])
    return png_data_uri(curve_figure(rows, plans[0]["metrics"]["dense_test"]))


def comparison_uri(compare: dict | None) -> str | None:
    """DynST against the rival keep sets (compare's own figure), None without a comparison."""
    if not compare or not compare["results"]:
        return None
    return png_data_uri(compare_figure(compare["results"], compare["dense"]))


def stability_uri(frequency: dict[str, float] | None, seeds: int, jaccard: float | None):
    """Selection frequency of every sensor, sorted, with the mean pairwise Jaccard in the title.

    `frequency` maps sensor id to the share of the `seeds` refits that kept it; None without one.
    """
    if not frequency:
        return None
    values = np.sort(np.array(list(frequency.values()), dtype=float))[::-1]
    figure = Figure(figsize=STABILITY_FIGSIZE_IN, layout="constrained")
    axes = figure.add_subplot()
    axes.bar(np.arange(1, values.size + 1), values, width=1.0, color="#1f77b4")
    axes.set_xlim(0.5, values.size + 0.5)
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("sensors, most often kept first")
    axes.set_ylabel(f"share of {seeds} refits\nthat kept the sensor")
    title = f"Stability over {seeds} refits with different seeds"
    if jaccard is not None:
        title += f": mean pairwise Jaccard {jaccard:.2f}"
    axes.set_title(title, fontsize=10)
    axes.grid(True, axis="y", color="#dddddd", linewidth=0.5)
    return png_data_uri(figure)
