"""Performance benchmarks (issue 7): ``python benchmarks/run.py``; see ``run.py``."""
