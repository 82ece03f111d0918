import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dynst_cli.config import MaskConfig
from dynst_cli.errors import UsageError
from dynst_cli.mask.counts import n_off_for
from dynst_cli.mask.schedule import SparsitySchedule
from dynst_cli.mask.update import prune_to
from dynst_cli.selection import Siting


def _schedule(total: int, target: float = 0.5, **kw) -> SparsitySchedule:
    cfg = MaskConfig(sparsity=target, **kw)
    return SparsitySchedule.from_config(cfg, total)


def _run_counts(schedule: SparsitySchedule, n: int) -> list[int]:
    """Kept count during every step, following the update convention of the module docstring."""
    keep = [True] * n
    scores = list(range(n, 0, -1))
    first = Siting.free(n).keep_fn()
    counts = []
    for t in range(schedule.total_steps):
        counts.append(sum(keep))
        if schedule.is_update_step(t):
            keep = list(prune_to(keep, scores, n - schedule.n_off_after(t, n), first))
    counts.append(sum(keep))  # the mask left after the last step
    return counts


def test_phases_follow_config_fractions():
    s = _schedule(100)
    assert (s.warmup_end, s.ramp_end, s.update_end) == (15, 45, 75)
    assert [s.phase(t) for t in (0, 14, 15, 44, 45, 74, 75, 99)] == [
        "warmup", "warmup", "ramp", "ramp", "regrow", "regrow", "finetune", "finetune"
    ]  # fmt: skip


@pytest.mark.parametrize("total", [1, 2, 3, 7, 40, 100, 1000])
@pytest.mark.parametrize("n", [1, 5, 37])
def test_ramp_reaches_exact_target_count_at_r_and_holds(total, n):
    s = _schedule(total, target=0.5, update_every=7)
    counts = _run_counts(s, n)
    target_keep = n - n_off_for(n, 0.5)
    assert all(c == target_keep for c in counts[s.ramp_end :])
    assert all(a >= b for a, b in zip(counts, counts[1:], strict=False))


@given(
    total=st.integers(0, 300),
    target=st.floats(0.0, 0.95),
    warmup=st.floats(0.0, 1.0),
    ramp=st.floats(0.0, 1.0),
    end=st.floats(0.0, 1.0),
)
def test_sparsity_is_monotone_and_bounded(total, target, warmup, ramp, end):
    s = SparsitySchedule(total, target, warmup, ramp, end, alpha=0.3, update_every=3)
    values = [s.sparsity_at(t) for t in range(total + 2)]
    assert all(0.0 <= v <= target for v in values)
    assert all(a <= b for a, b in zip(values, values[1:], strict=False))
    assert 0 <= s.warmup_end <= s.ramp_end <= s.update_end <= total
    assert s.sparsity_at(s.ramp_end) == target


def test_regrow_fraction_cosine_endpoints():
    s = _schedule(100, regrow_alpha=0.3)
    assert s.regrow_fraction(0) == pytest.approx(0.3)
    assert s.regrow_fraction(s.update_end) == pytest.approx(0.0, abs=1e-12)
    assert s.regrow_fraction(s.update_end // 2) == pytest.approx(0.15, abs=0.01)
    assert s.regrow_fraction(s.update_end + 1) == 0.0
    mid = s.ramp_end
    assert s.regrow_fraction(mid) == pytest.approx(0.15 * (1 + math.cos(math.pi * mid / 75)))


def test_no_updates_outside_ramp_and_regrow():
    s = _schedule(100, update_every=10)
    updates = [t for t in range(100) if s.is_update_step(t)]
    assert updates == [15, 25, 35, 44, 45, 55, 65]
    assert all(t < s.update_end for t in updates)


def test_zero_sparsity_never_drops():
    s = _schedule(50, target=0.0)
    assert not any(s.is_update_step(t) for t in range(50))
    assert all(s.n_off_at(t, 10) == 0 for t in range(51))


def test_zero_length_ramp_jumps_to_target_at_w():
    s = _schedule(100, ramp_frac=0.0)
    assert s.warmup_end == s.ramp_end == 15
    assert s.sparsity_at(14) == 0.0 and s.sparsity_at(15) == 0.5
    assert s.is_update_step(14)
    assert s.n_off_after(14, 10) == 5


@pytest.mark.parametrize("total", [0, 1, 2])
def test_tiny_totals(total):
    s = _schedule(total, warmup_frac=0.0, ramp_frac=0.0)
    updates = [t for t in range(total) if s.is_update_step(t)]
    assert updates == ([0] if total else [])
    assert _run_counts(s, 4)[-1] == (2 if total else 4)


def test_rejects_unusable_values():
    with pytest.raises(UsageError, match="update_every"):
        _schedule(10, update_every=0)
    with pytest.raises(UsageError, match="sparsity"):
        _schedule(10, target=1.0)
