"""`xuewei maps RUN_DIR [--township NAME]`, `xuewei pack RUN_DIR --township NAME` and
`xuewei export RUN_DIR --format shp|geojson`: from any finished run."""

from __future__ import annotations

import time
from pathlib import Path

from xuewei.errors import InputError, Problem
from xuewei.reports.runfolder import claim_output


def register(sub) -> None:
    p = sub.add_parser("maps", help="绘制县域总图与乡镇分图（A3，PNG 与 PDF），来自一次运行的输出文件夹")
    p.add_argument("run_dir", help="xuewei run 的输出文件夹")
    p.add_argument("--township", action="append", metavar="乡镇",
                   help="只画这个乡镇（名称或代码；可重复）；缺省画总图和全部乡镇")
    p.add_argument("--out", help="输出文件夹（缺省 RUN_DIR/maps）")
    p.set_defaults(func=cmd_maps)

    p = sub.add_parser("pack", help="生成乡镇听证会材料（每个乡镇一个 PDF：分图、学校调整表、各村路程、需求预测）")
    p.add_argument("run_dir", help="xuewei run 的输出文件夹")
    p.add_argument("--township", action="append", metavar="乡镇", required=True,
                   help="乡镇名称或代码（可重复；写 全部 则每个乡镇一份）")
    p.add_argument("--out", help="输出文件夹（缺省 RUN_DIR/packs）")
    p.set_defaults(func=cmd_pack)

    p = sub.add_parser("export", help="把运行结果的 GIS 图层（results.gpkg）另存为 Shapefile 或 GeoJSON，供旧版 GIS 软件使用")
    p.add_argument("run_dir", help="xuewei run 的输出文件夹")
    p.add_argument("--format", required=True, choices=["shp", "geojson"], help="shp：每个图层一个 Shapefile（带 .cpg）；"
                   "geojson：每个图层一个 GeoJSON（UTF-8）")
    p.add_argument("--encoding", choices=["utf-8", "gbk"], default="utf-8",
                   help="Shapefile 属性的编码（缺省 utf-8；ArcMap 10.x、旧版超图等按 GBK 读的软件用 gbk）")
    p.add_argument("--out", help="输出文件夹（缺省 RUN_DIR/gis_shp 或 RUN_DIR/gis_geojson；以前导出的文件夹被替换）")
    p.set_defaults(func=cmd_export)


def resolve_townships(run, given: list[str], label: str) -> list[str]:
    """Township ids from names or ids; ``全部``/``all`` means every township.

    Raises
    ------
    InputError
        For any unknown name, listing the valid ones (exit 2).
    """
    tw = run.region.townships
    if any(g in ("全部", "all") for g in given):
        return list(tw["township_id"])
    by_name = dict(zip(tw["name"], tw["township_id"]))
    ids = set(tw["township_id"])
    out, problems = [], []
    for g in given:
        if g in ids:
            out.append(g)
        elif g in by_name:
            out.append(by_name[g])
        else:
            problems.append(Problem(file=label, field="--township", expected="本区域的乡镇名称或代码", found=g,
                                    hint="可选：" + "、".join(tw["name"])))
    if problems:
        raise InputError(problems)
    return list(dict.fromkeys(out))


def _write_beside(out: Path, write) -> list[Path]:
    """``write(tmp)`` into a hidden folder beside ``out``, then move each file it wrote into ``out``
    (replacing a sheet of the same name, keeping the others). A full disk (exit 4) or a failure while
    drawing leaves ``out`` as it was and nothing half-written."""
    import os
    import shutil

    from xuewei.errors import DiskFullError
    from xuewei.reports.runfolder import free_bytes, is_disk_full

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        tmp.mkdir()
        written = [Path(p) for p in write(tmp)]
        out.mkdir(exist_ok=True)
        moved = []
        for p in written:
            os.replace(p, out / p.name)
            moved.append(out / p.name)
        return moved
    except Exception as err:
        if is_disk_full(err) and not isinstance(err, DiskFullError):
            raise DiskFullError(out, free_bytes(out.parent)) from None
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def cmd_maps(args) -> int:
    from xuewei.reports.maps import write_maps
    from xuewei.reports.stored_run import read_run

    t0 = time.perf_counter()
    run = read_run(args.run_dir)
    tids = resolve_townships(run, args.township, args.run_dir) if args.township else None
    out = Path(args.out) if args.out else Path(args.run_dir) / "maps"
    # Drawn into a temporary folder that replaces ``out`` when every sheet is done: a full disk or a
    # kill leaves the old sheets as they were, and a second command drawing there is refused.
    with claim_output(out, force=True):
        paths = _write_beside(out, lambda tmp: write_maps(run, tmp, township_ids=tids, overview=tids is None))
    print(f"已绘制 {len(paths) // 2} 张图（PNG 与 PDF）到 {out}，用时 {time.perf_counter() - t0:.1f} 秒")
    if run.synthetic:
        print("（示意数据：区域数据部分为合成，图上已标注）")
    return 0


def cmd_pack(args) -> int:
    from xuewei.reports.pack import write_packs
    from xuewei.reports.stored_run import read_run

    run = read_run(args.run_dir)
    tids = resolve_townships(run, args.township, args.run_dir)
    out = Path(args.out) if args.out else Path(args.run_dir) / "packs"
    with claim_output(out, force=True):
        written = _write_beside(out, lambda tmp: write_packs(run, tmp, tids))
    for p in written:
        print(f"听证会材料：{p}")
    return 0


def cmd_export(args) -> int:
    from xuewei.reports.gis import export

    if args.format == "geojson" and args.encoding != "utf-8":
        raise InputError(Problem(file=args.run_dir, field="--encoding", expected="GeoJSON 只能是 utf-8（RFC 7946）",
                                 found=args.encoding, hint="GBK 编码只用于 --format shp。"))
    out = export(Path(args.run_dir), args.format, args.encoding, Path(args.out) if args.out else None)
    kind = {"shp": f"Shapefile（属性编码 {args.encoding.upper()}，见各 .cpg）", "geojson": "GeoJSON（UTF-8）"}[args.format]
    print(f"已导出 GIS 图层为 {kind}：{out}（坐标 WGS-84 经纬度；字段中文名见 fields.csv）")
    return 0
