"""Ingest's defaults, in a module that imports nothing, so that `dynst --help` can show them
without loading xarray."""

# Time steps per chunk: ~1.6 MB per variable for 1617 sensors; memory is bounded by one chunk.
DEFAULT_CHUNK_TIME = 256
