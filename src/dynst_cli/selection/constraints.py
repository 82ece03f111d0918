"""Siting constraints, and the one function that chooses every keep set.

Every keep set in dynst, inside the DynST loop, in `fit`, `prune` and `compare`, is chosen by
`Siting.select`: it takes a ranking of the sensors (most wanted first: the DynST ranking, or a
rival selector's) and a count `n_keep`, and returns the keep vector with the reason that decided
each sensor. The constraints are checked against the network once, in `SitingConstraints.resolve`
(or `siting_for`), which returns the `Siting`; `Siting.free(N)` is the unconstrained one.

The procedure, deterministic (no randomness; ties are broken by position in the priority):

1. must-keep sensors (`--keep`) are kept and count towards `n_keep`; excluded sensors
   (`--exclude`) are never kept;
2. region quotas, regions in file order: while a region holds fewer than `per_region_min` kept
   sensors, add its highest-priority allowed sensor that respects spacing and budget;
3. greedy pass in priority order: add each sensor that respects spacing and budget while fewer
   than `n_keep` are kept.

Spacing is great-circle distance (`geo.haversine_km`): every pair of kept sensors is at least
`min_spacing_km` apart. Budget: the total cost of the kept sensors is at most `budget`.

What is exact. Whenever a Selection is returned, all of these hold: every must-keep sensor is
kept, no excluded sensor is kept, every region holds at least `per_region_min` kept sensors,
every pair of kept sensors is at least `min_spacing_km` apart, the total cost is within the
budget, and at most `n_keep` sensors are kept. The InfeasibleErrors of `resolve` (a sensor both
kept and excluded, a region without enough allowed sensors, must-keep sensors over budget or too
close together) and the one for more must-keep sensors than `n_keep` prove that no keep set can
satisfy the constraints. Without spacing and budget, a quota that cannot be met is also proven.
Without any constraint the result is exactly the first `n_keep` sensors of the priority.

What is heuristic. The choice is greedy, not an optimisation: it is not guaranteed to maximise
the total priority or the number of kept sensors under spacing and budget (that is a packing
problem, NP-hard in general). A quota sensor is the best-priority feasible sensor of its region,
chosen before the greedy pass; it may block, by spacing or budget, a higher-priority sensor
outside the region, and no swap is attempted afterwards (a quota sensor that blocks nothing costs
nothing). With spacing or budget, a quota reported as unmeetable might be met by another choice
of sensors; the message says so. When spacing or budget bind, or too many sensors are excluded,
fewer than `n_keep` sensors are kept and `Selection.notes` says why.

Reasons: a kept sensor is "keep" (forced), "region" (added for a quota) or "score"; a dropped one
is "exclude", "spacing" or "budget" (that constraint blocked it when its turn came), "silent" (it
reported nothing in the fit's validation period and was ranked last for it), else "score".
"""

from __future__ import annotations

import math
import operator
import os
from dataclasses import dataclass, field

import numpy as np

from dynst_cli.errors import InfeasibleError, InputError, UsageError
from dynst_cli.geo import haversine_km
from dynst_cli.selection.ranking import Ranking
from dynst_cli.selection.regions import Region, read_id_file, read_regions, sensors_in_region

REASONS = ("score", "keep", "exclude", "spacing", "budget", "region", "silent")
"""Why a sensor is kept or dropped: its `score` rank, a forced `keep`, an `exclude` list, the
minimum `spacing`, the cost `budget`, a `region` quota, or `silent` in the validation period."""


@dataclass
class Selection:
    """A keep set and why each sensor is in or out.

    Attributes
    ----------
    keep : ndarray of bool, shape (N,)
    reason : list of str, length N
        One of `REASONS` per sensor.
    notes : list of str
        Plain sentences for the plan, e.g. "budget allowed only 37 of 50 sensors".
    """

    keep: np.ndarray
    reason: list[str]
    notes: list[str] = field(default_factory=list)

    @property
    def n_kept(self) -> int:
        """Number of kept sensors."""
        return int(self.keep.sum())


