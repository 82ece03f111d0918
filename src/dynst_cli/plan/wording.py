"""A plan in plain words: what is kept, what switching the rest off costs, where it hurts most.

The same sentences open `dynst prune`'s output and the report, e.g.::

    Keep 6 of 12 sensors: DUB, SHA, ... Switching off the other 6 raises the network's test MAE
    from 3.80 to 3.86 knots (+1.6 %); the largest rise is at BIR (+9 %).

Numbers in one sentence share their decimals (:func:`decimals_for`), so they line up and compare.
"""

from __future__ import annotations

import math

MAX_LISTED_IDS = 12  # kept ids spelled out before "and N more"


def unit_of(plan: dict) -> str:
    """The plan's unit when every variable shares one (e.g. ``"mph"``), else ``""``."""
    units = {plan["units"].get(v, "") for v in plan["variables"]}
    units.discard("")
    return units.pop() if len(units) == 1 else ""


def decimals_for(*values: float | None) -> int:
    """Decimals that show three significant digits of the smallest non-zero value, at least 2."""
    sizes = [abs(v) for v in values if v is not None and v != 0 and math.isfinite(v)]
    if not sizes:
        return 2
    return max(2, 2 - math.floor(math.log10(min(sizes))))


def with_unit(value: float, decimals: int, unit: str) -> str:
    """``3.86 mph``: `value` with `decimals` and the unit, if any."""
    return f"{value:.{decimals}f}" + (f" {unit}" if unit else "")


def percent_change(new: float, old: float) -> str:
    """``+1.6 %`` (one decimal below 10 %, none above); ``n/a`` when `old` is zero."""
    if not old:
        return "n/a"
    change = 100.0 * (new - old) / old
    return f"{change:+.1f} %" if abs(change) < 10 else f"{change:+.0f} %"


def noun(plan: dict, count: int) -> str:
    """``grid cells``/``grid cell`` for gridded plans, ``sensors``/``sensor`` otherwise."""
    word = "grid cell" if plan.get("grid") else "sensor"
    return word if count == 1 else word + "s"


def kept_sentence(plan: dict) -> str:
    """``Keep 6 of 12 sensors: DUB, SHA, ...`` (at most MAX_LISTED_IDS ids spelled out)."""
    kept = [s["sensor_id"] for s in plan["sensors"] if s["keep"]]
    head = f"Keep {plan['n_keep']} of {plan['n_sensors']} {noun(plan, plan['n_sensors'])}"
    if not kept:
        return head + "."
    listed = ", ".join(kept[:MAX_LISTED_IDS])
    more = len(kept) - MAX_LISTED_IDS
    return f"{head}: {listed}" + (f" and {more} more." if more > 0 else ".")


def cost_sentence(plan: dict) -> str:
    """What switching the other sensors off does to the network's test MAE, and where most."""
    test, dense = plan["metrics"]["test"]["mae"], plan["metrics"]["dense_test"]["mae"]
    n_off = plan["n_sensors"] - plan["n_keep"]
    unit, decimals = unit_of(plan), decimals_for(test, dense)
    verb = "raises" if test > dense else "lowers" if test < dense else "leaves"
    text = (
        f"Switching off the other {n_off} {noun(plan, n_off)} {verb} the network's test MAE "
        f"from {dense:.{decimals}f} to {with_unit(test, decimals, unit)} "
        f"({percent_change(test, dense)})"
    )
    worst = largest_rise(plan)
    if worst is not None:
        text += f"; the largest rise is at {worst['sensor_id']} " + (
            f"({percent_change(worst['mae_reduced'], worst['mae_dense'])})"
        )
    return text + "."


def largest_rise(plan: dict) -> dict | None:
    """The sensor the plan names first among `most_affected`, or None."""
    names = plan.get("most_affected") or []
    if not names:
        return None
    by_id = {s["sensor_id"]: s for s in plan["sensors"]}
    return by_id.get(names[0])


def plan_sentences(plan: dict) -> list[str]:
    """The plan's summary as sentences: kept ids, then the cost of the rest."""
    return [kept_sentence(plan), cost_sentence(plan)]
