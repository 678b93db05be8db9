"""Each of the five plans checked at its own level against small synthetic run tables (示意), no solve."""

import numpy as np
import pytest

from plan_fixtures import demand_rows, fake_run, school
from xuewei.data.plans import PLAN_IDS, load_plan
from xuewei.errors import InputError
from xuewei.optimizer.plan_check import check_against_plan, plan_sentence
from xuewei.optimizer.plan_items import adjustment_counts, category_actions, headline_targets, scope_kinds


def _row(df, **match):
    sel = df
    for k, v in match.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, f"{match}: {len(sel)} rows"
    return sel.iloc[0]


def _level(pc, level):
    return pc["levels"].set_index("level").loc[level]


# --- 巫溪: per school, per-stage counts, 表2 targets ------------------------------------------------------
def wuxi_run(with_all=True):
    schools = [school("S002", "primary", "T1", classes=10, after=48, action="expand", plan_rows="表4:先锋小学"),
               school("C01", "kindergarten", "T1", classes=0, after=17, action="build", origin="candidate",
                      name="白马幼儿园"),
               school("S050", "junior", "T2", classes=20, pupils=20 * 60)]  # 60 per class: 大班额
    rows = [("T1", "kindergarten", 2025, 8910.0, 16200.0), ("T1", "primary", 2025, 32800.0, 32800.0),
            ("T1", "junior", 2025, 17000.0, 17000.0)]
    d = demand_rows(rows) if with_all else demand_rows([r[:4] for r in rows])
    return fake_run("500238", schools, demand=d)


def test_wuxi_per_school_rows_compare_the_same_school():
    pc = check_against_plan(wuxi_run(), "wuxi")
    s = pc["schools"]
    xianfeng = _row(s, plan_name="先锋小学")
    assert (xianfeng["school_id"], xianfeng["classes_plan"], xianfeng["classes_run"]) == ("S002", 48, 48)
    assert xianfeng["status"] == "一致" and xianfeng["source_quote"]
    baima = _row(s, plan_name="白马幼儿园")
    assert baima["school_id"] == "C01" and baima["status"] == "偏离" and baima["classes_run"] == 17
    assert (s.loc[s["school_id"] == "", "status"] == "无法核对").all()
    assert _level(pc, "schools")["status"] == "部分核对"
    # per-stage counts from the per-school rows: 表4 expands 先锋小学 (among others); the run expands 1 primary
    a = pc["actions"]
    expand = _row(a, scope="小学", category="改扩建")
    assert expand["run_schools"] == 1 and expand["plan_schools"] >= 1


def test_wuxi_headline_targets_beside_the_run_same_year():
    pc = check_against_plan(wuxi_run(), "wuxi")
    t = pc["targets"]
    k = _row(t, source="表2", indicator="在园幼儿数（万人）", year=2025)
    assert k["plan_value"] == pytest.approx(16200) and k["run_value"] == pytest.approx(16200) and k["status"] == "一致"
    assert "1.62" in k["source_quote"]
    share = _row(t, metric="public_share", year=2025)
    assert share["run_value"] == pytest.approx(55.0) and share["status"] == "一致"  # 8910 / 16200
    primary = _row(t, indicator="其中：普通小学", year=2025)
    assert primary["run_value"] == pytest.approx(32800) and primary["status"] == "一致"
    big = _row(t, source="正文·目标", stages_zh="小学、初中")
    assert big["status"] == "偏离" and big["run_value"] == 20  # 20 classes averaging 60 pupils
    vocational = _row(t, indicator="中等职业教育", year=2025)
    assert vocational["status"] == "无法核对" and "中职" in vocational["reason"]
    assert not t.loc[t["year"] <= 2020].shape[0]  # the base year is not a target


def test_public_share_waits_for_all_pupils_in_demand():
    pc = check_against_plan(wuxi_run(with_all=False), "wuxi")
    share = _row(pc["targets"], metric="public_share", year=2025)
    assert share["status"] == "无法核对" and "pupils_all" in share["reason"] and np.isnan(share["run_value"])


