"""Every plan row is quoted verbatim from its seed, and every claimed total is checked."""

import pytest

from xuewei.data.paths import SEEDS_DIR
from xuewei.data.plans import PLAN_IDS, available_plans, evaluate_check, load_plan, missing_quotes

PLANS = available_plans()


def test_every_plan_is_transcribed():
    assert sorted(PLANS) == sorted(PLAN_IDS)


@pytest.mark.parametrize("plan_id", PLANS)
def test_every_quote_is_in_its_seed(plan_id):
    plan = load_plan(plan_id)
    seed = (SEEDS_DIR / plan.source).read_text(encoding="utf-8")
    missing = missing_quotes(plan, seed)
    assert not missing, f"{len(missing)} quotes not in {plan.source}: {missing[:5]}"


@pytest.mark.parametrize("plan_id", PLANS)
def test_claimed_totals(plan_id):
    plan = load_plan(plan_id)
    for table in plan.tables:
        for check in table.checks:
            diffs = evaluate_check(table, check)
            if check["status"] == "balances":
                assert not diffs, f"{plan_id} {table.id}: {diffs}"
            else:
                assert check["status"] == "inconsistent"
                assert diffs, f"{plan_id} {table.id}: marked inconsistent but balances"
                assert check.get("note"), f"{plan_id} {table.id}: inconsistency without a note"


@pytest.mark.parametrize("plan_id", PLANS)
def test_rows_use_the_table_columns(plan_id):
    plan = load_plan(plan_id)
    for table in plan.tables:
        assert table.rows, f"{plan_id} {table.id} has no rows"
        for row in table.rows:
            extra = set(row) - set(table.columns) - {"source_quote"}
            assert not extra, f"{plan_id} {table.id}: fields {extra} not in columns"


def test_data_format_doc_matches_the_schemas():
    from xuewei.data.schema_docs import DOC, render

    text = DOC.read_text(encoding="utf-8")
    assert render(text) == text, "docs/data-format.md is stale: run python -m xuewei.data.schema_docs"