@dataclass
class SitingConstraints:
    """Where sensors must, may and may not be kept; see the module docstring for the semantics.

    Attributes
    ----------
    keep_ids, exclude_ids : tuple of str
        Sensors always kept / never kept.
    budget : float or None
        Upper bound on the total cost of the kept sensors (dataset `cost` units).
    min_spacing_km : float or None
        Least great-circle distance between two kept sensors, km.
    regions : list of Region
    per_region_min : int
        Least number of kept sensors inside each region.
    """

    keep_ids: tuple[str, ...] = ()
    exclude_ids: tuple[str, ...] = ()
    budget: float | None = None
    min_spacing_km: float | None = None
    regions: list[Region] = field(default_factory=list)
    per_region_min: int = 0

    def __post_init__(self) -> None:
        self.keep_ids = _unique(self.keep_ids)
        self.exclude_ids = _unique(self.exclude_ids)
        self.regions = list(self.regions)
        _check_non_negative("--budget", self.budget)
        _check_non_negative("--min-spacing-km", self.min_spacing_km)
        if self.per_region_min < 0:
            raise UsageError(f"--per-region-min must be >= 0, got {self.per_region_min}")
        if self.per_region_min > 0 and not self.regions:
            raise UsageError("--per-region-min needs --regions FILE.geojson")

    def is_empty(self) -> bool:
        """True when no constraint can change a keep set."""
        return not (
            self.keep_ids
            or self.exclude_ids
            or self.budget is not None
            or self.min_spacing_km
            or (self.regions and self.per_region_min)
        )

    def to_dict(self) -> dict:
        """JSON-able record for the plan's `constraints` and the run's configuration."""
        return {
            "keep_ids": list(self.keep_ids),
            "exclude_ids": list(self.exclude_ids),
            "budget": self.budget,
            "min_spacing_km": self.min_spacing_km,
            "regions": [r.to_dict() for r in self.regions],
            "per_region_min": self.per_region_min,
        }

    def resolve(self, sensor_ids, lat, lon, cost=None) -> Siting:
        """Check the constraints against a network and return its Siting.

        Parameters
        ----------
        sensor_ids : sequence of str, length N
        lat, lon : array-like, shape (N,)
            Degrees, WGS84.
        cost : array-like, shape (N,), optional
            Cost of running each sensor; required (no NaN) when a budget is given.

        Raises
        ------
        UsageError
            A kept or excluded id is not in the network.
        InputError
            Missing costs under a budget, missing coordinates under spacing or regions.
        InfeasibleError
            The constraints conflict whatever the ranking; the message names them.
        """
        ids, lat, lon = _network(sensor_ids, lat, lon)
        forced = _id_mask(ids, self.keep_ids, "--keep")
        excluded = _id_mask(ids, self.exclude_ids, "--exclude")
        _check_kept_and_excluded(ids, forced & excluded)
        if self.min_spacing_km or self.per_region_min:
            _check_coordinates(ids, lat, lon)
        cost = _checked_cost(ids, cost) if self.budget is not None else None
        inside = self._region_members(lat, lon, excluded)
        if cost is not None:
            _check_forced_budget(cost[forced], self.budget)
        if self.min_spacing_km:
            _check_forced_spacing(ids, lat, lon, np.flatnonzero(forced), self.min_spacing_km)
        return Siting(ids, lat, lon, forced, excluded, cost, self, inside)

    def _region_members(self, lat, lon, excluded) -> np.ndarray:
        """Bool `(R, N)`: sensor n lies in region r; checks every quota can be met at all."""
        if not self.per_region_min:
            return np.zeros((0, lat.size), dtype=bool)
        inside = np.stack([sensors_in_region(r, lat, lon) for r in self.regions])
        for region, members in zip(self.regions, inside, strict=True):
            _check_region_capacity(region.name, members, excluded, self.per_region_min)
        return inside


