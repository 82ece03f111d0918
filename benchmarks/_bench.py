"""Shared helpers of the quality and cost benchmarks: the bundled datasets, ingest and fit via the
CLI, result files (Markdown + JSON merged dataset by dataset)."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import REPO, RESULTS, git_commit, run_measured  # noqa: E402

DYNST = [sys.executable, "-m", "dynst_cli"]

# The exact ingest commands of recipes/demo.sh, per bundled dataset.
DATASETS = {
    "metr-la": {
        "ingest": [
            "data/metr-la-week/metr_la_speed_2012-03-01_to_07_with_time.csv",
            "--sensors", "data/metr-la-week/graph_sensor_locations.csv",
            "--var", "speed", "--units", "mph",
        ],
        "recipe": "recipes/metr-la.yaml",
    },
    "era5-uk": {
        "ingest": ["data/era5-t2m-uk-2019-03/era5_t2m_uk_2019-03.nc"],
        "recipe": "recipes/era5-uk.yaml",
    },
}  # fmt: skip


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict:
    import torch

    return {
        "platform": platform.platform(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "load_avg_1min": round(os.getloadavg()[0], 2),
    }


def stamp(command: str) -> dict:
    """When, where and how a result was measured."""
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "git_commit": git_commit(),
        "command": command,
        "machine": machine_info(),
    }


def stamp_lines(s: dict) -> list[str]:
    m = s["machine"]
    return [
        f"- date: {s['date']}",
        f"- git commit: {s['git_commit']} (plus the working tree at the time of the run)",
        f"- command: `{s['command']}`",
        f"- machine: {m['platform']}, {m['cpu_model']}, {m['cpu_count']} CPUs, "
        f"{m['ram_gib']} GiB RAM, Python {m['python']}, torch {m['torch']} "
        f"({m['torch_threads']} threads); 1-minute load average when the section started: "
        f"{m.get('load_avg_1min', '?')}",
    ]


def ingest(name: str, out: Path) -> Path:
    """`dynst ingest` of a bundled dataset, as recipes/demo.sh runs it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [*DYNST, "--quiet", "ingest", *DATASETS[name]["ingest"], "-o", str(out)]
    subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, text=True)
    return out


def fit(dataset: Path, run: Path, recipe: Path | str, *extra: str) -> dict:
    """`dynst fit` in a subprocess with its peak RSS measured; returns run_measured's dict."""
    cmd = [*DYNST, "--quiet", "fit", str(dataset), "-o", str(run), "--recipe", str(recipe)]
    return run_measured([*cmd, *extra], cwd=REPO)


def read_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def merge_json(name: str, key: str, value: dict) -> dict:
    """Update entry `key` of benchmarks/results/<name>.json (other entries kept); return all."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = read_json(path)
    data[key] = value
    path.write_text(json.dumps(data, indent=2, default=float) + "\n")
    return data


def pct(a: float, b: float) -> float:
    """How far `a` lies from `b`, in percent of `b` (negative: a is lower)."""
    return 100.0 * (a - b) / b
