"""Atelier's benchmark: a load generator, a raw relay baseline and the issue's scenarios.

Run ``python -m bench --help``. See ``docs/benchmarks.md`` for the figures.
"""

__all__: list[str] = []
