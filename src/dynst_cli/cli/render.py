"""Result tables printed on stdout."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from dynst_cli.console import stdout_console


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.4g}"


def print_fit_summary(run: Path, summary: dict) -> None:
    table = Table(title=f"dynst fit: {run}  (kept {summary['n_keep']} of {summary['n_sensors']})")
    for column in ("model", "split", "MAE", "RMSE", "MAPE %"):
        table.add_column(column)
    models = (
        ("dense (end of warm-up)", "dense_warmup"),
        ("dense (same budget)", "dense"),
        ("sparse", "sparse"),
    )
    for model, key in models:
        for split, m in (summary.get(key) or {}).items():
            table.add_row(model, split, _fmt(m["mae"]), _fmt(m["rmse"]), _fmt(m["mape"]))
    stdout_console().print(table)


def print_plan_summary(plan: dict, written: str | None) -> None:
    test, dense = plan["metrics"]["test"], plan["metrics"]["dense_test"]
    title = (
        f"dynst plan: keep {plan['n_keep']} of {plan['n_sensors']} sensors "
        f"(sparsity {plan['sparsity']:.2f}, backbone {plan['backbone']})"
    )
    table = Table(title=title)
    for column in ("network", "test MAE", "test RMSE", "test MAPE %"):
        table.add_column(column)
    table.add_row("reduced", _fmt(test["mae"]), _fmt(test["rmse"]), _fmt(test["mape"]))
    table.add_row("dense", _fmt(dense["mae"]), _fmt(dense["rmse"]), _fmt(dense["mape"]))
    console = stdout_console()
    console.print(table)
    for note in plan.get("notes", []):
        console.print(f"note: {note}", markup=False)
    if written:
        console.print(f"plan written to {written}", markup=False)


def print_curve(rows: list[dict], dense: dict) -> None:
    table = Table(title="dynst prune: test error against sparsity")
    for column in ("sparsity", "kept", "MAE", "RMSE", "MAPE %"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            f"{row['sparsity']:.2f}",
            str(row["n_keep"]),
            _fmt(row["mae"]),
            _fmt(row["rmse"]),
            _fmt(row["mape"]),
        )
    table.add_row("dense", "all", _fmt(dense["mae"]), _fmt(dense["rmse"]), _fmt(dense["mape"]))
    stdout_console().print(table)
