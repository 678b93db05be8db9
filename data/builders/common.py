"""What every region builder does the same way (build time only, not used at runtime).

A region pack is built from a ``../shared/geodata/<region>`` folder laid out alike for every county
(``townships.csv``, ``villages.csv`` and the two census CSVs; see its PROVENANCE.md): NBS codes and
names, Vonng/adcode GCJ-02 points where they exist, the county census of 2010 and 2020. This module
turns those into the pack's ``townships.csv``, ``nodes.csv``, ``births.csv``, ``population_by_age.csv``,
``census_age_groups.csv`` and ``migration.csv``; each builder supplies what differs (tiers, population
weights, schools). Every synthetic part draws from its own seeded stream (:func:`rng_for`), so parts
do not shift each other and two runs write byte-identical files.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from xuewei.data.builders import demography as demo
from xuewei.data.builders import geo
from xuewei.data.webcrs import gcj02_to_wgs84

VONNG = "Vonng/adcode, CC BY 4.0"
NBS = "国家统计局 2021年统计用区划代码（liyanjie2048/AdministrativeDivisionCn）"
KIND = {"居委会": "community", "村委会": "village"}

TOWNSHIP_COLUMNS = ["township_id", "name", "level", "tier", "seat_lon", "seat_lat", "synthetic", "source",
                    "lon_gcj02", "lat_gcj02", "coord_quality", "population_synthetic"]
NODE_COLUMNS = ["node_id", "name", "township_id", "kind", "lon", "lat", "population", "urban", "synthetic", "source",
                "synthetic_fields", "lon_gcj02", "lat_gcj02", "ur_code_2016"]
SCHOOL_COLUMNS = ["school_id", "name", "kind", "township_id", "lon", "lat", "ownership", "boarding_beds", "synthetic",
                  "source", "named_in_plan", "plan_rows", "township_rule", "synthetic_fields"]
STAGE_COLUMNS = ["school_id", "stage", "year", "classes", "places", "pupils", "synthetic", "real_fields", "source"]
SITE_COLUMNS = ["site_id", "name", "township_id", "lon", "lat", "stages", "max_classes", "synthetic", "source",
                "named_in_plan"]
TIER_ZH = {"county_seat": "县城", "central_town": "重点镇/中心乡镇", "cluster_centre": "片区中心",
           "township_seat": "乡镇驻地"}


# --------------------------------------------------------------------------------------------------
# reading and writing
# --------------------------------------------------------------------------------------------------

def default_geodata(region: str) -> Path:
    """``shared/geodata/<region>`` beside the checkout (or beside its parent, for a git worktree)."""
    from xuewei.data.paths import PACKAGE_ROOT
    for base in (PACKAGE_ROOT.parent, PACKAGE_ROOT.parent.parent):
        if (base / "shared" / "geodata" / region).is_dir():
            return base / "shared" / "geodata" / region
    return PACKAGE_ROOT.parent / "shared" / "geodata" / region


def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    """UTF-8, ``\\n`` line ends, floats with 6 decimals, booleans as 1/0: the same bytes every run."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="raise")
    w.writeheader()
    for r in rows:
        w.writerow({c: _fmt(r.get(c, "")) for c in columns})
    path.write_text(buf.getvalue(), encoding="utf-8")


def _fmt(v) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        return f"{v:.6f}"
    if v is None:
        return ""
    return str(v)


def toml_str(s: str) -> str:
    """A TOML basic string (JSON's escaping is valid TOML)."""
    return json.dumps(s, ensure_ascii=False)


def gcj_to_wgs(lon: str, lat: str):
    """GCJ-02 text coordinates → WGS-84 (lon, lat) rounded to 6 decimals [degrees]; None when blank."""
    if lon == "" or lat == "":
        return None
    x, y = gcj02_to_wgs84(float(lon), float(lat))
    return round(float(x), 6), round(float(y), 6)


def rng_for(seed: int, part: int) -> np.random.Generator:
    """One independent seeded stream per synthetic part, so parts do not shift each other."""
    return np.random.default_rng([seed, part])


