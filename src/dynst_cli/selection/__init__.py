"""Choosing sensors: rankings, the selectors that make them, and keep sets under constraints.

`Ranking` (every sensor, most important first; `ranking.json`), the `Selector` protocol and its
implementations (DynST's run ranking, random, variance, QR, greedy; `make_selector` by name),
and the siting constraints, through which every keep set is chosen:
`Siting.select(ranking, n_keep)`.
"""

from dynst_cli.selection.base import BaseSelector, Selector, check_snapshots, fill_with_column_mean
from dynst_cli.selection.constraints import (
    REASONS,
    Selection,
    Siting,
    SitingConstraints,
    constraints_from_options,
    siting_for,
)
from dynst_cli.selection.dynst import DynSTSelector, rank_sensors
from dynst_cli.selection.greedy import GreedySelector
from dynst_cli.selection.qr import QRSelector
from dynst_cli.selection.random_order import RandomSelector
from dynst_cli.selection.ranking import Ranking
from dynst_cli.selection.regions import Region, read_regions, sensors_in_region
from dynst_cli.selection.registry import SELECTORS, make_selector
from dynst_cli.selection.variance import VarianceSelector

__all__ = [
    "REASONS",
    "SELECTORS",
    "BaseSelector",
    "DynSTSelector",
    "GreedySelector",
    "QRSelector",
    "RandomSelector",
    "Ranking",
    "Region",
    "Selection",
    "Selector",
    "Siting",
    "SitingConstraints",
    "VarianceSelector",
    "check_snapshots",
    "constraints_from_options",
    "fill_with_column_mean",
    "make_selector",
    "rank_sensors",
    "read_regions",
    "sensors_in_region",
    "siting_for",
]
