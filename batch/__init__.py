"""Batch runs: many variants of a scenario, run on a local process pool or on Dask, then compared.

- `spec`: read batch files (a base scenario plus a list or grid of overrides) and validate every variant;
- `runner`: run one variant into its own run folder (`run_variant`), and many on an executor (`run_batch`);
- `compare`: one row of decision numbers per run folder, ``comparison.csv``/``.xlsx`` and charts;
- `commands`: ``xuewei batch`` and ``xuewei compare``.
"""