# --------------------------------------------------------------------------------------------------
# census
# --------------------------------------------------------------------------------------------------

def census_groups(geodata: Path) -> dict[int, list[int]]:
    """Both-sex persons by census age group, 2010 and 2020 (order of :data:`demo.GROUP_LOWER`)."""
    rows = read_csv(geodata / "census_county_agesex_2010_2020.csv")
    labels = ["0岁", "1-4岁"] + [f"{a}-{a + 4}岁" for a in range(5, 85, 5)] + ["85岁以上"]
    sums: dict[tuple, int] = defaultdict(int)
    for r in rows:
        sums[(int(r["year"]), r["age_group"].replace("及以上", "以上"))] += int(r["persons"])
    return {y: [sums[(y, g)] for g in labels] for y in (2010, 2020)}


def indicators(geodata: Path) -> dict:
    """(year, field) → value text of ``census_county_indicators_2010_2020.csv``."""
    out: dict[tuple, str] = {}
    for r in read_csv(geodata / "census_county_indicators_2010_2020.csv"):
        out[(int(r["year"]), r["field"])] = r["value"]
    return out


def demography(geodata: Path, ind: dict, birth_years: range) -> dict:
    """Single ages, mortality, cohort migration rates and back-projected county births.

    Returns the facts the README and region.toml print: ``p10, p20`` (persons by single age, last =
    85+), ``mortality``, ``rates`` (:func:`demo.cohort_net_rates`), ``county_births`` (year → persons,
    rounded), and the census figures they are checked against.
    """
    groups = census_groups(geodata)
    p10, p20 = demo.single_ages(groups[2010]), demo.single_ages(groups[2020])
    death_rate = float(ind[(2010, "死亡率（‰）")])
    mort = demo.calibrate_mortality(p10, death_rate)
    rates = demo.cohort_net_rates(p10, p20, mort)
    county_births = demo.back_project_births(p10, p20, mort, rates, birth_years[0], birth_years[-1])
    return dict(p10=p10, p20=p20, mortality=mort, rates=rates,
                county_births={y: int(round(b)) for y, b in county_births.items()},
                birth_rate_2010=float(ind[(2010, "出生率（‰）")]), pop_2010=int(ind[(2010, "合计")]),
                pop_2020=int(ind[(2020, "人口数_合计")]), urban_2020=int(ind[(2020, "城镇人口")]),
                rural_2020=int(ind[(2020, "乡村人口")]), death_rate_2010=death_rate)


def births_rows(townships: list[dict], county_births: dict, birth_years: range, rng) -> list[dict]:
    """County births split over townships by population share × lognormal noise (σ 0.05), largest
    remainder, every year; all rows synthetic."""
    rows = []
    tids = [t["township_id"] for t in townships]
    share = np.array([t["population"] for t in townships], dtype=float)
    for y in birth_years:
        w = share * np.exp(rng.normal(0.0, 0.05, len(tids)))
        split = demo.largest_remainder(w, county_births[y])
        for tid, b in zip(tids, split):
            rows.append({"township_id": tid, "year": y, "births": int(b), "synthetic": 1})
    return rows


