"""Where the bundled data lives, and where the plan seeds are looked for."""

from __future__ import annotations

from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PACKAGE_ROOT / "data"
PLANS_DIR = DATA_DIR / "plans"
REGIONS_DIR = DATA_DIR / "regions"
SCENARIOS_DIR = PACKAGE_ROOT / "scenarios"


SEEDS_DIR = PLANS_DIR / "seeds"
