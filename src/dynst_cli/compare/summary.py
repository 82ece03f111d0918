"""What `dynst compare` reports, as plain rows: every keep set, the mean over seeds, stability.

The command line draws these rows as tables; a notebook can print or plot them directly.
"""

from __future__ import annotations

from itertools import groupby

from dynst_cli.compare.runner import CompareResult
from dynst_cli.plan.wording import decimals_for

COLUMNS = ("method", "sparsity", "kept", "seed", "MAE", "RMSE", "MAPE %", "seconds")
METRICS = ("mae", "rmse", "mape")
DENSE = "dense (same budget)"


def result_rows(result: CompareResult) -> list[list[str]]:
    """One row of `COLUMNS` cells per keep set; after the seeds of one method and sparsity,
    their mean with the min-max spread; the dense model last. MAE and RMSE share the decimals
    their size needs; MAPE has one decimal, n/a where undefined."""
    decimals = decimals_for(result.dense["mae"], *[row["mae"] for row in result.results])
    rows = []
    pairs = list(zip(result.results, result.seconds, strict=False))
    for _, group in groupby(pairs, key=lambda pair: (pair[0]["method"], pair[0]["sparsity"])):
        group = list(group)
        rows.extend([*_cells(row, decimals), f"{seconds:.1f}"] for row, seconds in group)
        if len(group) > 1:
            rows.append([*seed_spread([row for row, _ in group], decimals), ""])
    dense = {"method": DENSE, "sparsity": 0.0, "seed": None, **result.dense}
    seconds = result.dense_seconds
    rows.append([*_cells(dense, decimals), "-" if seconds is None else f"{seconds:.1f}"])
    return rows


def seed_spread(rows: list[dict], decimals: int) -> list[str]:
    """Mean over seeds with the min-max spread, e.g. ``0.81 [0.78-0.85]``, as cells."""
    first = rows[0]
    cells = [first["method"], f"{first['sparsity']:.2f}", str(first["n_keep"]), "mean [min-max]"]
    for key in METRICS:
        values = [row[key] for row in rows if row[key] is not None]
        if not values:
            cells.append(_fmt(None, key, decimals))
            continue
        mean = sum(values) / len(values)
        low, high = _fmt(min(values), key, decimals), _fmt(max(values), key, decimals)
        cells.append(f"{_fmt(mean, key, decimals)} [{low}-{high}]")
    return cells


def stability_line(stability: dict) -> str:
    """One sentence: refits, sparsity, kept count and the mean pairwise Jaccard overlap."""
    return (
        f"DynST stability over {stability['seeds']} refits at sparsity "
        f"{stability['sparsity']:.2f} (keep {stability['n_keep']}): "
        f"mean pairwise Jaccard {stability['mean_jaccard']:.3f}"
    )


def unsure_sensors(stability: dict) -> list[tuple[str, float]]:
    """``(sensor_id, selection frequency)`` of the sensors some refits kept and others dropped,
    most often kept first (ties by id)."""
    unsure = [(sid, f) for sid, f in stability["selection_frequency"].items() if 0.0 < f < 1.0]
    return sorted(unsure, key=lambda pair: (-pair[1], pair[0]))


def _fmt(value, key: str, decimals: int) -> str:
    """MAE and RMSE with the table's decimals; MAPE with one, n/a where it is undefined."""
    if value is None:
        return "n/a" if key == "mape" else "-"
    return f"{value:.1f}" if key == "mape" else f"{value:.{decimals}f}"


def _cells(row: dict, decimals: int) -> list[str]:
    seed = "-" if row["seed"] is None else str(row["seed"])
    return [row["method"], f"{row['sparsity']:.2f}", str(row["n_keep"]), seed] + [
        _fmt(row[key], key, decimals) for key in METRICS
    ]
