"""Progress of a fit on stderr: a Rich bar on a terminal, one plain line per epoch otherwise."""

from __future__ import annotations

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from dynst_cli.console import log, progress_enabled, stderr_console


class FitProgress:
    """Context manager whose `update(state, total_epochs)` is the fit's `on_epoch` callback."""

    def __init__(self, description: str = "fit"):
        self.description = description
        self._bar = None
        self._task = None

    def __enter__(self) -> FitProgress:
        if progress_enabled():
            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("epoch {task.completed}/{task.total}"),
                TextColumn("{task.fields[info]}"),
                TimeElapsedColumn(),
                console=stderr_console(),
                transient=False,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(self.description, total=None, info="")
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def update(self, state, total_epochs: int) -> None:
        last = state.history[-1]
        info = (
            f"loss {last['loss']:.4f}  sparsity {last['sparsity']:.2f}  "
            f"kept {last['n_keep']}  dropped {last['dropped']}  regrown {last['regrown']}  "
            f"phase {last['phase']}"
        )
        if self._bar is not None:
            self._bar.update(self._task, total=total_epochs, completed=state.epoch, info=info)
        else:
            log(f"{self.description}: epoch {state.epoch}/{total_epochs}  {info}")


def fit_with_progress(dataset, output, config, *, resume=False, constraints=None) -> dict:
    """`fit.fit_run` with this progress display as its per-epoch callback."""
    from dynst_cli.fit import fit_run

    with FitProgress("fit") as progress:
        return fit_run(
            dataset,
            output,
            config,
            resume=resume,
            constraints=constraints,
            on_epoch=progress.update,
        )


class StepProgress:
    """Progress of a counted task on stderr, the way a fit shows its epochs.

    A Rich bar on a terminal, one plain line per step otherwise; `step(info)` marks one more of
    `total` steps done (fine-tuning epochs in `prune`, trained keep sets in `compare`).
    """

    def __init__(self, description: str, total: int, unit: str):
        self.description, self.total, self.unit = description, total, unit
        self.done = 0
        self._bar = None
        self._task = None

    def __enter__(self) -> StepProgress:
        if progress_enabled():
            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn(f"{self.unit} {{task.completed}}/{{task.total}}"),
                TextColumn("{task.fields[info]}"),
                TimeElapsedColumn(),
                console=stderr_console(),
                transient=False,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(self.description, total=self.total, info="")
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def step(self, info: str = "") -> None:
        self.done += 1
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done, info=info)
        else:
            log(f"{self.description}: {self.unit} {self.done}/{self.total}  {info}".rstrip())


class FinetuneProgress:
    """Fine-tuning epochs as a `StepProgress`, started on the first epoch (none: nothing shown)."""

    def __init__(self, description: str):
        self.description = description
        self._steps: StepProgress | None = None

    def __enter__(self) -> FinetuneProgress:
        return self

    def __exit__(self, *exc) -> None:
        if self._steps is not None:
            self._steps.__exit__(*exc)

    def update(self, done: int, total: int) -> None:
        if self._steps is None:
            self._steps = StepProgress(f"{self.description} fine-tune", total, "epoch").__enter__()
        self._steps.step()
