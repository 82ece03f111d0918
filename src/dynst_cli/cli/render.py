"""Result tables printed on stdout."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from dynst_cli.console import stdout_console
from dynst_cli.plan.wording import decimals_for, plan_sentences, unit_of


def _fmt(value, decimals: int = 3) -> str:
    return "-" if value is None else f"{value:.{decimals}f}"


def _mape(value) -> str:
    return "n/a" if value is None else f"{value:.1f}"


DENSE_SAME_BUDGET = (
    "dense (same budget): every sensor kept, trained with the same backbone, epochs and seed; "
    "the reference a plan is measured against"
)
MAPE_NOTE = "MAPE n/a: the variable crosses zero, where a percentage error means nothing"


def _unit_suffix(unit: str) -> str:
    return f" ({unit})" if unit else ""


def print_fit_summary(run: Path, summary: dict) -> None:
    """The fit's validation and test errors, dense and sparse, in the data's unit."""
    units = set((summary.get("units") or {}).values()) - {""}
    unit = units.pop() if len(units) == 1 else ""
    table = Table(title=f"dynst fit: {run}  (kept {summary['n_keep']} of {summary['n_sensors']})")
    for column in ("model", "split", f"MAE{_unit_suffix(unit)}", f"RMSE{_unit_suffix(unit)}"):
        table.add_column(column)
    table.add_column("MAPE %")
    cached = summary.get("dense_reference_source") == "cache"
    models = (
        ("dense (end of warm-up)", "dense_warmup"),
        ("dense (same budget, cached)" if cached else "dense (same budget)", "dense"),
        ("sparse", "sparse"),
    )
    blocks = [m for _, key in models for m in (summary.get(key) or {}).values()]
    decimals = decimals_for(*[m["mae"] for m in blocks])
    for model, key in models:
        for split, m in (summary.get(key) or {}).items():
            table.add_row(
                model, split, _fmt(m["mae"], decimals), _fmt(m["rmse"], decimals), _mape(m["mape"])
            )
    console = stdout_console()
    console.print(table)
    if summary.get("dense"):
        console.print(DENSE_SAME_BUDGET, markup=False)
    if any(m["mape"] is None for m in blocks):
        console.print(MAPE_NOTE, markup=False)
    if summary.get("searches"):
        console.print(searches_agreement(summary["searches"]), markup=False)
    if summary.get("challenge"):
        console.print(challenge_outcome(summary["challenge"], unit), markup=False)


# challenge.FIT, the name of the fit's own keep set; spelt here because the command line must
# start without importing the numerical stack that challenge.py needs
FIT = "dynst"


def challenge_outcome(record: dict, unit: str = "") -> str:
    """Which keep set the fit plans after standing against `mask.challengers`, in words."""
    if record.get("skipped"):
        return f"The challengers' keep sets were not trained ({record['skipped']})."
    scored = {name: mae for name, mae in record["val_mae"].items() if mae is not None}
    if not scored:
        same = ", ".join(record["same_as_fit"])
        return f"The {same} selector kept the same sensors as the fit."
    decimals = decimals_for(*scored.values())
    figures = ", ".join(
        f"{'DynST' if name == FIT else name} {mae:.{decimals}f}" for name, mae in scored.items()
    )
    said = (
        f"Fine-tuned alike from the dense reference, the candidate keep sets reached validation "
        f"MAE{_unit_suffix(unit)} {figures}"
    )
    if record["same_as_fit"]:
        said += f" ({', '.join(record['same_as_fit'])}: the fit's own set)"
    tested = {n: p for n, p in (record.get("p_value") or {}).items() if p is not None}
    if tested:
        said += (
            " (one-sided paired test over stretches of the validation period, p "
            + ", ".join(f"{name} {p:.3f}" for name, p in tested.items())
            + ")"
        )
    if record["winner"] == FIT:
        return (
            said + "; no challenger was lower consistently enough: the fit's own keep set stands."
        )
    return said + f"; the {record['winner']} selector's keep set is planned, ranked by DynST."


def searches_agreement(record: dict) -> str:
    """How much the fit's mask searches agreed, beside what random keep sets would, in words,
    and whether the fit fell back to one search because they agreed at chance."""
    said = (
        f"The {record['searches']} mask searches kept sets that overlap by a mean pairwise "
        f"Jaccard of {record['mean_pairwise_jaccard']:.2f}; keep sets of that size drawn at "
        f"random would overlap by {record['random_keep_sets_jaccard']:.2f}"
    )
    if "agreement_p_value" in record:
        said += f" (as much or more in a share {record['agreement_p_value']:.3f} of draws)"
    said += (
        ". The closer the two, the less this archive decides which sensors to keep: `--seeds 3` "
        "ranks by a consensus of three fits."
    )
    if record.get("fell_back"):
        said += (
            " They agreed no more than chance, so the mask was learnt again by one search over "
            "all the epochs (mask.searches_fallback), and that search ranks the sensors."
        )
    return said


def print_plan_summary(plan, written: str | None) -> None:
    """The plan in plain words, the error table, the notes, and where the plan went."""
    from dynst_cli.plan.schema import plan_record

    plan = plan_record(plan)
    test, dense = plan["metrics"]["test"], plan["metrics"]["dense_test"]
    unit = unit_of(plan)
    decimals = decimals_for(test["mae"], dense["mae"])
    title = (
        f"dynst plan: keep {plan['n_keep']} of {plan['n_sensors']} sensors "
        f"(sparsity {plan['sparsity']:.2f}, backbone {plan['backbone']})"
    )
    table = Table(title=title)
    table.add_column("network")
    for column in ("test MAE", "test RMSE"):
        table.add_column(column + _unit_suffix(unit))
    table.add_column("test MAPE %")
    for name, m in (("reduced", test), ("dense (same budget)", dense)):
        table.add_row(name, _fmt(m["mae"], decimals), _fmt(m["rmse"], decimals), _mape(m["mape"]))
    console = stdout_console()
    for sentence in plan_sentences(plan):
        console.print(sentence, markup=False, soft_wrap=True)
    console.print(table)
    if test["mape"] is None:
        console.print(MAPE_NOTE, markup=False)
    for note in plan.get("notes", []):
        console.print(f"note: {note}", markup=False)
    if written:
        console.print(f"plan written to {written}", markup=False)
    else:
        console.print("nothing written (no -o); add -o plan.json to save the plan", markup=False)


def print_curve(rows: list[dict], dense: dict, unit: str = "") -> None:
    """Test error against sparsity, one row per plan, the dense model last."""
    table = Table(title="dynst prune: test error against sparsity")
    table.add_column("sparsity")
    table.add_column("kept")
    for column in ("MAE", "RMSE"):
        table.add_column(column + _unit_suffix(unit))
    table.add_column("MAPE %")
    decimals = decimals_for(dense["mae"], *[row["mae"] for row in rows])
    for row in rows:
        table.add_row(
            f"{row['sparsity']:.2f}",
            str(row["n_keep"]),
            _fmt(row["mae"], decimals),
            _fmt(row["rmse"], decimals),
            _mape(row["mape"]),
        )
    table.add_row(
        "dense (same budget)",
        "all",
        _fmt(dense["mae"], decimals),
        _fmt(dense["rmse"], decimals),
        _mape(dense["mape"]),
    )
    console = stdout_console()
    console.print(table)
    if dense["mape"] is None:
        console.print(MAPE_NOTE, markup=False)
