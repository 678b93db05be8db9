"""Maps, workbook and report.html that `xuewei run` writes, on the tiny region."""

import re
import struct

import openpyxl
import pandas as pd
import pytest

from conftest import TESTS
from xuewei.cli import main
from xuewei.reports.workbook import SHEETS

SCEN = TESTS / "data" / "scen" / "tiny_run.toml"
TOWNSHIPS = ["城关镇", "东乡", "西镇"]  # tests/data/tiny/townships.csv
PERIODS = [2025, 2030]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("rep") / "tiny"
    assert main(["run", str(SCEN), "--out", str(out)]) == 0
    return out


def embedded_fonts(pdf: bytes) -> list[str]:
    """Base font names of the PDF's embedded TrueType (FontFile2) fonts, from the raw bytes."""
    names = re.findall(rb"/BaseFont /([A-Za-z0-9+\-]+)", pdf)
    assert b"/FontFile2" in pdf, "no embedded TrueType font program"
    return [n.decode() for n in names]


def png_size(path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_maps_exist_one_sheet_per_township(run_dir):
    maps = run_dir / "maps"
    for p in PERIODS:
        assert (maps / f"overview_{p}.png").is_file() and (maps / f"overview_{p}.pdf").is_file()
    sheets_png = sorted(maps.glob("township_*.png"))
    sheets_pdf = sorted(maps.glob("township_*.pdf"))
    tw = pd.read_csv(TESTS / "data" / "tiny" / "townships.csv", encoding="utf-8-sig")
    assert len(sheets_png) == len(sheets_pdf) == len(tw) == 3
    assert {p.stem.split("_", 2)[2] for p in sheets_png} == set(TOWNSHIPS)


def test_png_is_a3_at_150_dpi(run_dir):
    w, h = png_size(run_dir / "maps" / "overview_2025.png")
    assert (w, h) == (int(16.54 * 150), int(11.69 * 150))  # matplotlib truncates


def test_pdfs_embed_the_cjk_font(run_dir):
    for pdf in [run_dir / "maps" / "overview_2030.pdf", *sorted((run_dir / "maps").glob("township_*.pdf"))]:
        data = pdf.read_bytes()
        fonts = embedded_fonts(data)
        assert any("NotoSansCJK" in f for f in fonts), (pdf.name, fonts)
        assert b"/Type3" not in data  # glyphs as real fonts, not Type 3 drawings


def test_workbook_sheets_and_headers(run_dir):
    wb = openpyxl.load_workbook(run_dir / "workbook.xlsx")
    assert wb.sheetnames == SHEETS  # the tiny region has no plan, so no 对照规划 sheet
    ws = wb["布局调整情况表"]
    assert [c.value for c in ws[1]] == ["规划期（年）", "学段（办学类型）", "调整合计（所）", "撤销（所）", "合并（所）",
                                        "转变（所）", "新建（所）", "改扩建（所）", "缩减（所）", "保留（所）"]
    assert ws.freeze_panes == "A2"
    ws = wb["学位递增计划"]
    assert [c.value for c in ws[1]] == ["规划期（年）", "地区", "合计（个）", "学前教育（个）", "小学（个）", "初中（个）",
                                        "义务教育小计（个）", "普通高中（个）"]
    ws = wb["义务教育学校调整目标"]
    assert [c.value for c in ws[1]] == ["调整年份", "学校", "学段", "现有规模", None, "调整后规模", None, "备注"]
    assert [c.value for c in ws[2]] == [None, None, None, "班级规模（班）", "学生容量（人）", "班级规模（班）",
                                        "学生容量（人）", None]  # two header rows, merged as in 巫溪 表3–表5
    assert {"A1:A2", "D1:E1", "F1:G1", "H1:H2"} <= {str(r) for r in ws.merged_cells.ranges}
    assert ws.freeze_panes == "A3"
    assert wb["乡镇汇总"]["E1"].value == "学生（人）"
    assert wb["说明"]["B6"].value.startswith("示意数据")
    assert wb["学位需求预测"].column_dimensions["A"].width >= 6


def test_workbook_counts_balance_with_actions_csv(run_dir):
    actions = pd.read_csv(run_dir / "actions.csv", encoding="utf-8-sig")
    t = pd.read_excel(run_dir / "workbook.xlsx", sheet_name="布局调整情况表")
    for period, grp in actions.groupby("period"):
        total = t[(t["规划期（年）"] == period) & (t["学段（办学类型）"] == "合计")].iloc[0]
        assert total["保留（所）"] == (grp["action"] == "keep").sum()
        assert total["调整合计（所）"] == (grp["action"] != "keep").sum()
        kinds = t[(t["规划期（年）"] == period) & (t["学段（办学类型）"] != "合计")]
        assert kinds["调整合计（所）"].sum() == total["调整合计（所）"]
    p = pd.read_excel(run_dir / "workbook.xlsx", sheet_name="学位递增计划")
    sites = pd.read_csv(run_dir / "layout_sites.csv", encoding="utf-8-sig")
    import json

    caps = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))["policy"]["class_cap"]
    for period, grp in p.groupby("规划期（年）"):
        s = sites[sites["period"] == period]
        expected = (s["places"] - s["classes_before"] * s["stage"].map(caps)).sum()
        total = grp[grp["地区"] == "合计"].iloc[0]
        assert total["合计（个）"] == pytest.approx(expected)
        assert grp[grp["地区"] != "合计"]["合计（个）"].sum() == pytest.approx(expected)


