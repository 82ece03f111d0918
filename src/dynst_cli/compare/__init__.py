"""The comparison of DynST's keep sets with those of the rival selectors (`selection/`).

- `runner.py`: `compare_run`, a fresh backbone trained and scored per method, sparsity and seed;
- `stability.py`: `stability`, DynST refitted with several seeds (selection frequency, Jaccard);
- `figure.py`, `outputs.py`: `compare.png`, `compare.csv` and the other files of `dynst compare`.
"""
