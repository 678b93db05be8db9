"""Catchments: base-year calibration, catchment units, the reassignment cost and the change report."""

import numpy as np
import pandas as pd
import pytest

from xuewei.optimizer.catchments import BaseFlows, calibrate_flows, catchment_units, change_report
from xuewei.optimizer.layout import StageData, solve_layout
from xuewei.optimizer.policy import PolicyConfig


def _line(village_x, school_x):
    """Distances [km] between points on a line."""
    return np.abs(np.asarray(village_x, float)[:, None] - np.asarray(school_x, float)[None, :])


def _flows(f: BaseFlows) -> dict:
    return {(int(n), int(s)): round(float(p), 6) for n, s, p in zip(f.node, f.site, f.pupils)}


def test_calibration_reproduces_enrolment_town_school_takes_rural_children():
    """Town school A (x = 0 km, 120 pupils), village school B (x = 4 km, 30 pupils); the town has 100
    pupils, the village 50. The least-distance flows that fill both schools: town → A 100, village →
    A 20 (the rural children in the town school), village → B 30."""
    km = _line([0, 4], [0, 4])
    f = calibrate_flows(km, km <= 5, np.zeros_like(km, bool), [100, 50], [120, 30], [0, 0])
    assert _flows(f) == {(0, 0): 100.0, (1, 0): 20.0, (1, 1): 30.0}
    assert f.placed.tolist() == pytest.approx([120, 30])
    assert f.unplaced.tolist() == pytest.approx([0, 0])


def test_pupils_beyond_reach_are_reported_and_a_shortfall_is_shared():
    # School C (x = 50 km) is beyond the day limit and has no beds: none of its 40 pupils can be placed.
    km = _line([0], [0, 0, 50])
    f = calibrate_flows(km, km <= 5, (km > 5) & (km <= 60), [100], [100, 100, 40], [0, 0, 0])
    assert f.placed.tolist() == pytest.approx([50, 50, 0])  # two schools, 100 pupils in reach: half each
    assert (f.school_pupils - f.placed).tolist() == pytest.approx([50, 50, 40])


def test_boarders_only_where_there_are_beds_and_up_to_them():
    km = _line([0, 30], [0])  # the village is 30 km away: it can only board
    board = (km > 5) & (km <= 40)
    f = calibrate_flows(km, km <= 5, board, [50, 60], [100], [20])
    assert _flows(f) == {(0, 0): 50.0, (1, 0): 20.0}
    f = calibrate_flows(km, km <= 5, board, [50, 60], [100], [0])
    assert _flows(f) == {(0, 0): 50.0}


def test_units_follow_the_flows_and_large_villages_are_split():
    flows = BaseFlows(node=np.array([0, 0, 1]), site=np.array([0, 1, 1]), pupils=np.array([60.0, 40.0, 30.0]),
                      school_pupils=np.array([60.0, 70.0]), placed=np.array([60.0, 70.0]),
                      village_pupils=np.array([100.0, 50.0, 0.0]), unplaced=np.array([0.0, 20.0, 0.0]))
    peak = np.array([110.0, 2500.0, 10.0])
    u = catchment_units(flows, peak, unit_limit=1000.0)
    # Village 0: 60 % to school 0, 40 % to school 1. Village 1: 30 of 50 to school 1 (60 %), 20 with
    # no school (40 %); its peak of 2,500 makes 1,500 and 1,000 pupils: split into 2 and 1 units.
    # Village 2 has no pupils today: one unit without a base school.
    assert u.node.tolist() == [0, 0, 1, 1, 1, 2]
    assert u.base_site.tolist() == [0, 1, -1, 1, 1, -1]
    assert u.share.tolist() == pytest.approx([0.6, 0.4, 0.4, 0.3, 0.3, 1.0])
    assert (u.share * peak[u.node]).max() <= 1000.0
    assert np.bincount(u.node, weights=u.share).tolist() == pytest.approx([1, 1, 1])


def test_tiny_flows_join_the_village_main_flow():
    flows = BaseFlows(node=np.array([0, 0]), site=np.array([0, 1]), pupils=np.array([99.8, 0.2]),
                      school_pupils=np.array([99.8, 0.2]), placed=np.array([99.8, 0.2]),
                      village_pupils=np.array([100.0]), unplaced=np.array([0.0]))
    u = catchment_units(flows, np.array([100.0]), np.inf)
    assert u.base_site.tolist() == [0] and u.share.tolist() == pytest.approx([1.0])


