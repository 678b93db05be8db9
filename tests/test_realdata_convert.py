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
