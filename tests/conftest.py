from pathlib import Path

import pytest

# The shared standard instances, copied into the repository (see benchmarks/instances/README.md).
BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "instances"


@pytest.fixture(scope="session")
def bench_dir() -> Path:
    return BENCH
