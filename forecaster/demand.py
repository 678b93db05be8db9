"""`forecast_demand`: pupils and places needed by node × stage × year × fertility variant.

Flow (each step a function of its own module):

1. births observed, then projected by variant (`cohort.project_births`);
2. base-year children by single age: from ``population_by_age`` or rebuilt from births;
3. cohort-component projection: survival, net migration, rural → county-seat transfer;
4. pupils = children of the stage's ages × enrolment ratio × public share, calibrated to the
   base-year pupils of ``school_stages``; grade progression ratios replace the ratios for the
   stages a ``grades`` history covers (`grades_link`); 随迁子女;
5. spread to demand nodes by population, plus pupils from new housing at their node;
6. classes and places at the class-size cap; empirical error bands by horizon (`bands`).

Every gap an assumption fills is listed in Chinese in ``df.attrs["assumptions"]``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np
import pandas as pd

from xuewei.errors import InputError, Problem
from xuewei.forecaster.bands import band_factors
from xuewei.data.birth_projections import projection_for
from xuewei.forecaster.cohort import project_births, project_population, survival_by_age
from xuewei.forecaster.config import STAGE_ZH, STAGES, ForecastConfig
from xuewei.forecaster.enrolment import (
    all_ratio, calibration_factors, policy_paths, classes_and_places, enrolment, housing_pupils, migrant_children,
    stage_population,
)
from xuewei.forecaster.grades_link import grade_adjustment
from xuewei.forecaster.inputs import ForecastInputs, check_inputs, split_county_births

log = logging.getLogger("xuewei")

OUTPUT_COLUMNS = ["node_id", "township_id", "stage", "year", "variant", "pupils", "pupils_all", "pupils_public",
                  "pupils_inclusive", "classes_needed", "places_needed", "pupils_lo", "pupils_hi"]


def _net_rates(inputs: ForecastInputs, towns: list[str], n_ages: int, config: ForecastConfig,
               notes: list[str]) -> np.ndarray:
    rate = np.full((len(towns), n_ages), np.nan)
    if inputs.migration is not None:
        index = {t: i for i, t in enumerate(towns)}
        m = inputs.migration
        rows = list(zip(m["township_id"].astype(str).str.strip(), m["age_from"].astype(int), m["age_to"].astype(int),
                        m["net_rate_per_year"].astype(float)))
        # county rows first (every township), then township rows, which override them
        for tid, lo, hi, r in sorted(rows, key=lambda row: row[0] in index):
            if tid in index:
                rate[index[tid], max(lo, 0): min(hi, n_ages - 1) + 1] = r
            elif inputs.is_county(tid):
                rate[:, max(lo, 0): min(hi, n_ages - 1) + 1] = r
    missing = np.isnan(rate)
    if missing.any():
        where = "未提供 migration.csv" if inputs.migration is None else "migration.csv 未覆盖部分乡镇或年龄"
        notes.append(f"{where}：这些乡镇×年龄按净迁移率 {config.default_net_migration_per_year:g}/年 计"
                     f"（{'封闭人口假设' if config.default_net_migration_per_year == 0 else '情景设定'}）。")
    return np.where(missing, config.default_net_migration_per_year, rate)


def _base_population(inputs: ForecastInputs, towns: list[str], base_year: int, n_ages: int,
                     births_obs: pd.DataFrame, town_share: np.ndarray, config: ForecastConfig,
                     notes: list[str]) -> np.ndarray:
    """Children by township and single age in the base year, shape (A, X+1)."""
    surv = survival_by_age(n_ages, config)
    cum = config.infant_survival * np.concatenate([[1.0], np.cumprod(surv[:-1])])  # births → age x
    pba = inputs.population_by_age
    if pba is not None:
        p = pba[pd.to_numeric(pba["year"], errors="coerce") <= base_year]
        town_rows = p[p["area_id"].astype(str).isin(towns)]
        county_rows = p[p["area_id"].map(inputs.is_county)]
        use = town_rows if not town_rows.empty else county_rows
        if not use.empty:
            y0 = int(use["year"].max())
            use = use[use["year"].astype(int) == y0]
            open_age = use.loc[use.get("open_ended", pd.Series(0, index=use.index)).astype(int) == 1, "age"]
            if len(open_age) and int(open_age.min()) < n_ages:
                raise InputError(Problem(file="population_by_age.csv", field="age",
                                         expected=f"开放年龄组起点不低于 {n_ages} 岁", found=str(int(open_age.min()))))
            pop = np.zeros((len(towns), n_ages))
            ages = use["age"].astype(int).to_numpy()
            keep = ages < n_ages
            if use is town_rows:
                ti = pd.Index(towns).get_indexer(use["area_id"].astype(str))
                np.add.at(pop, (ti[keep], ages[keep]), use["persons"].astype(float).to_numpy()[keep])
            else:
                county = np.zeros(n_ages)
                np.add.at(county, ages[keep], use["persons"].astype(float).to_numpy()[keep])
                pop = town_share[:, None] * county[None, :]
                notes.append(f"分年龄人口只有全县数（{y0} 年）：按各乡镇需求点人口占比分到乡镇。")
            if y0 < base_year:
                # age forward with observed births (or earliest/latest observed where missing)
                for year in range(y0 + 1, base_year + 1):
                    newborn = _births_of(births_obs, towns, year)
                    nxt = np.empty_like(pop)
                    nxt[:, 0] = newborn * config.infant_survival
                    nxt[:, 1:] = pop[:, :-1] * surv[:-1]
                    pop = nxt
                notes.append(f"分年龄人口为 {y0} 年：用出生数与存活率推到基年 {base_year}（未计此间迁移）。")
            return pop
    pop = np.zeros((len(towns), n_ages))
    first = births_obs.groupby("township_id")["year"].min().reindex(towns).to_numpy(int)
    filled = False
    for x in range(n_ages):
        year = base_year - x
        b = _births_of(births_obs, towns, year)
        filled |= bool((year < first).any())
        pop[:, x] = b * cum[x]
    if pba is not None and len(pba):  # given, but only for years after the base year
        later = sorted(set(pd.to_numeric(pba["year"], errors="coerce").dropna().astype(int)))
        notes.append(f"分年龄人口（population_by_age.csv）只有 {'、'.join(map(str, later[:5]))} 年，晚于基年 {base_year}，未使用："
                     "基年各年龄儿童由当年出生数×存活率倒推（未计出生后的迁移，基年校准会吸收其影响）。")
        log.warning(notes[-1])
    else:
        notes.append("未提供分年龄人口：基年各年龄儿童由当年出生数×存活率倒推（未计出生后的迁移，基年校准会吸收其影响）。")
    if filled:
        notes.append("出生数年份不足以覆盖基年全部学龄：更早出生年份按各乡镇最早一年的出生数补齐。")
    return pop


def _births_of(births_obs: pd.DataFrame, towns: list[str], year: int) -> np.ndarray:
    """Observed births of ``year`` by township; the nearest observed year where outside the data."""
    out = np.empty(len(towns))
    g = births_obs.groupby("township_id")
    for i, t in enumerate(towns):
        sub = g.get_group(t)
        years = sub["year"].to_numpy(int)
        j = np.argmin(np.abs(years - year))
        out[i] = float(sub["births"].to_numpy(float)[j])
    return out


def forecast_townships(inputs: ForecastInputs, config: ForecastConfig, years: Iterable[int]) -> tuple[pd.DataFrame, dict]:
    """Township × stage × year × variant pupils before the spread to nodes (no housing).

    Returns
    -------
    (DataFrame, dict)
        ``township_id, stage, year, variant, pupils`` and the metadata (assumptions, calibration,
        base year, band factors, node spread) that `forecast_demand` needs.
    """
    inputs, notes = split_county_births(inputs)
    check_inputs(inputs)
    years = sorted({int(y) for y in years})
    births = inputs.births.assign(township_id=inputs.births["township_id"].astype(str),
                                  year=inputs.births["year"].astype(int),
                                  births=inputs.births["births"].astype(float))
    base_year = int(inputs.base_year) if inputs.base_year is not None else int(births["year"].max())
    if not years or years[0] < base_year:
        raise InputError(Problem(file="forecast years", expected=f"不早于基年 {base_year} 的年份", found=str(years[:3])))
    towns = sorted(births["township_id"].unique())
    nodes = inputs.nodes.assign(township_id=inputs.nodes["township_id"].astype(str),
                                node_id=inputs.nodes["node_id"].astype(str),
                                population=inputs.nodes["population"].astype(float))
    town_pop = nodes.groupby("township_id")["population"].sum().reindex(towns).to_numpy(float)
    town_share = town_pop / town_pop.sum() if town_pop.sum() > 0 else np.full(len(towns), 1 / len(towns))
    n_ages = max(config.max_age() + 1, 19)
    end = years[-1]
    proj_years = list(range(base_year + 1, end + 1))
    last_obs = births.groupby("township_id")["year"].max()
    if proj_years:
        projection = projection_for(inputs.admin_code) if config.birth_variant_source == "projection" else None
        ratios = projection.ratios(proj_years, tuple(config.variants)) if projection is not None else None
        pb = project_births(births, proj_years, config, ratios)
        pb = pb.set_index(["variant", "township_id", "year"])["births"]
        bcube = np.stack([pb.loc[v].unstack("year").reindex(index=towns, columns=proj_years).to_numpy(float)
                      for v in config.variants])
        if (last_obs < end).any():
            first_proj = int(last_obs.min()) + 1
            growth = config.births_growth_mid_per_year
            if projection is not None:
                spread = (f"低/高方案 = 中方案 × 已发布预测的低/高方案与中方案之比（逐年；本地出生水平不变，只取预测的高低幅度）："
                          f"{projection.describe((first_proj, first_proj + 5, first_proj + 10))}；"
                          f"{int(projection.years[0])} 年以前各方案相同，{int(projection.years[-1])} 年以后保持该年的比例"
                          f"（总和生育率之比即出生数之比，至育龄妇女仍相同的年份为止）")
            else:
                why = "（区划代码不是中国县级代码，没有适用的已发布预测）" if config.birth_variant_source == "projection" else "（按设置）"
                spread = (f"低/高方案在 {config.variant_phase_in_years} 年内逐步偏离至 "
                          f"{config.variant_birth_offset['low']:+.0%}/{config.variant_birth_offset['high']:+.0%}，为假设{why}")
            notes.append(f"出生数观测到 {int(births['year'].min())}–{int(last_obs.min())} 年：{first_proj} 年起按生育方案推算"
                         f"（中方案 = 最近 {config.births_base_years} 年平均{'，每年变化 ' + format(growth, '+.1%') if growth else '，保持不变'}；"
                         f"{spread}{'；用户出生序列覆盖的年份按该序列' if config.births_series else ''}）。")
    else:
        bcube = np.zeros((len(config.variants), len(towns), 0))
    base = _base_population(inputs, towns, base_year, n_ages, births, town_share, config, notes)
    base = np.broadcast_to(base, (len(config.variants),) + base.shape)
    rates = _net_rates(inputs, towns, n_ages, config, notes)
    tiers = inputs.townships.assign(township_id=inputs.townships["township_id"].astype(str)) \
        .set_index("township_id")["tier"].reindex(towns).astype(str)
    is_seat = (tiers == "county_seat").to_numpy()
    if config.county_seat_transfer_per_year > 0:
        if not is_seat.any():
            notes.append("设定了乡村→县城转移率，但没有 tier=county_seat 的乡镇：未执行转移。")
        else:
            notes.append(f"乡村→县城转移：非县城乡镇 0–{n_ages - 1} 岁人口每年 {config.county_seat_transfer_per_year:.1%} 迁入县城乡镇。")
    pop = project_population(base, bcube, config, rates, is_seat)  # (V, A, Y+1, X+1)
    spop = stage_population(pop, config)  # (V, A, Y+1, 4)
    ratio = np.broadcast_to(all_ratio(config), spop.shape).copy()
    meta: dict = {"base_year": base_year, "calibrated": False, "calibration": {}}
    # ---- calibration of all pupils (public + private) to the base-year statistics
    observed, observed_public = _observed_pupils(inputs, towns, base_year, notes)
    share = np.array([config.public_share[s] for s in STAGES])
    share_measured = np.zeros(len(STAGES), dtype=bool)
    if observed is not None and config.calibration != "none":
        modelled = enrolment(spop[0, :, 0, :], ratio[0, :, 0, :])  # (A, 4)
        county = calibration_factors(modelled.sum(0), np.nansum(observed, 0))
        if config.calibration == "county":
            factor = np.broadcast_to(county, modelled.shape)
        else:
            town = calibration_factors(modelled, observed)
            factor = np.where(np.isfinite(observed) & (np.nan_to_num(observed) > 0), town, county[None, :])
        ratio = ratio * factor[None, :, None, :]
        meta["calibrated"] = True
        meta["calibration"] = {s: round(float(county[i]), 4) for i, s in enumerate(STAGES)}
        text = "，".join(f"{STAGE_ZH[s]}×{county[i]:.3f}" for i, s in enumerate(STAGES))
        notes.append(f"入学率已按 {base_year} 年全部在校生（公办+民办）校准"
                     f"（{'全县' if config.calibration == 'county' else '分乡镇'}，全县系数：{text}）。")
        for i, s in enumerate(STAGES):
            if not 0.5 <= county[i] <= 1.5 and county[i] != 1.0:
                notes.append(f"注意：{STAGE_ZH[s]}校准系数 {county[i]:.2f} 偏离 1 较多，请核对在校生或人口数据。")
        if config.calibrate_on_public_only:
            tot_all, tot_pub = np.nansum(observed, 0), np.nansum(observed_public, 0)
            share_measured = tot_all > 0
            share = np.where(share_measured, tot_pub / np.where(tot_all > 0, tot_all, 1.0), share)
            notes.append("公办占比按基年在校生统计：" + "，".join(
                f"{STAGE_ZH[s]} {share[i]:.1%}" for i, s in enumerate(STAGES) if share_measured[i]) + "。")
    elif observed is None:
        notes.append("未提供基年在校生（school_stages）：入学率、公办比例按配置默认值，未校准。")
    pupils_all = enrolment(spop, ratio)
    # ---- grade progression where a grades history covers a stage
    methods: dict[str, dict[str, str]] = {}  # township → {stage: whose grade history}
    if inputs.grades is not None:
        adj, band_cases = grade_adjustment(inputs, towns, base_year, end, pupils_all, bcube, config, notes, methods)
        pupils_all = pupils_all * adj[None, :, :, :]
    else:
        band_cases = None
    if config.migrant_children_rate > 0:
        if meta["calibrated"]:
            notes.append("已按基年在校生校准（统计已含随迁子女），随迁子女比例不再叠加。")
        else:
            pupils_all = pupils_all + migrant_children(pupils_all, is_seat, config.migrant_children_rate)
            notes.append(f"随迁子女：县城乡镇小学、初中在校生另加 {config.migrant_children_rate:.1%}。")
    # ---- policy targets as paths, after calibration (the base year is left as observed)
    all_years = list(range(base_year, end + 1))
    rate_factor, public, inclusive, path_rows = policy_paths(config, all_years, base_year, share, share_measured, notes)
    pupils_all = pupils_all * rate_factor[None, None, :, :]
    pupils_public = pupils_all * public[None, None, :, :]
    pupils_inclusive = pupils_all * inclusive[None, None, :, :]
    meta["paths"] = path_rows
    meta["grade_methods"] = {t: {g: methods[t][g] for g in STAGES if g in methods[t]} for t in sorted(methods)}
    meta["public_share_base"] = {s: round(float(share[i]), 4) for i, s in enumerate(STAGES)}
    keep = [y - base_year for y in years]
    pupils = pupils_public[:, :, keep, :]
    meta["array_all"] = pupils_all[:, :, keep, :]
    meta["array_inclusive"] = pupils_inclusive[:, :, keep, :]
    meta["bands"] = band_factors(band_cases, [y - base_year for y in years], config, notes)
    meta["notes"] = notes
    meta["towns"] = towns
    meta["years"] = years
    meta["array"] = pupils
    v, a, y, s = np.meshgrid(np.arange(len(config.variants)), np.arange(len(towns)), np.arange(len(years)),
                             np.arange(len(STAGES)), indexing="ij")
    frame = pd.DataFrame({
        "township_id": np.asarray(towns, dtype=object)[a.ravel()],
        "stage": np.asarray(STAGES, dtype=object)[s.ravel()],
        "year": np.asarray(years)[y.ravel()],
        "variant": np.asarray(config.variants, dtype=object)[v.ravel()],
        "pupils": pupils.ravel(),
        "pupils_all": meta["array_all"].ravel(),
    })
    return frame, meta


def _observed_pupils(inputs: ForecastInputs, towns: list[str], base_year: int,
                     notes: list[str]) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Base-year pupils by township × stage from ``school_stages``: all schools and public schools
    (``ownership`` missing = public, as in the region format), NaN = none; (None, None) without data."""
    ss = inputs.school_stages
    if ss is None or inputs.schools is None:
        return None, None
    ss = ss[pd.to_numeric(ss["year"], errors="coerce") == base_year]
    if ss.empty:
        notes.append(f"school_stages.csv 没有基年 {base_year} 的数据：未校准。")
        return None, None
    schools = inputs.schools.assign(school_id=inputs.schools["school_id"].astype(str))
    merged = ss.assign(school_id=ss["school_id"].astype(str)).merge(schools, on="school_id", how="left")
    merged = merged[merged["stage"].isin(STAGES)].assign(pupils=lambda d: d["pupils"].astype(float))
    if "ownership" in merged.columns:
        own = merged["ownership"].astype(str).str.strip()
        merged = merged.assign(public=own.isin(["public", "", "nan", "None"]))
    else:
        merged = merged.assign(public=True)

    def table(df: pd.DataFrame) -> np.ndarray:
        t = df.pivot_table(index="township_id", columns="stage", values="pupils", aggfunc="sum")
        return t.reindex(index=towns, columns=list(STAGES)).to_numpy(float)

    return table(merged), table(merged[merged["public"]])


