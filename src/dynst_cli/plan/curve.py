"""The trade-off curve: test error against sparsity, the figure an operator decides from.

`curve.csv` has one row per sparsity (``sparsity,n_keep,mae,rmse,mape``, ascending sparsity);
`curve.png` plots test MAE and RMSE against sparsity with the dense model (every sensor kept) as
horizontal lines. Both are written atomically; the PNG carries no software version, so the same
rows give the same bytes.
"""

from __future__ import annotations

import os

from matplotlib.figure import Figure

from dynst_cli.atomic import rows_to_csv, write_png, write_text

CURVE_COLUMNS = ("sparsity", "n_keep", "mae", "rmse", "mape")
METRIC_COLOURS = {"mae": "#1f77b4", "rmse": "#d62728"}
FIGSIZE_IN = (7.0, 4.5)


def write_curve(
    rows: list[dict],
    dense: dict,
    csv_path: str | os.PathLike,
    png_path: str | os.PathLike,
) -> None:
    """Write the trade-off table and figure.

    Parameters
    ----------
    rows : list of dict
        One ``{"sparsity", "n_keep", "mae", "rmse", "mape"}`` per plan, errors on the test split
        in the variables' units (``mape`` in percent, may be None).
    dense : dict
        ``{"mae", "rmse", "mape"}`` of the dense model on the same test split.
    csv_path, png_path : str or os.PathLike
        Targets of the table and the figure.
    """
    ordered = sorted(rows, key=lambda row: row["sparsity"])
    write_text(csv_path, curve_csv_text(ordered))
    write_png(curve_figure(ordered, dense), png_path)


def curve_csv_text(rows: list[dict]) -> str:
    """The rows as CSV text with the header ``sparsity,n_keep,mae,rmse,mape``."""
    return rows_to_csv(CURVE_COLUMNS, rows)


def curve_figure(rows: list[dict], dense: dict) -> Figure:
    """Test MAE and RMSE against sparsity, dense model as horizontal dashed lines."""
    figure = Figure(figsize=FIGSIZE_IN, layout="constrained")
    axes = figure.add_subplot()
    sparsity = [float(row["sparsity"]) for row in rows]
    for metric, colour in METRIC_COLOURS.items():
        values = [float(row[metric]) for row in rows]
        axes.plot(sparsity, values, marker="o", color=colour, label=f"test {metric.upper()}")
        axes.axhline(
            float(dense[metric]), color=colour, linestyle="--", linewidth=1,
            label=f"dense model {metric.upper()}",
        )  # fmt: skip
    axes.set_xlabel("sparsity (fraction of sensors switched off)")
    axes.set_ylabel("forecast error on the test split")
    axes.set_title("What each saving costs: test error against sparsity", fontsize=10)
    axes.grid(True, color="#dddddd", linewidth=0.5)
    axes.legend(fontsize=8)
    return figure
