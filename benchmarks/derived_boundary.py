"""How close is the sketched boundary (no boundary file) to a real county boundary?

Usage::

    python benchmarks/derived_boundary.py [--region wuxi]

Copies the bundled region pack without its ``boundary.geojson``, loads it (so the boundary is derived
from its points, `xuewei.data.boundary.derive_boundary`) and compares the sketch with the real
boundary in the region's UTM zone: areas [km²], intersection over union, the share of the real
county the sketch covers and of the sketch inside the county, and the Hausdorff distance [km].
Note for 巫溪: most village points are synthetic (placed inside township Voronoi cells, see
``data/regions/wuxi/README.md``), so this measures the method on a plausible layout, not on surveyed points.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
from pathlib import Path

from xuewei.data.paths import REGIONS_DIR
from xuewei.data.region import load_region


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--region", default="wuxi")
    args = ap.parse_args()
    logging.getLogger("xuewei").setLevel(logging.ERROR)
    real = load_region(args.region)
    with tempfile.TemporaryDirectory() as tmp:
        pack = Path(tmp) / args.region
        shutil.copytree(REGIONS_DIR / args.region, pack)
        for p in pack.glob("boundary.*"):
            p.unlink()
        sketch = load_region(pack)
    m = real.metric_crs
    a = real.boundary.to_crs(m).geometry.iloc[0]
    b = sketch.boundary.to_crs(m).geometry.iloc[0]
    both = a.intersection(b).area
    print(f"region {args.region}: real {a.area / 1e6:.0f} km², sketch {b.area / 1e6:.0f} km², "
          f"IoU {both / a.union(b).area:.2f}, real covered {both / a.area:.2f}, sketch inside real {both / b.area:.2f}, "
          f"Hausdorff {a.hausdorff_distance(b) / 1000:.1f} km, same UTM zone: {sketch.metric_crs == m}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
