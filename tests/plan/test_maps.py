"""Plan maps and trade-off curves (dynst_cli.plan.maps, dynst_cli.plan.curve)."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.image import imread

from dynst_cli.plan.curve import write_curve
from dynst_cli.plan.maps import DROPPED_COLOUR, FORCED_EDGE, draw_map, map_title

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _pixels(path) -> np.ndarray:
    """RGB of every pixel, shape (n_pixels, 3), values in [0, 1]."""
    image = imread(path)
    return image[..., :3].reshape(-1, 3)


def _count_colour(pixels: np.ndarray, colour: str, tol: float = 0.02) -> int:
    return int((np.abs(pixels - np.array(to_rgb(colour))).max(axis=1) < tol).sum())


def _count_saturated(pixels: np.ndarray) -> int:
    """Pixels of a clear hue (colormap colours), as opposed to white, grey and black."""
    return int((pixels.max(axis=1) - pixels.min(axis=1) > 0.25).sum())


def test_map_is_a_png_with_kept_and_dropped_sensors(tmp_path, any_plan):
    path = tmp_path / "map.png"
    draw_map(any_plan, path)
    assert path.read_bytes()[:8] == PNG_MAGIC
    pixels = _pixels(path)
    assert _count_colour(pixels, DROPPED_COLOUR) > 500  # dropped sensors in grey
    assert _count_saturated(pixels) > 2000  # kept sensors and colour bar from the colormap


def test_map_marks_forced_keep_sensors(tmp_path, point_plan):
    path = tmp_path / "map.png"
    draw_map(point_plan, path)
    assert _count_colour(_pixels(path), FORCED_EDGE, tol=0.08) > 20


def test_grid_map_colours_kept_cells_only(tmp_path, grid_plan):
    for sensor in grid_plan["sensors"]:
        sensor["keep"] = False
    grid_plan["n_keep"] = 0
    path = tmp_path / "dropped.png"
    draw_map(grid_plan, path)
    pixels = _pixels(path)
    assert _count_colour(pixels, DROPPED_COLOUR) > 20000
    assert _count_saturated(pixels) < 200  # no kept cell, no colour bar


def test_same_plan_gives_same_png_bytes(tmp_path, point_plan):
    draw_map(point_plan, tmp_path / "a.png")
    draw_map(point_plan, tmp_path / "b.png")
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


def test_title_names_sparsity_backbone_and_test_error(point_plan):
    title = map_title(point_plan)
    assert "sparsity 70%" in title and "stid" in title
    assert "MAE 3.21 mph" in title and "RMSE 6.54 mph" in title


def test_failed_map_leaves_existing_file_and_no_temporary(tmp_path, monkeypatch, point_plan):
    path = tmp_path / "map.png"
    path.write_bytes(b"old map")

    def broken_savefig(self, target, **kwargs):
        with open(target, "wb") as fh:
            fh.write(PNG_MAGIC)  # half a file, then the disk fills up
        raise OSError("No space left on device")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(OSError, match="No space"):
        draw_map(point_plan, path)
    assert path.read_bytes() == b"old map"
    assert [p.name for p in tmp_path.iterdir()] == ["map.png"]


# ----------------------------------------------------------------------------- curve

CURVE_ROWS = [
    {"sparsity": 0.7, "n_keep": 62, "mae": 3.4, "rmse": 6.9, "mape": 9.1},
    {"sparsity": 0.3, "n_keep": 145, "mae": 3.0, "rmse": 6.1, "mape": 8.2},
    {"sparsity": 0.5, "n_keep": 103, "mae": 3.1, "rmse": 6.3, "mape": None},
]
DENSE = {"mae": 2.9, "rmse": 6.0, "mape": 8.0}


def test_curve_csv_is_sorted_by_sparsity(tmp_path):
    write_curve(CURVE_ROWS, DENSE, tmp_path / "curve.csv", tmp_path / "curve.png")
    with open(tmp_path / "curve.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["sparsity", "n_keep", "mae", "rmse", "mape"]
    assert [r["sparsity"] for r in rows] == ["0.3", "0.5", "0.7"]
    assert rows[1]["mape"] == "" and rows[2]["n_keep"] == "62"


def test_curve_png_is_drawn_and_deterministic(tmp_path):
    write_curve(CURVE_ROWS, DENSE, tmp_path / "a.csv", tmp_path / "a.png")
    write_curve(CURVE_ROWS, DENSE, tmp_path / "b.csv", tmp_path / "b.png")
    assert (tmp_path / "a.png").read_bytes()[:8] == PNG_MAGIC
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    pixels = _pixels(tmp_path / "a.png")
    assert _count_colour(pixels, "#1f77b4", tol=0.05) > 100  # MAE line
    assert _count_colour(pixels, "#d62728", tol=0.05) > 100  # RMSE line
