"""The 江阳 pack as a district bureau would hand it over reads as the same region and forecast.

Bureau habits, all at once: Chinese headers and values, Excel and GBK files, townships and schools
named rather than coded, births one column per year, school grade histories one column per grade
with a 合计 column. Every table must load to the same values as the canonical pack, and the
forecast must be the same to the last digit.
"""

import shutil

import pandas as pd
import pytest

from conftest import TESTS
from xuewei.data.region import load_region
from xuewei.forecaster import ForecastConfig, forecast_demand
from xuewei.pipeline import forecast_inputs

PACK = TESTS.parent / "data" / "regions" / "jiangyang"
TIER_ZH = {"county_seat": "县城", "township_seat": "乡镇驻地"}
KIND_ZH = {"kindergarten": "幼儿园", "primary": "小学", "junior": "初中", "nine_year": "九年一贯制学校",
           "complete_secondary": "完全中学", "vocational": "中职", "special": "特殊教育学校", "teaching_point": "教学点"}
STAGE_ZH = {"kindergarten": "学前", "primary": "小学", "junior": "初中", "senior": "高中", "vocational": "中职",
            "special": "特教"}


def grade_history(region) -> pd.DataFrame:
    """A made-up but consistent primary grade history per school (2014–2020, the base year's pupils
    spread over grades, 1% fewer each year back); 示意数据 for the test only."""
    ss = region.school_stages
    rows = []
    for sid, pupils in zip(ss.loc[ss["stage"] == "primary", "school_id"], ss.loc[ss["stage"] == "primary", "pupils"]):
        for y in range(2014, 2021):
            for g in range(1, 7):
                rows.append((sid, y, g, int(round(pupils / 6 * 0.99 ** (2020 - y) * (1 + 0.01 * g)))))
    return pd.DataFrame(rows, columns=["area", "year", "grade", "pupils"])


@pytest.fixture(scope="module")
def packs(tmp_path_factory):
    root = tmp_path_factory.mktemp("bureau")
    canon, bureau = root / "canon", root / "bureau"
    shutil.copytree(PACK, canon)
    shutil.copytree(PACK, bureau)
    plain = load_region(canon)
    history = grade_history(plain)
    history.to_csv(canon / "grades.csv", index=False)
    town_name = dict(zip(plain.townships["township_id"], plain.townships["name"]))
    school_name = dict(zip(plain.schools["school_id"], plain.schools["name"]))

    t = pd.read_csv(PACK / "townships.csv", dtype=str, keep_default_na=False)
    t = t.assign(tier=t["tier"].map(TIER_ZH)).rename(columns={"township_id": "乡镇代码", "name": "乡镇名称", "level": "级别",
                                                               "tier": "层级", "seat_lon": "驻地经度", "seat_lat": "驻地纬度"})
    t.to_excel(bureau / "townships.xlsx", index=False)
    (bureau / "townships.csv").unlink()
    s = pd.read_csv(PACK / "schools.csv", dtype=str, keep_default_na=False)
    s = s.assign(kind=s["kind"].map(KIND_ZH), township_id=s["township_id"].map(town_name),
                 ownership=s["ownership"].map({"public": "公办", "private": "民办"}))
    s.rename(columns={"school_id": "学校代码", "name": "学校名称", "kind": "办学类型", "township_id": "乡镇代码",
                      "ownership": "办别"}).to_csv(bureau / "schools.csv", index=False, encoding="gbk")
    n = pd.read_csv(PACK / "nodes.csv", dtype=str, keep_default_na=False)
    n.assign(township_id=n["township_id"].map(town_name)).to_csv(bureau / "nodes.csv", index=False, encoding="gbk")
    ss = pd.read_csv(PACK / "school_stages.csv", dtype=str, keep_default_na=False)
    ss = ss.assign(school_id=ss["school_id"].map(school_name), stage=ss["stage"].map(STAGE_ZH))
    ss.rename(columns={"school_id": "学校名称", "stage": "学段", "year": "年份", "classes": "班数", "places": "学位",
                       "pupils": "在校生数"}).to_excel(bureau / "school_stages.xlsx", index=False)
    (bureau / "school_stages.csv").unlink()
    b = pd.read_csv(PACK / "births.csv", dtype=str, keep_default_na=False)
    wide = b.pivot(index="township_id", columns="year", values="births").reset_index()
    wide["township_id"] = wide["township_id"].map(town_name)
    wide.columns = ["乡镇"] + [f"{y}年" for y in wide.columns[1:]]
    wide.rename(columns={"乡镇": "乡镇代码"}).to_csv(bureau / "births.csv", index=False, encoding="gbk")
    g = history.assign(area=history["area"].map(school_name))
    g = g.pivot(index=["area", "year"], columns="grade", values="pupils").reset_index()
    g.columns = ["学校", "学年"] + ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"]
    g["学年"] = g["学年"].map(lambda y: f"{y}-{y + 1}学年")
    g["合计"] = g[["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"]].sum(axis=1)
    g.to_csv(bureau / "grades.csv", index=False, encoding="gbk")
    return load_region(canon), load_region(bureau)


def test_the_bureau_pack_loads_as_the_same_tables(packs):
    canon, bureau = packs
    for name in ("townships", "schools", "nodes", "school_stages"):
        a, b = canon.tables[name], bureau.tables[name]
        key = [c for c in ("township_id", "school_id", "node_id", "stage") if c in a][:2]
        cols = [c for c in a.columns if c in b.columns and not c.endswith("_input")]
        pd.testing.assert_frame_equal(a[cols].sort_values(key).reset_index(drop=True),
                                      b[cols].sort_values(key).reset_index(drop=True), check_dtype=False)
    births = [r.tables["births"][["township_id", "year", "births"]].sort_values(["township_id", "year"])
              .reset_index(drop=True) for r in packs]
    pd.testing.assert_frame_equal(*births, check_dtype=False)


def test_the_bureau_pack_forecasts_the_same(packs):
    years = [2021, 2025, 2030]
    out = [forecast_demand(forecast_inputs(r), ForecastConfig(), years) for r in packs]
    pd.testing.assert_frame_equal(out[0], out[1])
    notes = " ".join(out[1].attrs["assumptions"])
    assert "按学校给出" in notes and "年级升级比法" in notes
