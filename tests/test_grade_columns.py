"""Grade tables with one column per grade (as yearbooks print them), in the backtest and in a region's grades.csv."""

import pandas as pd
import pytest

from xuewei.cli import main
from xuewei.data.grade_columns import melt_grade_columns
from xuewei.data.tables import validate_frame
from xuewei.errors import InputError
from xuewei.forecaster.history import check_enrollment

WIDE = """地区,学年,一年级,二年级,三年级,合计
A镇,2018-2019学年,120,118,115,353
A镇,2019-2020学年,122,119,117,358
A镇,2020-2021学年,119,121,118,358
新区,2018-2019学年,40,,,40
新区,2019-2020学年,42,41,,83
新区,2020-2021学年,45,43,40,128
"""


def tidy_of(wide: str) -> pd.DataFrame:
    """The same numbers, one row per area, year and grade (what the tool read before)."""
    rows = [r.split(",") for r in wide.strip().splitlines()[1:]]
    out = [{"area": r[0], "year": r[1][:4], "grade": str(g), "pupils": v}
           for r in rows for g, v in zip((1, 2, 3), r[2:5]) if v != ""]
    return pd.DataFrame(out)


def raw(text: str) -> pd.DataFrame:
    import io

    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def test_wide_table_reads_as_the_tidy_rows_with_a_warning(caplog):
    with caplog.at_level("WARNING", logger="xuewei"):
        wide = check_enrollment(raw(WIDE), "g.csv")
    tidy = check_enrollment(tidy_of(WIDE), "g.csv")
    pd.testing.assert_frame_equal(wide.reset_index(drop=True), tidy.reset_index(drop=True))
    # empty cells: 新区 had no grade 2 and 3 in 2018 (a new school adding a grade a year), not 0 pupils
    new = wide[wide["area"] == "新区"]
    assert sorted(map(tuple, new[["year", "grade"]].to_numpy().tolist())) == [
        (2018, 1), (2019, 1), (2019, 2), (2020, 1), (2020, 2), (2020, 3)]
    assert "每个年级一列" in caplog.text and "“合计”列与各年级之和一致" in caplog.text


def test_region_grades_csv_reads_the_same_wide_and_tidy():
    wide = validate_frame(raw(WIDE), "grades", "grades.csv")
    tidy = validate_frame(tidy_of(WIDE), "grades", "grades.csv")
    pd.testing.assert_frame_equal(wide.reset_index(drop=True), tidy.reset_index(drop=True), check_like=True)


def test_a_total_that_disagrees_is_a_warning_naming_the_row(caplog):
    text = WIDE.replace("122,119,117,358", "122,119,117,368")
    with caplog.at_level("WARNING", logger="xuewei"):
        check_enrollment(raw(text), "g.csv")
    assert "“合计”列有 1 行不等于各年级之和（如第 3 行：368 对 358）" in caplog.text


@pytest.mark.parametrize("reader", [lambda df: check_enrollment(df, "g.csv"),
                                    lambda df: validate_frame(df, "grades", "g.csv")])
def test_a_bad_cell_is_named_by_the_files_row_and_grade_column(reader):
    text = WIDE.replace("119,121,118", "119,12.5,118")  # row 4, column 二年级
    with pytest.raises(InputError) as err:
        reader(raw(text))
    (p,) = err.value.problems
    assert (p.file, p.row, p.field, p.found) == ("g.csv", 4, "二年级", "12.5")
    text = WIDE.replace("新区,2019-2020学年", ",2019-2020学年")  # row 6: no area
    with pytest.raises(InputError) as err:
        reader(raw(text))
    assert [(p.row, p.field) for p in err.value.problems] == [(6, "area")] * 2  # its two grade cells


def test_full_width_digits_are_read_with_a_warning_naming_the_files_row(caplog):
    text = WIDE.replace("42,41", "４２,４１")  # row 6
    with caplog.at_level("WARNING", logger="xuewei"):
        assert check_enrollment(raw(text), "g.csv").equals(check_enrollment(raw(WIDE), "g.csv"))
    assert "第 6 行起（列“一年级”）含全角数字" in caplog.text


def test_repeated_area_year_and_two_columns_for_one_grade_are_refused():
    text = WIDE + "A镇,2019-2020学年,1,1,1,3\n"  # row 8 repeats row 3
    with pytest.raises(InputError) as err:
        check_enrollment(raw(text), "g.csv")
    assert [(p.row, p.field) for p in err.value.problems] == [(8, None)]
    assert "重复的 地区=A镇" in err.value.problems[0].found
    both = raw("地区,年份,一年级,1年级\nA,2019,1,2\n")
    with pytest.raises(InputError) as err:
        check_enrollment(both, "g.csv")
    p = err.value.problems[0]
    assert (p.row, p.field) == (1, "1年级") and "一年级" in p.found


