"""Batch files: list and grid variants, checked keys with suggestions, bad values pointed at their line."""

from pathlib import Path

import pytest

from conftest import TESTS
from xuewei.batch.spec import load_variants, override_path_problem, validate_variants
from xuewei.errors import InputError

SCEN = (TESTS / "data" / "scen" / "tiny_run.toml").resolve()


def write(tmp_path: Path, body: str, name: str = "t-batch.toml") -> Path:
    path = tmp_path / name
    path.write_text(f'base = "{SCEN}"\n' + body, encoding="utf-8")
    return path


def test_variant_list_with_dotted_and_nested_keys(tmp_path):
    path = write(tmp_path, """
[[variants]]
name = "base"

[[variants]]
name = "cap40"
description = "小学班额 40"
"policy.class_cap.primary" = 40

[[variants]]
name = "keep"
policy.keep_existing = true
""")
    variants = validate_variants(load_variants([path]))
    assert [v.name for v in variants] == ["base", "cap40", "keep"]
    assert variants[1].overrides == {"policy.class_cap.primary": 40}
    assert variants[2].overrides == {"policy.keep_existing": True}
    assert variants[1].run_overrides() == {"name": "cap40", "description": "小学班额 40",
                                           "policy": {"class_cap": {"primary": 40}}, "solver": {"threads": 1, "workers": 1}}
    keys = [v.key for v in variants]
    assert len(set(keys)) == 3 and all(len(k) == 64 for k in keys)
    assert validate_variants(load_variants([path]))[1].key == keys[1]  # the key is a pure function of the inputs


def test_grid_makes_the_product_and_combines_with_the_list(tmp_path):
    path = write(tmp_path, """
[common]
"solver.time_limit_s" = 10

[[variants]]
name = "a"

[[variants]]
name = "b"
"policy.keep_existing" = true

[grid]
"policy.class_cap.primary" = [40, 45]
"policy.design_variant" = ["low", "mid", "high"]
""")
    variants = load_variants([path])
    assert len(variants) == 2 * 2 * 3
    assert variants[0].name == "a_primary-40_design_variant-low"
    assert variants[-1].overrides == {"policy.keep_existing": True, "policy.class_cap.primary": 45,
                                      "policy.design_variant": "high"}
    assert all(v.common == {"solver.time_limit_s": 10} for v in variants)
    assert variants[0].run_overrides()["solver"] == {"time_limit_s": 10, "threads": 1, "workers": 1}
    assert len({v.name for v in variants}) == 12


def test_unknown_override_key_names_line_and_nearest_key(tmp_path):
    path = write(tmp_path, """
[[variants]]
name = "ok"

[[variants]]
name = "typo"
"policy.clas_cap.primary" = 40
""")
    with pytest.raises(InputError, match=r"第 8 行.*policy\.clas_cap\.primary.*是否应为“policy\.class_cap\.primary”"):
        load_variants([path])


def test_unknown_key_at_each_level():
    assert override_path_problem("policy.class_cap.primary") is None
    assert "policy.class_cap.primary" in override_path_problem("policy.class_cap.primay")[1]
    assert "forecast.births_growth_mid_per_year" in override_path_problem("forecast.birth_growth_mid_per_year")[1]
    assert "solver.time_limit_s" in override_path_problem("solver.time_limit")[1]
    assert "policy.close_below_pupils.teaching_point" in override_path_problem("policy.close_below_pupils.teachingpoint")[1]
    assert "不能再有下级键" in override_path_problem("policy.keep_existing.x")[1]
    assert override_path_problem("forecast.births_series.2030") is None


def test_unknown_top_level_key_is_suggested(tmp_path):
    path = write(tmp_path, """
[[variant]]
name = "x"
""")
    with pytest.raises(InputError, match=r"第 3 行.*variant.*是否应为“variants”"):
        load_variants([path])


def test_bad_override_value_points_at_the_variant_line(tmp_path):
    path = write(tmp_path, """
[[variants]]
name = "fine"

[[variants]]
name = "bad"
"policy.class_cap.primary" = "四十"
"solver.threads" = 0
""")
    variants = load_variants([path])
    with pytest.raises(InputError) as info:
        validate_variants(variants)
    problems = {p.field: p for p in info.value.problems}
    assert set(problems) == {"policy.class_cap.primary"}  # solver.threads is forced to 1 in batches
    p = problems["policy.class_cap.primary"]
    assert p.file == str(path) and p.row == 8 and p.expected == "整数" and "变体“bad”" in p.hint


