"""乐山 plan tables: key figures pinned by hand from the seed, so a broken re-transcription fails."""

from xuewei.data.plans import load_plan


def _rows(table_id):
    return load_plan("leshan").table(table_id).rows


def test_main_indicators_are_all_sixteen_rows():
    rows = _rows("专栏1")
    assert [r["序号"] for r in rows] == list(range(1, 17))
    by_name = {r["指标"]: r for r in rows}
    assert (by_name["学前教育幼儿数"]["2020年"], by_name["学前教育幼儿数"]["2025年"]) == (9.4, 9.6)
    assert by_name["九年义务教育巩固率"]["属性"] == "约束性"
    assert sum(r["属性"] == "约束性" for r in rows) == 1
    assert by_name["特殊儿童、少年义务教育阶段入学率"]["2025年"] == 97
    assert by_name["劳动年龄人口平均受教育年限"]["2025年"] == 10.73


def test_layout_adjustment_figures_of_column_14():
    rows = _rows("专栏14")
    assert len(rows) == 12
    layout = {(r["学段"], r["事项"]): (r["数量"], r["单位"]) for r in rows if r["序号"] == 1}
    assert layout == {
        ("中小学（幼儿园）", "拟撤销"): (117, "所"),
        ("教学点", "拟撤销"): (72, "个"),
        ("中小学（幼儿园）", "合并"): (2, "所"),
        ("", "调整办学类型"): (36, "所"),
    }
    new_kg = [r for r in rows if r["事项"] == "新建城镇公办幼儿园"]
    assert [(r["数量"], r["单位"]) for r in new_kg] == [(16, "所")]
    item3 = {r["事项"]: r["数量"] for r in rows if r["序号"] == 3}
    assert item3["实施学校"] == 80 and item3["实施项目"] == 141 and item3["新建（改、扩）校舍"] == 22.9


def test_tables_transcribed_and_left_out():
    ids = [t.id for t in load_plan("leshan").tables]
    for present in ("专栏1", "专栏8", "专栏10", "专栏14", "专栏16", "正文·发展回顾", "正文·重点任务"):
        assert present in ids
    for absent in ("专栏7", "专栏11", "专栏13", "专栏15"):
        assert absent not in ids


def test_review_counts_from_the_text():
    rows = {r["事项"]: r["数量"] for r in _rows("正文·发展回顾")}
    assert rows["实施农村义务教育薄弱学校改造项目"] == 324
    assert rows["彝区建成“一村一幼”"] == 289