# --- 江阳: 专栏7 counts; a county plan inside a city region ------------------------------------------------
def jiangyang_schools():
    return ([school(f"B{i}", "primary", "T1", classes=0, after=12, action="build", origin="candidate") for i in range(3)]
            + [school("K1", "kindergarten", "T1", classes=6, after=9, action="expand"),
               school("K2", "kindergarten", "T2", classes=6, after=4, action="reduce"),
               school("P1", "primary", "T2", classes=6), school("P2", "primary", "T2", classes=6, after=0, action="close"),
               school("J1", "junior", "T1", classes=12, after=14, action="expand", period=2030)])


def test_jiangyang_column7_counts_map_run_actions():
    pc = check_against_plan(fake_run("510502", jiangyang_schools()), "jiangyang")
    a = pc["actions"]
    build = _row(a, category="新建公办学校（点）")
    assert (build["plan_schools"], build["run_schools"], build["status"]) == (8, 3, "偏离")
    assert _row(a, category="撤销公办学校（点）")["run_schools"] == 1
    keep = _row(a, category="保留学校")  # 专栏7 has no 改扩建 category: kept = kept + cut + grown by 2025
    assert keep["run_schools"] == 4 and "改扩建" in keep["run_actions_zh"] and "缩减" in keep["run_actions_zh"]
    assert all(q for q in a["source_quote"])
    assert _level(pc, "actions")["status"] == "已核对"
    assert _level(pc, "schools")["status"] == "规划无此层级"


def test_county_plan_inside_a_city_region_compares_its_townships_only():
    schools = jiangyang_schools() + [school("X1", "primary", "T3", classes=0, after=12, action="build",
                                            origin="candidate")]
    run = fake_run("510500", schools, townships=[("T1", "甲街道", "510502"), ("T2", "乙镇", "510502"),
                                                 ("T3", "丙镇", "510503")])
    pc = check_against_plan(run, "jiangyang")
    assert pc["relation"] == "plan_narrower"
    assert _row(pc["actions"], category="新建公办学校（点）")["run_schools"] == 3  # X1 lies in 510503
    assert any("510502" in n and "2 个乡镇" in n for n in pc["notes"])


def test_inclusive_share_from_the_forecasts_inclusive_pupils():
    d = demand_rows([("T1", "kindergarten", 2025, 500.0, 1000.0)])
    d["pupils_public"] = d["pupils"]
    d["pupils_inclusive"] = 900.0
    t = check_against_plan(fake_run("510502", jiangyang_schools(), demand=d), "jiangyang")["targets"]
    inclusive = _row(t, indicator="普惠性幼儿园覆盖率", year=2025)  # 900 / 1000 = 90 % ≥ 88 %
    assert inclusive["metric"] == "inclusive_share" and inclusive["run_value"] == pytest.approx(90.0)
    assert inclusive["status"] == "一致"
    public = _row(t, indicator="公办幼儿园在园幼儿占比", year=2025)  # 50 % < 55 %
    assert public["run_value"] == pytest.approx(50.0) and public["status"] == "偏离"
    assert "pupils_public ÷ pupils_all" in public["reason"]


# --- 乐山: a city plan, one county's region -------------------------------------------------------------
def test_leshan_city_plan_on_a_county_region_says_what_cannot_be_compared():
    d = demand_rows([("T1", "kindergarten", 2025, 600.0, 1000.0), ("T1", "primary", 2025, 2000.0, 2000.0)])
    pc = check_against_plan(fake_run("511102", jiangyang_schools(), demand=d), "leshan")
    assert pc["relation"] == "plan_wider"
    a = pc["actions"]
    assert (a["status"] == "无法核对").all() and a["run_schools"].isna().all()
    assert a["reason"].str.contains("全市合计").all()
    t = pc["targets"]
    pupils = _row(t, indicator="义务教育在校生", year=2025)
    assert pupils["status"] == "无法核对" and "全市合计" in pupils["reason"]
    share = _row(t, metric="public_share", year=2025)  # a ratio is compared, and said to be the county's
    assert share["run_value"] == pytest.approx(60.0) and share["status"] == "一致" and "本区域" in share["reason"]
    assert any("全市" in n and "511102" in n for n in pc["notes"])


