"""Grade-history inputs of the backtest: read, check, and lay out as arrays.

``E.csv``: ``area, year, grade, pupils`` (grade 1 = first year of primary, 0 = the year before,
any contiguous range per area). ``B.csv``: ``area, year, births``. Pupils of grade g in year t
were born in year t − (g + entry_age − 1); with the default entry age 6 that is t − (g + 5).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import logging

from xuewei.data.grade_columns import (TOTAL_HEADERS, MeltedGrades, is_total_area, melt_grade_columns,
                                       melt_year_columns)
from xuewei.data.tables import normalise_value, plain_count
from xuewei.errors import InputError, Problem, raise_if
from xuewei.labels import LABEL_READERS
from xuewei.forecaster.progression import GradeCube, ratio_terms
from xuewei.forecaster.tables import (check_duplicates, parse_int_column, read_csv_text, rename_aliases,
                                      require_columns)

log = logging.getLogger("xuewei")

#: A year whose district total departs from the mean of its two neighbours by more than this
#: fraction is treated as a structural break (e.g. ECASD 2020, in-person pupils only: −22%).
BREAK_THRESHOLD = 0.10

#: Other headers accepted (with a warning) for the column names: Chinese, and the English ones
#: published enrolment series use (compared in lower case, spaces and hyphens as "_"); the first
#: the file has is taken.
ALIASES = {"area": ("地区", "区域", "学区", "学校", "学校代码", "学校编号", "乡镇代码", "乡镇编号",
                    # the finest first: a school file often has its district too
                    "school_id", "school_code", "school", "district_id", "district_code", "district", "lea", "county",
                    "region", "state", "school_name", "district_name", "area_name"),
           "year": ("年份", "学年", "年度", "school_year", "schoolyear", "academic_year", "census_year", "year_start"),
           "grade": ("年级", "grade_level", "gradelevel", "grade_name", "level"),
           "pupils": ("在校生数", "在校生", "学生数", "人数", "enrollment", "enrolment", "enrolled", "enrolled_count",
                      "students", "student_count", "headcount", "membership", "count"),
           "births": ("出生人数", "出生数", "出生人口", "live_births", "births_total", "birth_count")}


def _read_labels(df: pd.DataFrame, file: str, column: str) -> pd.DataFrame:
    """Grade names (一年级, 初一, 大班) or year labels (2019年, 2019-2020学年) in ``column`` read as numbers
    (`xuewei.labels`), with a warning."""
    values, note = LABEL_READERS[column](df[column].tolist())
    if not note:
        return df
    log.warning("文件 %s 字段“%s”：%s。", file, column, note)
    return df.assign(**{column: values})


def check_enrollment(df: pd.DataFrame, file: str, may_stop: frozenset[str] = frozenset()) -> pd.DataFrame:
    """Validate an ``area, year, grade, pupils`` table and return it typed.

    A table with one column per grade (``地区, 学年, 一年级, 二年级, …, 合计``) is read as those rows,
    with a warning (`xuewei.data.grade_columns.melt_grade_columns`); problems name the file's own
    row and column.

    Parameters
    ----------
    may_stop : set of str
        Areas (schools) whose grades may end before their last year: a school that stops teaching a
        grade (its pupils go to another school) rather than a record that is missing.

    Raises
    ------
    InputError
        Missing columns, non-integer or negative counts, duplicate keys, or a grade that stops before
        its area's last year. A year without records inside an area's span (all grades, or some)
        is accepted with a warning: it is not observed (`holes`).
    """
    stacked = df.attrs.get("stacked")  # a workbook kept one sheet per year
    melted = None
    try:
        df, melted = melt_grade_columns(rename_aliases(df, file, ALIASES), file)
        return _check_tidy_enrollment(df, file, may_stop)
    except InputError as err:  # rows and columns of the file, not of the tidy rows
        _raise_remapped(err, melted, stacked)


#: Area of a table without an area column: the whole county (read as such by `xuewei run`).
WHOLE_AREA = "全县"


def _one_area(df: pd.DataFrame, file: str, columns: list[str]) -> pd.DataFrame:
    """A table with every column but ``area`` is one area's series (a single district or county):
    read as `WHOLE_AREA`, with a warning."""
    if "area" in df.columns or not set(columns) <= set(df.columns):
        return df
    log.warning("文件 %s 没有地区列（area）：按一个地区（%s）的序列读取。", file, WHOLE_AREA)
    return df.assign(area=WHOLE_AREA)


#: Grade labels of pupils in no grade (ungraded special education …): left out, with a warning.
UNGRADED = frozenset({"ug", "ungraded", "ungradedspecialed", "ungradedspeced", "ungradedspecialeducation",
                      "未分年级", "不分年级", "特教", "特教班", "特殊教育"})


def _grade_rows(df: pd.DataFrame, file: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split off the rows whose grade is a total (合计, Total) or no grade (UG, 未分年级): the table
    without them, and the total rows (to be checked against the grades)."""
    key = df["grade"].map(normalise_value)
    total, ungraded = key.isin(TOTAL_HEADERS | {"all", "allgrades", "全部"}), key.isin(UNGRADED)
    if ungraded.any():
        n = pd.to_numeric(df.loc[ungraded, "pupils"].astype(str).map(plain_count), errors="coerce").sum()
        log.warning("文件 %s：%d 行不属于任何年级（如第 %d 行“%s”，共 %s 人），不读入（升级比法按年级推算）。", file,
                    int(ungraded.sum()), int(np.flatnonzero(ungraded.to_numpy())[0]) + 2, df.loc[ungraded, "grade"].iloc[0],
                    f"{n:,.0f}")
    return df[~(total | ungraded)], df[total]


