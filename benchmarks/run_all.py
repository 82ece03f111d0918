"""Run the benchmark suite one benchmark at a time and write benchmarks/RESULTS.md.

Default (`make bench`): cost (`make demo` timed, fit vs dense, inference; the demo's runs are then
reused), quality on METR-LA and ERA5 (compare against random / variance / QR), the planted
network, and ranking quality over five archives with every rival and each step of the method
(bench_ranking.py; its per-job results are cached under benchmarks/results/ranking/), and the
greedy selector's time on the ERA5 grid. `--all` also runs the long memory and DDP benchmarks
(bench_ingest_memory, bench_fit_memory, bench_ddp_speed). `--report-only` rebuilds RESULTS.md
from the JSON files in benchmarks/results/ without running anything.

`--skip` leaves out parts by script name (their sections keep their last run's figures), e.g.
`--skip bench_ranking.py,bench_greedy.py` for the suite without the hour-long ranking benchmark.

    .venv/bin/python benchmarks/run_all.py [--all] [--quality-epochs E] [--skip SCRIPTS]
        [--report-only]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import read_json, stamp, stamp_lines  # noqa: E402
from _measure import REPO, RESULTS  # noqa: E402

HERE = Path(__file__).resolve().parent
LONG = ("bench_ingest_memory.py", "bench_fit_memory.py", "bench_ddp_speed.py")


SKIPPED: set[str] = set()  # `--skip`: scripts not run this time


def run(script: str, *args: str) -> float | None:
    """Run one benchmark script; its wall time in seconds, None when it is skipped."""
    if script in SKIPPED:
        print(f"== {script}: skipped", file=sys.stderr, flush=True)
        return None
    cmd = [sys.executable, str(HERE / script), *args]
    print(f"== {' '.join(cmd[1:])}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def section(md: Path, level_shift: int = 1) -> list[str]:
    """A results file as a RESULTS.md section (headings one level deeper)."""
    if not md.is_file():
        return [f"({md.name} not found)", ""]
    out = []
    for line in md.read_text().splitlines():
        if line.startswith("#"):
            line = "#" * level_shift + line
        out.append(line)
    return [*out, ""]


def missed_quality(q: dict) -> list[str]:
    from bench_quality import targets

    lines = []
    for name, r in q.items():
        if name == "planted":
            n = r["network"]["n_drivers"]
            got = r["drivers_kept"]["dynst (kept in fit)"]
            if got < n:
                lines.append(
                    f"- planted network: DynST kept {got} of {n} drivers "
                    f"(missed by {n - got}); variance {r['drivers_kept']['variance']}, "
                    f"QR {r['drivers_kept']['qr']}."
                )
            continue
        for t in targets(r):
            if not t["hit"]:
                lines.append(
                    f"- {name}: {t['target']}: measured {t['value']:+.1f} %, goal "
                    f"{t['goal']:+.1f} % (missed by {abs(t['value'] - t['goal']):.1f} points)."
                )
    return lines


def missed_cost(c: dict) -> list[str]:
    from bench_cost import TARGET_DEMO_S, TARGET_RATIO, TARGET_SPEEDUP

    lines = []
    d = c.get("demo")
    if d and d["seconds"] >= TARGET_DEMO_S:
        lines.append(
            f"- `make demo`: {d['seconds']:.0f} s, goal < {TARGET_DEMO_S:.0f} s "
            f"(over by {d['seconds'] - TARGET_DEMO_S:.0f} s)."
        )
    for name, t in c.get("fit", {}).items():
        if t["ratio"] > TARGET_RATIO:
            lines.append(
                f"- fit/dense time, {name}: {t['ratio']:.2f}, goal <= {TARGET_RATIO} "
                f"(over by {t['ratio'] - TARGET_RATIO:.2f})."
            )
    for name, rows in c.get("inference", {}).items():
        for row in rows:
            if row["backbone"] == "stid" and row["speedup"] < TARGET_SPEEDUP:
                lines.append(
                    f"- inference speed-up, {name} stid, {row['threads']} thread(s): "
                    f"{row['speedup']:.2f}x, goal >= {TARGET_SPEEDUP}x "
                    f"(short by {TARGET_SPEEDUP - row['speedup']:.2f}x)."
                )
    return lines


def report(suite: dict) -> str:
    q = read_json(RESULTS / "quality.json")
    c = read_json(RESULTS / "cost.json").get("result", {})
    lines = [
        "# Benchmark results",
        "",
        "Every figure below comes from the run recorded in its section's own header (date, commit, "
        "command, machine, load average); the memory and DDP sections are older runs of those "
        "scripts unless the suite ran with `--all`. Raw numbers: benchmarks/results/*.json.",
        "",
        "## Suite",
        "",
        *stamp_lines(suite["stamp"]),
    ]
    if suite.get("seconds"):
        lines.append(f"- suite wall time: {suite['seconds'] / 60:.1f} min")
        for name, s in suite.get("parts", {}).items():
            lines.append(f"  - `{name}`: " + ("skipped" if s is None else f"{s:.0f} s"))
    lines += ["", "## Missed targets", ""]
    missed = missed_quality(q) + missed_cost(c)
    for name, part in (("quality", q), ("cost", c)):
        if not part:
            missed.append(f"- {name}: not measured (no benchmarks/results/{name}.json).")
    lines += missed or ["None."]
    notes = HERE / "results" / "NOTES.md"
    if notes.is_file():
        lines += ["", *section(notes)]
    lines += ["", *section(RESULTS / "cost.md"), *section(RESULTS / "quality.md")]
    lines += ["", *section(RESULTS / "report_browser.md")]
    lines += [*section(RESULTS / "backbones.md")]
    lines += [*section(RESULTS / "ranking.md"), *section(RESULTS / "ranking_retrain.md")]
    lines += [*section(RESULTS / "ranking_settle.md"), *section(RESULTS / "ranking_residual.md")]
    lines += [*section(RESULTS / "ranking_grace.md"), *section(RESULTS / "ranking_consensus.md")]
    lines += [*section(RESULTS / "ranking_trained3.md")]
    lines += [*section(RESULTS / "ranking_grace_trained3.md")]
    lines += [*section(RESULTS / "ranking_budget.md"), *section(RESULTS / "ranking_tenths.md")]
    lines += [*section(RESULTS / "ranking_silent.md"), *section(RESULTS / "ranking_joint.md")]
    lines += section(RESULTS / "ranking_saliency_variants.md")
    lines += [*section(RESULTS / "ranking_occlusion_recent.md")]
    lines += [*section(RESULTS / "ranking_dropped.md")]
    lines += [*section(RESULTS / "ranking_explore_summary.md")]
    lines += [*section(RESULTS / "ranking_validation_summary.md")]
    lines += [*section(RESULTS / "ranking_error_summary.md")]
    lines += [*section(RESULTS / "planted_groups.md")]
    lines += [*section(RESULTS / "ranking_brief_summary.md")]
    lines += [*section(RESULTS / "ranking_searches_summary.md")]
    lines += [*section(RESULTS / "ranking_dropped_retrained.md")]
    lines += [*section(RESULTS / "planted_drivers.md")]
    lines += [*section(RESULTS / "planted_drivers_default_pool-survival.md")]
    lines += [*section(RESULTS / "planted_drivers_default_searches-fallback.md")]
    lines += [*section(RESULTS / "planted_drivers_default_challengers_default-gwnet.md")]
    lines += [*section(RESULTS / "ranking_variant_residual-grace4.md")]
    lines += [*section(RESULTS / "ranking_variant_default-check.md")]
    lines += [*section(RESULTS / "ranking_variant_exchange3.md")]
    lines += [*section(RESULTS / "ranking_variant_one-search-residual-grace8.md")]
    labels = ("alpha01", "alpha0", "searches5", "pool-elimination", "pool-ties", "pool-survival",
              "searches-fallback", "default-today", "sensor-scaling", "challengers",
              "challengers-tested")  # fmt: skip
    for label in labels:  # the drop-and-regrow fraction, the searches and how they are pooled
        lines += [*section(RESULTS / f"ranking_variant_{label}.md")]
    lines += [*section(RESULTS / "greedy.md")]
    lines += [*section(RESULTS / "fit_cost.md")]
    for name in ("ingest_memory", "fit_memory", "ddp_speed"):
        md = RESULTS / f"{name}.md"
        if md.is_file():
            lines += [
                f"## {name} (from benchmarks/results/{name}.md, run with `--all`; see its own "
                "header for when)",
                "",
                *section(md, 2),
            ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="also the long memory and DDP benches")
    parser.add_argument("--quality-epochs", type=int, help="epochs per compared keep set")
    parser.add_argument("--seeds", type=int, default=3, help="seeds of the random keep sets")
    parser.add_argument("--report-only", action="store_true", help="only rebuild RESULTS.md")
    parser.add_argument(
        "--skip", default="", help="comma-separated scripts not to run (e.g. bench_ranking.py)"
    )
    args = parser.parse_args()
    known = {"bench_cost.py", "report_browser.py", "bench_quality.py", "bench_ranking.py",
             "bench_greedy.py", *LONG}  # fmt: skip
    SKIPPED.update(name for name in args.skip.split(",") if name)
    if SKIPPED - known:
        parser.error(f"--skip: unknown scripts {sorted(SKIPPED - known)}; known: {sorted(known)}")
    command = "python benchmarks/run_all.py " + " ".join(sys.argv[1:])
    suite = {"stamp": stamp(command.strip()), "parts": {}}
    if not args.report_only:
        started = time.perf_counter()
        work = Path(tempfile.mkdtemp(prefix="dynst-bench-"))
        demo = work / "demo"
        try:
            suite["parts"]["bench_cost.py"] = run("bench_cost.py", "--demo-dir", str(demo))
            have_demo = "bench_cost.py" not in SKIPPED  # else the parts below fit their own
            if have_demo:
                report_html = str(demo / "metr-la-report.html")
                suite["parts"]["report_browser.py"] = run("report_browser.py", report_html)
            extra = ["--seeds", str(args.seeds)]
            if args.quality_epochs:
                extra += ["--epochs", str(args.quality_epochs)]
            for name in ("metr-la", "era5-uk"):
                key = f"bench_quality.py --dataset {name}"
                reuse = ["--run", str(demo / f"{name}-run")] if have_demo else []
                suite["parts"][key] = run("bench_quality.py", "--dataset", name, *reuse, *extra)
            suite["parts"]["bench_quality.py --dataset planted"] = run(
                "bench_quality.py", "--dataset", "planted"
            )
            suite["parts"]["bench_ranking.py"] = run("bench_ranking.py")
            suite["parts"]["bench_greedy.py"] = run("bench_greedy.py")
            if args.all:
                for script in LONG:
                    suite["parts"][script] = run(script)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        suite["seconds"] = time.perf_counter() - started
    (HERE / "RESULTS.md").write_text(report(suite))
    print((HERE / "RESULTS.md").read_text())


if __name__ == "__main__":
    main()