def _two_schools(travel_rate: float, reassign: float):
    """One unit of 40 pupils attending S0 (3 km) today; S1 (0.5 km) is open with room. Both schools
    must stay open, classes cost nothing to change."""
    sites = pd.DataFrame({"site_id": ["S0", "S1"], "origin": "existing", "c0": [2, 2], "K": [4, 4], "beds0": 0.0,
                          "can_add_beds": False, "tier": "township_seat", "force_open": True, "build_fixed": 0.0,
                          "name": "x", "kind": "primary", "township_id": "T", "pupils0": [40, 50]})
    sd = StageData(stage="primary", sites=sites, node_ids=np.array(["N0", "N1"]),
                   demand=np.array([[40.0, 40.0], [50.0, 50.0]]), pair_node=np.array([0, 0, 1]),
                   pair_site=np.array([0, 1, 1]), pair_km=np.array([3.0, 0.5, 0.0]),
                   pair_boarding=np.zeros(3, bool), years=np.array([5.0, 5.0]), periods=[2025, 2030],
                   base_site=np.array([0, 1]), base_pupils=np.array([40.0, 50.0]))
    policy = PolicyConfig(class_change_wan_yuan=0.0, travel_per_pupil_km_year_wan_yuan=travel_rate,
                          reassign_per_pupil_wan_yuan=reassign, reassign_per_village_wan_yuan=0.0)
    return sd, policy


def _school_of_n0(res) -> list:
    a = res.assignments
    return a[a["node_id"] == "N0"].sort_values("period")["school_id"].tolist()


def test_reassignment_cost_keeps_pupils_at_their_school():
    """The default costs (2 万元 a pupil, 20 万元 a village) keep them too."""
    # Moving saves 2.5 km × 40 pupils × 0.004 万元 × 5 years = 2 万元 a period; staying costs nothing.
    sd, policy = _two_schools(travel_rate=0.004, reassign=0.0)
    assert _school_of_n0(solve_layout([sd], policy, threads=1)) == ["S1", "S1"]  # free to move: it moves
    sd, policy = _two_schools(travel_rate=0.004, reassign=0.5)  # 0.5 万元 × 40 = 20 万元 > 2 万元
    res = solve_layout([sd], policy, threads=1)
    assert _school_of_n0(res) == ["S0", "S0"]
    defaults = PolicyConfig(class_change_wan_yuan=0.0)
    assert (defaults.reassign_per_pupil_wan_yuan, defaults.reassign_per_village_wan_yuan) == (2.0, 100.0)
    assert _school_of_n0(solve_layout([_two_schools(0.004, 0.0)[0]], defaults, threads=1)) == ["S0", "S0"]


def test_a_clearly_better_school_wins_over_stability():
    # At 1 万元 per pupil-km-year the move saves 500 万元 a period, far above the 20 万元 it costs.
    sd, policy = _two_schools(travel_rate=1.0, reassign=0.5)
    res = solve_layout([sd], policy, threads=1)
    assert _school_of_n0(res) == ["S1", "S1"]
    changes = change_report(res.units, res.sites, [sd], policy)
    assert changes[["node_id", "period", "from_school", "to_school", "reason"]].values.tolist() == [
        ["N0", 2025, "S0", "S1", "nearer"]]
    assert changes["pupils"].tolist() == pytest.approx([40.0])


@pytest.mark.parametrize("s0_open,cost", [(True, 0.5 * 50 + 7.0), (False, 0.0)])
def test_the_objective_counts_pupils_leaving_a_school_still_open(s0_open, cost):
    """N0's 50 pupils cannot stay at S0: it stays open at one class (45 places), or it may host nobody.
    Leaving a school still open costs 0.5 万元 a pupil and 7 万元 a village in 2025; leaving a school
    that closes is free."""
    def objective(reassign):
        sd, policy = _two_schools(travel_rate=0.004, reassign=reassign)
        policy = policy.model_copy(update={"reassign_per_village_wan_yuan": 7.0 if reassign else 0.0})
        sd.demand[0] = 50.0
        sd.sites.loc[0, ["c0", "K", "force_open"]] = [1, 1, True] if s0_open else [1, 0, False]
        res = solve_layout([sd], policy, threads=1)
        assert _school_of_n0(res) == ["S1", "S1"]
        assert res.sites.set_index(["site_id", "period"])["open"][("S0", 2025)] == s0_open
        return res.summary["objective_wan_yuan"].iloc[0]

    assert objective(0.5) - objective(0.0) == pytest.approx(cost)


