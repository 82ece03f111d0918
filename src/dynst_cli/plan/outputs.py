"""Plans written to disk: one plan, or one per sparsity with the trade-off curve."""

from __future__ import annotations

from pathlib import Path

from dynst_cli.atomic import together
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
    plans = [prune_one(run, s, None, finetune_epochs, constraints, data) for s in sparsities]
    rows = [
        {"sparsity": s, "n_keep": plan["n_keep"], **plan["metrics"]["test"]}
        for s, plan in zip(sparsities, plans, strict=True)
    ]
    dense = plans[-1]["metrics"]["dense_test"]
    with together():  # the plans and the curve replace earlier ones together, or none does
        for sparsity, plan in zip(sparsities, plans, strict=True):
            write_plan(plan, folder / plan_filename(sparsity))
        write_curve(rows, dense, folder / "curve.csv", folder / "curve.png")
    return rows, dense
