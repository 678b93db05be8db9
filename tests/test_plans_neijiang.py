"""内江: figures pinned by hand from the seed, so a broken re-split of the flattened digit runs fails."""

import dataclasses
import re

import pytest

from xuewei.data.plans import evaluate_check, load_plan


@pytest.fixture(scope="module")
def plan():
    return load_plan("neijiang")


def rows_by(table, key):
    return {r[key]: r for r in table.rows}


def test_tables_and_row_counts(plan):
    counts = {t.id: len(t.rows) for t in plan.tables}
    assert counts == {"专栏1": 9, "专栏2": 18, "专栏5": 5, "专栏6": 9, "专栏7": 9, "专栏8": 15,
                      "正文-布局调整": 2, "正文-学位递增": 4, "正文-基础教育布点与规模": 4, "正文-中职规模": 2}


@pytest.mark.parametrize("table_id, key, n_cells", [("专栏5", "学段", 4), ("专栏6", "地区", 5), ("专栏7", "地区", 2)])
def test_split_cells_rejoin_to_the_printed_digit_run(plan, table_id, key, n_cells):
    table = plan.table(table_id)
    for row in table.rows:
        cells = [row[c] for c in table.columns if c != key]
        assert len(cells) == n_cells
        run = re.fullmatch(r"(\D+)(\d+)", row["source_quote"])
        assert run and run.group(1) == row[key]
        assert "".join(str(v) for v in cells) == run.group(2)


def test_layout_adjustments(plan):
    rows = rows_by(plan.table("专栏5"), "学段")
    assert [rows["幼儿园"][c] for c in ("调整合计", "撤销", "合并", "转变")] == [67, 64, 0, 3]
    assert [rows["小学"][c] for c in ("调整合计", "撤销", "合并", "转变")] == [31, 4, 8, 19]
    assert [rows["教学点"][c] for c in ("调整合计", "撤销", "合并", "转变")] == [106, 90, 0, 16]
    # the text: 拟调整幼儿园和义务教育学校101所、教学点106个
    said = {r["学段"]: r["数量"] for r in plan.table("正文-布局调整").rows}
    schools = sum(r["调整合计"] for name, r in rows.items() if name != "教学点")
    assert schools == said["幼儿园和义务教育学校"] == 101
    assert rows["教学点"]["调整合计"] == said["教学点"] == 106


def test_places_plan(plan):
    rows = rows_by(plan.table("专栏6"), "地区")
    assert [rows["合计"][c] for c in ("合计", "学前教育", "义务教育", "高中教育", "职业教育")] == [
        78860, 13010, 36000, 14850, 15000]
    assert [rows["市本级"][c] for c in ("合计", "学前教育", "义务教育", "高中教育", "职业教育")] == [
        12500, 0, 3950, 3550, 5000]
    assert [rows["经开区"][c] for c in ("合计", "学前教育", "义务教育", "高中教育", "职业教育")] == [
        2050, 450, 1600, 0, 0]
    # the text: 新增公办幼儿园学位13010个,义务教育学位36000个,普通高中学位14850个,职业教育学位15000个
    said = [r["数量"] for r in plan.table("正文-学位递增").rows]
    assert said == [rows["合计"][c] for c in ("学前教育", "义务教育", "高中教育", "职业教育")]


def test_projects(plan):
    rows = rows_by(plan.table("专栏7"), "地区")
    assert (rows["合计"]["规划投资(万元)"], rows["合计"]["新(改、扩)建(所)"]) == (354705, 173)
    assert (rows["市本级"]["规划投资(万元)"], rows["市本级"]["新(改、扩)建(所)"]) == (75572, 6)
    assert (rows["隆昌市"]["规划投资(万元)"], rows["隆昌市"]["新(改、扩)建(所)"]) == (53256, 50)
    big = plan.table("专栏8").rows
    assert [r["序号"] for r in big] == list(range(1, 16))
    assert (big[0]["总投资(亿元)"], big[0]["建筑面积(万平方米)"]) == (46.84, 73)
    assert big[6]["备注"] == "计划总投资、拟建筑面积"


def test_indicators(plan):
    first = plan.table("专栏1").rows[0]
    assert (first["指标"], first["2015年完成情况"], first["2020年完成情况"]) == ("幼儿在园人数", 10.02, 8.56)
    ind = rows_by(plan.table("专栏2"), "主要指标")
    assert ind["学前教育三年毛入园率"]["2025年"] == 92.09
    assert ind["普通高中大校额比例"]["2025年"] == "全部消除"
    assert ind["劳动年龄人口平均受教育年限"]["单位"] == "年"


def test_every_total_table_is_checked_and_balances(plan):
    for table_id in ("专栏5", "专栏6", "专栏7"):
        checks = plan.table(table_id).checks
        assert checks and all(c["status"] == "balances" for c in checks)
        for c in checks:
            assert evaluate_check(plan.table(table_id), c) == []
    types = {c["type"] for c in plan.table("专栏6").checks}
    assert types == {"row_total", "column_total"}


def test_a_wrong_split_would_be_caught(plan):
    """A 市本级 row that balances on its own but breaks the column totals is caught by the column check."""
    table = plan.table("专栏6")
    by_type = {c["type"]: c for c in table.checks}
    rows = [dict(r) for r in table.rows]
    rows[1].update({"合计": 12500, "学前教育": 0, "义务教育": 3950, "高中教育": 3500, "职业教育": 5050})
    broken = dataclasses.replace(table, rows=rows)
    assert evaluate_check(broken, by_type["row_total"]) == []
    assert evaluate_check(broken, by_type["column_total"]) == [
        "高中教育: 印刷合计 14850，分项之和 14800", "职业教育: 印刷合计 15000，分项之和 15050"]
    rows[1].update({"职业教育": 500})
    assert evaluate_check(dataclasses.replace(table, rows=rows), by_type["row_total"])