def _check_totals(out: pd.DataFrame, totals: pd.DataFrame, file: str) -> None:
    """Warn about the total rows of a tidy table: how many, and whether each equals its area-year's grades."""
    if totals.empty:
        return
    year, _ = LABEL_READERS["year"](totals["year"].tolist())
    given = pd.to_numeric(totals["pupils"].astype(str).map(plain_count), errors="coerce").to_numpy()
    sums = out.groupby(["area", "year"])["pupils"].sum()
    keys = list(zip(totals["area"].astype(str).str.strip(), pd.to_numeric(pd.Series(year), errors="coerce")))
    off = [i for i, k in enumerate(keys) if k in sums.index and given[i] != sums[k]]
    check = ("都等于该地区该年各年级之和" if not off else
             f"有 {len(off)} 行不等于各年级之和（如第 {int(totals.index[off[0]]) + 2} 行：{given[off[0]]:,.0f} 对 "
             f"{sums[keys[off[0]]]:,.0f}；合计常含学前、未分年级的学生），请核对")
    log.warning("文件 %s：%d 个合计行（年级为“%s”）%s；不读入。", file, len(totals), totals["grade"].iloc[0], check)


def _check_tidy_enrollment(df: pd.DataFrame, file: str, may_stop: frozenset[str]) -> pd.DataFrame:
    df = _one_area(df, file, ["year", "grade", "pupils"])
    require_columns(df, file, ["area", "year", "grade", "pupils"])
    df, totals = _grade_rows(df, file)
    kept = MeltedGrades(rows=df.index.to_numpy() + 2, headers=[])  # problems point at the file's rows
    try:
        return _check_graded(df.reset_index(drop=True), totals, file, may_stop)
    except InputError as err:
        raise InputError(kept.remap(err.problems)) from None


