"""Building backbones by name, and the errors a user sees."""

from __future__ import annotations

import pytest
from torch import nn

from dynst_cli.backbones import BACKBONES, build_backbone
from dynst_cli.errors import UsageError


def test_registry_holds_the_designed_backbones():
    assert {"stid", "gwnet", "simvp"} <= set(BACKBONES)


def test_build_returns_a_module(point_spec, model_config):
    assert isinstance(build_backbone("stid", point_spec, model_config), nn.Module)


def test_unknown_name_lists_the_valid_ones(point_spec, model_config):
    with pytest.raises(UsageError) as err:
        build_backbone("transformer", point_spec, model_config)
    message = str(err.value)
    assert "transformer" in message
    for name in BACKBONES:
        assert name in message


def test_grid_model_on_point_sensors_is_a_usage_error(point_spec, model_config):
    with pytest.raises(UsageError, match="simvp.*grid"):
        build_backbone("simvp", point_spec, model_config)


@pytest.mark.parametrize("name", ["stid", "gwnet", "simvp"])
def test_every_backbone_takes_a_grid(name, grid_spec, model_config):
    assert isinstance(build_backbone(name, grid_spec, model_config), nn.Module)