def siting_for(constraints: SitingConstraints | None, network) -> Siting:
    """The Siting of `constraints` on `network` (anything with `sensor_ids`, `lat`, `lon`,
    `cost`, such as `SensorData`); the free one when there is no constraint."""
    if constraints is None or constraints.is_empty():
        return Siting.free(len(network.sensor_ids))
    return constraints.resolve(network.sensor_ids, network.lat, network.lon, network.cost)


class Siting:
    """Chooses keep sets on one network under resolved constraints; made by `resolve`."""

    def __init__(self, ids, lat, lon, forced, excluded, cost, constraints, inside):
        self.n_sensors = len(ids)
        self.sensor_ids, self.lat, self.lon = ids, lat, lon
        self.forced, self.excluded, self.cost = forced, excluded, cost
        self.budget = constraints.budget
        self.spacing_km = constraints.min_spacing_km or 0.0
        self.region_names = [r.name for r in constraints.regions][: len(inside)]
        self.inside, self.per_region_min = inside, constraints.per_region_min
        self.unconstrained = not (
            forced.any() or excluded.any() or cost is not None or self.spacing_km or len(inside)
        )

    @classmethod
    def free(cls, n_sensors: int) -> Siting:
        """The Siting of a network of `n_sensors` without constraints: keep the first n."""
        none = np.zeros(n_sensors, dtype=bool)
        ids = tuple(str(i) for i in range(n_sensors))
        nowhere = np.full(n_sensors, np.nan)
        inside = np.zeros((0, n_sensors), dtype=bool)
        return cls(ids, nowhere, nowhere, none, none, None, SitingConstraints(), inside)

    def select(self, ranking: Ranking | np.ndarray, n_keep: int) -> Selection:
        """Keep up to `n_keep` sensors, most wanted first, under the constraints.

        Parameters
        ----------
        ranking : Ranking, or ndarray of int of shape (N,)
            The sensors most wanted first: a Ranking, or a permutation of the sensor indices
            (the priority order of a mask update).
        n_keep : int
            Sensors to keep, must-keep sensors included (`N - round(S*N)` at sparsity S).

        Returns
        -------
        Selection
            Without any constraint, exactly the first `n_keep` sensors, every reason "score".

        Raises
        ------
        ValueError
            `ranking` is not a permutation of this network's sensors, or `n_keep` not in [0, N].
        InfeasibleError
            More must-keep sensors than `n_keep`, or a region quota that cannot be met.
        """
        priority = ranking.order if isinstance(ranking, Ranking) else ranking
        order = _check_priority(priority, self.n_sensors)
        n_keep = _check_n_keep(n_keep, self.n_sensors)
        if self.unconstrained:
            selection = _take_first(order, n_keep)
        else:
            self._check_forced_count(n_keep)
            state = _State(self)
            free = order[~self.forced[order] & ~self.excluded[order]]
            notes = self._fill_quotas(state, free, n_keep)
            self._fill_by_priority(state, free, n_keep)
            selection = Selection(
                state.keep, state.reason.tolist(), notes + state.shortfall(n_keep)
            )
        silent = ranking.silent if isinstance(ranking, Ranking) else None
        return _silent_named(selection, silent)

    def keep_fn(self):
        """``select(order, n_keep) -> keep`` for the mask updates: the keep vector of `select`."""
        return lambda order, n_keep: self.select(order, n_keep).keep

    def _check_forced_count(self, n_keep: int) -> None:
        n_forced, n = int(self.forced.sum()), self.n_sensors
        if n_forced > n_keep:
            raise InfeasibleError(
                f"{n_forced} must-keep sensors (--keep) but the sparsity keeps only {n_keep} of "
                f"{n} sensors; use --sparsity <= {(n - n_forced) / n:.4f} or keep fewer sensors"
            )

    def _fill_quotas(self, state: _State, free: np.ndarray, n_keep: int) -> list[str]:
        notes = []
        for name, members in zip(self.region_names, self.inside, strict=True):
            have, added = int((state.keep & members).sum()), 0
            for j in free[members[free]]:
                if have >= self.per_region_min:
                    break
                if state.keep[j]:
                    continue
                if state.n_kept >= n_keep:
                    raise InfeasibleError(_quota_limit_message(name, self.per_region_min, n_keep))
                if state.try_add(j, "region"):
                    have, added = have + 1, added + 1
            if have < self.per_region_min:
                raise InfeasibleError(self._quota_message(state, name, members, have))
            if added:
                notes.append(f"region '{name}': {added} sensor(s) added to meet the quota")
        return notes

    def _quota_message(self, state: _State, name: str, members: np.ndarray, have: int) -> str:
        flags = (("spacing", f"--min-spacing-km {self.spacing_km:g}"), ("budget", "--budget"))
        blocked = [
            f"{int(np.sum(members & (state.reason == r)))} by {flag}"
            for r, flag in flags
            if np.any(members & (state.reason == r))
        ]
        return (
            f"region '{name}' needs {self.per_region_min} kept sensors (--per-region-min) but "
            f"only {have} fit; its other sensors are blocked: {', '.join(blocked) or 'none'} "
            "(sensors are chosen greedily by priority; another choice might fit)"
        )

    def _fill_by_priority(self, state: _State, free: np.ndarray, n_keep: int) -> None:
        if not self.spacing_km and self.cost is None:  # nothing can block: take in order
            take = free[~state.keep[free]][: max(n_keep - state.n_kept, 0)]
            state.keep[take], state.reason[take] = True, "score"
            state.n_kept += take.size
            return
        for j in free:
            if state.n_kept >= n_keep:
                break
            if not state.keep[j]:
                state.try_add(j, "score")


