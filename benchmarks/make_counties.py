"""Seeded synthetic counties of different shapes for the layout benchmark (示意数据).

Six region packs, each with a scenario, each unlike the others in what makes its layout hard:

========== ==========================================================================================
shape      what it is
========== ==========================================================================================
mountain   山区县：large, thinly settled, villages strung along valleys far from the seats; many
           teaching points; juniors and seniors board (beds at central schools).
plain      平原县：dense, even villages on a plain; a school at every seat, few teaching points;
           short distances, many schools within reach of each village.
urban      城区（市辖区）：a dense district of large communities (up to ~35,000 people), big schools,
           several of them above the class and size caps (大校额, 大班额).
shrinking  快速收缩的农业县：births falling fast and children leaving; many small village schools.
growing    县城快速增长：new housing and in-migration in the county seat, whose schools are full;
           candidate sites in the seat.
multi      几个县组成的市：three counties (an urban district and two rural counties) with county_id.
========== ==========================================================================================

Usage::

    python benchmarks/make_counties.py OUT_DIR [--shapes mountain plain ...] [--seed 20261201]

writes ``OUT_DIR/<shape>/`` (a region pack) and ``OUT_DIR/<shape>.toml`` (a scenario) per shape.
The same seed gives byte-identical files. Every row is flagged ``synthetic = 1`` and each
``region.toml`` says how it was made.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

CLASS_CAP = {"kindergarten": 30, "primary": 45, "junior": 50, "senior": 50}
STAGE_AGES = {"kindergarten": (3, 5), "primary": (6, 11), "junior": (12, 14), "senior": (15, 17)}
ENROL = {"kindergarten": 0.85 * 0.6, "primary": 0.98, "junior": 0.96, "senior": 0.55}  # public pupils per child
BASE_YEAR = 2020
SOURCE = "benchmarks/make_counties.py（示意数据）"
KM_PER_DEG_LAT = 111.0


@dataclass(frozen=True)
class Shape:
    """What a generated county looks like (sizes in km, people in persons)."""

    name: str
    title: str
    lon0: float
    lat0: float
    width_km: float
    height_km: float
    townships: int
    villages_per_township: tuple[int, int]  # min, max villages (non-seat) per township
    seat_communities: int  # communities around the county seat
    village_pop: float  # median village population
    seat_pop: float  # median population of a county-seat community
    town_seat_pop: float  # median population of another township's seat community
    spread: float  # how far villages lie from their seat, as a share of the township's radius
    valleys: bool = False  # villages strung along a line through the seat (mountain valleys)
    births_per_1000: float = 9.0
    births_trend: float = -0.03  # yearly change of births up to the base year
    migration_children: float = 0.0  # net migration of children [fraction/yr], all townships
    seat_migration_children: float = 0.0  # extra for the county seat
    housing_per_year: int = 0  # new dwellings a year in the seat (2021–2030)
    village_primaries: float = 0.35  # share of villages with a village primary or teaching point
    teaching_point_share: float = 0.5
    seat_schools: dict = field(default_factory=lambda: {"kindergarten": 3, "primary": 3, "junior": 2, "senior": 2})
    oversize_share: float = 0.0  # share of county-seat schools three times the size of the others (大校额)
    fill: tuple[float, float] = (0.75, 0.95)  # base-year pupils per place
    seat_fill: tuple[float, float] | None = None
    beds: bool = True
    central_every: int = 5  # every n-th township is a central town
    candidates_seat: int = 3
    candidates_central: int = 1
    forecast: dict = field(default_factory=dict)
    policy: dict = field(default_factory=dict)
    counties: tuple = ()  # for a city: the shapes of its counties, laid side by side


SHAPES = {
    "mountain": Shape("mountain", "示意山区县", 108.6, 31.0, 75, 60, 26, (8, 16), 8, 650, 5000, 1800, 0.95,
                      valleys=True, births_trend=-0.02, village_primaries=0.45, teaching_point_share=0.6,
                      policy={"travel_limit_km": {"kindergarten": 5.0}, "village_kindergarten": True}),
    "plain": Shape("plain", "示意平原县", 116.2, 36.4, 48, 40, 18, (18, 26), 10, 900, 6000, 3000, 0.9,
                   births_per_1000=8.5, births_trend=-0.025, village_primaries=0.2, teaching_point_share=0.3,
                   central_every=4),
    "urban": Shape("urban", "示意城区", 104.0, 30.6, 16, 14, 12, (2, 5), 30, 2500, 9000, 6000, 0.7,
                   births_per_1000=8.0, births_trend=-0.02, migration_children=0.01, village_primaries=0.1,
                   teaching_point_share=0.0,
                   seat_schools={"kindergarten": 10, "primary": 10, "junior": 5, "senior": 3}, oversize_share=0.3,
                   fill=(0.9, 1.1), seat_fill=(1.05, 1.25), beds=False, central_every=3, candidates_seat=5,
                   candidates_central=2, forecast={"migrant_children_rate": 0.05}),
    "shrinking": Shape("shrinking", "示意收缩县", 111.5, 33.2, 55, 45, 20, (10, 18), 6, 800, 4000, 1600, 0.9,
                       births_per_1000=10.0, births_trend=-0.07, migration_children=-0.03,
                       seat_migration_children=0.02, village_primaries=0.5, teaching_point_share=0.5,
                       fill=(0.55, 0.85),
                       forecast={"births_growth_mid_per_year": -0.05, "county_seat_transfer_per_year": 0.01}),
    "growing": Shape("growing", "示意增长县", 113.2, 27.8, 45, 40, 16, (10, 16), 14, 900, 7000, 2200, 0.9,
                     births_per_1000=10.0, births_trend=0.0, migration_children=-0.005, seat_migration_children=0.03,
                     housing_per_year=2500, village_primaries=0.3, fill=(0.7, 0.9), seat_fill=(0.95, 1.1),
                     candidates_seat=6, forecast={"births_growth_mid_per_year": 0.01}),
}
SHAPES["multi"] = Shape("multi", "示意三县市", 106.0, 29.0, 0, 0, 0, (0, 0), 0, 0, 0, 0, 0,
                        counties=(replace(SHAPES["urban"], width_km=14, height_km=12, townships=8),
                                  replace(SHAPES["plain"], width_km=40, height_km=34, townships=14),
                                  replace(SHAPES["mountain"], width_km=55, height_km=45, townships=16)),
                        policy={"travel_limit_km": {"kindergarten": 5.0}, "village_kindergarten": True})


def _seats(rng, n: int, w: float, h: float) -> np.ndarray:
    """``n`` township seats [km] spread over a ``w × h`` box (best of a few random draws per point)."""
    pts = [np.array([w / 2, h / 2])]  # the county seat in the middle
    while len(pts) < n:
        cand = rng.uniform([0.06 * w, 0.06 * h], [0.94 * w, 0.94 * h], size=(24, 2))
        dist = np.min(np.linalg.norm(cand[:, None, :] - np.array(pts)[None, :, :], axis=2), axis=1)
        pts.append(cand[int(np.argmax(dist))])
    return np.array(pts)


def _county(rng, shape: Shape, county_id: str, prefix: str, x0: float, y0: float) -> dict:
    """Townships, nodes and schools of one county, coordinates in km from the region's corner."""
    w, h = shape.width_km, shape.height_km
    seats = _seats(rng, shape.townships, w, h) + [x0, y0]
    radius = np.sqrt(w * h / shape.townships / np.pi)  # km, a township's typical radius
    towns, nodes = [], []
    for k, (sx, sy) in enumerate(seats):
        tier = "county_seat" if k == 0 else "central_town" if k % shape.central_every == 0 else "township_seat"
        tid = f"{prefix}T{k:02d}"
        towns.append({"township_id": tid, "name": f"{shape.title}{k + 1}{'街道' if k == 0 else '镇'}",
                      "level": "街道" if k == 0 else "镇" if k % 3 == 0 else "乡", "tier": tier, "x": sx, "y": sy,
                      "county_id": county_id})
        n_comm = shape.seat_communities if k == 0 else 1
        n_vill = int(rng.integers(shape.villages_per_township[0], shape.villages_per_township[1] + 1))
        angle = rng.uniform(0, np.pi)
        for j in range(n_comm + n_vill):
            if j < n_comm:  # communities around the seat
                r = radius * (0.25 if k == 0 else 0.08) * np.sqrt(rng.uniform())
                a = rng.uniform(0, 2 * np.pi)
                pop = rng.lognormal(np.log(shape.seat_pop if k == 0 else shape.town_seat_pop), 0.5)
            else:
                if shape.valleys:  # along a valley through the seat, a little off its line
                    r = radius * shape.spread * rng.uniform(0.15, 1.4)
                    a = angle + (np.pi if rng.uniform() < 0.5 else 0.0) + rng.normal(0, 0.18)
                else:
                    r = radius * shape.spread * np.sqrt(rng.uniform(0.02, 1.0))
                    a = rng.uniform(0, 2 * np.pi)
                pop = rng.lognormal(np.log(shape.village_pop), 0.45)
            nx = float(np.clip(sx + r * np.cos(a), x0 + 0.2, x0 + w - 0.2))
            ny = float(np.clip(sy + r * np.sin(a), y0 + 0.2, y0 + h - 0.2))
            nodes.append({"node_id": f"{tid}N{j:03d}", "name": f"{towns[-1]['name']}{j + 1}{'社区' if j < n_comm else '村'}",
                          "township_id": tid, "kind": "community" if j < n_comm else "village", "x": nx, "y": ny,
                          "population": int(round(pop)), "urban": int(j < n_comm), "county_id": county_id})
    return {"towns": towns, "nodes": nodes, "seats": seats}


