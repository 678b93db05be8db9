"""Small run-like tables (示意/synthetic) for checking a run against each plan without solving anything.

`fake_run` builds what `optimizer.plan_check.check_against_plan` reads of a run: the region (meta,
townships, schools, candidate sites, base-year school stages), the layout's sites, the actions, the
school table, the demand and the policy. Every number is made up for the test at hand.
"""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

CLASS_CAP = {"kindergarten": 30, "primary": 45, "junior": 50, "senior": 50}
STAGES_OF_KIND = {"kindergarten": "kindergarten", "primary": "primary", "teaching_point": "primary", "junior": "junior",
                  "nine_year": "primary;junior", "senior": "senior", "complete_secondary": "junior;senior"}


def school(sid, kind, township, *, classes=10, after=None, action="keep", period=2025, origin="existing",
           name=None, plan_rows="", ownership="public", pupils=None, stage=None):
    """One school (or new site) with one stage: base classes, classes at ``period`` and its action."""
    stage = stage or STAGES_OF_KIND[kind].split(";")[0]
    after = classes if after is None else after
    return dict(school_id=sid, kind=kind, township_id=township, classes=classes, after=after, action=action,
                period=period, origin=origin, name=name or sid, plan_rows=plan_rows, ownership=ownership,
                pupils=after * CLASS_CAP[stage] * 0.9 if pupils is None else pupils, stage=stage)


def fake_run(admin_code: str, schools: list[dict], *, townships=None, demand=None, periods=(2025, 2030),
             name="示意区域", candidates=None, base_private=None):
    """A run-like namespace; ``townships`` is ``[(id, name, county_id or None), ...]``."""
    townships = townships or [("T1", "城关镇", None), ("T2", "东乡", None)]
    tw = pd.DataFrame({"township_id": [t[0] for t in townships], "name": [t[1] for t in townships]})
    if any(t[2] is not None for t in townships):
        tw["county_id"] = [t[2] or "" for t in townships]
    existing = [s for s in schools if s["origin"] == "existing"]
    sch = pd.DataFrame({"school_id": [s["school_id"] for s in existing], "name": [s["name"] for s in existing],
                        "kind": [s["kind"] for s in existing], "township_id": [s["township_id"] for s in existing],
                        "ownership": [s["ownership"] for s in existing], "plan_rows": [s["plan_rows"] for s in existing],
                        "boarding_beds": 0, "lon": 109.6, "lat": 31.4})
    ss = pd.DataFrame({"school_id": [s["school_id"] for s in existing], "stage": [s["stage"] for s in existing],
                       "year": 2020, "classes": [s["classes"] for s in existing],
                       "places": [s["classes"] * CLASS_CAP[s["stage"]] for s in existing],
                       "pupils": [s["classes"] * CLASS_CAP[s["stage"]] * 0.9 for s in existing]})
    if base_private:  # (stage, pupils) of one private school in the base year
        sch.loc[len(sch)] = {"school_id": "P1", "name": "民办示意园", "kind": base_private[0], "township_id": townships[0][0],
                             "ownership": "private", "plan_rows": "", "boarding_beds": 0, "lon": 109.6, "lat": 31.4}
        ss.loc[len(ss)] = {"school_id": "P1", "stage": base_private[0], "year": 2020, "classes": 10, "places": 300,
                           "pupils": base_private[1]}
    cand = None
    new = [s for s in schools if s["origin"] != "existing"]
    if new or candidates:
        cand = pd.DataFrame({"site_id": [s["school_id"] for s in new], "name": [s["name"] for s in new],
                             "township_id": [s["township_id"] for s in new], "lon": 109.6, "lat": 31.4})
    sites, actions, table = [], [], []
    for s in schools:
        for p in periods:
            classes = s["after"] if p >= s["period"] else s["classes"]
            places = classes * CLASS_CAP[s["stage"]]
            sites.append({"site_id": s["school_id"], "stage": s["stage"], "period": p, "origin": s["origin"],
                          "open": classes > 0, "classes_before": s["classes"], "classes": classes, "places": places,
                          "pupils": (s["pupils"] if classes else 0.0) if p >= s["period"] else s["classes"] * CLASS_CAP[s["stage"]] * 0.9})
            act = s["action"] if p == s["period"] else "keep"
            if p > s["period"] and s["action"] in ("close", "merge"):
                continue
            if s["origin"] != "existing" and p < s["period"]:
                continue
            actions.append({"school_id": s["school_id"], "name": s["name"],
                            "kind": s["kind"] if s["origin"] == "existing" else "candidate",
                            "township_id": s["township_id"], "period": p, "action": act,
                            "stages_before": "" if s["origin"] != "existing" and p == s["period"] else s["stage"],
                            "stages_after": "" if classes == 0 else s["stage"]})
            if classes > 0:
                pupils = sites[-1]["pupils"]
                table.append({"school_id": s["school_id"], "stage": s["stage"], "period": p, "classes": classes,
                              "places": places, "pupils": pupils, "avg_class_size": pupils / classes})
    if demand is None:
        demand = pd.DataFrame({"node_id": "N1", "township_id": townships[0][0], "stage": ["kindergarten", "primary"],
                               "year": 2025, "variant": "mid", "pupils": [1000.0, 2000.0]})
    region = SimpleNamespace(meta=SimpleNamespace(admin_code=admin_code, name=name, plan=None, base_year=2020),
                             path=None, townships=tw, schools=sch, candidate_sites=cand, school_stages=ss)
    return SimpleNamespace(region=region, layout=SimpleNamespace(sites=pd.DataFrame(sites)),
                           actions=pd.DataFrame(actions), schools=pd.DataFrame(table), demand=demand,
                           policy=SimpleNamespace(class_cap=CLASS_CAP, design_variant="mid"), base_year=2020)


def demand_rows(rows: list[tuple]) -> pd.DataFrame:
    """``[(township_id, stage, year, pupils[, pupils_all]), ...]`` as a demand table (variant mid)."""
    cols = ["township_id", "stage", "year", "pupils"] + (["pupils_all"] if len(rows[0]) == 5 else [])
    d = pd.DataFrame(rows, columns=cols)
    d.insert(0, "node_id", "N1")
    d["variant"] = "mid"
    return d
