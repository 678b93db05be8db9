"""The layout policy: the scenario's ``[policy]`` section, with defaults from ``data/standards.toml``.

Every default is a national standard or a marked assumption (see `xuewei.data.standards`); a
planner overrides any of them in the scenario file. Units are in the field names.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from xuewei.data.roads import ROAD_CLASSES
from xuewei.data.standards import standard

STAGES = ("kindergarten", "primary", "junior", "senior")
TIERS = ("county_seat", "cluster_centre", "central_town", "township_seat", "village")


def _std(key: str):
    return lambda: dict(standard(key)) if isinstance(standard(key), dict) else standard(key)


def _class_caps() -> dict:
    return {g: standard(f"class_cap.{g}") for g in STAGES}


def _costs(key: str) -> dict:
    return dict(standard(f"cost_wan_yuan.{key}"))


class PolicyConfig(BaseModel):
    """Layout policy. Stage keys: kindergarten, primary, junior, senior."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    class_cap: dict[str, int] = Field(default_factory=_class_caps,
                                      description="班额上限 [人/班]；缺省 GB 50099-2011 与《幼儿园工作规程》")
    travel_limit_km: dict[str, float] = Field(default_factory=_std("travel_limit_rural_km"),
                                              description="走读路程上限 [km]（直线×绕行系数）；超出须寄宿")
    boarding_limit_km: dict[str, float] = Field(
        default_factory=lambda: {"primary": 40.0, "junior": 80.0, "senior": 200.0},
        description="寄宿生路程上限 [km]（assumption：县域内均可寄宿）")
    base_reach_km: dict[str, float] = Field(
        default_factory=lambda: {"kindergarten": 15.0, "primary": 20.0, "junior": 30.0, "senior": 60.0},
        description="现状生源的最远路程 [km]（assumption）：一所学校的基准年在校生不能全由走读距离内（有床位时寄宿距离内）"
                    "的村落位时，校准可把本县内更远、不超过此路程的村的学生算作它的现状生源（城镇学校确实招收远处的农村孩子）。"
                    "这些学生以后可留在原校（记为“现状远距离就读”，不算违规），模型也可把他们调到更近的学校；0 为不用")
    boarding_stages: list[str] = Field(default=["primary", "junior", "senior"],
                                       description="允许寄宿的学段（幼儿园不寄宿）")
    detour_factor: float = Field(default_factory=_std("detour_factor"), gt=0,
                                 description="路程/直线距离；按路网计算时只用于道路图层不连通的村–校对")
    use_roads: bool = Field(default=True,
                            description="区域包有道路图层（roads.geojson 等）时按路网计算路程和用时；false 则仍用直线距离×绕行系数")
    max_travel_min: dict[str, float] = Field(
        default_factory=dict,
        description="走读用时上限 [分钟]，如 {primary = 40}：与 travel_limit_km 同时生效，超出任一项须寄宿；"
                    "只在按路网计算时可用（需要道路图层）")
    road_speed_kmh: dict[str, float] = Field(
        default_factory=_std("road_speed_kmh"),
        description="各道路等级的平均行程车速 [km/h]（assumption，见 data/standards.toml）；道路图层的车速列优先")
    walk_speed_kmh: float = Field(default_factory=_std("walk_speed_kmh"), gt=0,
                                  description="村、学校到最近道路一段的步行速度 [km/h]（assumption）")
    eligible_tiers: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "kindergarten": list(TIERS),
            "primary": ["county_seat", "cluster_centre", "central_town", "township_seat"],
            "junior": ["county_seat", "cluster_centre", "central_town"],
            "senior": ["county_seat"],
        },
        description="“一就近四集中”：各学段新建、扩建学位允许的聚落层级；village 指不在乡镇驻地的村")
    boarding_tiers: list[str] = Field(default=["county_seat", "cluster_centre", "central_town", "township_seat"],
                                      description="可新增寄宿床位的聚落层级（资源向寄宿制学校集中）")
    seat_radius_km: float = Field(default=3.0, gt=0,
                                  description="学校距乡镇驻地不超过此距离即视为位于驻地 [km]（assumption）")
    max_classes: dict[str, int] = Field(
        default_factory=lambda: {"kindergarten": 18, "primary": 48, "junior": 48, "senior": 80},
        description="单校单学段班数上限 [班]（assumption，参照规模上限；现有学校不低于现状）")
    school_size_cap: dict[str, int] = Field(default_factory=_std("school_size_cap"),
                                            description="学校规模上限 [人]，用于审计")
    oversize_target_year: int | dict[str, int] | None = Field(
        default=None,
        description="现有学校超过规模上限（大校额）或按标准班额容纳不下（大班额）的部分逐期降低，到此年份降到上限 [年]："
                    "每期允许的在校生从基准年人数线性降到上限（超出部分的学生分流到其他学校，动作记为“缩减”）。"
                    "缺省为最后一个规划期（“逐步消除”）；规划写明“到2025年消除大班额”时设为 2025；不晚于第一个规划期即一步到位；"
                    "规划对各学段年份不同时按学段给出，如 { senior = 2023 }（未列出的学段用最后一个规划期）")
    small_school_pupils: dict[str, int] = Field(
        default_factory=lambda: {"kindergarten": 30, "primary": 100, "junior": 150, "senior": 500},
        description="小规模学校标记线 [人]（assumption；只标记，是否撤并由模型按距离与成本决定）")
    seat_school_stages: list[str] = Field(
        default=["kindergarten", "primary", "junior"],
        description="这些学段在其允许层级的每个乡镇驻地至少保留（或新建）一所学校：乡镇中心幼儿园、乡镇中心小学、"
                    "中心镇初中（“一就近四集中”）")
    closable_below_pupils: dict[str, int] = Field(
        default_factory=lambda: {"kindergarten": 100, "primary": 200, "junior": 300, "senior": 0},
        description="只有基准年在校生低于此数的现有学校纳入撤并比选 [人]；更大的学校保留（可增减班数）。"
                    "assumption：撤并的对象是小规模学校；设为很大的数则所有学校都可撤并")
    county_bound_stages: list[str] = Field(
        default=list(STAGES),
        description="这些学段的学生只在本区县（乡镇表的 county_id）内就读：义务教育“以县为主”，划片不跨区县；"
                    "市直高中面向全市招生时把 senior 去掉。区域没有 county_id 时不起作用")
    keep_existing: bool = Field(default=False, description="为 true 时现有学校一律保留（不撤并）")
    close_below_pupils: dict[str, int] = Field(
        default_factory=dict, description="按办学类型强制撤并的在校生下限 [人]，如 {teaching_point = 10}")
    build_per_class_wan_yuan: dict[str, float] = Field(default_factory=lambda: _costs("build_per_class"))
    expand_per_class_wan_yuan: dict[str, float] = Field(default_factory=lambda: _costs("expand_per_class"))
    village_kindergarten: bool = Field(
        default=False,
        description="允许在任何村新建村级幼儿园（“一村一幼”，如乐山、凉山的做法），供走读距离内无园的村选择")
    village_kindergarten_max_classes: int = Field(default=3, ge=1, description="村级幼儿园最多班数 [班]")
    village_kindergarten_fixed_wan_yuan: float = Field(
        default=50.0, ge=0, description="新建村级幼儿园的固定投资 [万元]（assumption：利用村级公共用房改造）")
    build_fixed_wan_yuan: float = Field(default=500.0, ge=0, description="新建学校的固定投资 [万元]（assumption）")
    running_per_class_year_wan_yuan: dict[str, float] = Field(
        default_factory=lambda: _costs("running_per_class_year"))
    running_per_school_year_wan_yuan: float = Field(
        default=30.0, ge=0, description="每校（每学段）年固定运行费 [万元/年]（assumption：校舍维护、后勤、管理）")
    boarding_per_pupil_year_wan_yuan: float = Field(default_factory=_std("cost_wan_yuan.boarding_per_pupil_year"), ge=0)
    travel_per_pupil_km_year_wan_yuan: float = Field(
        default_factory=_std("cost_wan_yuan.travel_per_pupil_km_year"), ge=0)
    class_change_wan_yuan: float = Field(
        default=2.0, ge=0,
        description="一所学校每增减一个班的调整成本 [万元/班]（assumption：师资调配、学生转学的代价）；"
                    "使各期班数不无谓地来回变动")
    bed_wan_yuan: float = Field(default=2.0, ge=0, description="新增一张寄宿床位的投资 [万元/床]（assumption）")
    reassign_per_pupil_wan_yuan: float = Field(
        default_factory=_std("cost_wan_yuan.reassign_per_pupil"), ge=0,
        description="一名学生换校（离开上一期或基准年就读的学校）的代价 [万元/人]（assumption，见 data/standards.toml）；"
                    "使各村学生留在原校，除非原校撤并、转变、学位不足或新校明显更好；设为 0 则不计")
    reassign_per_village_wan_yuan: float = Field(
        default_factory=_std("cost_wan_yuan.reassign_per_village"), ge=0,
        description="一个村（划片单元）一个学段离开仍开办的原校、改划到另一所学校的固定代价 [万元/次]"
                    "（assumption，见 data/standards.toml：公示、听证、校车线路调整），与人数无关；使必须分流时改划的村尽量少")
    catchment_unit_share: float = Field(
        default=0.5, gt=0,
        description="大村（社区）分片：一个划片单元的需求峰值不超过一所学校可容纳人数（规模上限与班数上限×班额中较小者）"
                    "的此比例，超过的村按人数均分成几片，各片可去不同学校（assumption）")
    budget_wan_yuan: list[float] | None = Field(default=None,
                                                description="每个规划期的投资上限 [万元]；一个数用于各期")
    unserved_penalty_wan_yuan: float = Field(default=200.0, gt=0,
                                             description="每名未安排学生的惩罚 [万元]：足够大，使模型只在别无办法时才不安排")
    design_variant: Literal["low", "mid", "high"] = Field(default="mid", description="按哪个预测方案确定学位")
    single_source: bool = Field(default=True, description="每个村每学段只去一所学校（划片）")
    k_nearest: int = Field(default=6, ge=1, description="每个村保留的最近走读学校数")
    k_boarding: int = Field(default=3, ge=0, description="每个村保留的最近寄宿学校数")

    @model_validator(mode="before")
    @classmethod
    def _merge_partial_tables(cls, data):
        """``[policy.class_cap] primary = 40`` changes only that stage; the others keep their defaults."""
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for name, field in cls.model_fields.items():
            if isinstance(out.get(name), dict) and field.default_factory is not None:
                default = field.default_factory()
                if isinstance(default, dict):
                    out[name] = {**default, **out[name]}
        return out

    @model_validator(mode="after")
    def _known_stages(self):
        for name in ("class_cap", "travel_limit_km", "boarding_limit_km", "base_reach_km", "eligible_tiers", "max_classes",
                     "build_per_class_wan_yuan", "expand_per_class_wan_yuan", "running_per_class_year_wan_yuan"):
            unknown = set(getattr(self, name)) - set(STAGES)
            if unknown:
                raise ValueError(f"{name} 中有未知学段 {sorted(unknown)}；学段为 {', '.join(STAGES)}")
        positive = ("class_cap", "travel_limit_km", "max_classes", "school_size_cap")
        non_negative = ("boarding_limit_km", "base_reach_km", "small_school_pupils", "closable_below_pupils", "close_below_pupils",
                        "build_per_class_wan_yuan", "expand_per_class_wan_yuan", "running_per_class_year_wan_yuan")
        for name in positive + non_negative:
            bad = {k: v for k, v in getattr(self, name).items() if v < 0 or (name in positive and v == 0)}
            if bad:
                raise ValueError(f"{name} 的取值应为{'正数' if name in positive else '非负数'}，实际为 {bad}")
        if self.budget_wan_yuan is not None and any(b < 0 for b in self.budget_wan_yuan):
            raise ValueError(f"budget_wan_yuan 不能为负数，实际为 {self.budget_wan_yuan}")
        for name in ("class_cap", "travel_limit_km", "max_classes"):
            missing = set(STAGES) - set(getattr(self, name))
            if missing:
                raise ValueError(f"{name} 缺少学段 {sorted(missing)}")
        bad_tiers = {t for tiers in self.eligible_tiers.values() for t in tiers} - set(TIERS)
        if bad_tiers:
            raise ValueError(f"eligible_tiers 中有未知层级 {sorted(bad_tiers)}；层级为 {', '.join(TIERS)}")
        for name in ("boarding_stages", "seat_school_stages", "county_bound_stages"):
            unknown = set(getattr(self, name)) - set(STAGES)
            if unknown:
                raise ValueError(f"{name} 中有未知学段 {sorted(unknown)}；学段为 {', '.join(STAGES)}")
        if isinstance(self.oversize_target_year, dict):
            unknown = set(self.oversize_target_year) - set(STAGES)
            if unknown:
                raise ValueError(f"oversize_target_year 中有未知学段 {sorted(unknown)}；学段为 {', '.join(STAGES)}")
        unknown = set(self.max_travel_min) - set(STAGES)
        if unknown:
            raise ValueError(f"max_travel_min 中有未知学段 {sorted(unknown)}；学段为 {', '.join(STAGES)}")
        bad = {k: v for k, v in {**self.max_travel_min, **self.road_speed_kmh}.items() if not v > 0}
        if bad:
            raise ValueError(f"max_travel_min 与 road_speed_kmh 的取值应为正数，实际为 {bad}")
        unknown = set(self.road_speed_kmh) - set(ROAD_CLASSES)
        if unknown:
            raise ValueError(f"road_speed_kmh 中有未知道路等级 {sorted(unknown)}；等级为 {', '.join(ROAD_CLASSES)}")
        if "kindergarten" in self.boarding_stages:
            raise ValueError("幼儿园不寄宿：boarding_stages 不能含 kindergarten")
        return self

    def oversize_year(self, stage: str) -> int | None:
        """The year by which ``stage``'s over-size schools reach the limits (None: the last period)."""
        if isinstance(self.oversize_target_year, dict):
            return self.oversize_target_year.get(stage)
        return self.oversize_target_year

    def oversize_year_text(self, last_period: int) -> str:
        """Chinese wording of the target year(s) for reports, e.g. ``2025 年`` or ``普通高中 2023 年，其余 2025 年``."""
        from xuewei.labels import STAGE_ZH

        if not isinstance(self.oversize_target_year, dict):
            return f"{self.oversize_target_year or last_period} 年"
        parts = [f"{STAGE_ZH.get(g, g)} {y} 年" for g, y in self.oversize_target_year.items()]
        return "，".join(parts) + (f"，其余 {last_period} 年" if set(self.oversize_target_year) != set(STAGES) else "")

    def budget_for(self, n_periods: int) -> list[float] | None:
        if self.budget_wan_yuan is None:
            return None
        if len(self.budget_wan_yuan) == 1:
            return self.budget_wan_yuan * n_periods
        if len(self.budget_wan_yuan) != n_periods:
            raise ValueError(f"budget_wan_yuan 应有 1 个或 {n_periods} 个数（每个规划期一个）")
        return list(self.budget_wan_yuan)