# --- 内江: a city region with county_id; 专栏5 by kind, 专栏6 by district × stage ------------------------
def neijiang_run():
    schools = [school("K1", "kindergarten", "T1", classes=10, after=10 + 2330 // 30, action="expand"),
               school("K2", "kindergarten", "T2", classes=8, after=0, action="close"),
               school("P1", "primary", "T2", classes=12, after=0, action="merge"),
               school("TP1", "teaching_point", "T2", classes=2, after=0, action="close"),
               school("TP2", "teaching_point", "T3", classes=2, after=0, action="close"),
               school("J1", "junior", "T3", classes=12), school("H1", "senior", "T3", classes=20)]
    return fake_run("511000", schools, townships=[("T1", "城北街道", "511002"), ("T2", "金鹅镇", "隆昌市"),
                                                  ("T3", "某镇", "")])


def test_neijiang_places_by_district_match_by_code_or_name():
    pc = check_against_plan(neijiang_run(), "neijiang")
    p = pc["places"]
    shizhong = _row(p, area="市中区", stage_label="学前教育")
    assert "511002" in shizhong["matched_by"] and shizhong["status"] == "一致"  # 2310 new places of 2330 planned
    assert shizhong["run_places_added"] == pytest.approx(2310)
    longchang = _row(p, area="隆昌市", stage_label="义务教育")
    assert longchang["matched_by"] == "区县名称" and longchang["status"] == "偏离"
    dongxing = _row(p, area="东兴区", stage_label="学前教育")
    assert dongxing["status"] == "无法核对" and np.isnan(dongxing["run_places_added"])
    assert _row(p, area="合计", stage_label="职业教育")["status"] == "无法核对"  # the run plans no vocational places


def test_neijiang_column5_counts_by_kind_of_school():
    a = check_against_plan(neijiang_run(), "neijiang")["actions"]
    assert _row(a, source="专栏5", scope="幼儿园", category="撤销")["run_schools"] == 1
    assert _row(a, source="专栏5", scope="小学", category="合并")["run_schools"] == 1
    assert _row(a, source="专栏5", scope="教学点", category="撤销")["run_schools"] == 2
    assert _row(a, source="专栏7", area="隆昌市")["reason"].endswith("（按区县名称）")


# --- 桓台: 表2 counts, 表1 pupils, the transcribed 公办园 share -------------------------------------------
def test_huantai_counts_and_targets():
    schools = ([school(f"N{i}", "primary", "T1", classes=0, after=18, action="build", origin="candidate") for i in range(3)]
               + [school(f"K{i}", "kindergarten", "T2", classes=6, after=9, action="expand") for i in range(19)])
    d = demand_rows([("T1", "kindergarten", 2025, 7975.0, 14500.0), ("T1", "primary", 2025, 24000.0, 26000.0),
                     ("T1", "junior", 2025, 14000.0, 14000.0)])
    pc = check_against_plan(fake_run("370321", schools, demand=d), "huantai")
    a = pc["actions"]
    assert _row(a, category="新建中小学校")["status"] == "一致"
    about = _row(a, category="支持幼儿园新建、改扩建以及改造提升")  # 20所左右: 19 within ±2
    assert about["run_schools"] == 19 and about["status"] == "一致"
    t = pc["targets"]
    share = _row(t, metric="public_share", year=2025)  # 7975/14500 = 55.0 %, and the plan says 超过55%
    assert share["run_value"] == pytest.approx(55.0) and share["status"] == "偏离"
    compulsory = _row(t, source="表1", stages_zh="小学、初中", year=2025)
    assert compulsory["run_value"] == pytest.approx(40000) and compulsory["status"] == "一致"


def test_public_only_pupils_are_not_set_beside_a_total_that_includes_private_schools():
    schools = [school("K1", "kindergarten", "T1")]
    d = demand_rows([("T1", "kindergarten", 2025, 9000.0)])
    pc = check_against_plan(fake_run("370321", schools, demand=d, base_private=("kindergarten", 300.0)), "huantai")
    k = _row(pc["targets"], indicator="幼儿在园人数（万人）", year=2025)
    assert k["status"] == "无法核对" and "民办" in k["reason"] and k["run_value"] == pytest.approx(9000)


# --- every plan, any region ---------------------------------------------------------------------------
@pytest.mark.parametrize("plan_id", PLAN_IDS)
def test_any_plan_on_another_region_is_a_statement_not_an_error(plan_id):
    pc = check_against_plan(fake_run("999999", jiangyang_schools()), plan_id)
    assert pc["relation"] == "other"
    for key in ("schools", "actions", "places", "targets"):
        df = pc[key]
        assert set(df["status"]) <= {"无法核对"}, key
    assert set(pc["levels"]["status"]) <= {"无法核对", "规划无此层级"}
    assert any("不是同一地区" in n for n in pc["notes"])
    assert plan_sentence(load_plan(plan_id))


@pytest.mark.parametrize("plan_id", PLAN_IDS)
def test_every_plan_is_checked_at_some_level_on_its_own_region(plan_id):
    plan = load_plan(plan_id)
    pc = check_against_plan(fake_run(plan.admin_code, jiangyang_schools()), plan_id)
    checked = pc["levels"][pc["levels"]["consistent"] + pc["levels"]["deviating"] > 0]
    assert len(checked), pc["levels"]
    for key in ("actions", "places", "targets"):
        df = pc[key]
        assert set(df["status"]) <= {"一致", "偏离", "无法核对"}
        assert (df.loc[df["status"] == "无法核对", "reason"] != "").all(), key


# --- reading rules ------------------------------------------------------------------------------------
def test_category_and_scope_words():
    assert category_actions("新(改、扩)建(所)") == ("build", "expand")
    assert category_actions("撤并") == ("close", "merge")
    assert category_actions("保留学校") == ("keep",)
    assert scope_kinds("幼儿园和义务教育学校") == ("kindergarten", "primary", "teaching_point", "junior", "nine_year")
    assert scope_kinds("初级中学") == ("junior",)
    counts, skipped = adjustment_counts(load_plan("leshan"))
    assert len(counts) == 6 and {x["reason"] for x in skipped} >= {"单位为“万平方米”，不是学校数"}


def test_misprinted_unit_is_read_as_declared():
    t = headline_targets(load_plan("wuxi"))
    row = t[(t["table"] == "表2") & (t["indicator"] == "在校学生数（人）") & (t["year"] == 2025)].iloc[0]
    assert row["unit"] == "万人" and row["value"] * row["scale"] == pytest.approx(16500) and "万人" in row["read_note"]
    sub = t[(t["indicator"] == "其中：普通高中") & (t["year"] == 2025)].iloc[0]
    assert sub["unit"] == "万人" and sub["stages"] == ("senior",)


# --- plan files -----------------------------------------------------------------------------------------
def test_a_region_may_name_a_plan_file_next_to_it(tmp_path):
    from types import SimpleNamespace

    from xuewei.data.paths import PLANS_DIR
    from xuewei.data.plans import plan_of_region

    (tmp_path / "my_plan.toml").write_text((PLANS_DIR / "huantai.toml").read_text(encoding="utf-8"), encoding="utf-8")
    region = SimpleNamespace(meta=SimpleNamespace(plan="my_plan.toml"), path=tmp_path)
    assert plan_of_region(region).id == "huantai"
    region.meta.plan = "missing.toml"
    with pytest.raises(InputError, match="missing.toml"):
        plan_of_region(region)


def test_a_wrong_declaration_names_the_table_and_key(tmp_path):
    from xuewei.data.paths import PLANS_DIR

    text = (PLANS_DIR / "neijiang.toml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('count_fields = ["撤销", "合并", "转变"]', 'count_fields = ["撤消"]'), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_plan(bad)
    assert "adjustments.count_fields" in str(err.value) and "bad.toml" in str(err.value)


def test_plan_check_csvs_read_back_as_written(tmp_path):
    from xuewei.reports.plan_sections import markdown_lines, read_csvs, write_csvs
    from xuewei.reports.runfolder import write_csv

    pc = check_against_plan(neijiang_run(), "neijiang")
    write_csvs(pc, tmp_path, write_csv, lambda df: df.round(3))
    back = read_csvs(tmp_path)
    assert (back["plan"], back["horizon"], back["relation"]) == ("neijiang", 2025, "same")
    assert back["notes"] == pc["notes"]
    assert list(back["levels"]["status"]) == list(pc["levels"]["status"])
    assert len(back["places"]) == len(pc["places"]) and back["places"]["area_code"].iloc[0] == pc["places"]["area_code"].iloc[0]
    assert markdown_lines(back) == markdown_lines(pc)
