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
