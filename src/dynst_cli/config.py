"""The one typed configuration of a fit, with every default in one place.

Precedence: CLI flag over recipe (YAML in `recipes/`) over the defaults below. The resolved object
is saved in the run directory (`config.json`) and is what `prune`, `predict` and `--resume` read.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dynst_cli.errors import InputError, UsageError

DROP_CRITERIA = ("saliency", "magnitude")


@dataclass
class DataConfig:
    t_in: int = 12  # history steps seen by the model (DESIGN: 12 -> 12)
    t_out: int = 12  # forecast horizon in steps
    train_frac: float = 0.7  # chronological split: train / validation / test = 70 / 10 / 20
    val_frac: float = 0.1
    variables: list[str] | None = None  # None: every data variable of the dataset
    # Read values from a float32 .npy copy mapped from disk instead of loading them: for datasets
    # larger than memory. The copy is made once per dataset (keyed by its sha256) in
    # $DYNST_CACHE_DIR (default ~/.cache/dynst); batches are then gathered from the page cache.
    mmap: bool = False


@dataclass
class MaskConfig:
    sparsity: float = 0.5  # fraction of sensors switched off: keep N - round(S*N)
    l1_lambda: float = 1e-4  # weight of |b*m|_1, pushes unimportant gates towards zero
    warmup_frac: float = 0.15  # dense warm-up, as a fraction of all optimiser steps
    ramp_frac: float = 0.30  # cubic ramp s_t = S(1-(1-t/T)^3) after the warm-up
    update_end_frac: float = 0.75  # drop-and-regrow stops here; the rest is frozen-mask fine-tuning
    regrow_alpha: float = 0.3  # initial drop-and-regrow fraction, cosine-annealed to 0
    update_every: int = 10  # optimiser steps between two mask updates
    # Adam moves every parameter by about lr per step whatever its gradient's size, so with the
    # backbone's lr the gate scores could hardly separate within a short fit; they get their own.
    score_lr_scale: float = 10.0
    # What a sensor is worth when the mask drops and regrows: "saliency" (|g dL/dg|, the loss it
    # saves by being on, accumulated over the update interval) or "magnitude" (|m|, the DynST
    # paper's rule, kept for ablation). Saliency is the default because it ranked better on the
    # archive with missing readings and on the planted network, and about as well elsewhere
    # (benchmarks/RESULTS.md, "Ranking quality"; README, "The method").
    drop_criterion: str = "saliency"
    # Share of the kept sensors hidden from each training window while the mask is learned (not in
    # the final frozen-mask epochs). The backbone learns not to lean on any one sensor, so what a
    # sensor is worth is measured on a model that can compensate for its loss, as the reduced
    # network will have to.
    sensor_dropout: float = 0.0
    # Saliency criterion only: weight of the earlier update intervals in the signal that decides
    # drops and regrows, s <- beta*s + (1-beta)*(mean saliency of the last interval); 0 decides
    # on the last interval alone (a few batches), a noisy sample of what a sensor is worth.
    signal_smoothing: float = 0.0
    # Saliency criterion only: what a sensor's input is measured against, "zero" (the loss it
    # saves by being on at all) or "mean" (by reading more than its mean input over the training
    # windows; a fresh model learns each sensor's level from its embedding, so an input far from
    # the others' level looks salient against zero for that alone).
    saliency_baseline: str = "zero"
    # Saliency criterion only: where the saliency's absolute value is taken, "batch" (of the
    # first-order loss change of a whole batch) or "window" (of each window's, then summed;
    # a trained gate sits where a batch's window terms nearly cancel).
    saliency_abs: str = "batch"
    # Saliency criterion only: share of the undecided sensors each pass of the final ranking
    # settles (saliency.py). Smaller is finer and slower: about ln(N) / -ln(1 - share) passes
    # over the validation windows for the kept sensors, as many for the dropped ones.
    rank_pass_fraction: float = 1 / 3
    # Saliency criterion only: how the final ranking orders the kept sensors, "backward"
    # (iterative elimination from all of them, each pass switching off the least salient),
    # "joint" (the same, each pass switching off the sensors that cost least together by a
    # second-order estimate, so that stand-ins for each other are not all switched off at once;
    # saliency.cheapest_together), "occlusion" (the same, each pass measuring the loss with each
    # sensor on switched off alone instead of estimating it to first order; one forward pass per
    # sensor on, saliency.measure_on_occlusion) or "forward" (forward selection from none). The
    # elimination that narrows an explored or settled keep set measures the same way.
    rank_kept_by: str = "backward"
    # Saliency criterion only: how the final ranking orders the dropped sensors, which a plan
    # denser than the fit adds. "addition" (iterative addition to the kept set, each pass
    # switching on the most salient `rank_pass_fraction` of the dropped sensors at their regrow
    # gate value, all measured on the fit's weights), "retrained_addition" (each pass adds at
    # most a `rank_pass_fraction` share of the sensors on, then the model is retrained for
    # `rank_retrain_epochs`, less for a smaller pass, to read them before the next pass measures
    # the rest; with `rank_retrain_epochs: 0` it is "addition"; denser plans rank better, and a
    # fit costs more) or "elimination" (every sensor switched on and the model retrained to
    # read them, then iterative elimination of the dropped ones with the kept ones pinned on,
    # retraining between passes; needs `rank_retrain_epochs` > 0).
    rank_dropped_by: str = "addition"
    # Saliency criterion only: the windows the final ranking measures on. "train": the training
    # period, one window every t_out steps (it spans 70 % of the archive and is what the model
    # learned from, so it shows each sensor's long-run worth and availability better than the
    # validation period's 15 %, at no more cost); "val": every validation window.
    rank_period: str = "train"
    # Saliency criterion only: training of the backbone, in epochs (fractions allowed), with the
    # mask frozen at the sensors still on after each elimination pass of the final ranking, so
    # that the next pass measures a model that has learned to do without the sensors just
    # switched off (iterative pruning with retraining). The fit's own weights are restored after
    # the ranking; 0 measures every pass on them, unchanged. A quarter of an epoch per pass ranked
    # better at 0.7 and 0.9 on three of four real archives (benchmarks/RESULTS.md).
    rank_retrain_epochs: float = 0.25
    # Saliency criterion only: when drop-and-regrow ends, the keep set is settled once more by
    # elimination with retraining (saliency.settle_keep_set) from the kept sensors plus this share
    # (of the kept count) of the dropped ones that are most salient at their regrow gate value.
    # Drop-and-regrow judges a dropped sensor on a model that never read it; here the candidates
    # are trained with before any is judged. 0 keeps the set drop-and-regrow left; off by default
    # because the settled sets ranked worse on three of four real archives (benchmarks/RESULTS.md).
    settle_share: float = 0.0
    # Saliency criterion only: after the final ranking, swaps tried at most (exchange.py): the
    # k-th least worth kept sensor for the k-th most promising dropped one, the model retrained
    # to read it (`rank_retrain_epochs`), the swap kept if its validation error is below that of
    # the same retraining without it; the first that is not is undone and ends them. Drop-and-
    # regrow can end with two sensors that carry the same information and none of a part of the
    # network only a dropped sensor sees; the final ranking's addition then often ranks that
    # sensor first among the dropped.
    # 0 (none) by default: 3 moved the real archives by less than the noise and ranked the
    # benchmark's planted network worse at 0.9 (benchmarks/RESULTS.md).
    exchange_trials: int = 0
    # Saliency criterion only: drop-and-regrow keeps this many times as many sensors as the
    # sparsity asks for (at most all), and when it ends, iterative elimination as the final
    # ranking's (saliency.settle_keep_set) brings them down to the asked count before the frozen-
    # mask epochs train the model on it. The sensors a plan keeps are then chosen by the
    # elimination, which measures each one on a model that reads all of them, rather than by the
    # last updates of drop-and-regrow. 1 (the default) keeps the set drop-and-regrow leaves: 1.4
    # ranked the planted network and PM10 better but METR-LA and ERA5 worse (benchmarks/RESULTS.md).
    explore_keep: float = 1.0
    # Brief independent mask searches (searches.py): the mask-learning epochs are split
    # into this many searches, each from a fresh model with its own seed; the keep set is the
    # sensors they keep most often, and the first search's model trains on it for the frozen-
    # mask epochs. About the cost of one search over all the epochs (1). Three is the default
    # because they ranked better than one over the four real archives of the ranking benchmark,
    # most on the station network with half its readings missing (benchmarks/RESULTS.md).
    searches: int = 3
    # How the searches' keep sets are pooled: "votes" (the sensors they keep most often, ties to
    # the first search's), "elimination" (every sensor any search kept is switched on in the
    # first search's model, which is trained to read them, then eliminated from as the final
    # ranking eliminates, down to the kept count; saliency.narrow_keep_set) or "ties" (the votes
    # decide what they can, and elimination, not the first search, breaks their ties:
    # searches.vote_ties). Where the brief searches disagree, votes tie everywhere and the set
    # is the first search's alone, while the sensors the others found are still among the
    # candidates of an elimination. Half the frozen-mask epochs train the first search's model
    # on the candidates first. "elimination" ranked PM10 and METR-LA worse than "votes"
    # (benchmarks/RESULTS.md). "survival" breaks the votes' ties by how long the searches kept
    # each sensor in all (searches.survival_steps) before the first search's membership.
    pool_by: str = "votes"
    # Where the searches' keep sets agree no more than random keep sets of their size would
    # (permutation test, p above searches.CHANCE_LEVEL), train one search over all the epochs
    # instead (searches.FALLBACK_MASK), and rank by it: the votes of searches that agree at chance
    # carry nothing, and the keep set is in effect the first brief search's. Such a fit trains
    # about 1.75 times the epochs (the brief searches are spent). On by default: it leaves the
    # archives whose searches agree (PM10, METR-LA, ERA5, the bundled data) as they were, moved
    # the 12-station wind network within the noise and kept 44 of 60 planted drivers at 0.9 over
    # ten planted networks against 15 (benchmarks/RESULTS.md). Used only with `searches` above 1.
    searches_fallback: bool = True
    # What a dropped sensor promises when drop-and-regrow picks the sensors to regrow: "gate" (the
    # drop criterion's own signal at the sensor's gate) or "residual" (mask/residual.py: how much
    # of the loss's pull on the current forecasts the sensor's latest reading explains) or "error"
    # (mask/error.py: the sensor's own share of the training loss, what reading it could take off
    # at most). "gate" by default: "residual" keeps more of the planted drivers but did not rank
    # the real archives better, "error" moved them by less than the noise and kept fewer planted
    # drivers (benchmarks/RESULTS.md).
    regrow_signal: str = "gate"
    # Mask updates during which a sensor just regrown cannot be dropped again: the model has not
    # yet learned to read it, so its drop signal would be low at the next update whatever it is
    # worth. 0 lets any kept sensor be dropped at every update; 4 with the residual signal kept
    # every planted driver but one, but ranked the station network with half its readings
    # missing worse (benchmarks/RESULTS.md).
    regrow_grace: int = 0
    # Rank last the sensors with no reading in the whole validation period (selection/silent.py):
    # most likely stopped, they can add nothing to a forecast made now. When that changes the
    # fit's own keep set, the model is fine-tuned on the new one. It changes nothing where every
    # sensor reports; on the PM10 station network, where 24 of 70 stations fell silent, it ranked
    # better at 0.7 and 0.9 (benchmarks/RESULTS.md).
    rank_silent_last: bool = True
    # Saliency criterion only: value a sensor at its saliency per training step in which it
    # reported, times the share of the validation period it reported in
    # (selection/availability.py), so that a station that opened late or reports less often now
    # is judged by what it will give from now on. Off by default: it did not rank the benchmark's
    # archives better (benchmarks/RESULTS.md).
    weigh_by_availability: bool = False
    # Which weight `weigh_by_availability` applies: "relative" (the validation share over the
    # training share, as above) or "recent" (the validation share alone: the saliency keeps the
    # training share it was summed with, since a sensor the model could seldom learn from is
    # worth less to it too).
    availability_weight: str = "relative"
    # Classical selectors (selection/registry.py: variance, qr, greedy, random) whose keep sets,
    # at the fit's count and through the siting constraints, stand against the fit's own after
    # the final ranking (challenge.py): each is fine-tuned from the dense reference's weights for
    # `challenge_epochs` with its mask frozen, and one wins where it is lower than the fit's over
    # the validation period consistently (a paired test over stretches of it), the lowest of
    # those that are. No selector is best on every network (the variance selector's keep set
    # beats the fit's on the ERA5 grid at 0.5, validation error included). Needs
    # `train.dense_reference`. Empty (none) by default: with `[variance, qr]` and the lowest
    # validation error winning outright, ERA5 at 0.5 ranked better and METR-LA worse, as good
    # over the archives as without; with the paired test hardly a challenger won
    # (benchmarks/RESULTS.md).
    challengers: list[str] = field(default_factory=list)
    # Frozen-mask epochs each candidate keep set of `challengers` is fine-tuned for.
    challenge_epochs: int = 3


@dataclass
class ModelConfig:
    backbone: str = "stid"
    hidden: int = 64  # width of the backbone's hidden layers
    embed: int = 16  # size of sensor / time-of-day embeddings
    layers: int = 2  # depth (MLP blocks, or temporal layers for gwnet)
    graph_k: int = 8  # k nearest neighbours of the distance-kernel graph (point sensors)


@dataclass
class TrainConfig:
    epochs: int = 20
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0
    # Masks trained with seeds seed, seed+1, ... and ranked by consensus (mean rank); 1: one mask.
    seeds: int = 1
    device: str = "cpu"
    finetune_epochs: int = 3  # frozen-mask epochs `prune` spends at a sparsity other than the fit's
    max_batches_per_epoch: int | None = None  # cap for quick runs; None uses every window
    # Also train a dense model with the same backbone and epochs, so that plans compare the
    # reduced network with a fully trained full network (costs a second training).
    dense_reference: bool = True


@dataclass
class FitConfig:
    data: DataConfig = field(default_factory=DataConfig)
    mask: MaskConfig = field(default_factory=MaskConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], source: str = "configuration") -> FitConfig:
        """Build from nested plain values, rejecting unknown sections and keys by name."""
        sections = {f.name: f.type for f in dataclasses.fields(cls)}
        kwargs = {}
        for name, values in (raw or {}).items():
            if name not in sections:
                raise UsageError(
                    f"{source}: unknown section '{name}' (valid: {', '.join(sections)})"
                )
            section_cls = {
                "data": DataConfig,
                "mask": MaskConfig,
                "model": ModelConfig,
                "train": TrainConfig,
            }[name]
            kwargs[name] = _build_section(section_cls, values or {}, f"{source}: {name}")
        return cls(**kwargs)


def _build_section(section_cls: type, values: dict[str, Any], where: str) -> Any:
    if not isinstance(values, dict):
        raise UsageError(f"{where}: expected a mapping of keys, got {value_text(values)}")
    valid = {f.name for f in dataclasses.fields(section_cls)}
    unknown = sorted(set(values) - valid)
    if unknown:
        raise UsageError(
            f"{where}: unknown key(s) {', '.join(unknown)} (valid: {', '.join(sorted(valid))})"
        )
    return section_cls(**values)


class _RecipeLoader(yaml.SafeLoader):
    """YAML's safe loader, reading `1e-3` as a number (YAML 1.2) rather than as text."""


_RecipeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def load_recipe(path: str | Path) -> FitConfig:
    """Read a YAML recipe (sections data, mask, model, train) into a FitConfig."""
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(), Loader=_RecipeLoader)  # noqa: S506 (a safe loader)
    except FileNotFoundError:
        raise UsageError(f"recipe {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise InputError(f"recipe {path} is not valid YAML: {' '.join(str(exc).split())}") from None
    if raw is not None and not isinstance(raw, dict):
        raise InputError(f"recipe {path}: expected a mapping of sections, got {type(raw).__name__}")
    return FitConfig.from_dict(raw or {}, source=f"recipe {path}")


def with_overrides(config: FitConfig, overrides: dict[str, dict[str, Any]]) -> FitConfig:
    """Return a copy with the non-None values of `overrides` ({section: {key: value}}) applied."""
    merged = config.to_dict()
    for section, values in overrides.items():
        for key, value in values.items():
            if value is not None:
                merged[section][key] = value
    return FitConfig.from_dict(merged)


# The CLI flag that sets a key, named in messages next to the key.
FLAGS = {
    "data.t_in": "--t-in",
    "data.t_out": "--t-out",
    "mask.sparsity": "--sparsity",
    "model.backbone": "--backbone",
    "train.epochs": "--epochs",
    "train.seed": "--seed",
    "train.seeds": "--seeds",
    "train.device": "--device",
}


@dataclass(frozen=True)
class Rule:
    """The type and range a configuration value must have.

    kind: "int", "float", "bool", "str" or "names" (a list of strings); lo/hi bounds (inclusive
    unless `lo_open`/`hi_open`); `optional` allows None; `choices` lists the valid strings.
    """

    kind: str
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    optional: bool = False
    choices: tuple[str, ...] = ()

    def describe(self) -> str:
        what = {
            "int": "an integer",
            "float": "a number",
            "bool": "true or false",
            "str": "a string",
            "names": "a list of names",
        }[self.kind]
        if self.choices:
            what = " or ".join(f"'{c}'" for c in self.choices)
        if self.lo is not None and self.hi is not None:
            left, right = "(" if self.lo_open else "[", ")" if self.hi_open else "]"
            what += f" in {left}{_num(self.lo)}, {_num(self.hi)}{right}"
        elif self.lo is not None:
            what += f" {'>' if self.lo_open else '>='} {_num(self.lo)}"
        return what + (" (or null)" if self.optional else "")


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


FRACTION = Rule("float", 0.0, 1.0)
RULES = {
    "data": {
        "t_in": Rule("int", 1),
        "t_out": Rule("int", 1),
        "train_frac": Rule("float", 0.0, 1.0, lo_open=True, hi_open=True),
        "val_frac": Rule("float", 0.0, 1.0, hi_open=True),
        "variables": Rule("names", optional=True),
        "mmap": Rule("bool"),
    },
    "mask": {
        "sparsity": Rule("float", 0.0, 1.0, hi_open=True),
        "l1_lambda": Rule("float", 0.0),
        "warmup_frac": FRACTION,
        "ramp_frac": FRACTION,
        "update_end_frac": FRACTION,
        "regrow_alpha": FRACTION,
        "update_every": Rule("int", 1),
        "score_lr_scale": Rule("float", 0.0, lo_open=True),
        "drop_criterion": Rule("str", choices=DROP_CRITERIA),
        "sensor_dropout": Rule("float", 0.0, 1.0, hi_open=True),
        "signal_smoothing": Rule("float", 0.0, 1.0, hi_open=True),
        "rank_pass_fraction": Rule("float", 0.0, 1.0, lo_open=True),
        "saliency_baseline": Rule("str", choices=("zero", "mean")),
        "saliency_abs": Rule("str", choices=("batch", "window")),
        "rank_kept_by": Rule("str", choices=("backward", "joint", "occlusion", "forward")),
        "rank_dropped_by": Rule("str", choices=("addition", "elimination", "retrained_addition")),
        "rank_period": Rule("str", choices=("train", "val")),
        "rank_retrain_epochs": Rule("float", 0.0, 100.0),
        "settle_share": Rule("float", 0.0, 100.0),
        "exchange_trials": Rule("int", 0),
        "explore_keep": Rule("float", 1.0, 100.0),
        "searches": Rule("int", 1),
        "pool_by": Rule("str", choices=("votes", "survival", "elimination", "ties")),
        "searches_fallback": Rule("bool"),
        "regrow_signal": Rule("str", choices=("gate", "residual", "error")),
        "regrow_grace": Rule("int", 0),
        "rank_silent_last": Rule("bool"),
        "weigh_by_availability": Rule("bool"),
        "availability_weight": Rule("str", choices=("relative", "recent")),
        "challengers": Rule("names"),
        "challenge_epochs": Rule("int", 1),
    },
    "model": {
        "backbone": Rule("str"),
        "hidden": Rule("int", 1),
        "embed": Rule("int", 1),
        "layers": Rule("int", 1),
        "graph_k": Rule("int", 1),
    },
    "train": {
        "epochs": Rule("int", 1),
        "batch_size": Rule("int", 1),
        "lr": Rule("float", 0.0, lo_open=True),
        "weight_decay": Rule("float", 0.0),
        "seed": Rule("int", 0, 2**32 - 1),
        "seeds": Rule("int", 1),
        "device": Rule("str", choices=("cpu", "cuda")),
        "finetune_epochs": Rule("int", 0),
        "max_batches_per_epoch": Rule("int", 1, optional=True),
        "dense_reference": Rule("bool"),
    },
}


def validate(config: FitConfig) -> None:
    """Check every value of the resolved configuration, naming the key (and its flag) at fault.

    Raises UsageError (exit 2) for a value of the wrong type (`lr: abc`, `hidden: "64"`) or
    outside its range (`batch_size: 0`, `--seed -5`), and for fractions that leave no test period.
    Normalises on the way: ints given for floats become floats, -0.0 becomes 0.0.
    """
    for section, rules in RULES.items():
        values = getattr(config, section)
        for key, rule in rules.items():
            setattr(values, key, check_value(f"{section}.{key}", getattr(values, key), rule))
    d = config.data
    if d.train_frac + d.val_frac >= 1:
        raise UsageError(
            f"data.train_frac + data.val_frac must leave a test period (sum below 1), got "
            f"{d.train_frac} + {d.val_frac}"
        )
    m = config.mask
    if m.warmup_frac + m.ramp_frac > m.update_end_frac:
        raise UsageError(
            f"mask.warmup_frac + mask.ramp_frac must not exceed mask.update_end_frac, got "
            f"{m.warmup_frac} + {m.ramp_frac} > {m.update_end_frac}"
        )
    _check_searches(config)
    _check_challengers(config)
    if m.rank_dropped_by == "elimination" and m.rank_retrain_epochs == 0:
        raise UsageError(
            "mask.rank_dropped_by: elimination needs mask.rank_retrain_epochs above 0 (the model "
            "is retrained to read the dropped sensors before they are eliminated)"
        )


# The classical selectors a fit's keep set can stand against (`mask.challengers`).
CHALLENGERS = ("variance", "qr", "greedy", "random")


def _check_challengers(config: FitConfig) -> None:
    unknown = [name for name in config.mask.challengers if name not in CHALLENGERS]
    if unknown:
        raise UsageError(
            f"mask.challengers: unknown selector {', '.join(map(repr, unknown))}: choose among "
            f"{', '.join(CHALLENGERS)}"
        )
    if len(set(config.mask.challengers)) < len(config.mask.challengers):
        raise UsageError("mask.challengers names a selector twice")
    if config.mask.challengers and config.mask.drop_criterion != "saliency":
        # a winning challenger's keep set is ranked afresh by saliency on its fine-tuned model
        raise UsageError(
            "mask.challengers needs mask.drop_criterion: saliency (a challenger's keep set that "
            f"wins is ranked by saliency), got {config.mask.drop_criterion}"
        )


# The `mask.pool_by` ways that narrow the searches' keep sets by elimination (on saliency).
ELIMINATION_POOLS = ("elimination", "ties")


def _check_searches(config: FitConfig) -> None:
    """`mask.searches` pools the keep sets of several searches, which settling or narrowing the
    keep set of one (`mask.settle_share`, `mask.explore_keep`) would undo; pooling them by
    elimination (`mask.pool_by`) ranks by saliency."""
    m = config.mask
    if m.searches > 1 and (m.settle_share > 0 or m.explore_keep > 1):
        raise UsageError(
            "mask.searches above 1 pools the keep sets of several searches; "
            "mask.settle_share and mask.explore_keep settle the keep set of one: use one or the "
            "other"
        )
    if m.pool_by in ELIMINATION_POOLS and m.drop_criterion != "saliency":
        # the narrowing is an elimination by saliency, which the magnitude criterion never measures
        raise UsageError(
            f"mask.pool_by: {m.pool_by} narrows the searches' keep sets by saliency and needs "
            f"mask.drop_criterion: saliency, got {m.drop_criterion}"
        )


def check_value(key: str, value: Any, rule: Rule, flag: str | None = None) -> Any:
    """`value` checked against `rule` (and normalised), or a UsageError naming `key`/`flag`."""
    flag = flag or FLAGS.get(key)
    name = f"{flag} ({key})" if flag and "." in key else (flag or key)
    if value is None and rule.optional:
        return None
    typed = _typed(value, rule)
    if typed is None or not _in_range(typed, rule):
        raise UsageError(f"{name} must be {rule.describe()}, got {value_text(value)}")
    return typed


def value_text(value: Any) -> str:
    """A value as a message shows it: strings quoted (so that `"64"` reads as text)."""
    return repr(value) if isinstance(value, str) else str(value)


def _typed(value: Any, rule: Rule) -> Any:
    """`value` in the rule's type, or None when it has another type (bools are not numbers)."""
    if rule.kind == "bool":
        return value if isinstance(value, bool) else None
    if isinstance(value, bool):
        return None
    if rule.kind == "int":
        return value if isinstance(value, int) else None
    if rule.kind == "float":
        return float(value) + 0.0 if isinstance(value, int | float) else None  # -0.0 -> 0.0
    if rule.kind == "str":
        valid = isinstance(value, str) and (not rule.choices or value in rule.choices)
        return value if valid else None
    ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    return value if ok else None


def _in_range(value: Any, rule: Rule) -> bool:
    if rule.kind not in ("int", "float"):
        return True
    if value != value:  # NaN
        return False
    if rule.lo is not None and (value <= rule.lo if rule.lo_open else value < rule.lo):
        return False
    return rule.hi is None or (value < rule.hi if rule.hi_open else value <= rule.hi)
