"""Checks before solving: inputs well formed, and the demand servable at all.

Every problem found is listed in one `InputError`, with the numbers in the message.
"""

from __future__ import annotations

import numpy as np

from xuewei.errors import InputError, Problem, raise_if

SOURCE = "选址模型输入"
STATUSES = ("candidate", "open", "closed")


def _ids(ids, limit: int = 8) -> str:
    ids = [str(v) for v in ids]
    text = "、".join(ids[:limit])
    return text + (f" 等 {len(ids)} 个" if len(ids) > limit else "")


def check_arrays(demand, status, opt_site, opt_capacity, opt_fixed_cost, opt_min_load, n_sites, p, budget):
    """Shapes, signs and finiteness of the model's inputs; raises `InputError`."""
    problems: list[Problem] = []

    def bad(field, expected, found, hint=None):
        problems.append(Problem(file=SOURCE, field=field, expected=expected, found=found, hint=hint))

    if demand.ndim != 1:
        bad("demand", "一维数组", f"形状 {demand.shape}")
    elif (~np.isfinite(demand) | (demand < 0)).any():
        bad("demand", "非负有限数", f"{int((~np.isfinite(demand) | (demand < 0)).sum())} 个不合格值")
    unknown = sorted(set(map(str, status)) - set(STATUSES))
    if unknown:
        bad("status", "candidate、open 或 closed", "、".join(unknown))
    if len(opt_site) and ((opt_site < 0) | (opt_site >= n_sites)).any():
        bad("site_id", "已知站点编号", "选项中出现未知站点")
    if (np.isnan(opt_capacity) | (opt_capacity < 0)).any():
        bad("capacity", "非负数（无容量限制用 inf）", "负数或空值")
    if (~np.isfinite(opt_fixed_cost)).any():
        bad("fixed_cost", "有限数", "空值或无穷")
    if (~np.isfinite(opt_min_load) | (opt_min_load < 0)).any():
        bad("min_load", "非负有限数", "负数或空值")
    if p is not None and (int(p) != p or p < 0):
        bad("p", "非负整数", str(p))
    if budget is not None and not np.isfinite(budget):
        bad("budget", "有限数", str(budget))
    raise_if(problems)


def servable_problems(node_ids, demand, pair_counts, max_reachable_capacity, single_source,
                      opt_site, opt_capacity, status, p, site_ids):
    """Why some demand cannot be served whatever the layout; one `Problem` per cause.

    Returns
    -------
    problems : list of Problem
    reasons : numpy.ndarray of object
        ``(n_nodes,)`` reason code per node (``""``, ``no_site`` or ``too_large``).
    """
    problems: list[Problem] = []
    reasons = np.full(len(demand), "", dtype=object)
    active = demand > 0
    lonely = active & (pair_counts == 0)
    if lonely.any():
        reasons[lonely] = "no_site"
        problems.append(Problem(
            file=SOURCE, field="node_id", expected="每个有需求的节点至少有一个可达站点",
            found=f"{_ids(node_ids[lonely])} 没有可达站点（共需求 {demand[lonely].sum():g}）",
            hint="放宽最大距离，或增加候选站点；也可设置 unserved_penalty 以报告未满足需求。",
        ))
    if single_source:
        too_large = active & ~lonely & (demand > max_reachable_capacity + 1e-9)
        if too_large.any():
            reasons[too_large] = "too_large"
            problems.append(Problem(
                file=SOURCE, field="demand", expected="单源分配时节点需求不超过某个可达站点的容量",
                found=f"{_ids(node_ids[too_large])} 的需求超过其所有可达站点的最大容量",
                hint="允许拆分分配，或提高这些站点的容量选项。",
            ))
    open_ok = np.asarray(status) != "closed"
    site_cap = np.zeros(len(open_ok))
    np.maximum.at(site_cap, opt_site, opt_capacity)
    site_cap[~open_ok] = 0
    if p is not None:
        available = np.sort(site_cap)[::-1][: int(p)]
        best, how = available.sum(), f"开放 {int(p)} 个站点时可达到的最大总容量"
    else:
        best, how = site_cap.sum(), "全部站点开放时的最大总容量"
    total = demand.sum()
    if np.isfinite(best) and total > best + 1e-9:
        problems.append(Problem(
            file=SOURCE, field="capacity", expected=f"总需求不超过{how}",
            found=f"总需求 {total:g} > 最大总容量 {best:g}",
            hint="增加站点或容量选项，或设置 unserved_penalty 以报告哪些需求无法满足。",
        ))
    return problems, reasons


def structure_problems(status, p, n_options_per_site, site_ids):
    """Count of open sites impossible; always an `InputError`, penalties do not help."""
    problems: list[Problem] = []
    status = np.asarray(status)
    forced = int((status == "open").sum())
    usable = int(((status != "closed") & (n_options_per_site > 0)).sum())
    no_option = (status == "open") & (n_options_per_site == 0)
    if no_option.any():
        problems.append(Problem(file=SOURCE, field="status", expected="强制开放的站点至少有一个规模选项",
                                found=_ids(site_ids[no_option])))
    if p is not None:
        if forced > p:
            problems.append(Problem(file=SOURCE, field="p", expected=f"不少于强制开放站点数 {forced}", found=str(p)))
        if p > usable:
            problems.append(Problem(file=SOURCE, field="p", expected=f"不超过可用站点数 {usable}", found=str(p)))
    return problems


def raise_unservable(problems: list[Problem]) -> None:
    """Raise the pre-solve feasibility problems, if any."""
    if problems:
        raise InputError(problems)
