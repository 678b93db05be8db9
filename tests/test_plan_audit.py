"""The plan's own layout audited against the forecast (巫溪 表3–表6 on the demo region)."""

import pandas as pd
import pytest

from xuewei.cli import main


@pytest.fixture(scope="module")
def audit_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("audit") / "wuxi"
    assert main(["audit", "--plan", "wuxi", "--out", str(out)]) == 0
    return out


def test_plan_rows_drive_classes(audit_dir):
    s = pd.read_csv(audit_dir / "plan_audit_schools.csv", encoding="utf-8-sig", dtype={"school_id": str})
    # 表4: 先锋小学 10 班 → 48 班 from 2021 (S002 in the demo pack).
    xianfeng = s[(s["school_id"] == "S002") & (s["stage"] == "primary")].set_index("period")
    assert xianfeng.loc[2021, "classes"] == 48 and xianfeng.loc[2021, "places"] == 48 * 45
    assert xianfeng.loc[2021, "source"].startswith("规划表4")
    # Shortfall and idle places are what the numbers say.
    assert ((s["shortfall"] - (s["pupils"] - s["places"]).clip(lower=0)).abs() < 0.01).all()


def test_every_village_is_assigned_each_year(audit_dir):
    a = pd.read_csv(audit_dir / "plan_audit_assignments.csv", encoding="utf-8-sig")
    per = a.groupby(["period", "stage"])["node_id"].nunique()
    assert per.min() > 300  # 329 villages, all with pupils of every stage


def test_plan_without_school_rows_is_a_sentence_not_an_error(capsys, tmp_path):
    assert main(["audit", "--plan", "neijiang", "--out", str(tmp_path / "x")]) == 0
    out = capsys.readouterr().out
    assert "没有逐校布局表" in out and "学段×调整计数（专栏5、专栏7）" in out and "学位递增（专栏6）" in out
    assert not (tmp_path / "x").exists()
