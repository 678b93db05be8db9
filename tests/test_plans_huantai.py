"""桓台 plan tables: key figures pinned by hand from the seed, so a broken re-transcription fails."""

from xuewei.data.plans import load_plan


def _rows(table_id):
    return load_plan("huantai").table(table_id).rows


def test_main_targets_keep_group_rows_and_printed_figures():
    rows = _rows("表1")
    assert len(rows) == 16
    groups = [r["指标"] for r in rows if r["2020年"] == ""]
    assert groups == ["学前教育", "义务教育", "高中段教育", "教师队伍"]
    assert (rows[1]["指标"], rows[1]["2020年"], rows[1]["2025年"]) == ("幼儿在园人数（万人）", 1.63, 1.45)
    # the two 在校生 rows: 义务教育 then 高中段教育
    enrolled = [(r["2020年"], r["2025年"]) for r in rows if r["指标"] == "在校生（万人）"]
    assert enrolled == [(3.7, 4.0), (1.4, 1.4)]
    assert all(r["属性"] == "预期性" for r in rows if r["2020年"] != "")


def test_key_project_list_has_all_nineteen_rows():
    rows = _rows("表2")
    assert [r["序号"] for r in rows] == list(range(1, 20))
    assert rows[1]["名称"] == "中小学新建、改扩建工程"
    assert "新建中小学校3所" in rows[1]["主要内容"]
    assert rows[9]["名称"] == "淄博建筑工程学校建设高水平中职学校和特色化专业群项目"


def test_counted_layout_figures():
    counted = {(r["序号"], r["事项"]): (r["数量"], r["单位"]) for r in _rows("表2·计数")}
    assert counted[(1, "支持幼儿园新建、改扩建以及改造提升")] == (20, "所")
    assert counted[(2, "新建中小学校")] == (3, "所")
    text = {r["事项"]: r["数量"] for r in _rows("正文·计数")}
    assert text == {"建成具有独立法人资格的公办中心幼儿园": 1, "建成高水平中职学校": 1}