def _check_graded(df: pd.DataFrame, totals: pd.DataFrame, file: str, may_stop: frozenset[str]) -> pd.DataFrame:
    df = _read_labels(_read_labels(df, file, "grade"), file, "year")
    problems: list[Problem] = []
    area = df["area"].astype(str).str.strip()
    for i in np.nonzero((area == "").to_numpy())[0][:10]:
        problems.append(Problem(file=file, row=int(i) + 2, field="area", expected="非空的地区名", found="（空）"))
    year = parse_int_column(df, file, "year", problems, what="年份（整数）")
    grade = parse_int_column(df, file, "grade", problems, what="年级（整数）")
    pupils = parse_int_column(df, file, "pupils", problems, nonnegative=True, what="整数人数")
    raise_if(problems)
    out = pd.DataFrame({"area": area.to_numpy(), "year": year, "grade": grade, "pupils": pupils})
    check_duplicates(out, file, ["area", "year", "grade"], problems)
    raise_if(problems)
    if out.empty:
        raise InputError(Problem(file=file, expected="至少一行数据", found="空表"))
    _check_totals(out, totals, file)
    out = drop_total_areas(out, file)
    late_areas: list[str] = []
    for name, sub in out.groupby("area", sort=True):
        years = np.sort(sub["year"].unique())
        grades = np.sort(sub["grade"].unique())
        if grades[-1] - grades[0] + 1 != len(grades):
            gap = sorted(set(range(int(grades[0]), int(grades[-1]) + 1)) - set(grades.tolist()))
            problems.append(Problem(file=file, field="grade", expected=f"地区“{name}”的年级连续",
                                    found=f"缺少年级 {gap}"))
        # A grade may start after the area's first year (a new school adding a grade a year, a new
        # district): before its first pupils it is absent, not zero. Once present it must go on.
        first = sub.groupby("grade")["year"].min()
        span = sub.groupby("grade")["year"].agg(["min", "max", "nunique"])
        stopped = span[(span["max"] < years[-1])] if name not in may_stop else span.iloc[:0]
        for g, row in stopped.head(10).iterrows():
            problems.append(Problem(file=file, field="grade", expected=f"地区“{name}”年级 {g} 出现后每年都有（至 {years[-1]} 年）",
                                    found=f"{int(row['max'])} 年以后缺少", hint="队列中断：请补齐该年级人数。"))
        late = first[first > years[0]]
        if len(late):
            late_areas.append(f"“{name}”的年级 {'、'.join(f'{g}（{y} 年起）' for g, y in late.head(6).items())}"
                              f"（该地区首年 {years[0]}）")
    raise_if(problems)
    if late_areas:  # one warning, however many schools opened grades late
        log.warning("文件 %s：%d 个地区有晚于该地区首年才有记录的年级（新开办或逐年增设年级），如%s：之前的年份视为没有该年级，"
                    "不按 0 计，也不评分。", file, len(late_areas), "；".join(late_areas[:3]))
    # A year without records inside an area's span (not published, lost): not observed, neither
    # zero nor an error (`holes`).
    cube = GradeCube.from_frame(out)
    gaps = holes(cube.pupils)
    gap_areas = [f"地区“{cube.areas[a]}”缺少 {'、'.join(str(y) for y in cube.years[gaps[a]][:8])} 年的"
                 f"{'全部' if np.isnan(cube.pupils[a, gaps[a]]).all() else '部分年级'}记录"
                 for a in np.flatnonzero(gaps.any(axis=1))]
    if gap_areas:
        log.warning("文件 %s：%s：这些年份该地区视为未观测——不参与拟合、不评分；起点落在这些年份时该地区不预测、不计入合计。",
                    file, "；".join(gap_areas[:5]) + (f"（共 {len(gap_areas)} 个地区）" if len(gap_areas) > 5 else ""))
    return out


def drop_total_areas(out: pd.DataFrame, file: str) -> pd.DataFrame:
    """Leave out rows of an area named as a total (合计, 全县 …) beside other areas, with a warning
    saying whether it equals their sum year by year and grade by grade (it would count twice).

    An area so named that is the only one is the data itself and is kept.

    >>> e = pd.DataFrame({"area": ["A", "B", "合计"], "year": 2020, "grade": 1, "pupils": [3, 4, 7]})
    >>> drop_total_areas(e, "E.csv")["area"].tolist()
    ['A', 'B']
    """
    names = out["area"].unique()
    totals = [a for a in names if is_total_area(a)]
    if not totals or len(totals) == len(names):
        return out
    rest = out[~out["area"].isin(totals)]
    sums = rest.groupby(["year", "grade"])["pupils"].sum()
    for a in totals:
        own = out[out["area"] == a].set_index(["year", "grade"])["pupils"]
        common = own.index.intersection(sums.index)
        off = (own[common] - sums[common]).abs() > 0
        check = (f"与其他地区之和逐年、逐年级一致（{len(common)} 处）" if not off.any() else
                 f"与其他地区之和有 {int(off.sum())} 处不一致（如 {off[off].index[0][0]} 年 {off[off].index[0][1]} 年级："
                 f"{own[off[off].index[0]]} 对 {sums[off[off].index[0]]}），请核对")
        log.warning("文件 %s：地区“%s”是各地区的合计，%s；不作为一个地区读入（否则学生会算两次）。", file, a, check)
    return rest.reset_index(drop=True)