def forecast_demand(inputs: ForecastInputs, config: ForecastConfig, years: Iterable[int]) -> pd.DataFrame:
    """Pupils, classes and places needed by demand node × stage × year × variant.

    Parameters
    ----------
    inputs : ForecastInputs
        Region tables.
    config : ForecastConfig
        Forecast settings (the scenario's ``[forecast]`` section).
    years : iterable of int
        Output years [年], none before the base year.

    Returns
    -------
    DataFrame
        ``node_id, township_id, stage, year, variant, pupils`` [pupils, real, ≥ 0]: the demand
        the layout plans for = ``pupils_public``; ``pupils_all`` (public + private) and
        ``pupils_inclusive`` (in 普惠 provision) [pupils];
        ``classes_needed`` [班, rounded up per row], ``places_needed`` [places = classes × cap],
        ``pupils_lo, pupils_hi`` [pupils, the empirical band at ``config.band_level``].
        ``attrs``: ``assumptions`` (list of Chinese notes), ``calibrated`` (bool),
        ``calibration`` (county factor per stage), ``base_year``, ``band_level``.

    Raises
    ------
    InputError
        Any table problem (see `inputs.check_inputs`), or years before the base year.
    """
    town_frame, meta = forecast_townships(inputs, config, years)
    towns, years = meta["towns"], meta["years"]
    pupils = meta["array"]  # (V, A, Y, 4)
    nodes = inputs.nodes.assign(township_id=inputs.nodes["township_id"].astype(str),
                                node_id=inputs.nodes["node_id"].astype(str),
                                population=inputs.nodes["population"].astype(float))
    nodes = nodes.sort_values(["township_id", "node_id"], ignore_index=True)
    ti = pd.Index(towns).get_indexer(nodes["township_id"])
    pop = nodes["population"].to_numpy(float)
    town_pop = np.bincount(ti, weights=pop, minlength=len(towns))
    count = np.bincount(ti, minlength=len(towns))
    share = np.where(town_pop[ti] > 0, pop / np.where(town_pop[ti] > 0, town_pop[ti], 1.0), 1.0 / count[ti])
    notes = meta["notes"]
    if (town_pop <= 0).any():
        empty = [towns[i] for i in np.nonzero(town_pop <= 0)[0]]
        notes.append(f"乡镇 {', '.join(empty[:5])} 的需求点人口均为 0：需求在其需求点间平均分配。")
    node_pupils = pupils[:, ti, :, :] * share[None, :, None, None]  # (V, N, Y, 4)
    node_all = meta["array_all"][:, ti, :, :] * share[None, :, None, None]
    node_incl = meta["array_inclusive"][:, ti, :, :] * share[None, :, None, None]
    if inputs.housing is not None and len(inputs.housing):
        hp = housing_pupils(inputs.housing.assign(node_id=inputs.housing["node_id"].astype(str)),
                            nodes["node_id"].tolist(), years, meta["base_year"], config)
        node_pupils = node_pupils + hp[None, :, :, :]  # 千人学位指标: places to reserve in public schools
        node_all = node_all + hp[None, :, :, :]
        node_incl = node_incl + hp[None, :, :, :]
        method = "户数×每户学生数" if config.housing_method == "yield" else "户数×户均人口×千人学位指标"
        notes.append(f"新建住宅带来的学生按{method}计入所在需求点，竣工后 {config.housing_lag_years} 年入住；"
                     f"基年及以前入住的已含在基年在校生中。")
    node_pupils = np.maximum(node_pupils, 0.0)
    node_all = np.maximum(node_all, node_pupils)
    node_incl = np.clip(node_incl, 0.0, node_all)
    lo_f, hi_f = meta["bands"]  # (Y,)
    caps = np.array([config.class_cap[s] for s in STAGES], dtype=float)
    classes, places = classes_and_places(node_pupils, caps)
    n_v, n_n, n_y, n_s = node_pupils.shape
    v = np.repeat(np.arange(n_v), n_n * n_y * n_s)
    rest = np.arange(n_n * n_y * n_s)
    n = np.tile(rest // (n_y * n_s), n_v)
    y = np.tile((rest // n_s) % n_y, n_v)
    s = np.tile(rest % n_s, n_v)
    flat = node_pupils.ravel()
    out = pd.DataFrame({
        "node_id": nodes["node_id"].to_numpy(object)[n],
        "township_id": nodes["township_id"].to_numpy(object)[n],
        "stage": np.asarray(STAGES, dtype=object)[s],
        "year": np.asarray(years)[y],
        "variant": np.asarray(config.variants, dtype=object)[v],
        "pupils": flat,
        "pupils_all": node_all.ravel(),
        "pupils_public": flat,
        "pupils_inclusive": node_incl.ravel(),
        "classes_needed": classes.ravel(),
        "places_needed": places.ravel(),
        "pupils_lo": flat * lo_f[y],
        "pupils_hi": flat * hi_f[y],
    })
    out.attrs = {"assumptions": list(notes), "calibrated": meta["calibrated"], "calibration": meta["calibration"],
                 "base_year": meta["base_year"], "band_level": config.band_level, "paths": meta["paths"],
                 "public_share_base": meta["public_share_base"], "grade_methods": meta["grade_methods"]}
    return out
