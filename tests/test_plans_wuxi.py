"""巫溪 plan: key figures pinned by hand from the seed text, so a broken re-transcription fails."""

import pytest

from xuewei.data.plans import load_plan


@pytest.fixture(scope="module")
def plan():
    return load_plan("wuxi")


def _row(table, key, value, **where):
    rows = [r for r in table.rows if r[key] == value and all(r[k] == v for k, v in where.items())]
    assert len(rows) == 1, f"{table.id}: {key}={value} {where} matched {len(rows)} rows"
    return rows[0]


def test_kindergarten_table(plan):
    t = plan.table("表3")
    assert len(t.rows) == 35
    assert t.columns[2] == "现有规模_班级规模"
    # 调整年份 carried down: 8 rows in 2021年, 16 in 2022年, 11 in 2025年
    years = [r["调整年份"] for r in t.rows]
    assert (years.count("2021年"), years.count("2022年"), years.count("2025年")) == (8, 16, 11)
    # 县幼儿园 is enlarged twice
    assert _row(t, "学校", "县幼儿园", 调整年份="2021年")["调整后规模_学生容量"] == 450
    assert _row(t, "学校", "县幼儿园", 调整年份="2025年")["调整后规模_班级规模"] == 23
    gulu = _row(t, "学校", "古路小学幼儿园")
    assert gulu["现有规模_班级规模"] == "" and gulu["调整后规模_学生容量"] == 180
    assert sum(r["调整后规模_学生容量"] for r in t.rows) == 7530  # 2430 (2021年) + 1440 (2022年) + 3660 (2025年), summed by hand


def test_compulsory_table(plan):
    t = plan.table("表4")
    assert len(t.rows) == 16
    assert [r["学校"] for r in t.rows if r["调整年份"] == 2023] == ["珠海实验小学", "镇泉小学", "塘坊小学"]
    siyuan = _row(t, "学校", "思源实验学校")
    assert (siyuan["现有规模_班级规模"], siyuan["现有规模_学生容量"], siyuan["调整后规模_学生容量"]) == (36, 1800, 3000)
    assert _row(t, "学校", "柏杨小学")["现有规模_学生容量"] == ""


def test_senior_tables(plan):
    t5 = plan.table("表5")
    total = _row(t5, "学校名称", "合计")
    assert total["现有规模(2020)_学生实有容量（高中）"] == 10170
    assert total["调整后规模_2022年_教学班(个)"] == 198  # printed; the five schools sum to 192
    assert sum(r["调整后规模_2022年_教学班(个)"] for r in t5.rows if r["学校名称"] != "合计") == 192
    assert _row(t5, "学校名称", "凤凰中学（高中部）")["调整后规模_2025年_学生容量(人)"] == 1800
    t6 = plan.table("表6")
    assert _row(t6, "学校名称", "职教中心")["现有规模(2020)_学生(人)"] == 3093


def test_indicator_tables(plan):
    t1 = plan.table("表1")
    assert len(t1.rows) == 10
    assert [r["分类"] for r in t1.rows].count("义务教育") == 4  # carried down
    in_school = [r for r in t1.rows if r["指标"] == "在校学生数（万人）"]
    compulsory, senior = in_school
    primary, junior = _row(t1, "指标", "其中：普通小学"), _row(t1, "指标", "普通初中")
    general, vocational = _row(t1, "指标", "其中：普通高中"), _row(t1, "指标", "中等职业教育")
    for year in ("2016年", "2020年"):  # sub-totals the check types cannot express
        assert primary[year] + junior[year] == pytest.approx(compulsory[year])
        assert general[year] + vocational[year] == pytest.approx(senior[year])
    # 2020 pupils of all stages = the 76293 of the text
    kinder = _row(t1, "指标", "在园幼儿数（万人）")
    assert round((kinder["2020年"] + compulsory["2020年"] + senior["2020年"]) * 10000) == 76293
    assert general["“十三五”变化情况"] == 0.1185 and primary["“十三五”变化情况"] == "—0.0322"

    t2 = plan.table("表2")
    assert len(t2.rows) == 16
    comp2 = _row(t2, "主要指标", "在校学生数（万人）")
    sen2 = _row(t2, "主要指标", "在校学生数（人）")  # unit printed as 人, values in 万人
    for year in ("2020年", "2022年", "2025年"):
        assert (_row(t2, "主要指标", "其中：普通小学")[year] + _row(t2, "主要指标", "普通初中")[year]
                == pytest.approx(comp2[year]))
        assert (_row(t2, "主要指标", "其中：普通高中")[year] + _row(t2, "主要指标", "中等职业教育")[year]
                == pytest.approx(sen2[year]))
    assert _row(t2, "主要指标", "学前三年毛入园率（%）")["2025年"] == "＞93.0"
    assert _row(t2, "主要指标", "财政教育支出占公共财政支出比例（%）")["2020年"] == 19.4


def test_project_list(plan):
    t = plan.table("专栏4")
    assert [r["项目编号"] for r in t.rows] == list(range(1, 20))
    assert sum(r["★代表“十四五”期间完工项目"] == "★" for r in t.rows) == 16
    p1 = t.rows[0]
    assert p1["项目概况_建设年限"] == "2024—2027" and "城区7所幼儿园" in p1["项目概况_建设内容及规模"]
    assert t.rows[18]["项目责任单位"] == "县卫生健康委"


def test_counted_sentences(plan):
    first = plan.table("第一章第一节_2")
    assert [r["数量"] for r in first.rows] == [202, 76293, 6016]
    layout = plan.table("第三章第二节")
    assert [(r["数量"], r["单位"]) for r in layout.rows] == [
        (24, "个班"), (80, "个班"), (4000, "人"), (30, "个班"), (1500, "人"), (18, "个班"), (32, "个")]
    merged = plan.table("第一章第一节_4")
    assert merged.rows[0]["数量"] == 42 and merged.rows[0]["单位"] == "所"