def _schools(rng, shape: Shape, towns: pd.DataFrame, nodes: pd.DataFrame, prefix: str) -> list[dict]:
    """Schools of one county: seat and central schools, village primaries and teaching points."""
    out = []
    # Senior schools at the seat: about 2,400 pupils each (the county's seniors from its births).
    births_now = nodes["population"].sum() * shape.births_per_1000 / 1000
    seniors = births_now * sum((1 + shape.births_trend) ** -a for a in range(15, 18)) * ENROL["senior"]
    n_senior = int(np.clip(round(seniors / 2400), 1, 10))

    def add(kind, town, x, y, beds=0, weight=1.0, fill=None):
        out.append({"school_id": f"{prefix}S{len(out) + 1:04d}", "name": f"{town['name']}{len(out) + 1}号{_KIND[kind]}",
                    "kind": kind, "township_id": town["township_id"], "x": x, "y": y, "ownership": "public",
                    "boarding_beds": beds, "county_id": town["county_id"], "_weight": weight,
                    "_fill": fill or shape.fill})

    for _, town in towns.iterrows():
        seat = town["tier"] == "county_seat"
        central = town["tier"] == "central_town"
        for kind in ("kindergarten", "primary", "junior", "senior"):
            count = (n_senior if kind == "senior" else shape.seat_schools[kind]) if seat else int(kind != "senior")
            if kind == "junior" and not (seat or central) and rng.uniform() < 0.35:
                count = 0  # a small township sends its juniors to the central town
            for _ in range(count):
                r = (0.9 if seat else 0.5) * np.sqrt(rng.uniform())
                a = rng.uniform(0, 2 * np.pi)
                beds = 0
                if shape.beds and kind in ("junior", "senior", "primary") and not seat:
                    beds = int(rng.integers(6, 30)) * 10 if kind != "primary" else int(rng.integers(2, 8)) * 10
                elif shape.beds and kind == "senior":
                    beds = int(rng.integers(40, 90)) * 10
                big = seat and rng.uniform() < shape.oversize_share
                add(kind, town, town["x"] + r * np.cos(a), town["y"] + r * np.sin(a), beds,
                    weight=3.0 if big else 1.0, fill=shape.seat_fill if seat else None)
    villages = nodes[nodes["kind"] == "village"]
    chosen = villages[rng.uniform(size=len(villages)) < shape.village_primaries]
    by_id = towns.set_index("township_id")
    for _, v in chosen.iterrows():
        kind = "teaching_point" if rng.uniform() < shape.teaching_point_share else "primary"
        add(kind, by_id.loc[v["township_id"]].to_dict() | {"township_id": v["township_id"]},
            v["x"] + rng.normal(0, 0.15), v["y"] + rng.normal(0, 0.15), weight=0.12 if kind == "teaching_point" else 0.3)
    return out


