"""Shared helpers of the memory benchmarks: peak RSS of a process tree, machine description."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
POLL_SECONDS = 0.05  # psutil polling interval of the peak-RSS measurement


def run_measured(cmd: list[str], env: dict | None = None, cwd: Path | None = None) -> dict:
    """Run `cmd`, polling the RSS of it and all its children; return seconds and peak RSS.

    The peak is the largest sum of resident set sizes over the process tree seen at any poll
    (every 50 ms), so a spike shorter than one interval can be missed.
    """
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak, peak_anon = 0, 0
    stop = threading.Event()

    def poll() -> None:
        nonlocal peak, peak_anon
        root = psutil.Process(proc.pid)
        while not stop.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(_rss(p) for p in tree))
                peak_anon = max(peak_anon, sum(_rss_anon(p.pid) for p in tree))
            except psutil.NoSuchProcess:
                pass
            time.sleep(POLL_SECONDS)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    out, err = proc.communicate()
    stop.set()
    poller.join()
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-3000:]}")
    return {
        "seconds": seconds,
        "peak_rss": peak,
        "peak_anon": peak_anon,
        "stdout": out,
        "stderr": err,
    }


def _rss(process: psutil.Process) -> int:
    try:
        return process.memory_info().rss
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return 0


def _rss_anon(pid: int) -> int:
    """Anonymous resident memory (RssAnon of /proc/PID/status, Linux): RSS without file pages."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def machine() -> str:
    """One line: platform, CPU count, RAM, Python."""
    ram = psutil.virtual_memory().total / 2**30
    return (
        f"{platform.platform()}, {os.cpu_count()} CPUs, {ram:.1f} GiB RAM, "
        f"Python {platform.python_version()}"
    )


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        )
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def header(title: str, command: str) -> str:
    """The Markdown preamble every result file starts with."""
    return (
        f"# {title}\n\n"
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}\n"
        f"- machine: {machine()}\n"
        f"- git commit: {git_commit()} (plus the working tree at the time of the run)\n"
        f"- command: `{command}`\n"
        f"- peak memory: largest sum of RSS over the process tree, psutil polled every "
        f"{int(POLL_SECONDS * 1000)} ms\n\n"
    )


def mib(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:,.0f}"
