"""Fixtures of the robustness suite: a tiny recipe, a finished run, its plan, and CLI runners.

Everything is built once per test session (per xdist worker) from the planted synthetic network,
through the real command line, so that the files are exactly what `dynst` writes.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from filelock import FileLock

from dynst_cli.cli import main
from synthetic import TINY_RECIPE, canonical_dataset, planted_network, write

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def message(self) -> str:
        """stderr with the console's line wrapping undone, lower-cased."""
        return " ".join(self.err.split()).lower()


def write_recipe(path: Path, **train) -> Path:
    recipe = {**TINY_RECIPE, "train": {**TINY_RECIPE["train"], **train}}
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return path


def dynst_process(*args, **popen) -> subprocess.Popen:
    """`python -m dynst_cli ARGS` as a real process (signals need one), output piped.

    The child gets the default SIGINT disposition: a suite started in the background by a
    non-interactive shell inherits SIGINT ignored, and Python then never raises KeyboardInterrupt.
    """
    env = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
    popen.setdefault("preexec_fn", _default_sigint)
    return subprocess.Popen(
        [sys.executable, "-m", "dynst_cli", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
        **popen,
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def temporaries(folder: Path) -> list[Path]:
    """Files an atomic write leaves behind when it is cut short: `.NAME.*` or `*.tmp`."""
    return sorted(
        p for p in Path(folder).rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"
    )


@pytest.fixture
def cli(capsys):
    """Run `dynst` in-process; returns the exit code, stdout and stderr."""

    def run(*args) -> Result:
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


def build_once(tmp_path_factory, worker_id: str, name: str, build) -> Path:
    """`build(folder)` once per test session, shared by every xdist worker; returns the folder.

    The workers of one session share the parent of their temporary folders; a file lock lets the
    first one build while the others wait, as the pytest-xdist documentation suggests.
    """
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if worker_id != "master" else base) / name
    with FileLock(f"{root}.lock"):
        if not (root / "done").is_file():
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir(parents=True)
            build(root)
            (root / "done").write_text("")
    return root


@pytest.fixture(scope="session")
def built(tmp_path_factory, worker_id) -> dict:
    """A tiny recipe, three datasets, a finished run with its plan and GeoJSON, and a rival run.

    `other` holds the same network with other values (another sha256), `short` is too short
    for one window; `rival` is a run on the same dataset with another seed and epoch count, so
    that its plans do not fit `run`. Built once and shared by the xdist workers (read only).
    """
    root = build_once(tmp_path_factory, worker_id, "robustness-built", _build)
    names = ("recipe", "dataset", "other", "short", "run", "rival", "plan", "rival_plan")
    files = dict(zip(names, map(root.joinpath, FILES), strict=True))
    return {"root": root, "values": planted_network(n_steps=300)[0], **files}


FILES = (
    "tiny.yaml",
    "planted.nc",
    "other.nc",
    "short.nc",
    "run",
    "rival",
    "plan.json",
    "rival-plan.json",
)


def _build(root: Path) -> None:
    recipe = write_recipe(root / "tiny.yaml")
    values, _ = planted_network(n_steps=300)
    dataset = write(canonical_dataset(values), root / "planted.nc")
    write(canonical_dataset(planted_network(n_steps=300, seed=1)[0]), root / "other.nc")
    write(canonical_dataset(values[:5]), root / "short.nc")
    fits = (("run", ["--seed", "0"]), ("rival", ["--seed", "7", "--epochs", "1"]))
    for name, flags in fits:
        args = ["-q", "fit", dataset, "-o", root / name, "--recipe", recipe, *flags]
        assert main([str(a) for a in args]) == 0
    for run, plan in (("run", "plan.json"), ("rival", "rival-plan.json")):
        args = ["-q", "prune", root / run, "--sparsity", "0.5", "-o", root / plan]
        assert main([str(a) for a in args]) == 0
