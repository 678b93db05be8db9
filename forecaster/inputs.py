"""The tables the forecaster reads from a region pack, and their checks.

Names follow the region-pack format (``data/regions/<id>/``): ``births``, ``nodes``,
``townships``, ``school_stages`` (+ ``schools`` to place them), optional ``population_by_age``,
``migration``, ``housing``, ``grades``. The region loader builds `ForecastInputs`; the checks
here only concern what the forecaster itself relies on, and raise one `InputError` naming the
file, row and column of every problem.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import logging

import numpy as np
import pandas as pd

from xuewei.errors import InputError, Problem, raise_if


log = logging.getLogger("xuewei")


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

    def place(self, area) -> str:
        """A township (or school) id as a reader knows it: ``城厢镇（500238001）``; the id alone when
        no name is known.

        >>> t = pd.DataFrame({"township_id": ["T1"], "tier": ["county_seat"], "name": ["城厢镇"]})
        >>> ForecastInputs(None, None, t).place("T1"), ForecastInputs(None, None, t).place("T9")
        ('城厢镇（T1）', 'T9')
        """
        for df, col in ((self.townships, "township_id"), (self.schools, "school_id")):
            if df is not None and "name" in df and col in df:
                hit = df.loc[df[col].astype(str) == str(area), "name"]
                if len(hit) and str(hit.iloc[0]) not in ("", "nan", str(area)):
                    return f"{hit.iloc[0]}（{area}）"
        return str(area)

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


#: Why a blank cell of these columns cannot be filled in by the forecaster.
BLANK_HINT = {"population": "需求点人口用来把乡镇的学生分到各村（社区）：请填写（可取七普村级人口）。"}


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
        cell = df[col].iloc[i]
        blank = pd.isna(cell) or str(cell).strip() == ""
        problems.append(Problem(file=file, row=int(i) + 2, field=col, expected=what, found="（空）" if blank else str(cell),
                                hint=BLANK_HINT.get(col) if blank else None))


def split_county_births(inputs: ForecastInputs) -> tuple[ForecastInputs, list[str]]:
    """Births given for the whole county (rows whose ``township_id`` is the county's code, name or
    全县) as births by township, split by the townships' share of the nodes' population.

    Many bureaus have births only for the county (from the health commission). With township rows
    for every township beside them, the county rows are a total: compared with their sum (warning)
    and left out.

    Returns
    -------
    (ForecastInputs, list of str)
        The inputs with births by township, and the notes for the assumptions.

    Raises
    ------
    InputError
        County rows beside rows for some townships only (which births are the others'?).

    Examples
    --------
    >>> b = pd.DataFrame({"township_id": ["全县", "全县"], "year": [2019, 2020], "births": [300.0, 330.0]})
    >>> n = pd.DataFrame({"node_id": ["a", "b", "c"], "township_id": ["T1", "T1", "T2"], "population": [400, 400, 200]})
    >>> t = pd.DataFrame({"township_id": ["T1", "T2"], "tier": ["county_seat", "township_seat"]})
    >>> split, notes = split_county_births(ForecastInputs(b, n, t))
    >>> split.births.values.tolist()
    [['T1', 2019, 240.0], ['T1', 2020, 264.0], ['T2', 2019, 60.0], ['T2', 2020, 66.0]]
    """
    b = inputs.births
    if b is None or "township_id" not in b or not {"year", "births"} <= set(b.columns):
        return inputs, []
    county = b["township_id"].astype(str).str.strip().map(inputs.is_county).to_numpy(bool)
    if not county.any():
        return inputs, []
    whole = b[county].assign(year=lambda d: pd.to_numeric(d["year"], errors="coerce"),
                             births=lambda d: pd.to_numeric(d["births"], errors="coerce"))
    own = b[~county]
    nodes = inputs.nodes
    pop = pd.to_numeric(nodes["population"], errors="coerce").groupby(nodes["township_id"].astype(str)).sum()
    if len(own):
        missing = sorted(set(pop.index) - set(own["township_id"].astype(str)))
        if missing:
            raise InputError(Problem(file="births.csv", field="township_id", expected="只有全县的行，或每个乡镇都有行",
                                     found=f"既有全县的行，又有部分乡镇的行（缺 {'、'.join(missing[:5])}）",
                                     hint="全县的出生数会按需求点人口分到各乡镇；有乡镇自己的出生数时，请给出全部乡镇。"))
        sums = own.assign(births=pd.to_numeric(own["births"], errors="coerce")).groupby(
            pd.to_numeric(own["year"], errors="coerce"))["births"].sum()
        off = [(int(y), v, sums.get(y)) for y, v in zip(whole["year"], whole["births"])
               if y in sums.index and abs(v - sums[y]) > 0.5]
        note = (f"births.csv：全县的出生数行与各乡镇之和{'一致' if not off else f'有 {len(off)} 年不一致（如 {off[0][0]} 年：{off[0][1]:g} 对 {off[0][2]:g}），请核对'}；"
                "按乡镇的行用，全县的行不读入。")
        log.warning(note)
        return dataclasses.replace(inputs, births=own.reset_index(drop=True)), [note]
    share = pop / pop.sum() if pop.sum() > 0 else pd.Series(1.0 / len(pop), index=pop.index)
    rows = [(t, int(y), float(v) * float(share[t])) for t in share.index for y, v in zip(whole["year"], whole["births"])]
    births = pd.DataFrame(rows, columns=["township_id", "year", "births"])
    years = whole["year"].dropna().astype(int)
    note = (f"出生数只有全县数（{years.min()}–{years.max()} 年）：按各乡镇需求点人口占比分到乡镇"
            "（未计乡镇之间生育水平的差别）。")
    log.warning(note)
    return dataclasses.replace(inputs, births=births), [note]


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
