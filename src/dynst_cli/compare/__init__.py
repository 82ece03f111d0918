"""Rival sensor selectors and the comparison of their keep-sets with DynST's.

The classical baselines (random, variance, QR pivoting) live in `dynst_cli.compare.selectors`.
"""