def _units(rows):
    cols = ["stage", "part", "unit", "node_id", "period", "school_id", "pupils", "distance_km", "base_school",
            "base_km"]
    return pd.DataFrame(rows, columns=cols)


def _sites(rows):
    return pd.DataFrame(rows, columns=["site_id", "stage", "period", "origin", "open", "pupils"])


def test_change_report_names_the_reason_of_each_change():
    g = "primary"
    units = _units([
        (g, 0, 0, "N0", 2025, "B", 40, 2.0, "A", 1.0),   # A closes in 2025: 原校撤并
        (g, 0, 1, "N1", 2025, "B", 30, 1.0, "B", 1.0),   # stays
        (g, 0, 1, "N1", 2030, "C", 30, 0.5, "B", 1.0),   # C opens in 2030 and is nearer: 新校更近
        (g, 0, 2, "N2", 2025, "B", 90, 3.0, "D", 1.0),   # D (limit 90) is full in 2025: 原校学位不足
        (g, 0, 3, "N3", 2025, "D", 20, 1.0, "B", 2.0),   # D nearer than B, B still open: 就近调整
        (g, 0, 4, "N4", 2025, "", 10, np.nan, "B", 1.0),  # unserved: 未能安排
    ])
    sites = _sites([("A", g, 2025, "existing", False, 0), ("A", g, 2030, "existing", False, 0),
                    ("B", g, 2025, "existing", True, 160), ("B", g, 2030, "existing", True, 130),
                    ("C", g, 2025, "candidate", False, 0), ("C", g, 2030, "candidate", True, 30),
                    ("D", g, 2025, "existing", True, 80), ("D", g, 2030, "existing", True, 80)])
    sd = StageData(stage=g, sites=pd.DataFrame({"site_id": ["A", "B", "C", "D"], "K": [4, 10, 4, 2]}),
                   node_ids=np.array([]), demand=np.zeros((0, 2)), pair_node=np.array([], int),
                   pair_site=np.array([], int), pair_km=np.array([]), pair_boarding=np.array([], bool),
                   years=np.array([5.0, 5.0]), periods=[2025, 2030])
    policy = PolicyConfig(class_cap={"primary": 45}, school_size_cap={"primary": 2000})
    out = change_report(units, sites, [sd], policy)
    got = {(r.node_id, r.period): (r.from_school, r.to_school, r.reason, r.reason_zh) for r in out.itertuples()}
    assert got == {("N0", 2025): ("A", "B", "closed", "原校撤并"),
                   ("N1", 2030): ("B", "C", "new_nearer", "新校更近"),
                   ("N2", 2025): ("D", "B", "full", "原校学位不足"),
                   ("N3", 2025): ("B", "D", "nearer", "就近调整"),
                   ("N4", 2025): ("B", "", "unserved", "未能安排")}


def _big_town(n_schools: int):
    """One community of 2,500 primary pupils (above the 2,000 size cap of one school), cut into
    catchment units of at most 0.5 × 2,000 by `catchment_units`, and ``n_schools`` schools of 48
    classes (2,160 places) next to it."""
    flows = BaseFlows(node=np.zeros(0, int), site=np.zeros(0, int), pupils=np.zeros(0),
                      school_pupils=np.zeros(n_schools), placed=np.zeros(n_schools), village_pupils=np.zeros(1),
                      unplaced=np.zeros(1))
    units = catchment_units(flows, np.array([2500.0]), unit_limit=0.5 * 2000)
    U = len(units.node)
    pn, ps = np.repeat(np.arange(U), n_schools), np.tile(np.arange(n_schools), U)
    sites = pd.DataFrame({"site_id": [f"S{j}" for j in range(n_schools)], "origin": "existing", "c0": 40, "K": 48,
                          "beds0": 0.0, "can_add_beds": False, "tier": "county_seat", "force_open": True,
                          "build_fixed": 0.0, "name": "x", "kind": "primary", "township_id": "T", "pupils0": 0})
    sd = StageData(stage="primary", sites=sites, node_ids=np.array(["BIG"] * U),
                   demand=units.share[:, None] * np.array([[2500.0]]), pair_node=pn, pair_site=ps,
                   pair_km=np.full(len(pn), 1.0), pair_boarding=np.zeros(len(pn), bool), years=np.array([5.0]),
                   periods=[2025], base_site=units.base_site, base_pupils=units.base_pupils)
    return sd, PolicyConfig()