def holes(pupils: np.ndarray) -> np.ndarray:
    """Area-years (A, T) inside an area's span with no record of a grade the area already has.

    Parameters
    ----------
    pupils : ndarray, shape (A, T, G)
        Pupils by area, year and grade, NaN = no record (`GradeCube.pupils`).

    Returns
    -------
    ndarray of bool, shape (A, T)
        True where the area has records before and after the year but none that year, or none of a
        grade that has records before and after it (a grade starts with its first record and ends
        with its last: a new school adding a grade a year, or a school that stops teaching a grade,
        has no hole).

    Examples
    --------
    >>> p = np.array([[[10, 9], [np.nan, np.nan], [12, 10], [11, np.nan], [12, 11]]], dtype=float)
    >>> holes(p).astype(int).tolist()
    [[0, 1, 0, 1, 0]]
    >>> holes(np.array([[[np.nan, 5], [6, 5], [7, 6]]], dtype=float)).astype(int).tolist()  # grade 0 starts later
    [[0, 0, 0]]
    >>> holes(np.array([[[4, 5], [6, 5], [7, np.nan]]], dtype=float)).astype(int).tolist()  # grade 1 stops
    [[0, 0, 0]]
    """
    seen = np.isfinite(pupils)
    any_t = seen.any(axis=2)  # (A, T)
    n_year = pupils.shape[1]
    t = np.arange(n_year)
    first = np.where(any_t.any(axis=1), any_t.argmax(axis=1), n_year)
    last = np.where(any_t.any(axis=1), n_year - 1 - any_t[:, ::-1].argmax(axis=1), -1)
    inside = (t[None, :] >= first[:, None]) & (t[None, :] <= last[:, None])
    started = np.maximum.accumulate(seen, axis=1)  # (A, T, G): the grade has had a record by t
    goes_on = np.maximum.accumulate(seen[:, ::-1], axis=1)[:, ::-1]  # ... and has one at t or later
    return inside & (~any_t | (started & goes_on & ~seen).any(axis=2))


def check_births(df: pd.DataFrame, file: str) -> pd.DataFrame:
    """Validate an ``area, year, births`` table and return it typed (years contiguous per area); a
    table with one column per year (``地区, 2016年, 2017年, …``) is read as those rows, with a warning."""
    stacked = df.attrs.get("stacked")
    melted = None
    try:
        df, melted = melt_year_columns(rename_aliases(df, file, ALIASES), file, "area", "births")
        return _check_tidy_births(df, file)
    except InputError as err:
        _raise_remapped(err, melted, stacked)


def _raise_remapped(err: InputError, *maps) -> None:
    """Raise ``err`` with its rows and columns pointed back through each layout step that moved them
    (one column per grade or year: `MeltedGrades`; one sheet per year: `StackedSheets`)."""
    problems = err.problems
    for m in maps:
        if m is not None:
            problems = m.remap(problems)
    if problems is err.problems:
        raise err
    raise InputError(problems) from None


def _check_tidy_births(df: pd.DataFrame, file: str) -> pd.DataFrame:
    df = _one_area(df, file, ["year", "births"])
    require_columns(df, file, ["area", "year", "births"])
    df = _read_labels(df, file, "year")
    problems: list[Problem] = []
    area = df["area"].astype(str).str.strip()
    year = parse_int_column(df, file, "year", problems, what="年份（整数）")
    births = parse_int_column(df, file, "births", problems, nonnegative=True, what="整数出生人数")
    raise_if(problems)
    out = pd.DataFrame({"area": area.to_numpy(), "year": year, "births": births})
    check_duplicates(out, file, ["area", "year"], problems)
    raise_if(problems)
    if out.empty:
        raise InputError(Problem(file=file, expected="至少一行数据", found="空表"))
    for name, sub in out.groupby("area", sort=True):
        years = np.sort(sub["year"].to_numpy())
        missing = sorted(set(range(int(years[0]), int(years[-1]) + 1)) - set(years.tolist()))
        for y in missing[:10]:
            problems.append(Problem(file=file, field="year", expected=f"地区“{name}”出生年份连续",
                                    found=f"缺少 {y} 年"))
    raise_if(problems)
    return out


