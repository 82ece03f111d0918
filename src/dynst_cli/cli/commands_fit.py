"""`dynst fit`: train the sensor mask jointly with a forecasting backbone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from dynst_cli.cli.app import app
from dynst_cli.cli.options import (
    Budget,
    ExcludeFile,
    ExcludeIds,
    JsonFlag,
    KeepFile,
    KeepIds,
    MinSpacing,
    PerRegionMin,
    Regions,
    check_at_least,
    parse_sparsity,
)
from dynst_cli.cli.render import print_fit_summary
from dynst_cli.config import FitConfig, load_recipe, validate, with_overrides
from dynst_cli.console import set_quiet
from dynst_cli.progress import fit_with_progress

_DEFAULT = FitConfig()  # the built-in settings, shown as defaults in --help


@app.command("fit")
def fit_command(
    dataset: Annotated[Path, typer.Argument(help="Canonical dataset written by `dynst ingest`.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Run directory to write.")],
    recipe: Annotated[
        Path | None,
        typer.Option(
            "--recipe",
            help="YAML recipe (see recipes/). (default: none: built-in settings)",
            exists=True,
        ),
    ] = None,
    backbone: Annotated[
        str | None,
        typer.Option(
            "--backbone",
            help="stid, gwnet or simvp (grids). "
            f"(default: {_DEFAULT.model.backbone}, or the recipe's)",
        ),
    ] = None,
    sparsity: Annotated[
        str | None,
        typer.Option(
            "--sparsity",
            help="Fraction of sensors switched off, in [0, 1). "
            f"(default: {_DEFAULT.mask.sparsity}, or the recipe's)",
        ),
    ] = None,
    epochs: Annotated[
        int | None,
        typer.Option(
            "--epochs", help=f"Training epochs. (default: {_DEFAULT.train.epochs}, or the recipe's)"
        ),
    ] = None,
    t_in: Annotated[
        int | None,
        typer.Option(
            "--t-in",
            help=f"History steps the model sees. (default: {_DEFAULT.data.t_in}, or the recipe's)",
        ),
    ] = None,
    t_out: Annotated[
        int | None,
        typer.Option(
            "--t-out",
            help=f"Steps forecast ahead. (default: {_DEFAULT.data.t_out}, or the recipe's)",
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed", help=f"Random seed. (default: {_DEFAULT.train.seed}, or the recipe's)"
        ),
    ] = None,
    seeds: Annotated[
        int | None,
        typer.Option(
            "--seeds",
            help="Train K masks (seeds seed..seed+K-1) and rank by consensus (mean rank). "
            f"(default: {_DEFAULT.train.seeds}, or the recipe's)",
        ),
    ] = None,
    device: Annotated[
        str | None,
        typer.Option(
            "--device", help=f"cpu or cuda. (default: {_DEFAULT.train.device}, or the recipe's)"
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Continue from the run's last checkpoint. (default: off)"),
    ] = False,
    dense_reference: Annotated[
        bool | None,
        typer.Option(
            "--dense-reference/--no-dense-reference",
            help="Compare with a dense model of the same budget (reused from .dynst-cache/ "
            "beside the run when one was trained before; default: on).",
        ),
    ] = None,
    nproc: Annotated[
        int,
        typer.Option("--nproc", help="Local processes (PyTorch DDP via torch.distributed.run)."),
    ] = 1,
    keep: KeepIds = None,
    keep_file: KeepFile = None,
    exclude: ExcludeIds = None,
    exclude_file: ExcludeFile = None,
    budget: Budget = None,
    min_spacing_km: MinSpacing = None,
    regions: Regions = None,
    per_region_min: PerRegionMin = None,
    as_json: JsonFlag = False,
) -> None:
    """Learn which sensors matter: DynST dense warm-up, cubic ramp, drop-and-regrow, fine-tune.

    Example: dynst fit metr-la.nc -o runs/metr --recipe recipes/metr-la.yaml --sparsity 0.5
    """
    from dynst_cli.distributed import launch_rank
    from dynst_cli.selection import constraints_from_options

    check_at_least(nproc, 1, "--nproc")
    base = load_recipe(recipe) if recipe else FitConfig()
    config = with_overrides(
        base,
        {
            "data": {"t_in": t_in, "t_out": t_out},
            "mask": {"sparsity": parse_sparsity(sparsity)},
            "model": {"backbone": backbone},
            "train": {
                "epochs": epochs,
                "seed": seed,
                "seeds": seeds,
                "device": device,
                "dense_reference": dense_reference,
            },
        },
    )
    validate(config)
    constraints = constraints_from_options(
        keep, keep_file, exclude, exclude_file, budget, min_spacing_km, regions, per_region_min
    )
    if launch_rank() != 0:  # under torchrun, rank 0 alone logs and prints the summary
        set_quiet(True)
    if nproc > 1:
        from dynst_cli.launch import launch_fit

        summary = launch_fit(dataset, output, config, resume, constraints, nproc)
    else:
        summary = fit_with_progress(dataset, output, config, resume=resume, constraints=constraints)
    if not summary:  # ranks other than 0 under torchrun print nothing
        return
    if as_json:
        typer.echo(json.dumps({"run": str(output), **summary}))
    else:
        print_fit_summary(output, summary)
