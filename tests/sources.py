"""The package's own Python sources, for tests that scan the code.

CI makes its virtual environment inside the checkout (``.venv``); a planner may
have ``venv/`` there too.  Scanning tests must look at xuewei's code only, never
at installed third-party packages, so hidden folders, virtual environments
(any folder holding ``pyvenv.cfg``), ``site-packages``, build output, tests and
benchmarks are skipped.
"""
from __future__ import annotations

import os
from pathlib import Path

from xuewei.data.paths import PACKAGE_ROOT

SKIP_NAMES = {"tests", "benchmarks", "site-packages", "build", "dist", "__pycache__", "node_modules"}


def package_sources(root: Path = PACKAGE_ROOT) -> list[Path]:
    """Sorted ``.py`` files of the package under ``root`` (see module docstring)."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_NAMES
                         and not (Path(folder) / d / "pyvenv.cfg").exists())
        found.extend(Path(folder) / f for f in files if f.endswith(".py"))
    return sorted(found)
