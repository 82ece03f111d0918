"""`fit` on several processes: DDP on the CPU with gloo, one mask on every rank, errors once."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
import yaml

from dynst_cli import distributed as dist
from dynst_cli.cli import main
from dynst_cli.data import load_dataset
from dynst_cli.mask import n_keep_for
from dynst_cli.plan.schema import read_plan
from dynst_cli.selection import Siting
from dynst_cli.train import TrainState, epoch_batches, make_optimizer, prepare, run_epochs
from synthetic import tiny_config

pytestmark = pytest.mark.slow  # trains models: run by `make test`, not `make test-fast`

WORLD = 2


@pytest.fixture
def recipe(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_config().to_dict()))
    return path


def test_fit_on_two_processes_writes_a_run_that_prune_plans_from(tmp_path, planted, recipe):
    run = tmp_path / "run"
    argv = ["fit", str(planted[0]), "-o", str(run), "--recipe", str(recipe), "--nproc", "2"]
    assert main([*argv, "--json"]) == 0
    n = json.loads((run / "config.json").read_text())["dataset"]["n_sensors"]
    ranking = json.loads((run / "ranking.json").read_text())
    assert sum(r["kept_in_fit"] for r in ranking) == n_keep_for(n, 0.5)
    assert [h["epoch"] for h in json.loads((run / "history.json").read_text())] == [1, 2, 3, 4]
    plan_path = tmp_path / "plan.json"
    assert main(["prune", str(run), "--sparsity", "0.5", "-o", str(plan_path)]) == 0
    plan = read_plan(plan_path)
    assert plan.n_keep == n_keep_for(n, 0.5)


def test_an_error_in_the_workers_is_the_launchers_exit_code_and_one_message(
    tmp_path, recipe, capfd
):
    argv = ["fit", str(tmp_path / "missing.nc"), "-o", str(tmp_path / "run")]
    assert main([*argv, "--recipe", str(recipe), "--nproc", "2"]) == 2
    err = capfd.readouterr().err
    assert err.count("error:") == 1 and "does not exist" in err
    assert "Traceback" not in err


def _train_one_rank(
    rank: int, init_file: str, dataset: str, out: str, mask: dict, worsening: bool = False
) -> None:
    """One rank of a DynST fit joined by a file store; saves what must match across ranks.

    `worsening`: rank 0 sees the validation error rise after every epoch, so that of the frozen-mask
    epochs of a longer fit it keeps the weights of the first rather than those of the last.
    """
    from dynst_cli import searches, train
    from dynst_cli.fit import (
        _challenged,
        _dense_reference,
        _exchanged,
        _searched,
        final_ranking,
        settle_hook,
    )
    from dynst_cli.run import RunDir

    if worsening:
        epochs = iter(range(1, 1000))
        train.validation_mae = lambda prep: float(next(epochs)) if rank == 0 else None

    torch.distributed.init_process_group(
        "gloo", init_method=f"file://{init_file}", rank=rank, world_size=WORLD
    )
    try:
        config = tiny_config(epochs=8 if worsening else 4, dense_reference="challengers" in mask)
        for key, value in mask.items():
            setattr(config.mask, key, value)
        data = load_dataset(dataset)
        prep = prepare(data, config)
        optimizer = make_optimizer(prep.model, config)
        ddp = dist.wrap_ddp(prep.model, prep.device)
        siting = Siting.free(data.n_sensors)
        select = siting.keep_fn()
        if mask.get("searches_fallback"):  # the test decides alike on every rank: fall back
            searches.CHANCE_LEVEL = -1.0
        elif config.mask.searches > 1:  # pooled, however little the tiny fit's searches agree
            config.mask.searches_fallback = False
        if config.mask.searches > 1:  # the searches after the first train models of their own
            choice, state = (select, siting), TrainState()
            callbacks = (lambda state: None, None)
            prep, *_ = _searched(prep, data, config, state, choice, optimizer, callbacks, ddp)
        else:
            settle = settle_hook(prep, config, select)
            run_epochs(
                prep, config, TrainState(), select, optimizer, lambda state: None, ddp, settle
            )
        if config.mask.exchange_trials:  # decided on rank 0, retrained on every rank alike
            _exchanged(prep, config, final_ranking(prep, config), select)
        if config.mask.challengers:  # from rank 0's dense weights, decided on rank 0's errors
            dense, _ = _dense_reference(RunDir(f"{out}/run"), data, config, prep)
            ranking = final_ranking(prep, config)
            _, challenge = _challenged(prep, data, config, ranking, select, dense)
            assert challenge.val_mae or challenge.same_as_fit
        gate = prep.model.gate
        np.savez(
            f"{out}/rank{rank}.npz",
            keep=gate.keep.numpy(),
            scores=gate.scores.detach().numpy(),
            weights=torch.cat([p.detach().flatten() for p in prep.model.backbone.parameters()]),
        )
        torch.distributed.barrier()  # leave together, as `fit_run` does
    finally:
        torch.distributed.destroy_process_group()
    # Skip the interpreter's teardown: gloo's threads now and then abort it ("terminate called
    # without an active exception", SIGABRT) after everything this rank had to do is written.
    os._exit(0)


# The residual and error regrow signals are summed over ranks; the settling and the narrowing of
# an explored keep set retrain on every rank alike; so do the brief mask searches (pooled by votes,
# survival or elimination), the one search a fit falls back to, and the exchanges after the final
# ranking, and the fine-tunes of the challengers' keep sets from the dense reference.
@pytest.mark.parametrize(
    "mask",
    [
        {},
        {"regrow_signal": "residual", "regrow_grace": 2, "settle_share": 1.0},
        {"regrow_signal": "error", "regrow_grace": 2},
        {"explore_keep": 1.5},
        {"searches": 2},
        {"searches": 2, "pool_by": "elimination"},
        {"searches": 3, "pool_by": "ties"},
        {"searches": 3, "pool_by": "survival"},
        {"searches": 2, "searches_fallback": True},
        {"exchange_trials": 2},
        {"challengers": ["variance", "qr"]},
    ],
)
def test_every_rank_ends_with_the_same_mask_scores_and_weights(tmp_path, planted, mask):
    args = (str(tmp_path / "store"), str(planted[0]), str(tmp_path), mask)
    mp.spawn(_train_one_rank, args=args, nprocs=WORLD, join=True)
    ranks = [np.load(tmp_path / f"rank{r}.npz") for r in range(WORLD)]
    n = ranks[0]["keep"].size
    assert ranks[0]["keep"].sum() == n_keep_for(n, 0.5)
    for name in ("keep", "scores", "weights"):
        np.testing.assert_array_equal(ranks[0][name], ranks[1][name], err_msg=name)


def test_every_rank_ends_with_the_best_validation_weights_that_rank_0_chose(tmp_path, planted):
    args = (str(tmp_path / "store"), str(planted[0]), str(tmp_path), {}, True)
    mp.spawn(_train_one_rank, args=args, nprocs=WORLD, join=True)
    ranks = [np.load(tmp_path / f"rank{r}.npz") for r in range(WORLD)]
    np.testing.assert_array_equal(ranks[0]["weights"], ranks[1]["weights"])


@pytest.mark.parametrize("batch_size", [16, 34, 51])
def test_every_rank_gets_the_same_number_of_batches(planted, monkeypatch, batch_size):
    config = tiny_config(batch_size=batch_size, max_batches_per_epoch=None)
    prep = prepare(load_dataset(planted[0]), config)
    monkeypatch.setattr(dist, "world_size", lambda: 3)
    counts = []
    for rank in range(3):
        monkeypatch.setattr(dist, "rank", lambda rank=rank: rank)
        counts.append(sum(1 for _ in epoch_batches(prep, config, epoch=0)))
    assert len(set(counts)) == 1
