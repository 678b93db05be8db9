"""Over-size schools come down along the periods (never silently), and every action tells its story."""

import re

import numpy as np
import pandas as pd
import pytest

from conftest import edit_csv
from xuewei.cli import main
from xuewei.optimizer.actions import derive_actions
from xuewei.optimizer.layout import StageData, solve_layout
from xuewei.optimizer.oversize import limits_table, remaining_share, with_limits
from xuewei.optimizer.policy import PolicyConfig

PERIODS = [2025, 2030, 2035]


def big_school_stage(policy: PolicyConfig) -> StageData:
    """30 villages of 100 primary pupils 1 km from S0 (60 classes, 2,700 pupils today: over the
    2,000 cap) and 6 km from S1 (a school with room to grow)."""
    n = 30
    sites = pd.DataFrame({"site_id": ["S0", "S1"], "name": ["大校", "新区小学"], "kind": "primary", "township_id": "T",
                          "origin": "existing", "c0": [60, 10], "pupils0": [2700.0, 400.0], "K": [60, 48],
                          "beds0": 0.0, "can_add_beds": False, "tier": "township_seat", "force_open": True,
                          "build_fixed": 0.0})
    sites = with_limits(sites, "primary", policy, PERIODS, 2020)
    pn, ps = np.repeat(np.arange(n), 2), np.tile([0, 1], n)
    km = np.where(ps == 0, 1.0, 6.0)
    return StageData(stage="primary", sites=sites, node_ids=np.array([f"N{i:02d}" for i in range(n)]),
                     demand=np.full((n, 3), 100.0), pair_node=pn, pair_site=ps, pair_km=km,
                     pair_boarding=np.zeros(len(pn), bool), years=np.array([5.0, 5.0, 5.0]), periods=PERIODS)


def test_remaining_share_is_linear_to_the_target_year():
    assert remaining_share(PERIODS, 2020, None).tolist() == pytest.approx([2 / 3, 1 / 3, 0.0])
    assert remaining_share(PERIODS, 2020, 2030).tolist() == pytest.approx([0.5, 0.0, 0.0])
    assert remaining_share(PERIODS, 2020, 2020).tolist() == [0.0, 0.0, 0.0]


def test_over_size_school_comes_down_along_the_periods_labelled_shrink_with_its_reason():
    policy = PolicyConfig()
    sd = big_school_stage(policy)
    allowed = limits_table([sd], policy).set_index("period")["allowed_pupils"]
    assert allowed.tolist() == pytest.approx([2000 + 700 * 2 / 3, 2000 + 700 / 3, 2000])  # 2,467, 2,233, 2,000
    res = solve_layout([sd], policy, threads=1)
    big = res.sites[res.sites["site_id"] == "S0"].set_index("period")
    # Whole villages of 100, never above what the school may hold in the period, down to the cap by the
    # last period. How early the villages leave is the reassignment costs' choice (a village that must
    # leave by 2035 may as well leave in 2025 rather than move twice), so only the rules are asserted.
    pupils = big["pupils"].to_numpy()
    assert (pupils <= allowed.to_numpy() + 1e-6).all() and pupils[-1] == pytest.approx(2000.0)
    assert (np.diff(pupils) <= 1e-6).all()
    assert big["classes"].tolist() == [int(np.ceil(p / 45 - 1e-9)) for p in pupils]
    actions = derive_actions(None, res.sites, res.assignments, [sd], policy, 2020)
    a = actions[actions["school_id"] == "S0"].set_index("period")
    assert a.loc[2025, "action_zh"] == "缩减"
    assert {"school_size_cap", "reassigned"} <= set(a.loc[2025, "reason"].split(";"))
    assert set(a["action_zh"]) <= {"缩减", "保留"}
    first = a.loc[2025, "reason_zh"]
    moved = 3000 - pupils[0]  # all 30 villages are nearest to S0
    assert f"小学 60→{big['classes'].iloc[0]} 班" in first and f"2,700→{pupils[0]:,.0f} 人" in first
    assert "school_size_cap.primary = 2000" in first and "本期最多 2,467 人" in first
    # Each village's school today is its nearest (S0): those sent away go to S1 in the first period.
    assert f"{moved:,.0f} 人改去新区小学" in first
    assert a.loc[2025, "pupils_to"] == f"S1:{moved:.0f}"


