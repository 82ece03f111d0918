"""dynst: choose which sensors of a network to keep, by data-level dynamic sparse training.

The library is usable without the command line::

    from dynst_cli.ingest import ingest_paths
    dataset, summary = ingest_paths(["era5.nc"])
"""

__version__ = "0.1.0"
