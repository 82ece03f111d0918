"""The DynST sparsity schedule over optimiser steps.

Phases, with ``W = round(warmup_frac*total)``, ``R = W + round(ramp_frac*total)`` and
``E = round(update_end_frac*total)`` (halves rounded up, each clamped into ``[0, total]``, and
``W <= R <= E``):

- warm-up ``[0, W)``: dense;
- ramp ``[W, R)``: cubic ramp ``s_t = S*(1 - (1 - (t-W)/(R-W))^3)``, reaching S at R; the kept
  sensors worth least (by `mask.drop_criterion`: saliency or ``|m|``) are dropped;
- regrow ``[R, E)``: sparsity S; each update drops a fraction
  ``alpha_t = alpha/2*(1 + cos(pi*t/E))`` of the kept sensors and regrows as many;
- fine-tune ``[E, total)``: the mask is frozen.

Timing convention: the mask update of step t runs after optimiser step t (its gradients are in the
regrow signal) and sets the mask that step ``t+1`` uses, so it prunes to `n_off_after` ``(t)``
``= n_off_at(t+1)``. The update at ``R-1`` always runs, which puts exactly ``round(S*N)``
sensors off from step R on. A loop that follows this schedule::

    if schedule.is_update_step(t):
        keep = prune_to(keep, scores, n - schedule.n_off_after(t, n))  # no-op once at S
        if schedule.phase(t) == "regrow":
            keep, _, _ = drop_and_regrow(keep, scores, grad, schedule.regrow_fraction(t))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dynst_cli.config import MaskConfig
from dynst_cli.errors import UsageError
from dynst_cli.mask.counts import n_off_for, round_half_up


@dataclass
class SparsitySchedule:
    """Sparsity and mask-update timing by optimiser step.

    Parameters
    ----------
    total_steps : int
        Optimiser steps of the whole fit.
    target : float
        Target sparsity S in [0, 1): the fraction of sensors switched off.
    warmup_frac, ramp_frac, update_end_frac : float
        Phase boundaries as fractions of `total_steps` (see the module docstring).
    alpha : float
        Initial drop-and-regrow fraction, cosine-annealed to 0 at the end of updates.
    update_every : int
        Optimiser steps between two mask updates.
    """

    total_steps: int
    target: float
    warmup_frac: float
    ramp_frac: float
    update_end_frac: float
    alpha: float
    update_every: int

    def __post_init__(self) -> None:
        if self.total_steps < 0:
            raise UsageError(f"total_steps must be at least 0, got {self.total_steps}")
        if not 0.0 <= self.target < 1.0:
            raise UsageError(f"sparsity must lie in [0, 1), got {self.target}")
        if self.update_every < 1:
            raise UsageError(f"update_every must be at least 1, got {self.update_every}")
        for name in ("warmup_frac", "ramp_frac", "update_end_frac", "alpha"):
            if getattr(self, name) < 0:
                raise UsageError(f"{name} must be at least 0, got {getattr(self, name)}")

    @classmethod
    def from_config(
        cls, mask_config: MaskConfig, total_steps: int, target: float | None = None
    ) -> SparsitySchedule:
        """The schedule of `mask_config`, ramping to `target` (default: its sparsity)."""
        return cls(
            total_steps=total_steps,
            target=mask_config.sparsity if target is None else target,
            warmup_frac=mask_config.warmup_frac,
            ramp_frac=mask_config.ramp_frac,
            update_end_frac=mask_config.update_end_frac,
            alpha=mask_config.regrow_alpha,
            update_every=mask_config.update_every,
        )

    @property
    def warmup_end(self) -> int:
        """W: first step of the ramp."""
        return min(round_half_up(self.warmup_frac * self.total_steps), self.total_steps)

    @property
    def ramp_end(self) -> int:
        """R: first step at the target sparsity.

        At least 1 when there is a step at all: the update that reaches S runs after step
        ``R-1``, and there is no step before step 0.
        """
        ramp = round_half_up(self.ramp_frac * self.total_steps)
        r = min(self.warmup_end + ramp, self.total_steps)
        return max(r, min(1, self.total_steps))

    @property
    def update_end(self) -> int:
        """E: first step of the frozen fine-tuning (never before R)."""
        e = min(round_half_up(self.update_end_frac * self.total_steps), self.total_steps)
        return max(e, self.ramp_end)

    def phase(self, t: int) -> str:
        """One of "warmup", "ramp", "regrow", "finetune"."""
        if t < self.warmup_end:
            return "warmup"
        if t < self.ramp_end:
            return "ramp"
        if t < self.update_end:
            return "regrow"
        return "finetune"

    def sparsity_at(self, t: int) -> float:
        """Scheduled sparsity ``s_t`` in [0, S]; exactly S from R on."""
        w, r = self.warmup_end, self.ramp_end
        if t >= r:
            return self.target
        if t < w:
            return 0.0
        progress = (t - w) / (r - w)
        return self.target * (1.0 - (1.0 - progress) ** 3)

    def n_off_at(self, t: int, n_sensors: int) -> int:
        """Sensors off during step t: ``round(s_t*N)``, exactly ``round(S*N)`` from R on."""
        if t >= self.ramp_end:
            return n_off_for(n_sensors, self.target)
        return round_half_up(self.sparsity_at(t) * n_sensors)

    def n_off_after(self, t: int, n_sensors: int) -> int:
        """Sensors off after the update of step t (it sets the mask of step t+1)."""
        return self.n_off_at(t + 1, n_sensors)

    def regrow_fraction(self, t: int) -> float:
        """``alpha_t = alpha/2*(1 + cos(pi*t/E))`` for ``t <= E``; 0 after E."""
        e = self.update_end
        if e == 0 or t > e:
            return 0.0
        return self.alpha / 2.0 * (1.0 + math.cos(math.pi * t / e))

    def is_update_step(self, t: int) -> bool:
        """Whether the mask is updated after optimiser step t.

        Every `update_every` steps from W up to (not including) E, and always at ``R-1`` so the
        count reaches ``round(S*N)`` exactly before the regrow phase. Never when S is 0.
        """
        if self.target == 0.0 or not 0 <= t < self.total_steps:
            return False
        if t == self.ramp_end - 1:
            return True
        return (
            self.warmup_end <= t < self.update_end
            and (t - self.warmup_end) % self.update_every == 0
        )
