"""Gaps where people look: the comparison marks differences within the gaps as 无法区分, the report and
packs say how far a layout can be from the best, and the live display tracks the worst gap."""

import numpy as np
import pandas as pd

from xuewei.batch.compare import VS_LOWEST, comparison_table
from xuewei.reports.progress import SolveProgress
from xuewei.reports.run_outputs import quality_sentence, quality_short, stage_solver_summary


def _row(name, objective, bound):
    return {"variant": name, "status": "ok", "error": "", "scenario": "s.toml", "overrides": "",
            "objective_wan_yuan": objective, "bound_wan_yuan": bound}


def test_variants_closer_than_their_gaps_are_indistinguishable():
    rows = [_row("a", 1000.0, 990.0), _row("b", 1005.0, 996.0), _row("c", 1030.0, 1020.0), _row("d", 1010.0, np.nan),
            {"variant": "e", "status": "failed", "error": "x", "scenario": "s.toml", "overrides": ""}]
    df = comparison_table(rows).set_index("variant")
    assert df.loc["a", "objective_vs_lowest"] == VS_LOWEST[0] == "最低"
    # b's bound 996 is below a's 1000: b may be the cheaper policy, the solver cannot tell.
    assert df.loc["b", "objective_vs_lowest"] == "无法区分"
    assert df.loc["b", "objective_over_lowest_wan_yuan"] == 5.0
    # c's bound 1020 is above a's objective: c is proven costlier.
    assert df.loc["c", "objective_vs_lowest"] == VS_LOWEST[2]
    # Without a bound nothing is proven.
    assert df.loc["d", "objective_vs_lowest"] == "无法区分"
    assert pd.isna(df.loc["e", "objective_vs_lowest"])


def _summary(bounds):
    return pd.DataFrame({"model": ["primary", "junior#1", "junior#2"], "status": "feasible", "stop": "node_limit",
                         "objective_wan_yuan": [1000.0, 300.0, 100.0], "bound_wan_yuan": bounds,
                         "gap": [(1000 - bounds[0]) / 1000, 0.0, 0.0], "solve_seconds": 1.0})


def test_report_sentences_give_the_total_gap():
    s = _summary([990.0, 300.0, 100.0])
    assert "1,400" in quality_sentence(s) and "1,390" in quality_sentence(s) and "0.71%" in quality_sentence(s)
    assert "0.71%" in quality_short(s) and "1.00%" in quality_short(s)
    rows = stage_solver_summary(s).set_index("stage")
    assert rows.loc["junior", "objective"] == 400.0 and rows.loc["junior", "bound"] == 400.0
    missing = _summary([990.0, np.nan, 100.0])
    assert "junior#1" in quality_sentence(missing) and "启发式" in quality_short(missing)
    assert pd.isna(stage_solver_summary(missing).set_index("stage").loc["junior", "bound"])
    assert "polish" not in quality_sentence(s)


def test_report_says_what_the_polish_with_openings_fixed_saved():
    s = _summary([990.0, 300.0, 100.0]).assign(solver_answer_wan_yuan=[1012.6, 300.0, 100.0])
    text = quality_sentence(s)
    assert "其中 1 个模型" in text and "又省 13 万元" in text and "solver.polish_nodes" in text
    assert "refine_sweeps" not in text


def test_report_says_what_the_polish_and_the_refine_search_each_saved():
    s = _summary([990.0, 300.0, 100.0]).assign(solver_answer_wan_yuan=[1012.6, 305.0, 100.0],
                                               polished_wan_yuan=[1004.2, 305.0, 100.0])
    text = quality_sentence(s)
    # primary: 1,012.6 → 1,004.2 by the polish, → 1,000 by the search; junior#1: 305 → 300 by the search.
    assert "其中 1 个模型在求解器停下后" in text and "又省 8 万元；2 个模型再在答案上做局部搜索" in text
    assert "solver.refine_sweeps" in text and "又省 9 万元。" in text
    only_search = _summary([990.0, 300.0, 100.0]).assign(solver_answer_wan_yuan=[1004.0, 300.0, 100.0],
                                                          polished_wan_yuan=[1004.0, 300.0, 100.0])
    text = quality_sentence(only_search)
    assert "polish_nodes" not in text and "其中 1 个模型再在答案上做局部搜索" in text and "又省 4 万元。" in text


def test_report_says_what_the_finish_saved():
    s = _summary([990.0, 300.0, 100.0]).assign(solver_answer_wan_yuan=[1012.6, 305.0, 100.0],
                                               polished_wan_yuan=[1004.2, 305.0, 100.0],
                                               refined_wan_yuan=[1000.0, 302.0, 100.0])
    text = quality_sentence(s)
    # primary: polish 8.4, search 4.2; junior#1: search 3, finish 2.
    assert "又省 8 万元；2 个模型再在答案上做局部搜索" in text and "又省 7 万元；1 个模型（村–校配对少于 1,000，或用完了投资份额、少于 2,000）间隙仍大于 2%" in text
    assert "solver.finish_nodes" in text and text.count("又省 2 万元。") == 1


