"""Rival sensor selectors and the comparison of their keep-sets with DynST's.

- `selectors/`: the classical baselines (random, variance, QR pivoting), one interface;
- `runner.py`: `compare_run`, a fresh backbone trained and scored per method, sparsity and seed;
- `stability.py`: `stability`, DynST refitted with several seeds (selection frequency, Jaccard);
- `figure.py`, `outputs.py`: `compare.png`, `compare.csv` and the other files of `dynst compare`.
"""