def test_report_html_is_self_contained(run_dir):
    text = (run_dir / "report.html").read_text(encoding="utf-8")
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', text) and not re.search(r"<script[^>]+src=", text)
    imgs = re.findall(r'<img[^>]*src="([^"]+)"', text)
    assert len(imgs) >= len(PERIODS) and all(s.startswith("data:image/png;base64,") for s in imgs)
    assert "示意数据" in text and "县域总图" in text
    for name in TOWNSHIPS:
        assert f'href="maps/township_' in text and name in text


def test_run_records_presentation_timings(run_dir):
    import json

    man = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert {"maps_s", "workbook_s", "report_html_s"} <= set(man["seconds"])


ENGLISH = re.compile(r"(?<![A-Za-z0-9_.:/-])[A-Za-z]{3,}(?![A-Za-z0-9_.:/-])")  # a word, not a key, file or id
# A published source is cited as published (the birth variants' UN projection, in the forecast's notes).
SOURCE_WORDS = {"United", "Nations", "DESA", "Population", "Division", "World", "Prospects", "WPP", "IGO"}


def test_workbook_and_report_print_no_english_words(run_dir):
    """Every enum value that reaches a reader is in Chinese (identifiers such as
    ``school_size_cap.primary`` and file names may appear; the scenario's own name is the user's)."""
    wb = openpyxl.load_workbook(run_dir / "workbook.xlsx")
    scenario = wb["说明"]["B2"].value
    words = {(ws.title, m) for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str)
             and c.value != scenario for m in ENGLISH.findall(c.value) if m not in SOURCE_WORDS}
    assert not words
    text = (run_dir / "report.html").read_text(encoding="utf-8")
    # What a reader sees: not the page's styles, scripts and map data (code, not text).
    text = re.sub(r"<style>.*?</style>|<script[^>]*>.*?</script>|src=\"data:[^\"]*\"|<[^>]+>", " ", text, flags=re.S)
    assert set(ENGLISH.findall(text)) - {"CSV", "PDF", "PNG", "UTM", "WGS", "GIS", "xuewei", scenario} - SOURCE_WORDS == set()


def test_forecast_assumptions_reach_report_workbook_and_stored_run(run_dir):
    """The forecast's notes (method per stage, filled gaps) are in every place a reader looks, not only report.md."""
    import json

    from xuewei.reports.stored_run import read_run

    notes = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))["forecast_assumptions"]
    assert notes and all(isinstance(n, str) and n for n in notes)
    md = (run_dir / "report.md").read_text(encoding="utf-8")
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    import html as htmllib

    assert "预测的假设" in html
    for n in notes:
        assert f"- {n}" in md and f"<li>{htmllib.escape(n)}</li>" in html
    sheet = openpyxl.load_workbook(run_dir / "workbook.xlsx")["说明"]
    rows = {r[0]: r[1] for r in sheet.iter_rows(values_only=True)}
    assert [rows[f"预测的假设 {i}"] for i in range(1, len(notes) + 1)] == notes
    assert read_run(run_dir).assumptions == notes