def read_enrollment(path: str | Path) -> pd.DataFrame:
    """Read and validate ``E.csv``."""
    return check_enrollment(read_csv_text(path), str(path))


def read_births(path: str | Path) -> pd.DataFrame:
    """Read and validate ``B.csv``."""
    return check_births(read_csv_text(path), str(path))


def detect_break_years(enrollment: pd.DataFrame, threshold: float = BREAK_THRESHOLD) -> tuple[int, ...]:
    """Years whose total pupils jump away from both neighbours and come back (transient breaks).

    Each year is compared with its neighbours over the areas that have data in all three years, so
    an area whose history starts or ends later than the others (a school opened, merged, or not yet
    reported) does not make a year look like a break.

    Parameters
    ----------
    enrollment : DataFrame
        ``area, year, grade, pupils``.
    threshold : float
        Relative departure from the mean of the previous and next year's totals [fraction].

    Returns
    -------
    tuple of int
        Break years; the first and last years cannot be judged and are never returned.

    Examples
    --------
    >>> e = pd.DataFrame({"area": "A", "year": [2018, 2019, 2020, 2021], "grade": 1,
    ...                   "pupils": [100, 101, 70, 99]})
    >>> detect_break_years(e)
    (2020,)
    >>> b = pd.DataFrame({"area": "B", "year": [2018, 2019], "grade": 1, "pupils": [100, 100]})
    >>> detect_break_years(pd.concat([e.assign(pupils=[100, 101, 102, 99]), b]))  # B ends in 2019
    ()
    """
    wide = enrollment.groupby(["area", "year"])["pupils"].sum().unstack("year").sort_index(axis=1)
    years = wide.columns.to_numpy()
    values = wide.to_numpy(float)  # areas × years, NaN where an area has no data
    flagged: set[int] = set()
    while True:  # flag the worst departure first, then judge the rest without it
        good = [i for i in range(len(years)) if i not in flagged]
        worst, worst_dev = None, threshold
        for k in range(1, len(good) - 1):
            trio = [good[k - 1], good[k], good[k + 1]]
            present = np.isfinite(values[:, trio]).all(axis=1)
            if not present.any():
                continue
            before, now, after = values[present][:, trio].sum(axis=0)
            neighbours = (before + after) / 2
            dev = abs(now / neighbours - 1) if neighbours > 0 else 0.0
            if dev > worst_dev:
                worst, worst_dev = good[k], dev
        if worst is None:
            break
        flagged.add(worst)
    return tuple(int(years[i]) for i in sorted(flagged))


@dataclass
class History:
    """A grade history laid out for projection.

    Attributes
    ----------
    cube : GradeCube
        Pupils ``[area, year, grade]`` (NaN where an area does not exist or lacks the grade).
    breaks : ndarray of bool, shape (T,)
        Years excluded as structural breaks (NaN-ed in ``pupils_fit``).
    entry_index : ndarray of int, shape (A,)
        Position of each area's lowest grade on the grade axis.
    lag : ndarray of int, shape (A,)
        Years from birth to the area's entry grade [年].
    births : ndarray or None, shape (A, NB)
        Births by area and birth year ``birth_years`` [persons]; NaN = not given.
    birth_years : ndarray or None
        Birth years of ``births`` (consecutive).
    notes : list of str
        Chinese notes on every assumption made while laying out the data.
    """

    cube: GradeCube
    breaks: np.ndarray
    entry_index: np.ndarray
    lag: np.ndarray
    births: np.ndarray | None = None
    #: (A, T) area-years without records inside the area's span (`holes`; all NaN in ``cube``)
    gaps: np.ndarray | None = None
    birth_years: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def pupils_fit(self) -> np.ndarray:
        """Pupils with break years set to NaN (what fitting may look at)."""
        out = self.cube.pupils.copy()
        out[:, self.breaks, :] = np.nan
        return out

    @property
    def totals(self) -> np.ndarray:
        """Pupils per area and year summed over grades, NaN where the area has no data [pupils]."""
        p = self.cube.pupils
        present = ~np.isnan(p).all(axis=2)
        return np.where(present, np.nansum(p, axis=2), np.nan)

    def ratio_terms(self) -> tuple[np.ndarray, np.ndarray]:
        """Numerators and denominators of progression ratios, break years excluded."""
        return ratio_terms(self.cube.pupils, self.breaks)