class _State:
    """The keep set under construction, with what it takes to test a candidate in O(1)."""

    def __init__(self, sel: Siting):
        self.sel = sel
        self.keep = sel.forced.copy()
        self.n_kept = int(self.keep.sum())
        self.reason = np.full(len(self.keep), "score", dtype=object)
        self.reason[sel.forced], self.reason[sel.excluded] = "keep", "exclude"
        self.spent = float(sel.cost[self.keep].sum()) if sel.cost is not None else 0.0
        self.near_km = np.full(len(self.keep), np.inf)  # distance to the nearest kept sensor
        if sel.spacing_km:
            for i in np.flatnonzero(self.keep):
                self._update_near(i)

    def try_add(self, j: int, reason: str) -> bool:
        """Keep sensor j if spacing and budget allow; else record which one blocked it."""
        blocked = self._blocker(j)
        if blocked:
            self.reason[j] = blocked
            return False
        self.keep[j], self.reason[j] = True, reason
        self.n_kept += 1
        if self.sel.cost is not None:
            self.spent += float(self.sel.cost[j])
        if self.sel.spacing_km:
            self._update_near(j)
        return True

    def _blocker(self, j: int) -> str | None:
        if self.near_km[j] < self.sel.spacing_km:
            return "spacing"
        if self.sel.cost is not None and self.spent + self.sel.cost[j] > self.sel.budget:
            return "budget"
        return None

    def _update_near(self, i: int) -> None:
        d = haversine_km(self.sel.lat[i], self.sel.lon[i], self.sel.lat, self.sel.lon)
        np.minimum(self.near_km, d, out=self.near_km)

    def shortfall(self, n_keep: int) -> list[str]:
        """Notes saying why fewer than `n_keep` sensors are kept, if so."""
        if self.n_kept >= n_keep:
            return []
        by = [
            label
            for label, reason in (("budget", "budget"), ("min spacing", "spacing"))
            if np.any(self.reason == reason)
        ]
        if not by:
            n_allowed = int((~self.sel.excluded).sum())
            return [f"only {n_allowed} sensors are not excluded; kept {self.n_kept} of {n_keep}"]
        note = f"{' and '.join(by)} allowed only {self.n_kept} of {n_keep} sensors"
        if self.sel.cost is not None:
            note += f" (total cost {self.spent:g} of budget {self.sel.budget:g})"
        return [note]


