"""The forecast beside a plan's own enrolment targets (巫溪 表2), reported, never forced to match."""

from __future__ import annotations

import pandas as pd

from xuewei.data.plans import load_plan

# plan id → (table, indicator as printed, stage, multiplier to pupils, note)
TARGETS = {
    "wuxi": [
        ("表2", "在园幼儿数（万人）", "kindergarten", 10_000, "规划为全部在园幼儿（公办+民办）；预测为公办园需求，按基准年公办在园幼儿校准"),
        ("表2", "其中：普通小学", "primary", 10_000, ""),
        ("表2", "普通初中", "junior", 10_000, ""),
        ("表2", "其中：普通高中", "senior", 10_000, "规划表头印作“在校学生数（人）”，数值实为万人"),
    ],
}
YEAR_COLUMNS = {2022: "2022年", 2025: "2025年"}


def compare_with_plan(demand: pd.DataFrame, plan_id: str) -> pd.DataFrame | None:
    """County totals of the forecast (each variant) beside the plan's targets, with the plan's quote."""
    if plan_id not in TARGETS:
        return None
    plan = load_plan(plan_id)
    totals = demand.groupby(["stage", "variant", "year"])["pupils"].sum()
    rows = []
    for table_id, indicator, stage, mult, note in TARGETS[plan_id]:
        row = next(r for r in plan.table(table_id).rows if r.get("主要指标") == indicator)
        for year, col in YEAR_COLUMNS.items():
            target = row.get(col)
            if not isinstance(target, (int, float)):
                continue
            for variant in sorted(demand["variant"].unique()):
                got = totals.get((stage, variant, year))
                if got is None:
                    continue
                rows.append({"stage": stage, "year": year, "variant": variant, "forecast_pupils": round(float(got)),
                             "plan_target_pupils": round(target * mult), "difference": round(float(got) - target * mult),
                             "difference_pct": round(100 * (float(got) / (target * mult) - 1), 1),
                             "plan_indicator": indicator, "note": note, "source_quote": row["source_quote"]})
    return pd.DataFrame(rows) if rows else None