def build_history(enrollment: pd.DataFrame, births: pd.DataFrame | None, entry_age: int,
                  break_years: tuple[int, ...], births_file: str = "births") -> History:
    """Lay out checked tables as arrays and match births to areas.

    Births of an area are used for that area. If the births file has a single area and it
    matches none of the enrolment areas (e.g. district births with school-level pupils), that one
    series is used for every area, and a note says so; the births→entry ratio absorbs the share.

    Raises
    ------
    InputError
        Enrolment areas without births when births are given for several areas.
    """
    cube = GradeCube.from_frame(enrollment)
    gaps = holes(cube.pupils)
    cube.pupils[gaps] = np.nan  # a year with some grades missing is not observed at all (its total would be short)
    breaks = np.isin(cube.years, list(break_years))
    first_grade = enrollment.groupby("area")["grade"].min().reindex(cube.areas).to_numpy(int)
    entry_index = first_grade - cube.grades[0]
    lag = first_grade + entry_age - 1
    notes: list[str] = []
    hist = History(cube, breaks, entry_index, lag, notes=notes, gaps=gaps)
    if gaps.any():
        a = np.flatnonzero(gaps.any(axis=1))
        notes.append(f"{len(a)} 个地区有缺少记录的年份（如“{cube.areas[a[0]]}” {', '.join(str(y) for y in cube.years[gaps[a[0]]][:5])} 年）："
                     f"视为未观测，不按 0 计——不参与拟合（进出该年的升级比剔除）、不评分；起点落在这些年份时该地区不预测，"
                     f"合计也不计入该地区（预测与实际都不计）。")
    first_year = enrollment.groupby(["area", "grade"])["year"].min()
    area_first = enrollment.groupby("area")["year"].min()
    late = first_year[first_year.to_numpy() > area_first.reindex(first_year.index.get_level_values(0)).to_numpy()]
    if len(late):
        areas = late.index.get_level_values(0).unique()
        notes.append(f"{len(areas)} 个地区有晚于该地区首年才开设的年级（新开办或逐年增设年级，如“{areas[0]}”）：开设前的年份"
                     f"视为没有该年级，不按 0 计、不评分；预测中该年级在下一年级的学生升入时开始有人。")
    if births is None:
        return hist
    b_areas = sorted(births["area"].unique())
    b_years = np.arange(int(births["year"].min()), int(births["year"].max()) + 1)
    table = births.pivot(index="area", columns="year", values="births").reindex(columns=b_years)
    matched = [a for a in cube.areas if a in table.index]
    if len(matched) < len(cube.areas):
        if len(b_areas) == 1 and not matched:
            row = table.loc[b_areas[0]].to_numpy(float)
            mat = np.tile(row, (len(cube.areas), 1))
            notes.append(f"出生数只有一个地区（{b_areas[0]}），与入学数据的地区不同名：各地区共用这一出生序列，"
                         f"出生→入学比例按地区分别估计（吸收各地区所占份额）。")
        else:
            lacking = [a for a in cube.areas if a not in table.index]
            raise InputError([Problem(file=births_file, field="area", expected=f"含入学数据中的地区“{a}”",
                                      found="无此地区", hint="出生数按地区给出时须覆盖入学数据的每个地区。")
                              for a in lacking[:20]])
    else:
        mat = table.reindex(cube.areas).to_numpy(float)
    hist.births, hist.birth_years = mat, b_years
    return hist