def constraints_from_options(
    keep: str | None = None,
    keep_file: str | os.PathLike | None = None,
    exclude: str | None = None,
    exclude_file: str | os.PathLike | None = None,
    budget: float | None = None,
    min_spacing_km: float | None = None,
    regions_path: str | os.PathLike | None = None,
    per_region_min: int | None = None,
) -> SitingConstraints:
    """Build the constraints from the CLI flags `--keep ID,...`, `--keep-file`, `--exclude ID,...`,
    `--exclude-file`, `--budget B`, `--min-spacing-km D`, `--regions FILE --per-region-min K`.

    Raises
    ------
    UsageError
        A negative number, `--regions` without `--per-region-min` or the reverse, a missing file.
    InputError
        An unreadable id or region file.
    """
    _check_non_negative("--budget", budget)
    _check_non_negative("--min-spacing-km", min_spacing_km)
    if (regions_path is None) != (per_region_min is None):
        raise UsageError("--regions FILE.geojson and --per-region-min K must be given together")
    if per_region_min is not None and per_region_min < 1:
        raise UsageError(f"--per-region-min must be at least 1, got {per_region_min}")
    return SitingConstraints(
        keep_ids=_ids_from(keep, keep_file),
        exclude_ids=_ids_from(exclude, exclude_file),
        budget=budget,
        min_spacing_km=min_spacing_km,
        regions=read_regions(regions_path) if regions_path is not None else [],
        per_region_min=per_region_min or 0,
    )


def _ids_from(text: str | None, path: str | os.PathLike | None) -> tuple[str, ...]:
    ids = [part.strip() for part in (text or "").split(",")]
    if path is not None:
        ids.extend(read_id_file(path))
    return _unique(ids)


def _unique(ids) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(i) for i in ids if str(i)))


def _names(ids, limit: int = 10) -> str:
    ids = list(ids)
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def _check_non_negative(flag: str, value: float | None) -> None:
    if value is not None and not (math.isfinite(value) and value >= 0):
        raise UsageError(f"{flag} must be a finite number >= 0, got {value}")


def _network(sensor_ids, lat, lon) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    ids = tuple(str(s) for s in sensor_ids)
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    if lat.shape != (len(ids),) or lon.shape != (len(ids),):
        raise InputError(f"{len(ids)} sensors but lat {lat.shape} and lon {lon.shape} values")
    if len(set(ids)) != len(ids):
        repeated = sorted({s for s in ids if ids.count(s) > 1})
        raise InputError(f"sensor ids must be unique; repeated: {_names(repeated)}")
    return ids, lat, lon


def _id_mask(ids: tuple[str, ...], wanted: tuple[str, ...], flag: str) -> np.ndarray:
    index = {s: i for i, s in enumerate(ids)}
    unknown = [s for s in wanted if s not in index]
    if unknown:
        raise UsageError(f"{flag}: sensors not in the network: {_names(unknown)}")
    mask = np.zeros(len(ids), dtype=bool)
    mask[[index[s] for s in wanted]] = True
    return mask


def _check_kept_and_excluded(ids, both: np.ndarray) -> None:
    if both.any():
        names = _names(ids[i] for i in np.flatnonzero(both))
        raise InfeasibleError(f"sensors both kept (--keep) and excluded (--exclude): {names}")


def _check_coordinates(ids, lat: np.ndarray, lon: np.ndarray) -> None:
    bad = ~(np.isfinite(lat) & np.isfinite(lon))
    if bad.any():
        names = _names(ids[i] for i in np.flatnonzero(bad))
        raise InputError(f"spacing and regions need coordinates; none for sensors: {names}")