def test_target_year_in_the_first_period_brings_the_school_down_at_once():
    policy = PolicyConfig(oversize_target_year=2025)
    res = solve_layout([big_school_stage(policy)], policy, threads=1)
    assert res.sites[res.sites["site_id"] == "S0"]["pupils"].tolist() == [2000.0] * 3


def test_a_school_kept_after_a_big_cut_says_when_it_shrank():
    """Cap 1,500 reached in 2025 (60 → 34 classes, −43%): 缩减 in 2025, then 保留 whose sentence says the
    school is far below its base-year classes because of the earlier cut."""
    policy = PolicyConfig(oversize_target_year=2025, school_size_cap={"primary": 1500})
    sd = big_school_stage(policy)
    res = solve_layout([sd], policy, threads=1)
    a = derive_actions(None, res.sites, res.assignments, [sd], policy, 2020)
    a = a[a["school_id"] == "S0"].set_index("period")
    assert a["action_zh"].tolist() == ["缩减", "保留", "保留"] and a["classes_after"].tolist() == [34, 34, 34]
    assert "比基准年" not in a.loc[2025, "reason_zh"]
    for p in (2030, 2035):
        assert a.loc[p, "reason_zh"].endswith("（比基准年 60 班少 43%：此前的规划期已缩减，本期不变）")
    # The same when the school could also take a stage it does not have (a "convert" row with no classes,
    # listed first): the sentence still says when it shrank (a growing county's seat primaries).
    extra = res.sites[res.sites["site_id"] == "S0"].assign(stage="kindergarten", origin="convert", classes_before=0,
                                                           classes=0, classes_built=0, pupils=0.0, open=False)
    sites = pd.concat([extra, res.sites], ignore_index=True)
    b = derive_actions(None, sites, res.assignments, [sd], policy, 2020)
    b = b[b["school_id"] == "S0"].set_index("period")
    assert b["action_zh"].tolist() == ["缩减", "保留", "保留"]
    assert b.loc[2035, "reason_zh"].endswith("（比基准年 60 班少 43%：此前的规划期已缩减，本期不变）")


def test_target_year_by_stage():
    """A plan with different years per stage (江阳: “2023年消除普通高中大班额”): a stage not listed uses
    the last period; the report names each year."""
    policy = PolicyConfig(oversize_target_year={"senior": 2023, "primary": 2030})
    assert (policy.oversize_year("senior"), policy.oversize_year("primary"), policy.oversize_year("junior")) == (
        2023, 2030, None)
    allowed = limits_table([big_school_stage(policy)], policy).set_index("period")["allowed_pupils"]
    assert allowed.tolist() == pytest.approx([2000 + 700 * 0.5, 2000, 2000])
    assert policy.oversize_year_text(2035) == "普通高中 2023 年，小学 2030 年，其余 2035 年"
    assert PolicyConfig(oversize_target_year=2025).oversize_year_text(2035) == "2025 年"
    with pytest.raises(ValueError, match="oversize_target_year 中有未知学段"):
        PolicyConfig(oversize_target_year={"highschool": 2025})


def test_transition_is_marked_in_the_audit():
    from xuewei.optimizer.audit import AuditRules, audit_schools

    schools = pd.DataFrame({"school_id": ["S0"], "stage": ["primary"], "period": [2025], "places": [2430.0],
                            "pupils": [2400.0], "classes": [54], "tier": ["township_seat"]})
    rules = AuditRules(travel_limit_km={"primary": 5.0}, class_cap={"primary": 45},
                       school_size_cap={"primary": 2000}, transition={("S0", "primary", 2025): 2467.0})
    v = audit_schools(schools, rules)
    assert v["rule"].tolist() == ["oversize_transition"]
    assert "过渡期" in v["message"].iloc[0]
    plain = audit_schools(schools, AuditRules(travel_limit_km={"primary": 5.0}, class_cap={"primary": 45},
                                              school_size_cap={"primary": 2000}))
    assert plain["rule"].tolist() == ["school_size"]


