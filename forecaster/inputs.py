"""The tables the forecaster reads from a region pack, and their checks.

Names follow the region-pack format (``data/regions/<id>/``): ``births``, ``nodes``,
``townships``, ``school_stages`` (+ ``schools`` to place them), optional ``population_by_age``,
``migration``, ``housing``, ``grades``. The region loader builds `ForecastInputs`; the checks
here only concern what the forecaster itself relies on, and raise one `InputError` naming the
file, row and column of every problem.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from xuewei.errors import Problem, raise_if


@dataclass(frozen=True)
class ForecastInputs:
    """Region tables for the forecast (DataFrames with the region-pack columns).

    Attributes
    ----------
    births : DataFrame
        ``township_id, year, births`` [persons].
    nodes : DataFrame
        ``node_id, township_id, population`` [persons] (other columns ignored).
    townships : DataFrame
        ``township_id, tier`` (``county_seat`` marks the seat).
    school_stages : DataFrame or None
        ``school_id, stage, year, pupils`` for base-year calibration.
    schools : DataFrame or None
        ``school_id, township_id, ownership``: places ``school_stages`` in townships.
    population_by_age, migration, housing, grades : DataFrame or None
        Optional tables as in the region-pack format.
    base_year : int or None
        Year of the school statistics and latest births; default: the last births year.
    admin_code : str or None
        County code used as ``area_id`` / ``area`` for county-wide rows.
    region_name : str or None
        The region's name (巫溪县), also read as the county in ``grades.csv``.
    """

    births: pd.DataFrame
    nodes: pd.DataFrame
    townships: pd.DataFrame
    school_stages: pd.DataFrame | None = None
    schools: pd.DataFrame | None = None
    population_by_age: pd.DataFrame | None = None
    migration: pd.DataFrame | None = None
    housing: pd.DataFrame | None = None
    grades: pd.DataFrame | None = None
    base_year: int | None = None
    admin_code: str | None = None
    region_name: str | None = None

    def is_county(self, area) -> bool:
        """Whether an area id names the whole county: its code, its name, or 全县 / 合计.

        >>> ForecastInputs(None, None, None, admin_code="500238", region_name="巫溪县").is_county("全 县")
        True
        """
        from xuewei.data.grade_columns import is_total_area

        area = str(area).strip()
        return area == str(self.admin_code) or bool(self.region_name and area == self.region_name) or is_total_area(area)


def _columns(df: pd.DataFrame, file: str, cols: list[str], problems: list[Problem]) -> bool:
    missing = [c for c in cols if c not in df.columns]
    for c in missing:
        problems.append(Problem(file=file, row=1, field=c, expected=f"表头含列“{c}”", found="、".join(map(str, df.columns))))
    return not missing


def _numbers(df: pd.DataFrame, file: str, col: str, problems: list[Problem], nonneg: bool = True,
             integer: bool = False) -> None:
    values = pd.to_numeric(df[col], errors="coerce").to_numpy(float)
    bad = np.isnan(values)
    if nonneg:
        bad |= ~np.isnan(values) & (values < 0)
    if integer:
        bad |= ~np.isnan(values) & (np.abs(values - np.round(values)) > 1e-9)
    what = ("非负" if nonneg else "") + ("整数" if integer else "数值")
    for i in np.nonzero(bad)[0][:20]:
        problems.append(Problem(file=file, row=int(i) + 2, field=col, expected=what, found=str(df[col].iloc[i])))


def check_inputs(inputs: ForecastInputs) -> None:
    """Raise `InputError` listing every problem the forecaster would trip over.

    Checks columns, numbers (non-negative; counts integer), duplicate keys, townships known,
    births consecutive per township, every township with births having demand nodes, and every
    node's township having births.
    """
    problems: list[Problem] = []
    b, n, t = inputs.births, inputs.nodes, inputs.townships
    ok_b = _columns(b, "births.csv", ["township_id", "year", "births"], problems)
    ok_n = _columns(n, "nodes.csv", ["node_id", "township_id", "population"], problems)
    ok_t = _columns(t, "townships.csv", ["township_id", "tier"], problems)
    raise_if(problems)
    _numbers(b, "births.csv", "births", problems, integer=False)
    _numbers(b, "births.csv", "year", problems, integer=True)
    _numbers(n, "nodes.csv", "population", problems)
    raise_if(problems)
    known = set(t["township_id"].astype(str))
    for i, tid in enumerate(b["township_id"].astype(str)):
        if tid not in known and len(problems) < 50:
            problems.append(Problem(file="births.csv", row=i + 2, field="township_id", expected="townships.csv 中的乡镇",
                                    found=tid))
    for i, tid in enumerate(n["township_id"].astype(str)):
        if tid not in known and len(problems) < 50:
            problems.append(Problem(file="nodes.csv", row=i + 2, field="township_id", expected="townships.csv 中的乡镇",
                                    found=tid))
    dup = b.duplicated(["township_id", "year"]).to_numpy()
    for i in np.nonzero(dup)[0][:20]:
        problems.append(Problem(file="births.csv", row=int(i) + 2, expected="每个乡镇每年一行",
                                found=f"重复的 {b['township_id'].iloc[i]} {b['year'].iloc[i]}"))
    for i in np.nonzero(n.duplicated(["node_id"]).to_numpy())[0][:20]:
        problems.append(Problem(file="nodes.csv", row=int(i) + 2, field="node_id", expected="不重复的需求点编号",
                                found=str(n["node_id"].iloc[i])))
    raise_if(problems)
    years = b.assign(year=b["year"].astype(int)).groupby(b["township_id"].astype(str))["year"]
    for tid, ys in years:
        have = set(ys.tolist())
        gap = sorted(set(range(min(have), max(have) + 1)) - have)
        if gap:
            problems.append(Problem(file="births.csv", field="year", expected=f"乡镇“{tid}”出生年份连续",
                                    found=f"缺少 {gap[:5]}"))
    with_births = set(b["township_id"].astype(str))
    with_nodes = set(n["township_id"].astype(str))
    for tid in sorted(with_births - with_nodes):
        problems.append(Problem(file="nodes.csv", field="township_id", expected=f"乡镇“{tid}”至少有一个需求点",
                                found="无", hint="有出生数的乡镇需要需求点来承接学位需求。"))
    for tid in sorted(with_nodes - with_births):
        problems.append(Problem(file="births.csv", field="township_id", expected=f"乡镇“{tid}”的出生数",
                                found="无", hint="有需求点的乡镇需要出生数。"))
    for file, df, col in (("migration.csv", inputs.migration, "township_id"),
                          ("population_by_age.csv", inputs.population_by_age, "area_id")):
        if df is not None and col in df:  # a township, or the county (one row for all townships)
            for i, tid in enumerate(df[col].astype(str).str.strip()):
                if tid not in known and not inputs.is_county(tid) and len(problems) < 50:
                    problems.append(Problem(file=file, row=i + 2, field=col, expected="townships.csv 中的乡镇，或全县（县代码、县名）",
                                            found=tid))
    if inputs.migration is not None:
        m = inputs.migration
        if _columns(m, "migration.csv", ["township_id", "age_from", "age_to", "net_rate_per_year"], problems):
            _numbers(m, "migration.csv", "net_rate_per_year", problems, nonneg=False)
            _numbers(m, "migration.csv", "age_from", problems, integer=True)
            _numbers(m, "migration.csv", "age_to", problems, integer=True)
            rate = pd.to_numeric(m["net_rate_per_year"], errors="coerce")
            for i in np.nonzero((rate < -1).to_numpy())[0][:10]:
                problems.append(Problem(file="migration.csv", row=int(i) + 2, field="net_rate_per_year",
                                        expected="≥ −1 的比例（如 −0.02 表示每年净流出 2%）", found=str(m["net_rate_per_year"].iloc[i])))
    if inputs.housing is not None:
        h = inputs.housing
        if _columns(h, "housing.csv", ["node_id", "year", "dwellings"], problems):
            _numbers(h, "housing.csv", "dwellings", problems, integer=True)
            nodes = set(n["node_id"].astype(str))
            for i, nid in enumerate(h["node_id"].astype(str)):
                if nid not in nodes and len(problems) < 50:
                    problems.append(Problem(file="housing.csv", row=i + 2, field="node_id", expected="nodes.csv 中的需求点",
                                            found=nid))
    if inputs.school_stages is not None:
        s = inputs.school_stages
        if _columns(s, "school_stages.csv", ["school_id", "stage", "year", "pupils"], problems):
            _numbers(s, "school_stages.csv", "pupils", problems, integer=True)
        if inputs.schools is None:
            problems.append(Problem(file="schools.csv", expected="与 school_stages.csv 一并提供（用于确定学校所在乡镇）",
                                    found="未提供"))
        elif _columns(inputs.schools, "schools.csv", ["school_id", "township_id"], problems):
            ids = set(inputs.schools["school_id"].astype(str))
            for i, sid in enumerate(s["school_id"].astype(str)):
                if sid not in ids and len(problems) < 50:
                    problems.append(Problem(file="school_stages.csv", row=i + 2, field="school_id",
                                            expected="schools.csv 中的学校", found=sid))
    if inputs.grades is not None:
        g = inputs.grades
        if _columns(g, "grades.csv", ["area", "year", "grade", "pupils"], problems):
            _numbers(g, "grades.csv", "pupils", problems, integer=True)
            _numbers(g, "grades.csv", "grade", problems, nonneg=False, integer=True)
    raise_if(problems)