def test_tables_that_are_not_wide_grade_tables_are_left_alone():
    by_year = raw("area,year,2019,2020\nA,x,1,2\n")  # headers are years, not grades
    assert melt_grade_columns(by_year, "g.csv")[1] is None
    tidy = tidy_of(WIDE)
    assert melt_grade_columns(tidy, "g.csv")[1] is None
    with pytest.raises(InputError):  # still the clear missing-column message
        check_enrollment(by_year, "g.csv")


def test_backtest_command_reads_a_wide_gbk_table(tmp_path, capsys):
    path = tmp_path / "在校生.csv"
    path.write_bytes(WIDE.encode("gbk"))
    tidy = tmp_path / "tidy.csv"
    tidy_of(WIDE).to_csv(tidy, index=False)
    assert main(["backtest", "--enrollment", str(path), "--origin", "2019", "--horizon", "1", "--json"]) == 0
    wide_out = capsys.readouterr().out
    assert main(["backtest", "--enrollment", str(tidy), "--origin", "2019", "--horizon", "1", "--json"]) == 0
    assert wide_out == capsys.readouterr().out


def test_docstring_examples():
    import doctest

    import xuewei.data.grade_columns as module

    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 3 and result.failed == 0


BY_YEAR = """学校,年级,2018-2019学年,2019-2020学年,2020-2021学年
A镇,一年级,120,122,119
A镇,二年级,118,119,121
A镇,三年级,115,117,118
A镇,合计,353,358,358
新区,一年级,40,42,45
新区,二年级,,41,43
新区,三年级,,,40
"""


@pytest.mark.parametrize("reader", [lambda df: check_enrollment(df, "g.csv"),
                                    lambda df: validate_frame(df, "grades", "g.csv")])
def test_one_column_per_year_reads_as_the_tidy_rows(reader, caplog):
    with caplog.at_level("WARNING", logger="xuewei"):
        by_year = reader(raw(BY_YEAR))
    tidy = reader(tidy_of(WIDE))
    key = ["area", "year", "grade"]
    pd.testing.assert_frame_equal(by_year.sort_values(key).reset_index(drop=True),
                                  tidy.sort_values(key).reset_index(drop=True), check_like=True)
    assert "每个年份一列" in caplog.text and "1 个合计行与各年级之和一致" in caplog.text
    bad = BY_YEAR.replace("118,119,121", "118,11九,121")  # row 3, column 2019-2020学年
    with pytest.raises(InputError) as err:
        reader(raw(bad))
    assert [(p.row, p.field, p.found) for p in err.value.problems] == [(3, "2019-2020学年", "11九")]
    bad = BY_YEAR.replace("A镇,三年级", "A镇,三班")  # row 4: not a grade; the grade column keeps its name
    with pytest.raises(InputError) as err:
        reader(raw(bad))
    assert {(p.row, p.field) for p in err.value.problems} == {(4, "grade")}


def test_a_total_row_that_disagrees_is_a_warning(caplog):
    with caplog.at_level("WARNING", logger="xuewei"):
        check_enrollment(raw(BY_YEAR.replace("353,358,358", "353,358,360")), "g.csv")
    assert "1 个合计行有 1 行不等于各年级之和（如第 5 行），请核对" in caplog.text


def test_a_pupils_column_beside_the_grades_is_their_total(caplog):
    text = WIDE.replace("合计", "在校生")  # 在校生 is read as pupils: here it is the row's total
    with caplog.at_level("WARNING", logger="xuewei"):
        out = check_enrollment(raw(text), "g.csv")
    pd.testing.assert_frame_equal(out, check_enrollment(raw(WIDE), "g.csv"))
    assert "“pupils”列与各年级之和一致" in caplog.text


def test_births_with_one_column_per_year(caplog):
    from xuewei.forecaster.history import check_births

    wide = raw("地区,2016年,2017年,2018年,合计\nA镇,100,98,95,293\n新区,40,42,45,127\n")
    tidy = raw("area,year,births\n" + "".join(f"{a},{y},{b}\n" for a, bs in (("A镇", (100, 98, 95)), ("新区", (40, 42, 45)))
                                                for y, b in zip((2016, 2017, 2018), bs)))
    with caplog.at_level("WARNING", logger="xuewei"):
        pd.testing.assert_frame_equal(check_births(wide, "B.csv"), check_births(tidy, "B.csv"))
    assert "每个年份一列（“2016年”→2016" in caplog.text
    region = raw("乡镇代码,2016年,2017年,2018年\nT1,100,98,95\nT2,40,-42,45\n")
    with pytest.raises(InputError) as err:  # row 3, column 2017年
        validate_frame(region, "births", "births.csv")
    assert [(p.row, p.field) for p in err.value.problems] == [(3, "2017年")]
    ok = validate_frame(region.replace("-42", "42"), "births", "births.csv")
    assert ok[["township_id", "year", "births"]].values.tolist() == [
        ["T1", 2016, 100.0], ["T1", 2017, 98.0], ["T1", 2018, 95.0], ["T2", 2016, 40.0], ["T2", 2017, 42.0], ["T2", 2018, 45.0]]


