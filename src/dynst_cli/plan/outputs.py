"""Plans written to disk: one plan, or one per sparsity with the trade-off curve."""

from __future__ import annotations

from pathlib import Path

from dynst_cli.plan.curve import write_curve
from dynst_cli.plan.schema import write_plan
from dynst_cli.progress import FinetuneProgress
from dynst_cli.prune import prune_run


def prune_one(run, sparsity, output: Path | None, finetune_epochs, constraints, data) -> dict:
    """The plan at `sparsity`, written to `output` when given; fine-tuning shows progress."""
    with FinetuneProgress(f"prune {sparsity:.2f}") as progress:
        plan = prune_run(
            run,
            sparsity,
            finetune_epochs=finetune_epochs,
            constraints=constraints,
            data_path=data,
            on_epoch=progress.update,
        )
    if output is not None:
        write_plan(plan, output)
    return plan


def plan_filename(sparsity: float) -> str:
    return f"plan-s{sparsity:.2f}.json"


def prune_many(run, sparsities, folder: Path, finetune_epochs, constraints, data):
    """One plan per sparsity in `folder`, plus `curve.csv` and `curve.png` of test error."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows, dense = [], None
    for sparsity in sparsities:
        plan = prune_one(
            run, sparsity, folder / plan_filename(sparsity), finetune_epochs, constraints, data
        )
        test = plan["metrics"]["test"]
        rows.append({"sparsity": sparsity, "n_keep": plan["n_keep"], **test})
        dense = plan["metrics"]["dense_test"]
    write_curve(rows, dense, folder / "curve.csv", folder / "curve.png")
    return rows, dense
