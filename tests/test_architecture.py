"""The import direction of docs/ARCHITECTURE.md, checked on the source: no stage imports a later.

ingest -> data -> mask/backbones (with model, evaluate) -> selection -> train/fit -> plan
-> prune/predict -> compare/report -> cli; the shared helpers (errors, atomic, config, ...) are
importable from anywhere.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "dynst_cli"

SHARED = ("atomic", "config", "console", "distributed", "errors", "geo", "run", "__init__")
STAGES = (
    ("ingest",),
    ("data",),
    ("mask", "backbones", "model", "evaluate"),
    ("selection",),
    (
        "train",
        "saliency",
        "searches",
        "exchange",
        "challenge",
        "fit",
        "bundle",
        "dense_cache",
        "launch",
        "progress",
    ),
    ("plan",),
    ("prune", "predict"),
    ("compare", "report"),
    ("cli", "__main__"),
)
STAGE_OF = {name: i for i, names in enumerate(STAGES) for name in names}


def top_module(path: Path) -> str:
    """The package or module directly under dynst_cli that `path` belongs to."""
    return path.relative_to(SRC).parts[0].removesuffix(".py")


def imported_tops(path: Path) -> set[str]:
    """Top-level dynst_cli modules imported anywhere in `path` (function bodies included)."""
    tops = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module == "dynst_cli":  # from dynst_cli import distributed, __version__
                names = [f"dynst_cli.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "dynst_cli" and len(parts) > 1:
                tops.add(parts[1])
    return tops


def stage(top: str) -> int:
    if top in SHARED or top == "__version__":
        return -1
    if top not in STAGE_OF:
        pytest.fail(f"dynst_cli.{top} has no stage: add it to STAGES here and to ARCHITECTURE.md")
    return STAGE_OF[top]


SOURCES = sorted(SRC.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(SRC)) for p in SOURCES])
def test_no_module_imports_a_later_stage(path):
    own = stage(top_module(path))  # -1: a shared helper, which imports no stage at all
    later = sorted(top for top in imported_tops(path) if stage(top) > own)
    assert not later, f"{path.relative_to(SRC)} (stage {own}) imports later stages: {later}"


def test_the_checker_sees_imports_inside_functions(tmp_path):
    source = tmp_path / "x.py"
    source.write_text("def f():\n    from dynst_cli.plan.schema import read_plan\n")
    assert imported_tops(source) == {"plan"}
