"""Plans from a run's ranking: siting constraints, the keep-set selection, export and maps."""
