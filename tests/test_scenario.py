"""Scenario files: strict keys with suggestions, extends, overrides."""

import pytest

from conftest import TESTS, edit_csv
from xuewei.cli import main
from xuewei.errors import InputError
from xuewei.scenario import deep_merge, load_scenario

SCEN = TESTS / "data" / "scen"


def test_extends_overrides_key_by_key():
    scenario, path = load_scenario(SCEN / "child.toml")
    assert scenario.name == "child"
    assert scenario.horizon.periods == [2025, 2030]
    assert scenario.solver.time_limit_s == 30 and scenario.solver.gap_rel == 0.01
    assert scenario.region.endswith("tiny")


def test_validate_scenario_loads_its_region(capsys):
    assert main(["validate", str(SCEN / "child.toml")]) == 0
    assert "示例县" in capsys.readouterr().out


def test_unknown_key_names_file_line_and_nearest_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nregion = "r"\n\n[solver]\ntime_limt_s = 5\n', encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_scenario(bad)
    msg = str(info.value)
    assert "bad.toml" in msg and "第 5 行" in msg and "solver.time_limt_s" in msg
    assert "是否应为“time_limit_s”" in msg


def test_wrong_value_type_and_choice(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nregion = "r"\n[solver]\nname = "gurobi"\nthreads = "two"\n', encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_scenario(bad)
    assert len(info.value.problems) == 2
    assert "highs" in str(info.value) and "整数" in str(info.value)


def test_cyclic_extends(tmp_path):
    (tmp_path / "a.toml").write_text('extends = "b.toml"\nname = "a"\nregion = "r"\n', encoding="utf-8")
    (tmp_path / "b.toml").write_text('extends = "a.toml"\nname = "b"\nregion = "r"\n', encoding="utf-8")
    with pytest.raises(InputError, match="循环"):
        load_scenario(tmp_path / "a.toml")


def test_toml_syntax_error_has_line(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nregion = \n', encoding="utf-8")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "第 2 行" in err and "TOML" in err and "Traceback" not in err


def test_periods_must_increase(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nregion = "r"\n[horizon]\nperiods = [2030, 2025]\n', encoding="utf-8")
    with pytest.raises(InputError, match="递增"):
        load_scenario(bad)


def test_deep_merge_replaces_lists_and_recurses_tables():
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    assert deep_merge(base, {"a": {"c": [3]}}) == {"a": {"b": 1, "c": [3]}, "d": 1}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": 1}
