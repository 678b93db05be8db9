"""Use a pupils-by-grade history (``grades.csv``) for the stages it covers.

For each area of ``grades.csv`` (a township id, or the county's admin code for the whole county)
the grade-progression model of `backtest.Engine` projects its grades from the last observed
year, with the entry grade fed by the area's births (observed, then the mid variant) and the
ratio method chosen by its past accuracy. For each stage whose grades the history covers, the
ratio of that projection to the cohort model's mid-variant pupils of the area becomes a factor
applied to the area's townships in every variant. The same history is backtested to give the
empirical error bands.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from xuewei.errors import InputError, Problem
from xuewei.forecaster.backtest import Engine, ModelChoice, run_backtest
from xuewei.forecaster.config import STAGE_ZH, STAGES, ForecastConfig
from xuewei.forecaster.history import build_history, check_enrollment, detect_break_years
from xuewei.forecaster.inputs import ForecastInputs
from xuewei.forecaster.progression import RatioMethod

BAND_HORIZON = 5  #: longest horizon backtested for the bands [年]

log = logging.getLogger("xuewei")


def stage_grades(config: ForecastConfig) -> dict[str, tuple[int, int]]:
    """Grades of each stage (grade 1 = first year of primary).

    >>> stage_grades(ForecastConfig())["kindergarten"], stage_grades(ForecastConfig())["junior"]
    ((-2, 0), (7, 9))
    """
    shift = config.primary_entry_age - 1
    return {s: (lo - shift, hi - shift) for s, (lo, hi) in config.stage_ages().items()}


def grade_adjustment(inputs: ForecastInputs, towns: list[str], base_year: int, end: int, pupils: np.ndarray,
                     births_proj: np.ndarray, config: ForecastConfig, notes: list[str],
                     methods: dict[str, dict[str, str]] | None = None) -> tuple[np.ndarray, pd.DataFrame | None]:
    """Factors (A, Y+1, 4) for the cohort pupils of years base … end, and the backtest cases; ``methods``
    (if given) gets, per township, each stage forecast from a grade history and whose history it was
    (``township``, ``schools`` — its schools summed —, or ``county``).

    Raises
    ------
    InputError
        An unknown area, or a stage only partly covered by an area's grades.
    """
    from xuewei.forecaster.school_grades import area_ids_for_names, school_areas, sum_schools_by_township

    raw = area_ids_for_names(inputs.grades, [(inputs.townships, "township_id"), (inputs.schools, "school_id")], towns)
    by_school = school_areas(raw, inputs.schools, towns, inputs.admin_code)
    grades = check_enrollment(raw, "grades.csv", may_stop=by_school)
    sg = stage_grades(config)
    uncovered: set = set()  # (township, stage) whose schools are not all in grades.csv
    summed: set = set()  # townships whose history is the sum of their schools'
    if by_school:
        grades, uncovered, school_notes = sum_schools_by_township(grades, inputs.schools, inputs.school_stages, towns,
                                                                  base_year, sg, inputs.place)
        notes.extend(school_notes)
        town_of = dict(zip(inputs.schools["school_id"].astype(str), inputs.schools["township_id"].astype(str)))
        summed = {town_of[i] for i in by_school}
    adj = np.ones(pupils.shape[1:])

    areas = sorted(grades["area"].unique())
    whole = [a for a in areas if inputs.is_county(a)]
    if whole and len(whole) < len(areas):  # the county's rows beside its townships' would count twice
        msg = (f"grades.csv：全县（“{'”、“'.join(whole)}”）与乡镇（或学校）的年级历史同时给出：按乡镇用，全县的行不读入"
               "（否则同一批学生会算两次）。")
        notes.append(msg)
        log.warning(msg)
        grades = grades[~grades["area"].isin(whole)]
        areas = [a for a in areas if a not in whole]
    members: dict[str, list[int]] = {}
    problems = []
    for area in areas:
        if area in towns:
            members[area] = [towns.index(area)]
        elif inputs.is_county(area):  # 500238, 巫溪县, 全县, 合计
            members[area] = list(range(len(towns)))
        else:
            problems.append(Problem(file="grades.csv", field="area", expected="学校编号（见于 schools）、乡镇编号，或全县（县行政区划代码、县名、“全县”）",
                                    found=area, hint="已撤并、不在 schools 表中的学校，请把它的人数并入接收学校，或按乡镇给出。"))
    covered: dict[str, list[str]] = {}
    for area in members:
        have = set(grades.loc[grades["area"] == area, "grade"].tolist())
        covered[area] = []
        for s in STAGES:
            need = set(range(sg[s][0], sg[s][1] + 1))
            if (area, s) in uncovered:
                continue
            if need <= have:
                covered[area].append(s)
            elif need & have and area in summed:  # e.g. only the township's 教学点 (grades 1-3)
                msg = (f"grades.csv：乡镇“{inputs.place(area)}”各校相加只有{STAGE_ZH[s]}年级 {sorted(need & have)}，"
                       f"不全：该乡镇{STAGE_ZH[s]}仍用队列模型。")
                notes.append(msg)
                log.warning(msg)
            elif need & have:
                problems.append(Problem(file="grades.csv", field="grade",
                                        expected=f"地区“{area}”{STAGE_ZH[s]}的全部年级 {sg[s][0]}–{sg[s][1]}",
                                        found=f"只有 {sorted(need & have)}", hint="年级范围须覆盖整个学段。"))
    if problems:
        raise InputError(problems)
    # births per area: observed up to the base year, mid variant after it
    mid = list(config.variants).index("mid") if "mid" in config.variants else 0
    obs = inputs.births.assign(township_id=inputs.births["township_id"].astype(str))
    wide = obs.pivot_table(index="township_id", columns="year", values="births", aggfunc="sum").reindex(towns)
    wide = wide.loc[:, [c for c in wide.columns if c <= base_year]]
    first = int(min(wide.columns))
    proj = pd.DataFrame(births_proj[mid], index=towns, columns=range(base_year + 1, base_year + 1 + births_proj.shape[2]))
    full = pd.concat([wide, proj], axis=1).reindex(columns=range(first, max(end, base_year) + 1))
    full = full.T.ffill().bfill().T  # a township whose births stop early keeps its last value
    rows = [(area, int(y), float(full.iloc[members[area]][y].sum())) for area in members for y in full.columns]
    births = pd.DataFrame(rows, columns=["area", "year", "births"])
    breaks = detect_break_years(grades)
    hist = build_history(grades, births, config.primary_entry_age, breaks, births_file="births.csv")
    notes.extend(f"grades.csv：{n}" for n in hist.notes)  # late grades, years without records
    # one group per stage: persistence's share of the combination follows how much of each stage's
    # pupils are cohorts not yet in school (`Engine.cell_prior`)
    groups = np.full(len(hist.cube.grades), -1)
    for si, s in enumerate(STAGES):
        groups[(hist.cube.grades >= sg[s][0]) & (hist.cube.grades <= sg[s][1])] = si
    engine = Engine(hist, births_are_known=True, groups=groups, births_observed_until=int(wide.columns.max()))
    years = hist.cube.years
    c = len(years) - 1
    last_year = int(years[-1])
    steps = max(end - last_year, 0)
    if config.progression_method == "auto":
        horizon = min(BAND_HORIZON, max(c, 1))
        if steps:
            fc, _, combination = engine.predict(c, c + steps, horizon)
            method = combination.label()
        else:
            method = "无需外推"
    else:
        m = RatioMethod(config.progression_method, config.progression_window, config.progression_alpha)
        choice = ModelChoice(m, m)
        method = f"{choice.label()}，按设置"
        if steps:
            fc = engine.forecast(c, c + steps, choice)[0]
    if not steps:
        fc = np.zeros((len(hist.cube.areas), 0, len(hist.cube.grades)))
    used, unseen = [], {}
    for ai, area in enumerate(hist.cube.areas):
        idx = members[area]
        for s in covered[area]:
            si = STAGES.index(s)
            gi = np.arange(sg[s][0], sg[s][1] + 1) - hist.cube.grades[0]
            applied = False
            for k in range(pupils.shape[2]):
                year = base_year + k
                if year <= last_year:
                    t = year - int(years[0])
                    cells = hist.cube.pupils[ai, t, gi] if t >= 0 else np.full(len(gi), np.nan)
                else:
                    cells = fc[ai, year - last_year - 1, gi]
                # An area whose history stops before the others' last year has no projection from
                # the common launch year: it keeps the cohort model there (never 0 pupils).
                if not np.isfinite(cells).any():
                    unseen.setdefault((ai, area), set()).add(year)
                    continue
                target = np.nansum(cells)
                cohort = pupils[mid, idx, k, si].sum()
                if cohort > 0:
                    adj[idx, k, si] = target / cohort
                    applied = True
            if applied:
                used.append(f"{inputs.place(area)}:{STAGE_ZH[s]}")
                source = "county" if len(idx) > 1 or area not in towns else "schools" if area in summed else "township"
                for i in idx if methods is not None else ():
                    methods.setdefault(towns[i], {})[s] = source
    if unseen:
        for (ai, area), yrs in unseen.items():
            seen = np.flatnonzero(np.isfinite(hist.totals[ai]))
            own = int(years[seen[-1]]) if len(seen) else None
            gap = sorted(y for y in yrs if own is not None and y <= own)
            after = sorted(y for y in yrs if own is None or y > own)
            parts = ([f"缺少 {'、'.join(map(str, gap))} 年的记录"] if gap else []) + (
                [f"年级历史止于 {own} 年，早于其他地区的 {last_year} 年"] if after else [])
            msg = (f"grades.csv：地区“{inputs.place(area)}”{'；'.join(parts)}：{'、'.join(map(str, sorted(yrs)))} 年该地区"
                   f"不用年级升级比法，沿用队列模型（按出生数与迁移）。")
            notes.append(msg)
            log.warning(msg)
    listed = "、".join(used[:8]) + (f"等 {len(used)} 个" if len(used) > 8 else "")
    notes.append(f"有分年级历史的学段（{listed or '无'}）改用年级升级比法（{method}），"
                 f"以其与队列模型中方案之比调整各方案；{last_year} 年以后的入口年级由出生数（基年后为中方案）推算。")
    if breaks:
        notes.append(f"年级历史中 {', '.join(map(str, breaks))} 年视为结构断点，不参与拟合。")
    origins = [int(y) for y in years[2:-1] if not np.isin(y, breaks)]
    cases = None
    if origins:
        try:
            cases = run_backtest(hist, origins, BAND_HORIZON).cases
            cases = cases[(cases["level"] == "area") & (cases["method"] == "model")]
        except InputError:
            cases = None
    return adj, cases