def _checked_cost(ids, cost) -> np.ndarray:
    if cost is None:
        raise InputError(
            "--budget needs a cost per sensor and the dataset has none; a missing cost is an "
            "error when a budget is given (add a cost column to the sensor table)"
        )
    cost = np.asarray(cost, dtype=np.float64)
    if cost.shape != (len(ids),):
        raise InputError(f"{len(ids)} sensors but {cost.shape} cost values")
    missing = np.isnan(cost)
    if missing.any():
        names = _names(ids[i] for i in np.flatnonzero(missing))
        raise InputError(f"a missing cost is an error when a budget is given; no cost for {names}")
    bad = ~np.isfinite(cost) | (cost < 0)
    if bad.any():
        names = _names(ids[i] for i in np.flatnonzero(bad))
        raise InputError(f"costs must be finite and >= 0; bad for {names}")
    return cost


def _check_region_capacity(name: str, members, excluded, per_region_min: int) -> None:
    n_inside, n_allowed = int(members.sum()), int((members & ~excluded).sum())
    if n_allowed >= per_region_min:
        return
    if n_inside == 0:
        why = "no sensor of the network lies inside it (are its positions [lon, lat]?)"
    elif n_allowed == 0:
        why = f"all {n_inside} sensors inside it are excluded (--exclude)"
    else:
        why = f"only {n_allowed} of its sensors are allowed"
    raise InfeasibleError(f"region '{name}' cannot meet --per-region-min {per_region_min}: {why}")


def _check_forced_budget(forced_cost: np.ndarray, budget: float) -> None:
    total = float(forced_cost.sum())
    if total > budget:
        raise InfeasibleError(
            f"--budget {budget:g} is below the cost {total:g} of the {forced_cost.size} "
            "must-keep sensors (--keep)"
        )


def _check_forced_spacing(ids, lat, lon, forced: np.ndarray, spacing_km: float) -> None:
    for a, i in enumerate(forced[:-1]):
        rest = forced[a + 1 :]
        d = haversine_km(lat[i], lon[i], lat[rest], lon[rest])
        if d.min() < spacing_km:
            j = rest[int(np.argmin(d))]
            raise InfeasibleError(
                f"must-keep sensors {ids[i]} and {ids[j]} are {d.min():.3f} km apart, closer "
                f"than --min-spacing-km {spacing_km:g}"
            )


def _quota_limit_message(name: str, per_region_min: int, n_keep: int) -> str:
    return (
        f"region '{name}' needs {per_region_min} kept sensors (--per-region-min) but the "
        f"sparsity limit of {n_keep} kept sensors is used up by must-keep sensors and the "
        "quotas of earlier regions; lower --sparsity or --per-region-min"
    )


def _check_priority(priority, n: int) -> np.ndarray:
    order = np.asarray(priority)
    if order.shape != (n,) or not np.issubdtype(order.dtype, np.integer):
        raise ValueError(f"priority must be {n} integer sensor indices, got {order.shape}")
    if order.size and (order.min() < 0 or order.max() >= n or np.bincount(order).max() > 1):
        raise ValueError("priority must be a permutation of the sensor indices")
    return order


def _check_n_keep(n_keep, n: int) -> int:
    n_keep = operator.index(n_keep)
    if not 0 <= n_keep <= n:
        raise ValueError(f"n_keep must lie in [0, {n}], got {n_keep}")
    return n_keep


def _silent_named(selection: Selection, silent: np.ndarray | None) -> Selection:
    """`selection` with the reason "silent" for the silent sensors dropped by their rank."""
    if silent is None:
        return selection
    for i in np.flatnonzero(silent & ~selection.keep):
        if selection.reason[i] == "score":
            selection.reason[i] = "silent"
    return selection


def _take_first(order: np.ndarray, n_keep: int) -> Selection:
    keep = np.zeros(order.size, dtype=bool)
    keep[order[:n_keep]] = True
    return Selection(keep, ["score"] * order.size, [])
