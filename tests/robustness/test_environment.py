"""Hostile environments: special files as outputs, read-only and full file systems, several
outputs that must succeed together, and inputs that are valid but unusual. Each case checks the
exit code, the message, that no traceback shows, that nothing partial is left and that nothing of
the user's is lost.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import stat
import subprocess
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from dynst_cli import atomic
from synthetic import canonical_dataset, write

# ---------------------------------------------------------------- special files as -o


@pytest.mark.slow
def test_prune_to_dev_null_writes_through_and_leaves_the_device(cli, built):
    result = cli("prune", built["run"], "--sparsity", "0.5", "-o", "/dev/null")
    assert result.code == 0, result.err
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.slow
def test_prune_to_a_fifo_writes_the_plan_into_the_pipe(cli, built, tmp_path):
    fifo = tmp_path / "plan.fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    result = cli("prune", built["run"], "--sparsity", "0.5", "-o", fifo)
    reader.join(timeout=30)
    assert result.code == 0, result.err
    assert json.loads(received[0]) == json.loads(Path(built["plan"]).read_text())
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["plan.fifo"]


@pytest.mark.slow
def test_prune_to_a_symlink_replaces_its_target_and_keeps_the_link(cli, built, tmp_path):
    target = tmp_path / "plans" / "current.json"
    target.parent.mkdir()
    target.write_text("an earlier plan")
    link = tmp_path / "plan.json"
    link.symlink_to(target)
    result = cli("prune", built["run"], "--sparsity", "0.5", "-o", link)
    assert result.code == 0, result.err
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert json.loads(target.read_text())["sparsity"] == 0.5


# ---------------------------------------------------------------- file systems that refuse writes


@contextlib.contextmanager
def tmpfs(folder: Path, *options: str):
    """A real tmpfs mounted at `folder` (root only); the test is skipped where mount fails."""
    folder.mkdir(parents=True, exist_ok=True)
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", str(folder)],
        capture_output=True,
    )
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mount.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.mark.slow
def test_fit_into_a_read_only_folder_exits_5_and_creates_nothing(cli, built, tmp_path):
    with tmpfs(tmp_path / "ro", "size=1m", "ro") as folder:
        result = cli("fit", built["dataset"], "-o", folder / "run", "--recipe", built["recipe"])
        assert result.code == 5, result.err
        assert "cannot write" in result.message and str(folder / "run").lower() in result.message
        assert "traceback" not in result.message
        assert list(folder.iterdir()) == []


def test_ingest_onto_a_full_disk_exits_5_and_keeps_the_earlier_file(cli, tmp_path):
    archive = Path(__file__).resolve().parents[2] / "data/era5-t2m-uk-2019-03"
    with tmpfs(tmp_path / "full", "size=64k") as folder:
        earlier = folder / "era5.nc"
        earlier.write_bytes(b"an earlier dataset")
        result = cli("ingest", archive / "era5_t2m_uk_2019-03.nc", "-o", earlier)
        assert result.code == 5, result.err
        assert "cannot write" in result.message and "no space" in result.message
        assert str(earlier).lower() in result.message
        assert earlier.read_bytes() == b"an earlier dataset"
        assert [p.name for p in folder.iterdir()] == ["era5.nc"]


@pytest.mark.slow
@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES])
def test_fit_that_cannot_write_removes_the_run_folder_it_made(
    cli, built, tmp_path, monkeypatch, code
):
    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(atomic.os, "replace", refuse)
    run = tmp_path / "runs" / "r"
    result = cli("fit", built["dataset"], "-o", run, "--recipe", built["recipe"])
    assert result.code == 5, result.err
    assert f"cannot write {run}" in result.err and os.strerror(code).lower() in result.message
    assert not run.exists()


@pytest.mark.slow
def test_fit_that_cannot_write_leaves_a_folder_it_did_not_make(cli, built, tmp_path, monkeypatch):
    run = tmp_path / "r"
    run.mkdir()
    (run / "notes.txt").write_text("the user's own file")
    monkeypatch.setattr(atomic.os, "replace", _raise(errno.ENOSPC))
    result = cli("fit", built["dataset"], "-o", run, "--recipe", built["recipe"])
    assert result.code == 5, result.err
    assert [p.name for p in run.iterdir()] == ["notes.txt"]


def _raise(code: int):
    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    return refuse


# ---------------------------------------------------------------- outputs that succeed together


@pytest.mark.slow
def test_a_failing_map_leaves_the_earlier_csv_untouched(cli, built, tmp_path):
    csv = tmp_path / "plan.csv"
    csv.write_text("an earlier export")
    (tmp_path / "map.png").mkdir()  # the map cannot be written: a folder has its name
    result = cli("export-plan", built["plan"], "-o", csv, "--map", tmp_path / "map.png")
    assert result.code == 2, result.err
    assert "map.png is a folder" in result.err
    assert csv.read_text() == "an earlier export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.png", "plan.csv"]


# ---------------------------------------------------------------- valid but unusual inputs


def test_changing_utc_offsets_are_converted_to_utc(cli, tmp_path):
    data = tmp_path / "dst.csv"
    data.write_text(
        "time,a\n2021-03-28T00:00:00+00:00,1\n2021-03-28T02:00:00+01:00,2\n"
        "2021-03-28T03:00:00+01:00,3\n"
    )
    table = tmp_path / "t.csv"
    table.write_text("id,lat,lon\na,51,0\n")
    out = tmp_path / "d.nc"
    result = cli("ingest", data, "--sensors", table, "-o", out)
    assert result.code == 0, result.err
    assert "converted to utc" in result.message
    with xr.open_dataset(out) as ds:
        assert [str(t)[:19] for t in ds["time"].values] == [
            "2021-03-28T00:00:00",
            "2021-03-28T01:00:00",
            "2021-03-28T02:00:00",
        ]


def test_longitudes_beyond_180_are_wrapped_with_a_warning(cli, tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("time,a,b\n2020-01-01 00:00,1,2\n2020-01-01 01:00,3,4\n")
    table = tmp_path / "t.csv"
    table.write_text("id,lat,lon\na,51,10\nb,51,200\n")
    result = cli("ingest", data, "--sensors", table, "-o", tmp_path / "d.nc")
    assert result.code == 0, result.err
    assert "warning:" in result.message and "sensor 'b': 200.0 -> -160.0" in result.message
    with xr.open_dataset(tmp_path / "d.nc") as ds:
        assert ds["lon"].values.tolist() == [10.0, -160.0]


def test_resample_puts_an_irregular_axis_on_a_regular_one(cli, tmp_path):
    data = tmp_path / "d.csv"
    data.write_text(
        "time,a\n2020-01-01 00:00,1\n2020-01-01 01:00,2\n2020-01-01 01:30,4\n2020-01-01 04:00,5\n"
    )
    table = tmp_path / "t.csv"
    table.write_text("id,lat,lon\na,51,0\n")
    result = cli("ingest", data, "--sensors", table, "--resample", "1h", "-o", tmp_path / "o.nc")
    assert result.code == 0, result.err
    with xr.open_dataset(tmp_path / "o.nc") as ds:
        np.testing.assert_array_equal(ds["value"].values[:, 0], [1.0, 3.0, np.nan, np.nan, 5.0])
        assert np.unique(np.diff(ds["time"].values)).size == 1


@pytest.mark.slow
def test_minus_zero_sparsity_is_written_as_zero(cli, built, tmp_path):
    plan = tmp_path / "p.json"
    result = cli("prune", built["run"], "--sparsity", "-0", "-o", plan, "--finetune-epochs", "0")
    assert result.code == 0, result.err
    assert '"sparsity": 0.0' in plan.read_text() and "-0.0" not in plan.read_text()


@pytest.mark.slow
def test_predict_warns_when_a_kept_sensor_is_mostly_missing(cli, built, tmp_path):
    plan = json.loads(Path(built["plan"]).read_text())
    kept = [s["sensor_id"] for s in plan["sensors"] if s["keep"]]
    values = built["values"].copy()
    index = int(kept[0][1:])
    values[-3:, index] = np.nan  # 3 of the last t_in = 4 steps missing
    recent = write(canonical_dataset(values), tmp_path / "recent.nc")
    result = cli(
        "predict", built["run"], "--plan", built["plan"], "--data", recent, "-o", tmp_path / "f.nc"
    )
    assert result.code == 0, result.err
    assert "warning:" in result.message and f"{kept[0]} (75%)" in result.message


@pytest.mark.slow
def test_library_warnings_stay_off_stderr_unless_debug(cli, built, tmp_path, monkeypatch):
    from dynst_cli import prune

    original = prune.evaluate_test

    def noisy(prep):
        warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=1)
        return original(prep)

    monkeypatch.setattr(prune, "evaluate_test", noisy)
    args = ("prune", built["run"], "--sparsity", "0.5", "-o", tmp_path / "p.json")
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        quiet = cli(*args)
    assert quiet.code == 0 and "RuntimeWarning" not in quiet.err
    assert not [w for w in shown if "empty slice" in str(w.message)]
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"):
        assert cli(*args, "--debug").code == 0


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ("fit", "x.nc", "-o", "r", "--frobnicate"),
            ["no such option: --frobnicate", "dynst fit --help"],
        ),
        (("prune", "r", "--sparsity"), ["'--sparsity' requires an argument", "--help"]),
        (("nosuch",), ["no such command 'nosuch'", "dynst --help"]),
    ],
)
def test_parser_errors_are_one_line_with_a_pointer_to_help(cli, args, words):
    result = cli(*args)
    assert result.code == 2
    assert result.err.count("\n") == 1 and result.err.startswith("error: ")
    for word in words:
        assert word in result.message


@pytest.mark.slow
def test_fit_t_in_and_t_out_flags_reach_the_run(cli, built, tmp_path):
    run = tmp_path / "r"
    result = cli(
        "fit",
        built["dataset"],
        "-o",
        run,
        "--recipe",
        built["recipe"],
        "--t-in",
        "6",
        "--t-out",
        "3",
        "--epochs",
        "1",
    )
    assert result.code == 0, result.err
    config = json.loads((run / "config.json").read_text())["config"]["data"]
    assert (config["t_in"], config["t_out"]) == (6, 3)
    shutil.rmtree(run)