def write_census_tables(out: Path, geodata: Path, admin_code: str, facts: dict, townships: list[dict]) -> None:
    """``population_by_age.csv`` (single ages of both censuses), ``census_age_groups.csv`` (verbatim copy)
    and ``migration.csv`` (the county's cohort rates, the same for every township)."""
    src_age = ("六普/七普县级5岁年龄组（leiii/census，MIT）男女合计；单岁由累计人数PCHIP单调插值拆分、组内最大余数取整"
               "（组合计与原表相同）；85为85岁及以上开口组")
    age_rows = []
    for year, arr in ((2010, facts["p10"]), (2020, facts["p20"])):
        for a, n in enumerate(arr):
            age_rows.append({"area_id": admin_code, "year": year, "age": a, "open_ended": int(a == demo.OPEN_AGE),
                             "persons": int(n), "source": src_age})
    write_csv(out / "population_by_age.csv", ["area_id", "year", "age", "open_ended", "persons", "source"], age_rows)
    shutil.copyfile(geodata / "census_county_agesex_2010_2020.csv", out / "census_age_groups.csv")
    mig_rows = []
    for r, tid in ((r, t["township_id"]) for t in townships for r in facts["rates"]):
        lo = r["age_from"] - 5 if r["age_from"] >= 5 else None
        if r["age_from"] == 0:
            how = "0–4岁2010年未出生，取5–9岁组的值"
        elif r["age_to"] is None:
            how = "2010年75岁及以上→2020年85岁及以上"
        else:
            how = f"2010年{lo}–{lo + 4}岁→2020年{lo + 10}–{lo + 14}岁"
        mig_rows.append({"township_id": tid, "age_from": r["age_from"],
                         "age_to": 100 if r["age_to"] is None else r["age_to"],
                         "net_rate_per_year": round(r["net_rate_per_year"], 6),
                         "source": (f"六普→七普队列变化（{how}）：存活比{r['ratio']:.4f}，除以模型10年存活率"
                                    f"{r['survival']:.4f}后取对数/10；全县一值，各乡镇相同（无乡镇级普查数据）")})
    write_csv(out / "migration.csv", ["township_id", "age_from", "age_to", "net_rate_per_year", "source"], mig_rows)


# --------------------------------------------------------------------------------------------------
# townships and nodes
# --------------------------------------------------------------------------------------------------

def short_name(township_name: str) -> str:
    """宁河街道 → 宁河, 上磺镇 → 上磺, 胜利乡 → 胜利."""
    return re.sub(r"(街道|镇|乡)$", "", township_name)


def village_stem(node_name: str) -> str:
    """九磷社区居民委员会 → 九磷, 龙门村村民委员会 → 龙门."""
    s = re.sub(r"(居民委员会|村民委员会)$", "", node_name)
    return re.sub(r"(社区|村)$", "", s)


def seat_from_villages(name: str, code: str, villages: list[dict]):
    """Seat for a township without a point: the real point of its community named after it
    (蒲莲社区 for 蒲莲镇), else the mean of its communities' real points, else the mean of its
    villages' real points. Returns ((lon, lat), rule text) or None when none of its units has a point."""
    short = short_name(name)
    mine = [v for v in villages if v["township_code"] == code and v["lon_gcj02"]]
    own = [v for v in mine if v["name"].startswith(short + "社区")]
    comm = [v for v in mine if v["kind"] == "居委会"]
    for group, rule in ((own, f"取本乡镇同名社区（{short}社区）的真实点"),
                        (comm, "取本街道各社区真实点的平均"),
                        (mine, "取本乡镇有真实点的村的平均")):
        if group:
            pts = [gcj02_to_wgs84(float(v["lon_gcj02"]), float(v["lat_gcj02"])) for v in group]
            lon = round(float(np.mean([p[0] for p in pts])), 6)
            lat = round(float(np.mean([p[1] for p in pts])), 6)
            names = "、".join(v["name"].replace("居民委员会", "").replace("村民委员会", "") for v in group)
            return (lon, lat), f"{rule}（{names}）"
    return None


def build_townships(geodata: Path, villages: list[dict], tier_of: Callable[[str], tuple[str, str]],
                    missing_seat: Callable[[str, str, list[dict]], tuple]) -> list[dict]:
    """Townships: NBS code, name, level; seat from Vonng/adcode (GCJ-02 → WGS-84) or, for those without
    a point, ``missing_seat(name, code, villages) → ((lon, lat), rule)``; ``tier_of(name) → (tier,
    where the tier comes from)``."""
    out = []
    for r in read_csv(geodata / "townships.csv"):
        name = r["name"]
        tier, tier_src = tier_of(name)
        seat = gcj_to_wgs(r["lon_gcj02"], r["lat_gcj02"])
        row = {"township_id": r["code"], "name": name, "level": r["level"], "tier": tier,
               "lon_gcj02": r["lon_gcj02"], "lat_gcj02": r["lat_gcj02"], "coord_quality": r["coord_quality"]}
        if seat:
            row.update(seat_lon=seat[0], seat_lat=seat[1], synthetic=0,
                       source=f"{NBS}；驻地点 {VONNG}（{r['coord_quality']}，GCJ-02→WGS-84）；层级：{tier_src}")
        else:
            (lon, lat), rule = missing_seat(name, r["code"], villages)
            row.update(seat_lon=lon, seat_lat=lat, synthetic=1,
                       source=f"{NBS}；驻地点合成：{rule}；层级：{tier_src}")
        out.append(row)
    return out


