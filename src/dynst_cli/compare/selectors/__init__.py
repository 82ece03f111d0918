"""Classical sensor selectors DynST is compared against, one class per file.

Every selector follows the PySensors optimizer shape: ``fit(X)`` on training snapshots of shape
``[n_samples, n_sensors]`` returns the selector, ``get_sensors()`` returns all sensor indices,
most important first. `make_selector` builds one by name::

    ranking = make_selector("qr").fit(X_train).get_sensors()
    kept = keep_mask(ranking, n_keep=20)
"""

import inspect

from dynst_cli.compare.selectors._base import (
    BaseSelector,
    check_snapshots,
    fill_with_column_mean,
    keep_mask,
)
from dynst_cli.compare.selectors._qr import QRSelector
from dynst_cli.compare.selectors._random import RandomSelector
from dynst_cli.compare.selectors._variance import VarianceSelector
from dynst_cli.errors import UsageError

SELECTORS = {
    "random": RandomSelector,
    "variance": VarianceSelector,
    "qr": QRSelector,
}


def make_selector(name, seed=0, **kw):
    """Build a rival selector by name.

    Parameters
    ----------
    name : str
        One of the keys of `SELECTORS`: ``"random"``, ``"variance"``, ``"qr"``.
    seed : int, default 0
        Passed to selectors that draw random numbers; ignored by deterministic ones.
    **kw
        Options of the selector class, e.g. ``n_modes`` for ``"qr"``.

    Returns
    -------
    BaseSelector
        An unfitted selector.

    Raises
    ------
    UsageError
        If `name` or an option in `kw` is unknown; the message lists the valid ones.
    """
    if name not in SELECTORS:
        valid = ", ".join(sorted(SELECTORS))
        raise UsageError(f"unknown selector {name!r}: choose one of {valid}")
    cls = SELECTORS[name]
    accepted = set(inspect.signature(cls).parameters)
    unknown = sorted(set(kw) - accepted)
    if unknown:
        valid = ", ".join(sorted(accepted - {"seed"})) or "none"
        raise UsageError(
            f"selector {name!r} has no option {', '.join(unknown)}: its options are {valid}"
        )
    if "seed" in accepted:
        kw = {**kw, "seed": seed}
    return cls(**kw)


__all__ = [
    "SELECTORS",
    "BaseSelector",
    "QRSelector",
    "RandomSelector",
    "VarianceSelector",
    "check_snapshots",
    "fill_with_column_mean",
    "keep_mask",
    "make_selector",
]
