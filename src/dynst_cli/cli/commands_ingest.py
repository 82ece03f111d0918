"""`dynst ingest`: placeholder until the ingest module registers the real command."""