def test_a_community_larger_than_one_school_is_served_by_several():
    sd, policy = _big_town(n_schools=2)
    assert len(sd.node_ids) == 3  # 2,500 pupils in units of at most 1,000
    res = solve_layout([sd], policy, threads=1)
    assert res.unserved.empty
    a = res.assignments  # per village: one row per school, with the share going there
    assert a["node_id"].unique().tolist() == ["BIG"] and len(a) == 2
    assert a["pupils"].sum() == pytest.approx(2500.0) and a["share"].sum() == pytest.approx(1.0)
    assert (a["pupils"] <= 2000 + 1e-6).all()


def test_unserved_pupils_name_the_binding_rule_and_its_key():
    from xuewei.optimizer.unserved import diagnose_unserved

    sd, policy = _big_town(n_schools=1)  # one school may take 2,000: two units of 833 fit, one does not
    res = solve_layout([sd], policy, threads=1)
    un = diagnose_unserved(res.units, res.sites, [sd], policy)
    assert len(un) == 1 and un["pupils"].iloc[0] == pytest.approx(2500 / 3)
    row = un.iloc[0]
    assert (row["reason"], row["rule"], row["rule_value"], row["scenario_key"]) == (
        "school_size_cap", "school_size_cap.primary", "2000", "[policy] school_size_cap")
    assert "school_size_cap.primary = 2000" in row["reason_zh"]


def test_base_flows_table_and_calibration_warnings():
    from xuewei.optimizer.catchments import base_flows_table, calibration_warnings

    sd, _ = _two_schools(0.004, 0.0)
    sd.base_site = np.array([0, -1])  # N1's 50 pupils reach no school today
    sd.calibration = pd.DataFrame({"site_id": ["S0", "S1"], "stage": "primary", "pupils_base": [40.0, 50.0],
                                   "pupils_placed": [40.0, 0.0]})
    flows = base_flows_table([sd], 2020)
    assert flows[["node_id", "school_id", "pupils", "distance_km"]].fillna(-1).values.tolist() == [
        ["N0", "S0", 40.0, 3.0], ["N1", "", 50.0, -1]]
    from xuewei.optimizer.catchments import calibration_table
    warn = calibration_warnings(calibration_table([sd]), {"S1": "东乡小学"})
    assert len(warn) == 2 and "1 所学校" in warn[0] and "50 人" in warn[0]
    assert warn[1].startswith("东乡小学（S1）小学：基准年 50 人，可落位 0 人，缺 50 人")


def test_a_school_closed_by_policy_keeps_its_pupils_today_and_they_move_for_that_reason():
    """Tiny region, 东乡小学 S3 (150 pupils) closed by ``close_below_pupils``: its pupils are still placed
    on villages in the base year, and in 2025 they leave it because it closes (原校撤并)."""
    from conftest import TINY
    from xuewei.data.region import load_region
    from xuewei.optimizer.catchments import calibration_table
    from xuewei.optimizer.layout_data import build_stage_data

    region = load_region(TINY)
    rows = [(n.node_id, "primary", y, "mid", n.population * 0.07) for n in region.nodes.itertuples()
            for y in range(2021, 2031)]
    demand = pd.DataFrame(rows, columns=["node_id", "stage", "year", "variant", "pupils"])
    policy = PolicyConfig(close_below_pupils={"primary": 200})
    stage_data, _ = build_stage_data(region, demand, policy, [2025, 2030], 2020, stages=("primary",))
    cal = calibration_table(stage_data).set_index("school_id")
    assert cal.loc["S3", "pupils_placed"] > 100
    res = solve_layout(stage_data, policy, threads=1)
    assert not res.sites.set_index(["site_id", "period"])["open"][("S3", 2025)]
    changes = change_report(res.units, res.sites, stage_data, policy)
    left = changes[changes["from_school"] == "S3"]
    assert len(left) and set(left["reason"]) == {"closed"} and set(left["period"]) == {2025}


