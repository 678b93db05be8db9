"""Forecast settings: every number the cohort model uses, with its unit and where it comes from.

`ForecastConfig` is the ``[forecast]`` section of a scenario file. Unknown keys are refused
(``extra="forbid"``) and the object cannot be changed after it is built (``frozen=True``), so a
run's settings are exactly what the file says. Each default names its source, or is marked
*assumption* when no public source fixes it; every assumption the model actually relies on in a
run is also reported in the output's ``attrs["assumptions"]``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from xuewei.labels import VARIANT_ZH  # noqa: F401  (part of this module's interface)

Stage = Literal["kindergarten", "primary", "junior", "senior"]
Variant = Literal["low", "mid", "high"]

STAGES: tuple[str, ...] = ("kindergarten", "primary", "junior", "senior")
STAGE_ZH: dict[str, str] = {"kindergarten": "学前", "primary": "小学", "junior": "初中", "senior": "普通高中"}


#: Default 高中阶段毛入学率 and 普高 share whose product is the default senior enrolment ratio.
SENIOR_GROSS_RATE_DEFAULT = 0.918
GENERAL_SENIOR_SHARE_DEFAULT = 0.6

#: Scenario path keys, what they set, and their Chinese names.
PATH_KINDS: dict[str, str] = {
    "public_share": "公办学校在校生占比",
    "inclusive_share": "普惠性幼儿园在园幼儿占比（普惠率）",
    "enrolment_rate": "入学率（学前为毛入园率，高中为高中阶段毛入学率）",
    "general_senior_share": "普通高中占高中阶段在校生的比例",
}


def path_name(kind: str, stage: str) -> str:
    """A target path's name for one stage, as plans name it.

    >>> path_name("enrolment_rate", "kindergarten"), path_name("general_senior_share", "senior")
    ('学前三年毛入园率', '普高占高中阶段在校生的比例')
    >>> path_name("public_share", "primary")
    '小学公办学校在校生占比'
    """
    if kind == "enrolment_rate":
        return {"kindergarten": "学前三年毛入园率", "senior": "高中阶段毛入学率"}.get(stage, f"{STAGE_ZH[stage]}入学率")
    if kind == "general_senior_share":
        return "普高占高中阶段在校生的比例"
    return f"{STAGE_ZH[stage]}{PATH_KINDS[kind]}"


class TargetPath(BaseModel):
    """A policy target as a path: from the base-year value to ``target`` in ``year``, held after.

    All values are fractions (0.55, not 55). ``base`` is the value in the base year; when left out
    it is measured from the base-year school statistics (shares) or taken from the setting it
    changes (rates). ``shape = "linear"`` moves in equal steps to the target year;
    ``"step"`` keeps the base value until the target year and jumps then.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: float = Field(ge=0, le=1.5, description="Value reached in ``year`` [fraction].")
    year: int = Field(ge=1950, le=2150, description="Year the target is reached [年].")
    base: float | None = Field(None, ge=0, le=1.5, description="Base-year value [fraction]; default measured or the setting.")
    shape: Literal["linear", "step"] = Field("linear", description="linear（逐年线性）or step（到目标年一次到位）.")
    source: str = Field("", description="Where the target comes from (plan, table, quote).")

    def value(self, years, base_year: int, base_value: float):
        """The path's value in each of ``years`` [fraction], starting from ``base_value``.

        >>> TargetPath(target=0.55, year=2025).value([2020, 2022, 2025, 2030], 2020, 0.372).round(4).tolist()
        [0.372, 0.4432, 0.55, 0.55]
        """
        import numpy as np

        years = np.asarray(list(years), dtype=float)
        span = self.year - base_year
        if span <= 0:
            return np.where(years >= self.year, self.target, base_value).astype(float)
        if self.shape == "step":
            frac = (years >= self.year).astype(float)
        else:
            frac = np.clip((years - base_year) / span, 0.0, 1.0)
        return base_value + (self.target - base_value) * frac