# ---- action sequences ------------------------------------------------------------------------

def layout_rows(rows):
    """A layout's site table from ``(site, stage, origin, c0, [classes per period], [pupils per period])``."""
    out = []
    for site, stage, origin, c0, classes, pupils in rows:
        cap = PolicyConfig().class_cap[stage]
        for p, k, n in zip(PERIODS, classes, pupils):
            out.append({"site_id": site, "stage": stage, "period": p, "origin": origin, "open": k > 0,
                        "classes_before": c0, "classes": k, "places": k * cap, "pupils": float(n),
                        "boarding_pupils": 0.0, "boarding_beds": 0.0, "tier": "village"})
    return pd.DataFrame(out)


def stub_stage(stage, sites):
    s = pd.DataFrame(sites)
    return StageData(stage=stage, sites=s, node_ids=np.array([], dtype=object), demand=np.zeros((0, 3)),
                     pair_node=np.array([], dtype=int), pair_site=np.array([], dtype=int), pair_km=np.array([]),
                     pair_boarding=np.array([], dtype=bool), years=np.array([5.0, 5.0, 5.0]), periods=PERIODS)


def site(sid, name, kind, origin, c0, pupils0):
    return {"site_id": sid, "name": name, "kind": kind, "township_id": "T", "origin": origin, "c0": c0,
            "pupils0": pupils0, "K": 48}


def sequence_actions():
    sites = layout_rows([
        ("C1", "primary", "candidate", 0, [6, 6, 4], [250, 240, 170]),  # built, kept, then fewer classes
        ("J1", "junior", "existing", 12, [12, 12, 12], [580, 570, 560]),  # junior school adding senior
        ("J1", "senior", "convert", 0, [6, 6, 6], [290, 280, 270]),
        ("J2", "junior", "existing", 12, [12, 12, 12], [580, 570, 560]),  # junior adding primary and senior
        ("J2", "primary", "convert", 0, [6, 6, 6], [260, 250, 240]),
        ("J2", "senior", "convert", 0, [0, 6, 6], [0, 280, 270]),
        ("P1", "primary", "existing", 6, [6, 6, 6], [250, 240, 230]),  # a primary school opening 附设园
        ("P1", "kindergarten", "convert", 0, [2, 2, 2], [55, 50, 50]),
        ("T1", "primary", "existing", 2, [2, 2, 2], [40, 40, 40]),  # a 教学点 opening a kindergarten class
        ("T1", "kindergarten", "convert", 0, [1, 1, 1], [20, 20, 20]),
    ])
    stage_data = [stub_stage("primary", [site("C1", "新区小学", "candidate", "candidate", 0, 0),
                                         site("J2", "二中", "junior", "convert", 0, 0),
                                         site("P1", "东村小学", "primary", "existing", 6, 260),
                                         site("T1", "西村教学点", "teaching_point", "existing", 2, 40)]),
                  stub_stage("junior", [site("J1", "一中", "junior", "existing", 12, 590),
                                        site("J2", "二中", "junior", "existing", 12, 590)]),
                  stub_stage("senior", [site("J1", "一中", "junior", "convert", 0, 0),
                                        site("J2", "二中", "junior", "convert", 0, 0)]),
                  stub_stage("kindergarten", [site("P1", "东村小学", "primary", "convert", 0, 0),
                                              site("T1", "西村教学点", "teaching_point", "convert", 0, 0)])]
    asg = pd.DataFrame(columns=["node_id", "stage", "period", "school_id", "pupils"])
    return derive_actions(None, sites, asg, stage_data, PolicyConfig(), 2020).set_index(["school_id", "period"])


def test_a_school_built_then_kept_is_never_converted():
    a = sequence_actions()
    assert [a.loc[("C1", p), "action_zh"] for p in PERIODS] == ["新建", "保留", "缩减"]
    assert set(a.loc["C1", "kind_after_zh"]) == {"小学"}
    assert a.loc[("C1", 2035), "reason_zh"].startswith("小学 6→4 班")
    assert (a.loc["C1", "kind"] == "primary").all()  # a candidate site is the kind it opens as


