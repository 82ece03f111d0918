"""Bad input to fit, prune and predict: documented exit code, one message, no traceback."""

from __future__ import annotations

import pytest

from dynst_cli.cli import main
from synthetic import canonical_dataset, planted_network, write

pytestmark = pytest.mark.slow  # trains models: run by `make test`, not `make test-fast`


@pytest.fixture
def short_dataset(tmp_path):
    values, _ = planted_network(n_steps=20)
    return write(canonical_dataset(values), tmp_path / "short.nc")


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["fit", "{planted}", "-o", "{tmp}/r", "--sparsity", "1.5"], 2, "sparsity"),
        (["fit", "{planted}", "-o", "{tmp}/r", "--sparsity", "abc"], 2, "sparsity"),
        (["fit", "{planted}", "-o", "{tmp}/r", "--backbone", "nope"], 2, "stid"),
        (["fit", "{planted}", "-o", "{tmp}/r", "--backbone", "simvp"], 2, "grid"),
        (["fit", "{tmp}/missing.nc", "-o", "{tmp}/r"], 2, "does not exist"),
        (["fit", "{short}", "-o", "{tmp}/r"], 3, "too few"),
        (["fit", "{planted}", "-o", "{tmp}/r", "--device", "tpu"], 2, "device"),
        (["prune", "{tmp}", "--sparsity", "0.5"], 2, "not a finished dynst run"),
        (["prune", "{run}", "--sparsity", "x"], 2, "--sparsity"),
        (["prune", "{run}", "--sparsity", "1.0"], 2, "[0, 1)"),
        (["prune", "{run}", "--sparsity", "0.3,0.5"], 2, "-o DIR"),
    ],
)
def test_bad_input_gets_its_exit_code_and_one_clear_message(
    args, code, words, tmp_path, planted, fitted_run, short_dataset, capsys
):
    values = {"planted": planted[0], "tmp": tmp_path, "run": fitted_run, "short": short_dataset}
    argv = [arg.format(**values) for arg in args]
    assert main(argv) == code
    err = capsys.readouterr().err
    assert words in err
    assert "Traceback" not in err
    assert not (tmp_path / "r" / "model.pt").exists()


def test_debug_shows_the_traceback(tmp_path, capsys):
    assert main(["fit", str(tmp_path / "missing.nc"), "-o", str(tmp_path / "r"), "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_quiet_never_hides_the_reason_for_a_failure(tmp_path, capsys):
    assert main(["-q", "fit", str(tmp_path / "missing.nc"), "-o", str(tmp_path / "r")]) == 2
    assert "does not exist" in capsys.readouterr().err
