"""DynST, independent of any backbone: stream morph, sensor gate, schedule, drop-and-regrow
and the training loss."""

from dynst_cli.mask.counts import (
    check_keeps_some,
    exploring_sparsity,
    n_keep_for,
    n_off_for,
    round_half_up,
)
from dynst_cli.mask.gate import SensorGate
from dynst_cli.mask.loss import dynst_loss, masked_mae
from dynst_cli.mask.morph import morph_graph
from dynst_cli.mask.schedule import SparsitySchedule
from dynst_cli.mask.update import (
    Select,
    drop_and_regrow,
    priority_order,
    prune_to,
    regrow_init,
)

__all__ = [
    "Select",
    "SensorGate",
    "SparsitySchedule",
    "drop_and_regrow",
    "dynst_loss",
    "masked_mae",
    "morph_graph",
    "check_keeps_some",
    "exploring_sparsity",
    "n_keep_for",
    "n_off_for",
    "priority_order",
    "prune_to",
    "regrow_init",
    "round_half_up",
]
