"""Ctrl-C and kill -9 in the middle of `dynst fit`, in a real process: exit 130 and no temporary
files after Ctrl-C; after either, `fit --resume` finishes the same run an uninterrupted fit makes.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
import torch

from dynst_cli.cli import main
from robustness.conftest import build_once, dynst_process, temporaries, write_recipe
from synthetic import canonical_dataset, planted_network, write

pytestmark = pytest.mark.slow  # trains models: run by `make test`, not `make test-fast`

EPOCHS = 8  # a few seconds of training: time to interrupt it after the first checkpoint


def _reference(root: Path) -> None:
    values, _ = planted_network(n_steps=400)
    dataset = write(canonical_dataset(values), root / "planted.nc")
    recipe = write_recipe(root / "recipe.yaml", epochs=EPOCHS)
    assert main(["-q", "fit", str(dataset), "-o", str(root / "run"), "--recipe", str(recipe)]) == 0


@pytest.fixture(scope="session")
def setup(tmp_path_factory, worker_id):
    """A dataset, a longer tiny recipe, and the ranking of an uninterrupted fit with them."""
    root = build_once(tmp_path_factory, worker_id, "interrupts-reference", _reference)
    ranking = (root / "run" / "ranking.json").read_bytes()
    return root / "planted.nc", root / "recipe.yaml", ranking


def _wait_for_checkpoint(run: Path, process, timeout: float = 60.0) -> None:
    """Until the first checkpoint (end of epoch 1) is in place; fails if the fit ends first."""
    deadline = time.monotonic() + timeout
    while not (run / "checkpoint.pt").is_file():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no checkpoint in time"
        time.sleep(0.02)


def _resume(dataset, run, recipe) -> int:
    return main(["-q", "fit", str(dataset), "-o", str(run), "--recipe", str(recipe), "--resume"])


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupt_exits_130_leaves_no_temporary_files_and_resume_finishes(tmp_path, setup, signum):
    dataset, recipe, reference = setup
    run = tmp_path / "run"
    process = dynst_process("fit", dataset, "-o", run, "--recipe", recipe)
    _wait_for_checkpoint(run, process)
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "error: interrupted" in err
    assert "Traceback" not in err
    assert not (run / "model.pt").exists()
    assert temporaries(run) == []
    checkpoint = torch.load(run / "checkpoint.pt", weights_only=True)
    assert 1 <= checkpoint["epoch"] < EPOCHS
    assert _resume(dataset, run, recipe) == 0
    assert (run / "ranking.json").read_bytes() == reference


def test_kill_9_then_resume_gives_the_uninterrupted_ranking(tmp_path, setup):
    dataset, recipe, reference = setup
    run = tmp_path / "run"
    process = dynst_process("fit", dataset, "-o", run, "--recipe", recipe)
    _wait_for_checkpoint(run, process)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert not (run / "model.pt").exists()
    assert _resume(dataset, run, recipe) == 0
    assert (run / "ranking.json").read_bytes() == reference
    assert temporaries(run) == []  # the resumed fit cleared what the killed one left
    assert torch.load(run / "checkpoint.pt", weights_only=True)["epoch"] == EPOCHS