def node_urban(v: dict) -> tuple[int, bool]:
    """Urban flag from the 2016 城乡分类代码 (1xx = 城镇); blank → 社区 urban, 村 rural (guess)."""
    ur = v["ur_code_2016"]
    if ur:
        return (1 if ur.startswith("1") else 0), False
    return (1 if v["kind"] == "居委会" else 0), True


def node_populations(villages: list[dict], ind: dict, rng, weight: Callable[[dict, int], tuple[float, float]]) -> list[int]:
    """Census 2020 城镇人口 over the urban nodes and 乡村人口 over the rural ones [persons].

    ``weight(village, urban) → (base, σ)``: each node's weight is base × exp(N(0, σ)), one draw per node in
    file order; then :func:`split_population`.
    """
    w = np.zeros(len(villages))
    urb = np.zeros(len(villages), dtype=bool)
    for i, v in enumerate(villages):
        u, _ = node_urban(v)
        urb[i] = bool(u)
        base, sigma = weight(v, u)
        w[i] = base * np.exp(rng.normal(0.0, sigma))
    return split_population(w, urb, int(ind[(2020, "城镇人口")]), int(ind[(2020, "乡村人口")]))


def inputs_missing(*paths: Path) -> int:
    """Print the first missing input and return exit code 2; 0 when all exist."""
    for p in paths:
        if not Path(p).exists():
            print(f"找不到输入：{p}", file=sys.stderr)
            return 2
    return 0


def split_population(weights, urban, urban_total: int, rural_total: int) -> list[int]:
    """The census 城镇人口 over the urban nodes and 乡村人口 over the others, in proportion to
    ``weights``, largest remainder [persons]."""
    w = np.asarray(weights, dtype=float)
    urb = np.asarray(urban, dtype=bool)
    pop = np.zeros(len(w), dtype=int)
    pop[urb] = demo.largest_remainder(w[urb], urban_total)
    pop[~urb] = demo.largest_remainder(w[~urb], rural_total)
    return [int(p) for p in pop]


class Layout:
    """The region's projection, boundary and township cells, and the seat points in metres.

    Parameters
    ----------
    proj : geo.Projection
        The region's UTM zone.
    boundary : shapely geometry
        County boundary, WGS-84.
    townships : list of dict
        With ``township_id, seat_lon, seat_lat``.
    """

    def __init__(self, proj: geo.Projection, boundary, townships: list[dict]):
        self.proj = proj
        self.boundary_u = proj.geom_to_utm(boundary)
        self.seat_xy = {t["township_id"]: tuple(float(c) for c in proj.to_utm(t["seat_lon"], t["seat_lat"]))
                        for t in townships}
        self.cells = geo.township_cells(self.seat_xy, self.boundary_u)

    def xy(self, lon, lat) -> tuple[float, float]:
        return tuple(float(c) for c in self.proj.to_utm(lon, lat))

    def lonlat(self, x, y) -> tuple[float, float]:
        lon, lat = self.proj.to_lonlat(x, y)
        return round(float(lon), 6), round(float(lat), 6)


