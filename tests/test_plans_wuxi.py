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
