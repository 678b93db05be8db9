"""江阳区 plan: key figures pinned by hand from the seed, so a broken re-transcription fails."""

import re

import pytest

from xuewei.data.paths import SEEDS_DIR
from xuewei.data.plans import load_plan


@pytest.fixture(scope="module")
def plan():
    return load_plan("jiangyang")


def _value(table, key, label, column):
    rows = [r for r in table.rows if r[key] == label]
    assert len(rows) == 1, f"{label}: {len(rows)} rows"
    return rows[0][column]


def test_tables_and_sizes(plan):
    sizes = {t.id: (t.kind, len(t.rows)) for t in plan.tables}
    assert sizes == {
        "主要指标表": ("indicator", 18),
        "专栏7": ("layout", 9),
        "专栏3": ("projects", 1),
        "专栏8": ("projects", 4),
        "专栏12": ("projects", 2),
        "专栏14": ("projects", 1),
        "正文一（一）1": ("sentence", 13),
        "正文三（二）1": ("sentence", 2),
        "正文三（二）3": ("sentence", 2),
        "正文·目标": ("indicator", 1),
    }
    assert plan.admin_code == "510502"
    assert plan.source == "001_64d2a26e393c5739.txt"


def test_indicator_table(plan):
    t = plan.table("主要指标表")
    assert t.columns == ["主要指标", "单位", "2020年", "2025年", "指标属性"]
    sections = [r["主要指标"] for r in t.rows if r["单位"] == ""]
    assert sections == ["学前教育", "义务教育", "普通高中教育", "中等职业教育"]
    assert _value(t, "主要指标", "公办幼儿园在园幼儿占比", "2025年") == 55
    assert _value(t, "主要指标", "公办幼儿园在园幼儿占比", "指标属性") == "约束性"
    assert _value(t, "主要指标", "义务教育巩固率", "2025年") == 97.5
    assert _value(t, "主要指标", "在校生", "单位") == "万人"
    assert _value(t, "主要指标", "在校生", "2020年") == 1.786
    assert sum(r["指标属性"] == "约束性" for r in t.rows) == 3


def test_indicator_2020_column_matches_the_text(plan):
    """The 2020 column repeats the rates printed in 一（一）1 of the same plan."""
    seed = (SEEDS_DIR / plan.source).read_text(encoding="utf-8")
    m = re.search(r"学前三年毛入园率、九年义务教育巩固率、高中阶段毛入学率分别为([\d.]+)%、([\d.]+)%、([\d.]+)%", seed)
    assert m
    t = plan.table("主要指标表")
    printed = [_value(t, "主要指标", k, "2020年") for k in ("学前教育毛入园率", "义务教育巩固率", "高中阶段毛入学率")]
    assert printed == [float(g) for g in m.groups()]


def test_layout_counts(plan):
    t = plan.table("专栏7")
    counts = {r["事项"]: r["数量"] for r in t.rows}
    assert counts["新建公办学校（点）"] == 8
    assert counts["合并公办学校"] == 2
    assert counts["撤销公办学校（点）"] == 20
    assert counts["调整公办学校办学类型"] == 5
    assert counts["保留学校"] == 46
    assert counts["新建和改扩建校舍"] == 25.2


def test_thirteenth_plan_places(plan):
    t = plan.table("正文一（一）1")
    counts = {r["事项"]: (r["数量"], r["单位"]) for r in t.rows}
    assert counts["新增学位"] == (2.56, "万个")
    assert counts["其中：幼儿学位"] == (4200, "个")
    assert counts["新建成中小学、幼儿园"] == (22, "所")