def build_nodes(villages: list[dict], pops: list[int], layout: Layout, placer: geo.Placer,
                near_radius_m: Callable[[dict], float | None], population_rule: str) -> list[dict]:
    """Nodes from the NBS villages: real points (GCJ-02 → WGS-84) where Vonng/adcode has one, the others
    drawn by ``placer`` — within ``near_radius_m(node)`` [m] of the township seat when it returns a radius
    (communities, town centres), else anywhere in the township's cell pulled 15% towards the seat.
    ``population_rule`` is the source text of the synthetic population."""
    for xy in layout.seat_xy.values():
        placer.add_fixed(*xy)
    nodes = []
    for v, p in zip(villages, pops):
        u, u_guess = node_urban(v)
        real = gcj_to_wgs(v["lon_gcj02"], v["lat_gcj02"])
        nodes.append({"node_id": v["code"], "name": v["name"], "township_id": v["township_code"],
                      "kind": KIND[v["kind"]], "population": p, "urban": u, "ur_code_2016": v["ur_code_2016"],
                      "lon_gcj02": v["lon_gcj02"], "lat_gcj02": v["lat_gcj02"], "_real": real,
                      "_u_guess": u_guess})
        if real:
            placer.add_fixed(*layout.xy(*real))
    for n in nodes:
        tid = n["township_id"]
        cx, cy = layout.seat_xy[tid]
        if n["_real"]:
            n["lon"], n["lat"] = n["_real"]
            continue
        radius = near_radius_m(n)
        if radius is not None:
            x, y = placer.near(cx, cy, radius, within=layout.cells[tid])
        else:
            x, y = placer.in_cell(layout.cells[tid], cx, cy, shrink=0.85)
        n["lon"], n["lat"] = layout.lonlat(x, y)
    for n in nodes:
        fields = ["population"] + ([] if n["_real"] else ["lon", "lat"]) + (["urban"] if n["_u_guess"] else [])
        n["synthetic"] = 1
        n["synthetic_fields"] = ";".join(fields)
        where = (f"点 {VONNG}（GCJ-02→WGS-84）" if n["_real"]
                 else "点合成：乡镇驻地附近、泰森多边形内随机（种子固定）")
        urb = ("城乡：2016城乡分类代码" + n["ur_code_2016"]) if not n["_u_guess"] else "城乡：无2016代码，社区记城镇、村记乡村（推定）"
        n["source"] = f"{NBS}；{where}；{urb}；{population_rule}"
    return nodes


def township_populations(townships: list[dict], nodes: list[dict]) -> None:
    """Township ``population`` and ``rural_population`` = sums over its nodes (in place)."""
    for t in townships:
        mine = [n for n in nodes if n["township_id"] == t["township_id"]]
        t["population"] = sum(n["population"] for n in mine)
        t["rural_population"] = sum(n["population"] for n in mine if not n["urban"])


def node_facts(nodes: list[dict]) -> dict:
    return {"n": len(nodes), "real_points": sum(1 for n in nodes if n["_real"]),
            "urban": sum(n["urban"] for n in nodes), "urban_guess": sum(n["_u_guess"] for n in nodes)}


def build_people(out: Path, geodata: Path, admin_code: str, villages: list[dict], townships: list[dict],
                 layout: Layout, pops: list[int], placer: geo.Placer, near_radius_m, ind: dict,
                 birth_years: range, births_rng) -> tuple[list[dict], dict]:
    """Nodes (:func:`build_nodes`), township populations, demography and births; writes townships.csv,
    nodes.csv, births.csv and the census tables. Returns the nodes and the facts for the README."""
    nodes = build_nodes(villages, pops, layout, placer, near_radius_m, "人口合成：按七普城镇/乡村人口分配")
    township_populations(townships, nodes)
    facts = demography(geodata, ind, birth_years)
    births = births_rows(townships, facts["county_births"], birth_years, births_rng)
    write_csv(out / "townships.csv", TOWNSHIP_COLUMNS,
              [dict(t, population_synthetic=t["population"]) for t in townships])
    write_csv(out / "nodes.csv", NODE_COLUMNS, nodes)
    write_csv(out / "births.csv", ["township_id", "year", "births", "synthetic"], births)
    write_census_tables(out, geodata, admin_code, facts, townships)
    facts.update(townships=townships, nodes=node_facts(nodes), births_by_township=births)
    return nodes, facts


# --------------------------------------------------------------------------------------------------
# README parts
# --------------------------------------------------------------------------------------------------

def births_table(county_births: dict) -> str:
    return "\n".join(f"| {y} | {n:,} |" for y, n in county_births.items())


