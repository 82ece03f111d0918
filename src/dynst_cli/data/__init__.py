"""The canonical dataset as training sees it: loading, splits, scaling, windows and metrics."""

from dynst_cli.data.dataset import SensorData, load_dataset
from dynst_cli.data.scaling import StandardScaler
from dynst_cli.data.splits import Split, chronological_splits
from dynst_cli.data.windows import WindowSource

__all__ = [
    "SensorData",
    "Split",
    "StandardScaler",
    "WindowSource",
    "chronological_splits",
    "load_dataset",
]
