"""`python -m dynst_cli ...` runs the command line (as `torchrun -m dynst_cli fit ...` does)."""

from dynst_cli.cli import run

if __name__ == "__main__":
    run()