def _stage_dict(kindergarten, primary, junior, senior):
    return {"kindergarten": kindergarten, "primary": primary, "junior": junior, "senior": senior}


class ForecastConfig(BaseModel):
    """Settings of the demand forecast (the scenario's ``[forecast]`` section).

    All rates are fractions (0.95, not 95). Ages are completed years at the autumn school count.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    # ---- stages -------------------------------------------------------------------------
    primary_entry_age: int = Field(
        6, ge=5, le=8,
        description="小学入学年龄 [岁]。Source: 《义务教育法》第十一条（年满六周岁）。Kindergarten is the "
                    "three ages before it, primary six ages, junior three, senior three.",
    )
    stage_years: dict[Stage, int] = Field(
        default_factory=lambda: _stage_dict(3, 6, 3, 3),
        description="Years of schooling per stage [年]. Source: 学制 6-3-3 with three-year kindergarten; "
                    "set primary=5, junior=4 for a 5-4 county.",
    )

    # ---- births -------------------------------------------------------------------------
    variants: tuple[Variant, ...] = Field(
        ("low", "mid", "high"), description="Fertility variants to run [low|mid|high]."
    )
    births_growth_mid_per_year: float = Field(
        0.0, ge=-0.5, le=0.5,
        description="Mid variant: annual change of births after the last observed year [fraction/年]. "
                    "Assumption: births held at the mean of the last `births_base_years` observed years.",
    )
    births_base_years: int = Field(
        3, ge=1, le=10,
        description="Observed years averaged as the level from which births are projected [年]. Assumption.",
    )
    birth_variant_source: Literal["projection", "offset"] = Field(
        "projection",
        description="Where the low/high births come from: `projection` = the published projection for the "
                    "region's province or country (data/birth_projections.csv: UN WPP 2024 TFR low/medium/high "
                    "for China), as ratios variant ÷ medium applied to the region's own mid births; when no "
                    "projection applies (no Chinese county code), `variant_birth_offset` as for `offset`.",
    )
    variant_birth_offset: dict[Variant, float] = Field(
        default_factory=lambda: {"low": -0.2, "mid": 0.0, "high": 0.2},
        description="Low/high births relative to mid once fully phased in [fraction], used when no published "
                    "projection applies or `birth_variant_source = \"offset\"`. Assumption, in the "
                    "spirit of UN WPP's ±0.5 child variants (about ±20–40% births at China's TFR≈1.0–1.1), "
                    "kept to ±20% for a county horizon.",
    )
    variant_phase_in_years: int = Field(
        5, ge=1, le=30,
        description="Years over which the variant offset grows linearly to its full size [年]. "
                    "Assumption (UN WPP phases its variants in over about 5–10 years).",
    )
    births_series: dict[int, float] | None = Field(
        None,
        description="User series of county births by year [人], replacing the variant projection for the "
                    "years it covers (observed years stay observed); split to townships by their share of "
                    "births over the last `births_base_years` observed years.",
    )

    # ---- survival -----------------------------------------------------------------------
    infant_survival: float = Field(
        0.9955, gt=0.9, le=1.0,
        description="Probability of surviving from birth to age 1 [fraction]. Source: 《2023年我国卫生健康"
                    "事业发展统计公报》婴儿死亡率 4.5‰.",
    )
    child_survival_1_4: float = Field(
        0.99957, gt=0.9, le=1.0,
        description="Annual survival at ages 1–4 [fraction/年]. Source: same bulletin, 5岁以下儿童死亡率 6.2‰ "
                    "minus infant 4.5‰ ≈ 1.7‰ over four years.",
    )
    child_survival_5_18: float = Field(
        0.9998, gt=0.9, le=1.0,
        description="Annual survival at ages 5–18 [fraction/年]. Assumption: ≈0.2‰ child death rate "
                    "(order of magnitude of 5–19 mortality in China, 全国人口普查 life tables).",
    )

    # ---- migration ----------------------------------------------------------------------
    default_net_migration_per_year: float = Field(
        0.0, ge=-0.5, le=0.5,
        description="Net migration rate used where `migration.csv` gives none [fraction of the age group/年]. "
                    "Assumption: 0 (closed population) — reported when used.",
    )
    county_seat_transfer_per_year: float = Field(
        0.0, ge=0.0, le=0.5,
        description="Rural → county-seat transfer: share of children aged 0–18 in townships that are not "
                    "`tier=county_seat` who move to the county-seat township(s) each year [fraction/年]. "
                    "Assumption: 0 unless the scenario sets it (巫溪 plan texts describe 进城就学 without a rate).",
    )

    # ---- enrolment ----------------------------------------------------------------------
    enrolment_ratio: dict[Stage, float] = Field(
        default_factory=lambda: _stage_dict(0.911, 1.0, 0.957, 0.918 * 0.6),
        description="Pupils per resident child of the stage's ages [fraction]. Sources: 学前三年毛入园率 91.1% "
                    "(《2023年全国教育事业发展统计公报》); 小学入学率 100% (公报: 净入学率 99.9%+); 初中 = "
                    "九年义务教育巩固率 95.7% (公报); 普通高中 = 高中阶段毛入学率 91.8% (公报) × 普高占比 0.6 "
                    "(assumption: 普职比大体相当 policy, typical county 6:4).",
    )
    public_share: dict[Stage, float] = Field(
        default_factory=lambda: _stage_dict(0.5, 1.0, 1.0, 1.0),
        description="Share of pupils in public schools (capture rate) [fraction]. Kindergarten 0.5: target "
                    "公办园在园幼儿占比达到50% (《“十四五”学前教育发展提升行动计划》); others assumption 1.0.",
    )
    migrant_children_rate: float = Field(
        0.0, ge=0.0, le=1.0,
        description="随迁子女 added to primary and junior pupils of county-seat townships, as a fraction of "
                    "the resident pupils there [fraction]. Assumption: 0 unless set.",
    )
    calibration: Literal["county", "township", "none"] = Field(
        "county",
        description="Calibrate enrolment ratios to base-year pupils of `school_stages`: per stage for the "
                    "whole county (default, because junior/senior pupils attend schools outside their "
                    "township), per township × stage, or not at all.",
    )
    calibrate_on_public_only: bool = Field(
        True,
        description="Calibrate against public schools' pupils only (when `schools.ownership` is known), "
                    "since the output is public places; the calibrated ratio then includes the public share.",
    )

    paths: dict[Literal["public_share", "inclusive_share", "enrolment_rate", "general_senior_share"],
                dict[Stage, TargetPath]] = Field(
        default_factory=dict,
        description="Policy targets as paths by stage, applied after calibration: ``public_share`` (公办占比), "
                    "``inclusive_share`` (普惠率, kindergarten), ``enrolment_rate`` (入园率, 高中阶段毛入学率, …), "
                    "``general_senior_share`` (普高占比, senior). See `TargetPath`.",
    )

    # ---- housing ------------------------------------------------------------------------
    housing_method: Literal["yield", "per_thousand"] = Field(
        "per_thousand",
        description="Pupils from new dwellings: dwellings × `housing_yield` [pupils/套], or dwellings × "
                    "`persons_per_dwelling` × `places_per_thousand` / 1000 (千人学位指标).",
    )
    housing_yield: dict[Stage, float] = Field(
        default_factory=lambda: _stage_dict(0.08, 0.18, 0.09, 0.07),
        description="Pupils per new dwelling [pupils/套]. Assumption: 千人学位指标 below × 2.62 persons.",
    )
    persons_per_dwelling: float = Field(
        2.62, gt=0, le=10,
        description="Residents per dwelling [人/套]. Source: 第七次全国人口普查 平均家庭户规模 2.62.",
    )
    places_per_thousand: dict[Stage, float] = Field(
        default_factory=lambda: _stage_dict(30.0, 70.0, 35.0, 25.0),
        description="千人学位指标 [places per 1,000 residents]. Assumption: mid-range of values used in "
                    "local 配套教育设施 rules (幼儿园 25–40, 小学 60–80, 初中 30–40, 高中 20–30).",
    )
    housing_lag_years: int = Field(
        1, ge=0, le=5,
        description="Years from completion to occupation [年]. Assumption: pupils arrive the year after "
                    "dwellings are completed.",
    )

    # ---- classes ------------------------------------------------------------------------
    class_cap: dict[Stage, int] = Field(
        default_factory=lambda: _stage_dict(30, 45, 50, 50),
        description="Class-size cap [pupils/班]. Sources: GB 50099-2011《中小学校设计规范》 (完全小学每班45人, "
                    "中学每班50人); kindergarten 30: 建标175-2016《幼儿园建设标准》 小班25/中班30/大班35, mid value.",
    )

    # ---- grade progression --------------------------------------------------------------
    progression_method: Literal["auto", "mean", "weighted", "exp_smooth"] = Field(
        "auto",
        description="Grade-progression-ratio estimator. ``auto`` picks among mean/weighted/exp_smooth and "
                    "their windows by their accuracy on the history only (rolling origins inside it).",
    )
    progression_window: int = Field(
        3, ge=1, le=20, description="Years of ratios used by mean/weighted when not ``auto`` [年]."
    )
    progression_alpha: float = Field(
        0.5, gt=0, le=1, description="Smoothing weight of the latest ratio for exp_smooth [fraction]."
    )

    # ---- bands --------------------------------------------------------------------------
    band_level: float = Field(
        0.8, gt=0, lt=1,
        description="Coverage of the empirical error band [fraction], e.g. 0.8 = 10th–90th percentile of "
                    "backtest errors at each horizon.",
    )
    band_fallback_pct_per_sqrt_year: float = Field(
        2.5, ge=0, le=50,
        description="Half-width of the band when no grade history allows a backtest [% × √horizon]. "
                    "Assumption: about the size of the 1-year error of small-area school forecasts "
                    "(English local authorities: 1.0% at one year for whole authorities, larger for "
                    "planning areas); reported when used.",
    )

    @model_validator(mode="after")
    def _check_dicts(self) -> "ForecastConfig":
        for name in ("enrolment_ratio", "public_share", "class_cap", "housing_yield", "places_per_thousand",
                     "stage_years"):
            missing = [s for s in STAGES if s not in getattr(self, name)]
            if missing:
                raise ValueError(f"{name} 缺少学段 {missing}")
        for stage, value in self.public_share.items():
            if not 0 <= value <= 1:
                raise ValueError(f"public_share.{stage} 应在 0–1 之间，实际为 {value}")
        for stage, value in self.enrolment_ratio.items():
            if not 0 <= value <= 1.5:
                raise ValueError(f"enrolment_ratio.{stage} 应在 0–1.5 之间，实际为 {value}")
        for stage, value in self.class_cap.items():
            if value <= 0:
                raise ValueError(f"class_cap.{stage} 应为正整数，实际为 {value}")
        if set(self.paths.get("general_senior_share", {})) - {"senior"}:
            raise ValueError("general_senior_share 只适用于 senior（普通高中）")
        for kind, by_stage in self.paths.items():
            for stage, path in by_stage.items():
                if kind != "enrolment_rate" and path.target > 1:
                    raise ValueError(f"paths.{kind}.{stage}.target 应在 0–1 之间（比例），实际为 {path.target}")
        if self.primary_entry_age - self.stage_years["kindergarten"] < 0:
            raise ValueError("primary_entry_age 小于学前年数")
        return self

    def stage_ages(self) -> dict[str, tuple[int, int]]:
        """First and last age of each stage [岁], both inclusive.

        >>> ForecastConfig().stage_ages()["junior"]
        (12, 14)
        """
        first = self.primary_entry_age - self.stage_years["kindergarten"]
        out = {}
        for stage in STAGES:
            n = self.stage_years[stage]
            out[stage] = (first, first + n - 1)
            first += n
        return out

    def max_age(self) -> int:
        """Oldest age the model must carry [岁] (last age of senior)."""
        return self.stage_ages()["senior"][1]