def test_headers_may_name_their_unit():
    text = WIDE.replace("一年级,二年级,三年级", "一年级（人）,二年级在校生,三年级人数")
    pd.testing.assert_frame_equal(check_enrollment(raw(text), "g.csv"), check_enrollment(raw(WIDE), "g.csv"))


from hypothesis import given, settings, strategies as st  # noqa: E402

GRADE_NAMES = {1: "一年级", 2: "二年级", 3: "三年级", 4: "四年级", 5: "五年级", 6: "六年级", 7: "初一", 8: "初二", 9: "初三"}


@settings(max_examples=30, deadline=None)
@given(n_areas=st.integers(1, 4), first=st.integers(2005, 2015), n_years=st.integers(2, 6), lo=st.integers(1, 7),
       n_grades=st.integers(1, 3), seed=st.integers(0, 10**6), year_wide=st.booleans())
def test_wide_tables_read_as_their_tidy_rows(n_areas, first, n_years, lo, n_grades, seed, year_wide):
    """Any grade history laid out one column per grade (or per year) reads as the same tidy rows,
    with late-opening grades as empty cells."""
    import numpy as np

    rng = np.random.default_rng(seed)
    grades = list(range(lo, lo + n_grades))
    years = list(range(first, first + n_years))
    rows = []
    for a in range(n_areas):
        opened = first + int(rng.integers(0, 2))  # some areas open a year later, grade by grade
        for y in years:
            for g in grades:
                if y >= opened + (g - lo):
                    rows.append((f"乡镇{a}", y, g, int(rng.integers(0, 500))))
    tidy = pd.DataFrame(rows, columns=["area", "year", "grade", "pupils"]).astype(str)
    key = ["area", "year", "grade"]
    if year_wide:
        wide = tidy.pivot(index=["area", "grade"], columns="year", values="pupils").fillna("").reset_index()
        wide["grade"] = wide["grade"].map(lambda g: GRADE_NAMES[int(g)])
        wide.columns = ["地区", "年级"] + [f"{y}年" for y in wide.columns[2:]]
    else:
        wide = tidy.pivot(index=["area", "year"], columns="grade", values="pupils").fillna("").reset_index()
        wide.columns = ["地区", "年份"] + [GRADE_NAMES[int(g)] for g in wide.columns[2:]]
    got = check_enrollment(wide.astype(str), "g.csv").sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, check_enrollment(tidy, "g.csv").sort_values(key).reset_index(drop=True))


def year_book(path, bad=None):
    """WIDE kept as a bureau's workbook: one sheet per school year, schools × grades."""
    table = raw(WIDE)
    with pd.ExcelWriter(path) as book:
        for year, sheet in table.groupby("学年", sort=True):
            sheet = sheet.drop(columns=["学年"]).reset_index(drop=True)
            if bad and bad[0] == year:
                sheet.loc[bad[1], bad[2]] = bad[3]
            sheet.to_excel(book, sheet_name=year, index=False)


def test_a_workbook_with_one_sheet_per_year(tmp_path, caplog):
    from xuewei.data.tables import read_table
    from xuewei.forecaster.history import read_enrollment

    path = tmp_path / "在校生.xlsx"
    year_book(path)
    key = ["area", "year", "grade"]
    with caplog.at_level("WARNING", logger="xuewei"):
        got = read_enrollment(path)
    pd.testing.assert_frame_equal(got.sort_values(key).reset_index(drop=True),
                                  check_enrollment(raw(WIDE), "g.csv").sort_values(key).reset_index(drop=True))
    assert "3 个以年份命名的工作表（2018-2019学年、2019-2020学年、2020-2021学年）按每个工作表一年读取" in caplog.text
    region, _ = read_table(path, "grades")
    assert len(region) == len(got)
    year_book(path, bad=("2019-2020学年", 1, "二年级", "4x"))  # sheet 2019-2020学年, its row 3
    for read in (read_enrollment, lambda p: read_table(p, "grades")):
        with pytest.raises(InputError) as err:
            read(path)
        (p,) = err.value.problems
        assert (p.file, p.row, p.field, p.found) == (f"{path}（工作表“2019-2020学年”）", 3, "二年级", "4x")
