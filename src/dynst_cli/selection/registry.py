"""Every selector by name: DynST's own ranking and the classical rivals it is compared against.

Each follows the PySensors shape (`selection.base`): ``fit(X)`` on training snapshots of shape
``[n_samples, n_sensors]`` returns the selector, ``ranked_sensors_`` ranks all sensors, most
important first. `make_selector` builds one by name::

    selector = make_selector("qr").fit(X_train)
    keep = Siting.free(n_sensors).select(selector.ranked_sensors_, n_keep=20).keep
"""

from __future__ import annotations

import inspect

from dynst_cli.errors import UsageError
from dynst_cli.selection.base import BaseSelector
from dynst_cli.selection.dynst import DynSTSelector
from dynst_cli.selection.greedy import GreedySelector
from dynst_cli.selection.qr import QRSelector
from dynst_cli.selection.random_order import RandomSelector
from dynst_cli.selection.variance import VarianceSelector

SELECTORS: dict[str, type[BaseSelector]] = {
    "dynst": DynSTSelector,
    "random": RandomSelector,
    "variance": VarianceSelector,
    "qr": QRSelector,
    "greedy": GreedySelector,
}
CONTEXT = ("seed", "run")  # what `make_selector` passes to the selectors that take it


def make_selector(name, seed=0, run=None, **kw):
    """Build a selector by name.

    Parameters
    ----------
    name : str
        One of the keys of `SELECTORS`: ``"dynst"``, ``"random"``, ``"variance"``, ``"qr"``,
        ``"greedy"``.
    seed : int, default 0
        Passed to selectors that draw random numbers (``seeded``); ignored by the others.
    run : str or Path or None
        A finished run directory, for ``"dynst"`` (which reads its ranking).
    **kw
        Options of the selector class, e.g. ``n_modes`` for ``"qr"``.

    Returns
    -------
    BaseSelector
        An unfitted selector.

    Raises
    ------
    UsageError
        If `name` or an option in `kw` is unknown (the message lists the valid ones), or
        ``"dynst"`` is asked for without a run.
    """
    if name not in SELECTORS:
        valid = ", ".join(sorted(SELECTORS))
        raise UsageError(f"unknown selector {name!r}: choose one of {valid}")
    cls = SELECTORS[name]
    accepted = set(inspect.signature(cls).parameters)
    unknown = sorted(set(kw) - accepted)
    if unknown:
        valid = ", ".join(sorted(accepted - set(CONTEXT))) or "none"
        raise UsageError(
            f"selector {name!r} has no option {', '.join(unknown)}: its options are {valid}"
        )
    if "run" in accepted and run is None:
        raise UsageError(f"selector {name!r} ranks the sensors of a run: pass the run directory")
    context = {"seed": seed, "run": run}
    return cls(**kw, **{key: context[key] for key in CONTEXT if key in accepted})