_KIND = {"kindergarten": "幼儿园", "primary": "小学", "teaching_point": "教学点", "junior": "中学", "senior": "高中"}
_STAGE_OF = {"kindergarten": "kindergarten", "primary": "primary", "teaching_point": "primary", "junior": "junior",
             "senior": "senior"}


def make_county(out: Path, shape_name: str, seed: int = 20261201) -> Path:
    """Write ``out / shape_name`` (region pack) and ``out / f"{shape_name}.toml"`` (scenario); return the pack."""
    shape = SHAPES[shape_name]
    rng = np.random.default_rng([seed, sorted(SHAPES).index(shape_name)])
    pack = out / shape_name
    pack.mkdir(parents=True, exist_ok=True)
    parts = shape.counties or (shape,)
    towns, nodes, schools = [], [], []
    x0 = 0.0
    for c, part in enumerate(parts):
        prefix = f"C{c}" if shape.counties else ""
        county = _county(rng, part, f"{shape_name[:2].upper()}{c + 1:02d}", prefix, x0, 0.0)
        t = pd.DataFrame(county["towns"])
        t["_shape"] = part.name
        n = pd.DataFrame(county["nodes"])
        towns.append(t), nodes.append(n)
        schools += _schools(rng, part, t, n, prefix)
        x0 += part.width_km + 2.0
    towns, nodes, schools = pd.concat(towns, ignore_index=True), pd.concat(nodes, ignore_index=True), pd.DataFrame(schools)
    width_km = x0 - 2.0
    height_km = max(p.height_km for p in parts)
    shapes_of = dict(zip(towns["township_id"], towns["_shape"]))
    part_of = {p.name: p for p in parts}

    # Births: about births_per_1000 of the township's people, following the shape's trend, with noise.
    town_pop = nodes.groupby("township_id")["population"].sum()
    years = np.arange(2002, BASE_YEAR + 1)
    births = []
    for tid in towns["township_id"]:
        p = part_of[shapes_of[tid]]
        level = town_pop[tid] * p.births_per_1000 / 1000
        trend = (1 + p.births_trend) ** (years - BASE_YEAR)
        b = np.round(level * trend * rng.lognormal(0, 0.05, len(years))).astype(int)
        births += [(tid, int(y), int(v), 1) for y, v in zip(years, b)]
    births = pd.DataFrame(births, columns=["township_id", "year", "births", "synthetic"])

    # Base-year stages: the township's public pupils (births × enrolment) spread over its schools of
    # the stage (juniors and seniors over the county's, since they take pupils from other townships).
    births_by = births.pivot(index="township_id", columns="year", values="births")
    schools["stage"] = schools["kind"].map(_STAGE_OF)
    rows = []
    for stage, (a0, a1) in STAGE_AGES.items():
        cohort = births_by[[BASE_YEAR - a for a in range(a0, a1 + 1)]].sum(axis=1) * ENROL[stage]
        key = "county_id" if stage in ("junior", "senior") else "township_id"
        demand = cohort.groupby(towns.set_index("township_id")[key]).sum() if key == "county_id" else cohort
        here = schools[schools["stage"] == stage]
        for group, grp in here.groupby(key):
            weight = grp["_weight"].to_numpy(float) * rng.uniform(0.7, 1.3, len(grp))
            pupils = np.round(float(demand.get(group, 0.0)) * weight / weight.sum()).astype(int)
            for sid, p, (lo, hi) in zip(grp["school_id"], pupils, grp["_fill"]):
                classes = max(1, int(np.ceil(p / (CLASS_CAP[stage] * rng.uniform(lo, hi)))))
                rows.append((sid, stage, BASE_YEAR, classes, classes * CLASS_CAP[stage], int(p), 1))
    stages = pd.DataFrame(rows, columns=["school_id", "stage", "year", "classes", "places", "pupils", "synthetic"])

    # Candidate sites: a few at the county seat, some at central towns.
    sites = []
    for _, town in towns[towns["tier"].isin(["county_seat", "central_town"])].iterrows():
        p = part_of[town["_shape"]]
        for _ in range(p.candidates_seat if town["tier"] == "county_seat" else p.candidates_central):
            a, r = rng.uniform(0, 2 * np.pi), rng.uniform(0.3, 1.5)
            sites.append({"site_id": f"K{len(sites) + 1:03d}", "name": f"{town['name']}备选地块{len(sites) + 1}",
                          "township_id": town["township_id"], "x": town["x"] + r * np.cos(a),
                          "y": town["y"] + r * np.sin(a), "stages": "kindergarten;primary;junior",
                          "max_classes": 36, "synthetic": 1, "source": SOURCE})
    sites = pd.DataFrame(sites)

    # Migration of children and housing in the county seat(s).
    mig = []
    for tid in towns["township_id"]:
        p = part_of[shapes_of[tid]]
        seat = towns.set_index("township_id").loc[tid, "tier"] == "county_seat"
        rate = p.migration_children + (p.seat_migration_children if seat else 0.0)
        if rate:
            mig.append({"township_id": tid, "age_from": 0, "age_to": 17, "net_rate_per_year": round(rate, 4),
                        "source": SOURCE})
    housing = []
    for _, town in towns[towns["tier"] == "county_seat"].iterrows():
        p = part_of[town["_shape"]]
        if p.housing_per_year:
            comm = nodes[(nodes["township_id"] == town["township_id"]) & (nodes["kind"] == "community")]
            for y in range(BASE_YEAR + 1, 2031):
                share = rng.dirichlet(np.ones(len(comm)))
                for nid, s in zip(comm["node_id"], share):
                    if s * p.housing_per_year >= 20:
                        housing.append({"node_id": nid, "year": y, "dwellings": int(round(s * p.housing_per_year))})

    # Coordinates: km from the box corner → degrees (a local equirectangular projection).
    km_lon = KM_PER_DEG_LAT * np.cos(np.radians(shape.lat0))

    def lonlat(df):
        df = df.copy()
        df["lon"] = (shape.lon0 + df.pop("x") / km_lon).round(6)
        df["lat"] = (shape.lat0 + df.pop("y") / KM_PER_DEG_LAT).round(6)
        return df

    towns = lonlat(towns).rename(columns={"lon": "seat_lon", "lat": "seat_lat"})
    towns["synthetic"], towns["source"] = 1, SOURCE
    towns = towns.drop(columns=["_shape"])
    nodes = lonlat(nodes)
    nodes["synthetic"], nodes["source"] = 1, SOURCE
    schools = lonlat(schools).drop(columns=["stage", "_weight", "_fill"])
    schools["synthetic"], schools["source"] = 1, SOURCE
    tables = {"townships": towns, "nodes": nodes, "schools": schools, "school_stages": stages, "births": births}
    if len(sites):
        tables["candidate_sites"] = lonlat(sites)[["site_id", "name", "township_id", "lon", "lat", "stages",
                                                   "max_classes", "synthetic", "source"]]
    if mig:
        tables["migration"] = pd.DataFrame(mig)
    if housing:
        tables["housing"] = pd.DataFrame(housing)
    if not shape.counties:
        for name in ("townships", "nodes", "schools"):
            tables[name] = tables[name].drop(columns=["county_id"])
    for name, df in tables.items():
        df.to_csv(pack / f"{name}.csv", index=False, lineterminator="\n")
    margin = 2.0  # km
    lo_lon, lo_lat = shape.lon0 - margin / km_lon, shape.lat0 - margin / KM_PER_DEG_LAT
    hi_lon = shape.lon0 + (width_km + margin) / km_lon
    hi_lat = shape.lat0 + (height_km + margin) / KM_PER_DEG_LAT
    ring = [[round(a, 6), round(b, 6)] for a, b in
            ((lo_lon, lo_lat), (hi_lon, lo_lat), (hi_lon, hi_lat), (lo_lon, hi_lat), (lo_lon, lo_lat))]
    boundary = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": shape.title},
                                                           "geometry": {"type": "Polygon", "coordinates": [ring]}}]}
    (pack / "boundary.geojson").write_text(json.dumps(boundary, ensure_ascii=False) + "\n", encoding="utf-8")
    (pack / "region.toml").write_text(
        f"# 布局基准的示意区域（{shape.title}）：由 benchmarks/make_counties.py 生成（种子 {seed}），全部为合成数据。\n"
        f'id = "{shape_name}"\nname = "{shape.title}"\nadmin_code = "99{sorted(SHAPES).index(shape_name):02d}00"\n'
        f'crs = "EPSG:4326"\nbase_year = {BASE_YEAR}\nsynthetic = true\n'
        f'synthetic_parts = ["全部数据（{len(towns)} 个乡镇、{len(nodes)} 个村社、{len(schools)} 所学校、出生数、学校规模、'
        f'备选用地、迁移与住宅）均为合成的示意数据，只用于测量布局模型的质量与耗时"]\n', encoding="utf-8")
    (out / f"{shape_name}.toml").write_text(_scenario(shape, shape_name), encoding="utf-8")
    return pack


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    return repr(v) if not isinstance(v, str) else f'"{v}"'


def _scenario(shape: Shape, name: str) -> str:
    lines = [f'name = "bench-{name}"', f'description = "{shape.title}（示意数据），布局基准用"', f'region = "{name}"', "",
             "[horizon]", f"base_year = {BASE_YEAR}", "periods = [2025, 2030, 2035]", "", "[forecast]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in shape.forecast.items()]
    lines += ["", "[policy]"] + [f"{k} = {_toml_value(v)}" for k, v in shape.policy.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", type=Path)
    p.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    p.add_argument("--seed", type=int, default=20261201)
    a = p.parse_args(argv)
    for name in a.shapes:
        pack = make_county(a.out, name, a.seed)
        counts = {f.stem: sum(1 for _ in f.open(encoding="utf-8")) - 1 for f in sorted(pack.glob("*.csv"))}
        print(f"写出 {pack}：" + "，".join(f"{k} {v} 行" for k, v in counts.items()))


if __name__ == "__main__":
    main()