def rates_table(rates: list[dict]) -> str:
    return "\n".join(f"| {r['age_from']}–{'' if r['age_to'] is None else r['age_to']} | {r['ratio']:.3f} | "
                     f"{r['survival']:.3f} | {r['net_rate_per_year']:+.4f} |" for r in rates)


def townships_table(townships: list[dict]) -> str:
    return "\n".join(f"| {t['township_id']} | {t['name']} | {t['level']} | {t['tier']} | {t['population']:,} | "
                     f"{'合成' if t['synthetic'] else '真实'} |" for t in townships)


# --------------------------------------------------------------------------------------------------
# schools
# --------------------------------------------------------------------------------------------------

#: Class-size caps used for synthetic places [pupils/class]: GB 50099-2011 (完全小学 45, 非完全小学 30,
#: 中学 50); kindergarten 30 as in 表3 (学生容量 = 班级规模 × 30); special 12 (assumption).
CAP = {"kindergarten": 30, "primary": 45, "teaching_point": 30, "junior": 50, "senior": 50,
       "vocational": 50, "special": 12}
#: Stages each kind of school offers, in the order the stage rows are written.
KIND_STAGES = {
    "kindergarten": ("kindergarten",),
    "primary": ("primary",),
    "teaching_point": ("primary",),
    "junior": ("junior",),
    "nine_year": ("primary", "junior"),
    "complete_secondary": ("junior", "senior"),
    "senior": ("senior",),
    "vocational": ("vocational",),
    "special": ("special",),
}


@dataclass
class Stage:
    stage: str
    classes: int
    places: int
    pupils: int = 0
    real_fields: list[str] = field(default_factory=list)
    note: str = ""


@dataclass
class School:
    name: str
    kind: str
    township_id: str
    named: bool
    township_rule: str          # name_township | name_village | text_city | guess | synthetic
    source: str
    plan_rows: list[str] = field(default_factory=list)
    stages: dict = field(default_factory=dict)
    ownership: str = "public"
    village_node: str = ""
    role: str = ""              # centre | village | teaching_point | private_kg | core | named
    boarding_beds: int = 0
    school_id: str = ""
    xy: tuple = (0.0, 0.0)
    school_total: tuple | None = None   # (classes, places) printed for the whole school

    def add(self, st: Stage):
        self.stages[st.stage] = st


def school_tables(schools: list[School], layout: Layout, year: int, source_of: Callable[[School], str]):
    """Rows of ``schools.csv`` and ``school_stages.csv`` (positions ``s.xy`` in UTM metres).

    A school not named in the plan is synthetic in ``all`` its fields; a named one in its position and
    beds, and in its township where that was guessed. A stage row is synthetic unless its classes,
    places and pupils are all real (``Stage.real_fields``).
    """
    school_rows, stage_rows = [], []
    for s in schools:
        lon, lat = layout.lonlat(*s.xy)
        synth_fields = ["lon", "lat", "boarding_beds"]
        if s.township_rule in ("guess", "text_city"):
            synth_fields.insert(0, "township_id")
        if not s.named:
            synth_fields = ["all"]
        school_rows.append({
            "school_id": s.school_id, "name": s.name, "kind": s.kind, "township_id": s.township_id,
            "lon": lon, "lat": lat, "ownership": s.ownership,
            "boarding_beds": s.boarding_beds, "synthetic": 1, "source": source_of(s),
            "named_in_plan": int(s.named), "plan_rows": ";".join(s.plan_rows), "township_rule": s.township_rule,
            "synthetic_fields": ";".join(synth_fields)})
        for st in sorted(s.stages.values(), key=lambda x: KIND_STAGES[s.kind].index(x.stage)
                         if x.stage in KIND_STAGES[s.kind] else 9):
            real = [f for f in ("classes", "places", "pupils") if f in st.real_fields]
            stage_rows.append({"school_id": s.school_id, "stage": st.stage, "year": year, "classes": st.classes,
                               "places": st.places, "pupils": st.pupils, "synthetic": int(len(real) < 3),
                               "real_fields": ";".join(real), "source": st.note or "合成"})
    return school_rows, stage_rows