def test_a_conversion_names_the_stages_added_and_only_those():
    a = sequence_actions()
    assert [a.loc[("J1", p), "action_zh"] for p in PERIODS] == ["转变", "保留", "保留"]
    assert "初中 → 完全中学（加办普通高中）" in a.loc[("J1", 2025), "reason_zh"]
    assert a.loc[("J1", 2030), "kind_after_zh"] == "完全中学"
    assert "办学类型" not in a.loc[("J1", 2030), "reason_zh"]
    assert [a.loc[("J2", p), "action_zh"] for p in PERIODS] == ["转变", "转变", "保留"]
    assert "初中 → 九年一贯制（加办小学）" in a.loc[("J2", 2025), "reason_zh"]
    assert "九年一贯制 → 十二年一贯制（加办普通高中）" in a.loc[("J2", 2030), "reason_zh"]
    assert "小学" not in a.loc[("J2", 2030), "reason_zh"].split("（")[1]


def test_a_primary_school_opening_kindergarten_classes_expands():
    a = sequence_actions()
    assert a.loc[("P1", 2025), "action_zh"] == "改扩建"
    assert "加办学前" in a.loc[("P1", 2025), "reason_zh"]
    assert a.loc[("P1", 2025), "kind_after_zh"] == "小学"
    assert a.loc[("T1", 2025), "action_zh"] == "改扩建"
    assert set(a.loc["T1", "kind_after_zh"]) == {"教学点"}


# ---- validate --------------------------------------------------------------------------------

def test_validate_warns_per_school_over_the_caps(tiny, caplog):
    edit_csv(tiny / "school_stages.csv", "S1,primary,2020,24,1080,1010", "S1,primary,2020,24,1080,2100")
    with caplog.at_level("WARNING", logger="xuewei"):
        assert main(["validate", str(tiny)]) == 0
    lines = [r.getMessage() for r in caplog.records if "S1" in r.getMessage()]
    assert len(lines) == 1
    assert "2,100 人" in lines[0] and "school_size_cap.primary = 2000" in lines[0]
    assert "平均班额 88 人" in lines[0] and "超大班额" in lines[0]
    assert not any("S2" in r.getMessage() for r in caplog.records)


# ---- pack tables -----------------------------------------------------------------------------

def test_pack_cells_wrap_to_their_column():
    from xuewei.reports.pack import TABLE_BOX, A4, CELL_PAD, page_breaks, table_layout, text_width_em

    df = pd.DataFrame({"学校": ["宁河初级中学（合成1）"], "班数（前）": [36],
                       "说明": ["小学 42→20 班，学生 2,079→891 人：小学基准年 2,079 人，超过规模上限 "
                                "school_size_cap.primary = 2000 人；1,100 人改去宁河小学（合成1）（600 人）"]})
    widths = [0.1, 0.04, 0.3]
    heads, cells, heights, head_h = table_layout(df, widths, fontsize=7.5)
    for col, w in enumerate(widths):
        room = w * TABLE_BOX[2] * A4[0] * 72 * (1 - 2 * CELL_PAD) / 7.5
        for text in [heads[col], cells[0][col]]:
            assert max(text_width_em(line) for line in text.split("\n")) <= room + 1e-9
    assert "".join(cells[0][2].split("\n")) == df["说明"].iloc[0]  # nothing lost
    assert heights[0] > 0.033 and cells[0][2].count("\n") >= 2
    assert page_breaks([0.1] * 25, 0.06) == [(0, 9), (9, 18), (18, 25)]


def test_no_english_in_the_printed_tables():
    from xuewei.reports.pack_tables import oversize_rows

    a = sequence_actions().reset_index()
    printed = " ".join(a["action_zh"]) + " ".join(a["kind_after_zh"]) + " ".join(a["reason_zh"])
    assert not re.findall(r"\b(?!\w*_)[A-Za-z]{3,}\b", printed)
    assert oversize_rows(a).empty