def test_far_flows_carry_only_what_villages_in_reach_cannot_supply():
    """A town school of 100 pupils (x = 0) with 60 pupils in day reach; a village 12 km away (50 pupils)
    is beyond the 5 km day limit and the school has no beds. Without the base-year reach 40 of its
    pupils cannot be placed; with ``base_reach_km`` = 15 they come from the far village. When the town
    alone holds enough pupils, the far village is not used (a far flow costs ``FAR_COST`` × its km)."""
    km = _line([0, 12], [0])
    day, board, far = km <= 5, np.zeros_like(km, bool), (km > 5) & (km <= 15)
    assert calibrate_flows(km, day, board, [60, 50], [100], [0]).placed.tolist() == pytest.approx([60])
    f = calibrate_flows(km, day, board, [60, 50], [100], [0], far_ok=far)
    assert _flows(f) == {(0, 0): 60.0, (1, 0): 40.0}
    f = calibrate_flows(km, day, board, [200, 50], [100], [0], far_ok=far)
    assert _flows(f) == {(0, 0): 100.0}
    # A school with beds: a pair in boarding reach is a boarding pair (up to the beds), never far.
    f = calibrate_flows(km, day, (km > 5) & (km <= 40), [60, 50], [100], [10], far_ok=far)
    assert _flows(f) == {(0, 0): 60.0, (1, 0): 10.0}


def test_a_unit_may_stay_at_its_far_school_as_today_and_that_is_no_violation():
    """N0's 40 pupils attend S0 12 km away today (beyond the 5 km day limit, no beds): the pair is
    ``pair_far``. They stay (moving costs 2 万元 a pupil), the assignment says ``status_quo_far`` and
    the travel audit does not count it; the same trip not flagged would be a violation."""
    from xuewei.optimizer.audit import AuditRules, audit_assignments

    sd, policy = _two_schools(travel_rate=0.0001, reassign=2.0)
    sd.pair_km = np.array([12.0, 0.5, 0.0])
    sd.pair_far = np.array([True, False, False])
    res = solve_layout([sd], policy, threads=1)
    a = res.assignments
    assert _school_of_n0(res) == ["S0", "S0"]
    assert a.set_index(["node_id", "period"])["status_quo_far"].to_dict() == {
        ("N0", 2025): True, ("N0", 2030): True, ("N1", 2025): False, ("N1", 2030): False}
    assert not a["boarding"].any()
    rules = AuditRules(travel_limit_km={"primary": 5.0}, class_cap={"primary": 45})
    assert audit_assignments(a, rules).empty
    flagged = audit_assignments(a.assign(status_quo_far=False), rules)
    assert flagged["rule"].tolist() == ["travel_limit", "travel_limit"]


def test_a_village_beyond_every_kindergarten_names_the_limit_and_one_village_one_kindergarten():
    """A village whose kindergarten pupils have no pair (every kindergarten beyond 3 km): unserved for
    ``travel_limit_km.kindergarten`` = 3, and the message offers ``village_kindergarten`` too."""
    from xuewei.optimizer.unserved import diagnose_unserved

    sd, policy = _two_schools(0.004, 0.0)
    sd.stage = "kindergarten"
    sd.node_ids = np.array(["N0", "N1", "FAR"])
    sd.demand = np.vstack([sd.demand, [[20.0, 20.0]]])
    sd.base_site, sd.base_pupils = np.array([0, 1, -1]), np.array([40.0, 50.0, 20.0])
    res = solve_layout([sd], policy, threads=1)
    un = diagnose_unserved(res.units, res.sites, [sd], policy)
    assert un["node_id"].tolist() == ["FAR", "FAR"] and set(un["rule"]) == {"travel_limit_km.kindergarten"}
    assert "travel_limit_km.kindergarten = 3km" in un["reason_zh"].iloc[0]
    assert "village_kindergarten = true" in un["reason_zh"].iloc[0]
    un = diagnose_unserved(res.units, res.sites, [sd], policy.model_copy(update={"village_kindergarten": True}))
    assert "village_kindergarten" not in un["reason_zh"].iloc[0]
    # With a minute limit (roads) the sentence names distance or time, and the value names both limits.
    timed = policy.model_copy(update={"max_travel_min": {"kindergarten": 20.0}})
    row = diagnose_unserved(res.units, res.sites, [sd], timed).iloc[0]
    assert row["reason_zh"].startswith("走读距离或用时内无学校且不能寄宿") and "20 分钟" in row["rule_value"]
