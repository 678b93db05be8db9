"""The Singapore converter of the backtest series (benchmarks/realdata/convert.py): age groups map to
primary levels, only both-sexes rows count, over-age groups are dropped, an unknown age group stops
the conversion, and births are the total live births. Tiny hand-written inputs in the original layout."""

import sys

import pandas as pd
import pytest

from xuewei.data.paths import PACKAGE_ROOT

sys.path.insert(0, str(PACKAGE_ROOT / "benchmarks" / "realdata"))
from convert import sg_births, sg_primary  # noqa: E402

ENROLMENT = b"""year,age,sex,enrolment_primary
1995,UNDER 7 YRS,MF,52655
1995,UNDER 7 YRS,F,25392
1995,7 YRS,MF,43467
1995,11 YRS,MF,40012
1995,12 YRS,MF,2887
1995,14 YRS & OVER,MF,149
"""


def test_age_groups_become_primary_levels_both_sexes_only():
    df = sg_primary(ENROLMENT)
    assert df.to_dict("list") == {"area": ["Singapore"] * 3, "year": [1995] * 3, "grade": [1, 2, 6],
                                  "pupils": [52655, 43467, 40012]}


def test_an_unknown_age_group_stops_the_conversion():
    with pytest.raises(SystemExit, match="未知年龄组"):
        sg_primary(ENROLMENT + b"1995,6 YRS,MF,10\n")


def test_births_are_total_live_births():
    data = b"""year,level_1,value
1987,Total Live-births,43616
1987,Resident Live-births,42362
1988,Total Live-births,52957
1988,Resident Live-births,51537
"""
    df = sg_births(data)
    assert isinstance(df, pd.DataFrame)
    assert df.to_dict("list") == {"area": ["Singapore"] * 2, "year": [1987, 1988], "births": [43616, 52957]}


# --- Maryland: tiny files in the MSDE layout (academic year 2010 = the count of 30 September 2009) ---

MD_HEAD = b"Academic Year,LEA Number,LEA Name,School Number,School Name,Grade Title,Enrolled Count,Create Date\n"


def md_file(rows: list[str]) -> bytes:
    return MD_HEAD + "".join(r + ",20100101\n" for r in rows).encode()


def test_maryland_bands_fill_suppressed_school_cells_and_edison_joins_the_city():
    from convert import md_counties, md_year

    rows = ["2010,30,Baltimore City,A,All,Kindergarten,100",
            "2010,30,Baltimore City,A,All,Elementary,510",  # grades 1-5
            "2010,30,Baltimore City,A,All,Middle School,300",
            "2010,30,Baltimore City,A,All,High School,400",
            "2010,31,Baltimore City - Edison,A,All,Kindergarten,5",
            "2010,99,State,A,All,Kindergarten,999",
            "2010,98,SEED,A,All,Middle School,50"]
    # school cells: grades 1-5 known 100 each except grade 4 suppressed in two schools (residual 110)
    rows += [f"2010,30,Baltimore City,0{s},S{s},Grade {g},{n}"
             for s, g, n in [(1, 1, 100), (1, 2, 100), (1, 3, 100), (1, 5, 100), (1, 4, "*"), (2, 4, "*")]]
    rows += [f"2010,30,Baltimore City,01,S1,Grade {g},100" for g in range(6, 9)]
    rows += [f"2010,30,Baltimore City,01,S1,Grade {g},100" for g in range(9, 13)]
    df = md_counties([md_year(md_file(rows))]).set_index("grade")["pupils"]
    assert df.loc[0] == 105  # the city's kindergarten and Edison's
    assert df.loc[4] == 110  # 510 − 400 known, split over the two suppressed cells: 55 + 55
    assert df.loc[[1, 2, 3, 5]].tolist() == [100, 100, 100, 100]
    assert df.loc[6:12].tolist() == [100] * 7
    out = md_counties([md_year(md_file(rows))])
    assert set(out["area"]) == {"Baltimore City"} and set(out["year"]) == {2009}


def test_maryland_uses_the_systems_own_grade_rows_where_a_year_has_them():
    from convert import md_counties, md_year

    rows = [f"2025,01,Allegany,A,All,{'All Kindergarten' if g == 0 else f'Grade {g}'},{200 + g}" for g in range(13)]
    rows += ["2025,01,Allegany,0301,S,Grade 1,7"]  # school rows are not summed then
    out = md_counties([md_year(md_file(rows))])
    assert out["pupils"].tolist() == [200 + g for g in range(13)] and set(out["year"]) == {2024}


def test_maryland_stops_when_a_band_total_is_below_its_known_school_cells():
    from convert import md_counties, md_year

    rows = ["2010,01,Allegany,A,All,Kindergarten,10", "2010,01,Allegany,A,All,Elementary,50",
            "2010,01,Allegany,A,All,Middle School,0", "2010,01,Allegany,A,All,High School,0",
            "2010,01,Allegany,01,S,Grade 1,60"]
    with pytest.raises(SystemExit, match="系统合计与各校之差 -10"):
        md_counties([md_year(md_file(rows))])
