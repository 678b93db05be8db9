"""A county with big urban communities and over-size schools (示意数据), for the catchment measurements.

Built on `make_city` (one county, 12 townships): three communities of the county seat get
30,000–42,000 residents (the others shrink: the seat grows by 30 % in all); the seat's births and its schools' base-year pupils and classes grow in the
same proportion, so several seat schools start above the default size caps (primary and junior
2,000, kindergarten 540 pupils) and the base year stays consistent with the births. Every row stays
flagged ``synthetic = 1``; ``region.toml`` says what was changed. The scenario uses the default
policy (no ``[policy]`` overrides) and the default solver settings.

Usage::

    python benchmarks/make_bigtown.py OUT_DIR [--seed 20260314]

writes ``OUT_DIR/bigtown/`` and ``OUT_DIR/bigtown.toml``. The same seed gives byte-identical files.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_city import make_city  # noqa: E402

BIG = (32000, 36000, 42000)  #: residents of the three big communities
GROWTH = 1.3  #: the county seat's population (and births, base-year pupils) against make_city's


def make_bigtown(out: Path, seed: int = 20260314, townships: int = 12, nodes: int = 240, schools: int = 110) -> Path:
    """Write ``out/bigtown`` (region pack) and ``out/bigtown.toml``; return the pack."""
    tmp = make_city(out / "_base", seed=seed, counties=1, townships_per_county=townships, n_nodes=nodes,
                    n_schools=schools)
    pack = out / "bigtown"
    pack.mkdir(parents=True, exist_ok=True)
    read = {name: pd.read_csv(tmp / f"{name}.csv", dtype={"township_id": str, "node_id": str, "school_id": str})
            for name in ("townships", "nodes", "schools", "school_stages", "births", "candidate_sites")}
    towns, nodes_df = read["townships"], read["nodes"]
    seat = towns.loc[towns["tier"] == "county_seat", "township_id"].iloc[0]
    in_seat = nodes_df.index[nodes_df["township_id"] == seat][: len(BIG)]
    old = nodes_df.loc[nodes_df["township_id"] == seat, "population"].sum()
    # The seat grows by GROWTH in all; its other communities shrink so that the three big ones fit.
    others = nodes_df.index[(nodes_df["township_id"] == seat) & ~nodes_df.index.isin(in_seat)]
    rest = GROWTH * old - sum(BIG)
    nodes_df.loc[others, "population"] = (nodes_df.loc[others, "population"] * rest
                                          / nodes_df.loc[others, "population"].sum()).round().astype(int)
    nodes_df.loc[in_seat, "population"] = BIG
    nodes_df.loc[in_seat, "name"] = [f"示意大社区{i + 1}" for i in range(len(BIG))]
    ratio = nodes_df.loc[nodes_df["township_id"] == seat, "population"].sum() / old
    births = read["births"]
    births.loc[births["township_id"] == seat, "births"] = (births.loc[births["township_id"] == seat, "births"]
                                                           * ratio).round().astype(int)
    sch = read["schools"]
    ss = read["school_stages"]
    at_seat = ss["school_id"].isin(sch.loc[sch["township_id"] == seat, "school_id"])
    ss.loc[at_seat, "pupils"] = (ss.loc[at_seat, "pupils"] * ratio).round().astype(int)
    cap = ss["stage"].map({"kindergarten": 30, "primary": 45, "junior": 50, "senior": 50})
    ss.loc[at_seat, "classes"] = [max(1, math.ceil(p / (c * 0.95))) for p, c in zip(ss.loc[at_seat, "pupils"],
                                                                                     cap[at_seat])]
    ss.loc[at_seat, "places"] = ss.loc[at_seat, "classes"] * cap[at_seat]
    for name, df in read.items():
        df.to_csv(pack / f"{name}.csv", index=False, lineterminator="\n")
    (pack / "boundary.geojson").write_bytes((tmp / "boundary.geojson").read_bytes())
    text = (tmp / "region.toml").read_text(encoding="utf-8")
    text = text.replace('id = "city"', 'id = "bigtown"').replace('name = "示意市"', 'name = "示意大镇县"')
    text = text.replace("synthetic_parts = [", "synthetic_parts = [\"benchmarks/make_bigtown.py：县城 3 个社区改为 "
                        + "、".join(f"{p:,}" for p in BIG) + f" 人，县城出生数与学校基准年学生、班数按县城人口同比放大（×{ratio:.2f}），"
                        "故县城若干学校超出缺省规模上限\", ")
    (pack / "region.toml").write_text(text, encoding="utf-8")
    (out / "bigtown.toml").write_text(
        'name = "bigtown"\ndescription = "大社区与超大规模学校的示意县（示意数据）；缺省政策与求解设置"\nregion = "bigtown"\n\n'
        "[horizon]\nbase_year = 2020\nperiods = [2025, 2030, 2035]\n", encoding="utf-8")
    for f in tmp.iterdir():
        f.unlink()
    tmp.rmdir()
    (out / "_base" / "city.toml").unlink()
    (out / "_base").rmdir()
    return pack


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", type=Path)
    p.add_argument("--seed", type=int, default=20260314)
    a = p.parse_args(argv)
    pack = make_bigtown(a.out, a.seed)
    ss = pd.read_csv(pack / "school_stages.csv")
    big = ss[((ss["stage"] == "primary") & (ss["pupils"] > 2000)) | ((ss["stage"] == "junior") & (ss["pupils"] > 2000))
             | ((ss["stage"] == "kindergarten") & (ss["pupils"] > 540))]
    print(f"写出 {pack}：超出缺省规模上限的学校学段 {len(big)} 个")


if __name__ == "__main__":
    main()
