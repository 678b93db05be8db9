import shutil
from pathlib import Path

import os

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run, so no test passes or fails by chance; a long
# random search is a deliberate local run: XUEWEI_HYPOTHESIS_PROFILE=explore (and a pinned
# @example for anything it finds).
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("XUEWEI_HYPOTHESIS_PROFILE", "ci"))

TESTS = Path(__file__).parent
TINY = TESTS / "data" / "tiny"
# The shared standard instances, copied into the repository (see benchmarks/instances/README.md).
BENCH = TESTS.resolve().parent / "benchmarks" / "instances"


@pytest.fixture(scope="session")
def bench_dir() -> Path:
    return BENCH


@pytest.fixture
def tiny(tmp_path) -> Path:
    """A writable copy of the tiny test region."""
    dst = tmp_path / "tiny"
    shutil.copytree(TINY, dst)
    return dst


def edit_csv(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


@pytest.fixture(scope="session")
def tiny_run_dir(tmp_path_factory) -> Path:
    """One `xuewei run` of the tiny region (maps, workbook, report.html, results.gpkg), shared by the
    output tests; treat it as read-only."""
    from xuewei.cli import main

    out = tmp_path_factory.mktemp("tinyrun") / "tiny"
    assert main(["run", str(TESTS / "data" / "scen" / "tiny_run.toml"), "--out", str(out)]) == 0
    return out