def test_grid_values_must_be_lists(tmp_path):
    path = write(tmp_path, """
[grid]
"policy.class_cap.primary" = 40
""")
    with pytest.raises(InputError, match=r"第 4 行.*非空的取值列表"):
        load_variants([path])


def test_missing_base_and_bad_names(tmp_path):
    path = tmp_path / "x-batch.toml"
    path.write_text('base = "nope.toml"\n[[variants]]\nname = "a/b"\n', encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_variants([path])
    fields = {p.field for p in info.value.problems}
    assert fields == {"base", "name"}


def test_scenario_files_are_variants_and_names_must_be_unique(tmp_path):
    variants = load_variants([SCEN])
    assert [(v.name, v.overrides) for v in variants] == [("tiny-run", {})]
    with pytest.raises(InputError, match="不重复的变体名称"):
        load_variants([SCEN, SCEN])


def test_demo_batch_is_valid_and_compares_at_least_six_policies():
    from xuewei.data.paths import SCENARIOS_DIR

    variants = validate_variants(load_variants(["demo-batch"]))  # a bundled name resolves like a scenario's
    assert len(variants) >= 6 and variants[0].scenario == (SCENARIOS_DIR / "demo.toml").resolve()
    changed = {k.split(".")[1] for v in variants for k in v.overrides}
    assert {"close_below_pupils", "keep_existing", "class_cap", "boarding_stages",
            "births_growth_mid_per_year"} <= changed
    assert all(v.common == {"solver.max_nodes": 1} for v in variants)
    assert "budget_wan_yuan" in changed
    assert len({v.key for v in variants}) == len(variants)


def test_validate_reads_a_batch_file_as_a_batch(tmp_path, capsys):
    from xuewei.cli import main
    from xuewei.data.paths import SCENARIOS_DIR

    assert main(["validate", str(SCENARIOS_DIR / "demo-batch.toml")]) == 0
    assert "9 个变体" in capsys.readouterr().out
    bad = tmp_path / "b.toml"
    bad.write_text(f'name = "b"\nbase = "{(SCENARIOS_DIR / "demo.toml").as_posix()}"\n[[variants]]\nname = "a"\n'
                   f'"policy.class_cap.primary" = -3\n', encoding="utf-8")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "class_cap" in err and "Traceback" not in err


def test_warm_start_names_a_variant_and_enters_the_others_keys(tmp_path):
    body = """
[[variants]]
name = "base"

[[variants]]
name = "cap40"
"policy.class_cap.primary" = 40
"""
    cold = validate_variants(load_variants([write(tmp_path, body, "cold-batch.toml")]))
    warm = validate_variants(load_variants([write(tmp_path, 'warm_start = "base"\n' + body, "warm-batch.toml")]))
    assert [v.warm_from for v in warm] == ["", "base"]
    assert warm[0].key == cold[0].key  # the source itself runs as before
    assert warm[1].key != cold[1].key  # its result depends on the source's: a cold run is not reused
    path = write(tmp_path, 'warm_start = "bsae"\n' + body)
    with pytest.raises(InputError, match=r"第 2 行，字段“warm_start”.*是否应为“base”"):
        load_variants([path])


def test_only_brings_the_warm_start_source_along(tmp_path):
    from xuewei.batch.commands import select

    path = write(tmp_path, 'warm_start = "base"\n[[variants]]\nname = "base"\n[[variants]]\nname = "a"\n'
                           '[[variants]]\nname = "b"\n')
    assert [v.name for v in select(load_variants([path]), "b")] == ["base", "b"]


def test_validate_says_which_variant_the_others_start_from(tmp_path, capsys):
    from xuewei.cli import main

    path = write(tmp_path, 'warm_start = "base"\n[[variants]]\nname = "base"\n[[variants]]\nname = "a"\n')
    assert main(["validate", str(path)]) == 0
    assert "热启动：其余变体在 base 算完后从它的布局出发" in capsys.readouterr().out