def test_report_says_what_the_budget_left_by_the_split_saved():
    s = _summary([990.0, 300.0, 100.0]).assign(solver_answer_wan_yuan=[1000.0, 300.0, 100.0],
                                               split_answer_wan_yuan=[1250.0, np.nan, np.nan],
                                               budget_wan_yuan=["900;0", "100;0", "0;0"])
    text = quality_sentence(s)
    assert "其中 1 个模型用完了分得的投资（投资上限先按各学段所需分配，别的学段有份额没有用完），分得余款后从原答案出发重解，" \
        "比按初次分配求得的省 250 万元" in text
    assert "polish_nodes" not in text
    assert "分得余款" not in quality_sentence(_summary([990.0, 300.0, 100.0]).assign(solver_answer_wan_yuan=1.0))


def test_progress_tracks_the_worst_gap(capsys):
    p = SolveProgress()
    p.console.is_terminal  # noqa: B018 - pytest captures stderr: not a terminal, so lines are printed
    for done, (model, gap) in enumerate([("a", 0.001), ("b", 0.02), ("c", None), ("d", 0.004)], start=1):
        p.update(done, 4, {"model": model, "gap": gap})
    assert p.worst == 0.02 and p.worst_model == "b"
    err = capsys.readouterr().err
    assert "已解 4/4" in err and "最差间隙 2.00%（b）" in err


def test_solve_layout_reports_each_model_as_it_is_solved():
    from test_layout import one_stage

    from xuewei.optimizer.layout import solve_layout
    from xuewei.optimizer.policy import PolicyConfig

    parts = []
    for k in (1, 2):
        sd = one_stage(demand=[[90.0 * k]], c0=[2], K=[6], dist_km=[[1.0]])
        sd.part = k
        parts.append(sd)
    seen = []
    res = solve_layout(parts, PolicyConfig(), threads=1, max_nodes=1, on_model=lambda d, t, s: seen.append((d, t, s["model"])))
    assert [(d, t) for d, t, _ in seen] == [(1, 2), (2, 2)]
    assert sorted(m for _, _, m in seen) == sorted(res.summary["model"])


def test_workbook_quality_table_shows_the_answer_before_the_polish():
    from types import SimpleNamespace

    from xuewei.reports.workbook import solver_quality_table

    s = _summary([990.0, 300.0, 100.0]).assign(nodes=1, solver_answer_wan_yuan=[1012.6, 300.0, 100.0])
    table = solver_quality_table(SimpleNamespace(solver=s))
    assert list(table["固定开办决策再解前的目标值（万元）"]) == [1012.6, 300.0, 100.0]
    assert list(table["目标值（万元）"]) == [1000.0, 300.0, 100.0]
    assert "固定开办决策再解前的目标值（万元）" not in solver_quality_table(SimpleNamespace(solver=_summary([990.0, 300.0, 100.0])))
    table = solver_quality_table(SimpleNamespace(solver=s.assign(polished_wan_yuan=[1004.2, 300.0, 100.0])))
    assert list(table["局部搜索前的目标值（万元）"]) == [1004.2, 300.0, 100.0]


def test_workbook_quality_table_shows_budget_shares_spending_and_the_answer_under_the_first_split():
    from types import SimpleNamespace

    from xuewei.reports.workbook import solver_quality_table

    s = _summary([990.0, 300.0, 100.0]).assign(nodes=1, budget_wan_yuan=["900;0", "100;0", "0;0"],
                                               capital_wan_yuan=["900;0", "40;0", "0;0"],
                                               split_answer_wan_yuan=[1250.0, np.nan, np.nan])
    table = solver_quality_table(SimpleNamespace(solver=s))
    assert list(table["分得的投资（万元，各期）"]) == ["900;0", "100;0", "0;0"]
    assert list(table["已用投资（万元，各期）"]) == ["900;0", "40;0", "0;0"]
    assert table["按初次分配的投资份额求得的目标值（万元）"].iloc[0] == 1250.0
    assert "分得的投资（万元，各期）" not in solver_quality_table(SimpleNamespace(solver=_summary([990.0, 300.0, 100.0])))


def test_report_table_of_the_budget_per_period():
    """Under a budget the report has a table per period: the county's limit (the final shares add up to
    it), what each stage spent and what is left; as read back from solver.csv a one-period column is a number."""
    from xuewei.reports.run_outputs import budget_use

    s = _summary([990.0, 300.0, 100.0]).assign(budget_wan_yuan=["900;0", "100;50", "0;0"],
                                               capital_wan_yuan=["880;0", "40;50", "0;0"])
    use = budget_use(s, [2025, 2030]).set_index("规划期")
    assert use.loc[2025].to_dict() == {"全县投资上限（万元）": 1000, "小学": 880, "初中": 40, "合计已用": 920, "未用": 80}
    assert use.loc[2030, "未用"] == 0
    one = _summary([990.0, 300.0, 100.0]).assign(budget_wan_yuan=[900, 100, 0], capital_wan_yuan=[880, 40, np.nan])
    assert budget_use(one, [2025]).iloc[0]["合计已用"] == 920
    assert budget_use(_summary([990.0, 300.0, 100.0]), [2025]) is None
