"""Grade histories given per school (学校年报), summed to the townships the forecaster works on.

A bureau keeps its grade counts school by school. The forecaster works on townships, so a region's
``grades.csv`` may name schools (``area`` = ``school_id`` of ``schools.csv``) as well as townships
or the county. Schools are summed into their township, year by year and grade by grade:

- a school that opens later, or adds a grade a year, counts from its first record (before it, it
  had no pupils of that grade: nothing is added, not a missing record);
- a school that stops teaching a grade, or closes, counts until its last record (its pupils went to
  other schools, which are in the sum);
- a year a school has no record inside its span (not entered, lost) leaves the whole township-year
  unobserved (`xuewei.forecaster.history.holes`): a sum without it would look like a fall.

A township's stage is forecast from the summed history only when every school of the township
that taught the stage in the base year (``school_stages.csv``, pupils > 0) is among them; else the
stage keeps the cohort model there and the note names the schools missing and their share of pupils.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from xuewei.errors import InputError, Problem
from xuewei.forecaster.history import holes
from xuewei.forecaster.progression import GradeCube
from xuewei.labels import STAGE_ZH

log = logging.getLogger("xuewei")


def area_ids_for_names(grades: pd.DataFrame, tables: list[tuple[pd.DataFrame | None, str]], towns: list[str]) -> pd.DataFrame:
    """``grades`` with each ``area`` written as a township's or school's name (城厢镇, 先锋小学) read
    as its id, when exactly one township (else one school) has that name, with a warning.

    >>> t = pd.DataFrame({"township_id": ["T1"], "name": ["城厢镇"]})
    >>> s = pd.DataFrame({"school_id": ["S1", "S2"], "name": ["一小", "一小"]})
    >>> area_ids_for_names(pd.DataFrame({"area": ["城厢 镇", "T1", "一小"]}), [(t, "township_id"), (s, "school_id")], ["T1"])["area"].tolist()
    ['T1', 'T1', '一小']
    """
    from xuewei.data.tables import ids_by_unique_name, normalise_value

    if grades is None or "area" not in grades:
        return grades
    area = grades["area"].astype(str).str.strip().reset_index(drop=True)
    known = set(towns) | {str(i) for df, col in tables if df is not None for i in df[col]}
    out = area.copy()
    for df, col in tables:
        by_name = ids_by_unique_name(df, col)
        todo = ~out.isin(known) & (out == area)
        mapped = area[todo].map(normalise_value).map(by_name).dropna()
        out[mapped.index] = mapped
    changed = out != area
    if changed.any():
        pairs = dict(zip(area[changed], out[changed]))
        log.warning("grades.csv：%d 个地区写的是名称而非编号，已按唯一同名的乡镇或学校读作编号：%s。", len(pairs),
                    "、".join(f"“{k}”→{v}" for k, v in list(pairs.items())[:6]))
    return grades.assign(area=out.to_numpy())


def school_areas(grades: pd.DataFrame, schools: pd.DataFrame | None, towns: list[str],
                 admin_code: str | None) -> frozenset[str]:
    """The ``area`` values of ``grades`` that are school ids (not a township id or the county code).

    >>> g = pd.DataFrame({"area": ["S1", "T1", "S2", "X"]})
    >>> sorted(school_areas(g, pd.DataFrame({"school_id": ["S1", "S2"]}), ["T1"], "500238"))
    ['S1', 'S2']
    """
    if schools is None or grades is None or "area" not in grades:
        return frozenset()
    ids = set(schools["school_id"].astype(str))
    areas = set(grades["area"].astype(str).str.strip())
    return frozenset(a for a in areas if a in ids and a not in towns and a != str(admin_code))


def sum_schools_by_township(grades: pd.DataFrame, schools: pd.DataFrame, school_stages: pd.DataFrame | None,
                            towns: list[str], base_year: int, stage_grades: dict[str, tuple[int, int]],
                            place=str) -> tuple[pd.DataFrame, set, list[str]]:
    """Replace the school rows of a checked ``area, year, grade, pupils`` table by township sums.

    Parameters
    ----------
    grades : DataFrame
        ``area, year, grade, pupils`` (`history.check_enrollment`), areas townships, the county or schools.
    schools : DataFrame
        ``school_id, township_id`` [-].
    school_stages : DataFrame or None
        ``school_id, stage, year, pupils`` [pupils]: which schools taught each stage in the base year.
    towns : list of str
        Township ids of the region.
    base_year : int
        Year of the school statistics [year].
    stage_grades : dict
        Stage → (first grade, last grade).
    place : callable
        A township or school id as the notes name it (`ForecastInputs.place`).

    Returns
    -------
    (DataFrame, set of (township, stage), list of str)
        The table with townships in place of their schools (unobserved township-years left out), the
        township stages whose schools are not all given (they keep the cohort model), and notes.

    Raises
    ------
    InputError
        A township given both as itself and through its schools.

    Examples
    --------
    >>> g = pd.DataFrame({"area": ["S1", "S1", "S2", "S2", "S2"], "year": [2019, 2020, 2018, 2019, 2020],
    ...                   "grade": 1, "pupils": [10, 11, 20, 21, 22]})
    >>> s = pd.DataFrame({"school_id": ["S1", "S2"], "township_id": ["T1", "T1"]})
    >>> out, _, _ = sum_schools_by_township(g, s, None, ["T1"], 2020, {"primary": (1, 6)})
    >>> out.values.tolist()  # S1 opened in 2019: 2018 is S2 alone, not a missing record
    [['T1', 2018, 1, 20], ['T1', 2019, 1, 31], ['T1', 2020, 1, 33]]
    """
    ids = school_areas(grades, schools, towns, None)
    if not ids:
        return grades, set(), []
    town_of = schools.assign(school_id=schools["school_id"].astype(str)).set_index("school_id")["township_id"].astype(str)
    is_school = grades["area"].isin(ids).to_numpy()
    sub, rest = grades[is_school], grades[~is_school]
    both = sorted(set(rest["area"]) & set(town_of[sorted(ids)]))
    if both:
        raise InputError([Problem(file="grades.csv", field="area", expected="每个乡镇要么按乡镇、要么按学校给出",
                                  found=f"乡镇“{place(t)}”两者都有（学校 {'、'.join(sorted(i for i in ids if town_of[i] == t)[:5])}）",
                                  hint="删去其一：同一批学生不能算两次。") for t in both])
    cube = GradeCube.from_frame(sub)
    gap = holes(cube.pupils)  # (S, T)
    own = town_of[list(cube.areas)].to_numpy()
    townships = np.array(sorted(set(own)), dtype=object)
    ti = np.searchsorted(townships, own)
    seen = np.isfinite(cube.pupils)
    total = np.zeros((len(townships), len(cube.years), len(cube.grades)))
    count = np.zeros_like(total)
    np.add.at(total, ti, np.nan_to_num(cube.pupils))
    np.add.at(count, ti, seen)
    unobserved = np.zeros((len(townships), len(cube.years)), dtype=bool)
    np.logical_or.at(unobserved, ti, gap)
    total[(count == 0) | unobserved[:, :, None]] = np.nan
    t_, y_, g_ = np.nonzero(np.isfinite(total))
    summed = pd.DataFrame({"area": townships[t_], "year": cube.years[y_], "grade": cube.grades[g_],
                           "pupils": np.round(total[t_, y_, g_]).astype(np.int64)})
    notes = [f"grades.csv 按学校给出：{len(ids)} 所学校按所在乡镇逐年、逐年级相加，得 {len(townships)} 个乡镇的年级历史"
             "（学校开办前、停办后不计入；某校某年缺记录时该乡镇该年视为未观测）。"]
    last = np.array([cube.years[np.flatnonzero(seen[s].any(axis=1))[-1]] for s in range(len(cube.areas))])
    closed = [f"{cube.areas[s]}（{last[s]} 年）" for s in np.flatnonzero(last < cube.years[-1])]
    if closed:
        notes.append(f"grades.csv：{len(closed)} 所学校的记录早于 {cube.years[-1]} 年结束，按停办（学生已转入本乡镇或他处的学校）计："
                     f"{'、'.join(closed[:8])}；如只是尚未录入，请补齐。")
    if unobserved.any():
        notes.append("grades.csv：有学校某年缺记录，所在乡镇该年视为未观测：" + "、".join(
            f"{place(townships[t])} {'、'.join(map(str, cube.years[unobserved[t]][:5]))} 年" for t in np.flatnonzero(unobserved.any(axis=1))[:8]) + "。")
    uncovered = _uncovered(sub, ids, town_of, school_stages, townships, base_year, stage_grades, notes, place)
    for n in notes[1:]:
        log.warning(n)
    return pd.concat([rest, summed], ignore_index=True), uncovered, notes


def _uncovered(sub: pd.DataFrame, ids: frozenset[str], town_of: pd.Series, school_stages: pd.DataFrame | None,
               townships: np.ndarray, base_year: int, stage_grades: dict[str, tuple[int, int]],
               notes: list[str], place=str) -> set:
    """Township stages some of whose base-year schools have no grade history; a note for each."""
    if school_stages is None or not len(school_stages):
        notes.append("grades.csv：区域没有 school_stages 表，无法核对各乡镇的学校是否都已给出；按已给出的学校相加。")
        return set()
    ss = school_stages.assign(school_id=school_stages["school_id"].astype(str))
    if "year" in ss:
        years = pd.to_numeric(ss["year"], errors="coerce")
        ss = ss[years == (base_year if (years == base_year).any() else years.max())]
    ss = ss[(pd.to_numeric(ss["pupils"], errors="coerce") > 0) & ss["school_id"].isin(town_of.index)]
    ss = ss.assign(township_id=town_of[ss["school_id"]].to_numpy())
    out = set()
    for t in townships:
        mine = sub[sub["area"].map(town_of) == t]
        for stage, (lo, hi) in stage_grades.items():
            need = ss[(ss["township_id"] == t) & (ss["stage"] == stage)]
            have = set(mine.loc[mine["grade"].between(lo, hi), "area"])
            missing = need[~need["school_id"].isin(have)]
            if len(missing) and have:
                share = missing["pupils"].sum() / need["pupils"].sum()
                out.add((t, stage))
                notes.append(f"grades.csv：乡镇“{place(t)}”{STAGE_ZH[stage]}有 {len(missing)} 所学校没有年级历史"
                             f"（{'、'.join(place(i) for i in missing['school_id'].head(5))}，占基年在校生 {share:.0%}）："
                             f"该乡镇{STAGE_ZH[stage]}仍用队列模型。")
    return out
