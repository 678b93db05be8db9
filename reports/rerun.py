"""`xuewei rerun RUN_DIR`: reproduce a run from its manifest and report any difference, table by table.

The manifest of a run folder records the resolved scenario (with any command-line override) and the
sha256 of every input file. A rerun refuses (exit 2) when an input has changed or gone, naming it;
otherwise it runs the same scenario into a new folder (atomically, like `xuewei run`) and compares
every CSV table with the original: identical bytes, or the rows that differ. Columns that time the
solver (``*_seconds``) are left out of the comparison, since wall-clock times never repeat.

Exit codes: 0 every table identical, 4 some table differs, 2 inputs changed or the folder is not a
run folder, 3 as `xuewei run` when pupils are unserved (checked before the comparison's 4).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd

from xuewei.errors import InputError, Problem
from xuewei.reports.runfolder import atomic_run_folder, claim_output, file_sha256, write_csv

EXIT_DIFFERENT = 4
VOLATILE_SUFFIX = "_seconds"  #: solver timing columns: excluded from the comparison


def register(sub) -> None:
    p = sub.add_parser("rerun", help="按运行清单复现一次运行，逐表报告差异",
                       description="读取运行文件夹的 manifest.json，确认输入文件未变后按同一情景重新运行到新文件夹，"
                                   "并逐表比较结果（相同，或哪些行不同）。")
    p.add_argument("run_dir", help="xuewei run 的输出文件夹")
    p.add_argument("--out", help="新结果文件夹（缺省 <原文件夹>-rerun-<时间>）")
    p.add_argument("--force", action="store_true", help="新结果文件夹已存在时覆盖")
    p.set_defaults(func=cmd_rerun)


def read_manifest(run_dir: Path) -> dict:
    """The manifest of a run folder, with the keys a rerun needs checked."""
    man_path = run_dir / "manifest.json"
    if not run_dir.is_dir() or not man_path.is_file():
        raise InputError(Problem(file=str(run_dir), expected="xuewei run 的输出文件夹（含 manifest.json）", found="不是"))
    try:
        man = json.loads(man_path.read_text(encoding="utf-8"))
        path = Path(man["scenario"]["path"])
        resolved = man["scenario"]["resolved"]
        inputs = man["inputs"]
        if not isinstance(resolved, dict) or not isinstance(inputs, dict):
            raise TypeError("scenario.resolved / inputs 不是表")
        for key, entry in inputs.items():
            entry["path"], entry["sha256"]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as err:
        raise InputError(Problem(file=str(man_path), expected="完整的运行清单（scenario.path、scenario.resolved、inputs）",
                                 found=f"{type(err).__name__}: {err}")) from None
    man["_scenario_path"] = path
    return man


def changed_inputs(inputs: dict) -> list[Problem]:
    """One problem per input file that is gone or whose sha256 differs from the manifest's."""
    problems = []
    for key, entry in sorted(inputs.items()):
        path = Path(entry["path"])
        if not path.is_file():
            problems.append(Problem(file=str(path), field=f"inputs.{key}", expected="运行时的输入文件", found="已缺失"))
        elif file_sha256(path) != entry["sha256"]:
            problems.append(Problem(file=str(path), field=f"inputs.{key}", expected=f"sha256 {entry['sha256'][:12]}…",
                                    found=f"已改变（现为 {file_sha256(path)[:12]}…）",
                                    hint="输入与原运行不同，无法复现；请恢复该文件，或直接用 xuewei run 重新运行。"))
    return problems


def _read(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return df[[c for c in df.columns if not c.endswith(VOLATILE_SUFFIX)]]


def compare_table(old: Path, new: Path) -> tuple[str, str]:
    """``(verdict, detail)`` for one table: ``identical``, ``different``, ``missing`` or ``extra``."""
    if not new.is_file():
        return "missing", "复现结果中没有此表"
    if not old.is_file():
        return "extra", "原运行中没有此表"
    if old.read_bytes() == new.read_bytes():
        return "identical", "逐字节相同"
    a, b = _read(old), _read(new)
    if list(a.columns) != list(b.columns):
        return "different", f"列不同：原 {len(a.columns)} 列，复现 {len(b.columns)} 列"
    if a.equals(b):
        return "identical", f"相同（不计用时列 *{VOLATILE_SUFFIX}）"
    if len(a) != len(b):
        return "different", f"行数不同：原 {len(a)} 行，复现 {len(b)} 行"
    rows = [i for i in range(len(a)) if not a.iloc[i].equals(b.iloc[i])]
    cols = [c for c in a.columns if not a[c].equals(b[c])]
    shown = "、".join(str(r + 2) for r in rows[:10]) + ("……" if len(rows) > 10 else "")
    return "different", f"{len(rows)} 行不同（表格第 {shown} 行；列 {'、'.join(cols[:8])}）"


def compare_runs(old_dir: Path, new_dir: Path) -> pd.DataFrame:
    """Every CSV of either folder (charts included) with its verdict; sorted by name."""
    names = sorted({str(p.relative_to(old_dir)) for p in old_dir.rglob("*.csv")}
                   | {str(p.relative_to(new_dir)) for p in new_dir.rglob("*.csv")})
    names = [n for n in names if n != "rerun_diff.csv"]
    rows = [(n, *compare_table(old_dir / n, new_dir / n)) for n in names]
    return pd.DataFrame(rows, columns=["table", "verdict", "detail"])


VERDICT_ZH = {"identical": "相同", "different": "不同", "missing": "缺失", "extra": "多出"}


def cmd_rerun(args) -> int:
    from xuewei import pipeline
    from xuewei.commands import EXIT_UNSERVED, _say, room_check
    from xuewei.reports.run_outputs import write_run

    run_dir = Path(args.run_dir)
    man = read_manifest(run_dir)
    problems = changed_inputs(man["inputs"])
    if man.get("warm_start"):  # the layout it started from decides the result too (solver.warm_start)
        problems += changed_inputs({"warm_start": man["warm_start"]})
    if problems:
        raise InputError(problems)
    out = Path(args.out) if args.out else run_dir.with_name(f"{run_dir.name}-rerun-{time.strftime('%Y%m%d-%H%M%S')}")
    if out.resolve() == run_dir.resolve():
        raise InputError(Problem(file=str(out), field="--out", expected="不同于原运行的文件夹", found="与原运行相同"))
    with claim_output(out, force=args.force):  # an existing --out is refused before the solve
        # The resolved scenario on top of the file: the same values, including any --time-limit given then.
        result = pipeline.run(man["_scenario_path"], overrides=man["scenario"]["resolved"], progress=_say,
                              on_loaded=room_check(out))
        _say("写出结果并逐表比较")
        with atomic_run_folder(out, force=args.force) as tmp:
            write_run(result, tmp, out)
            diff = compare_runs(run_dir, tmp)
            write_csv(diff, tmp / "rerun_diff.csv")
    print(f"复现：{run_dir} → {out}")
    for row in diff.itertuples():
        print(f"  {row.table}：{VERDICT_ZH[row.verdict]}，{row.detail}")
    same = (diff["verdict"] == "identical").all()
    print("全部表格相同：运行可复现。" if same else
          f"有 {int((diff['verdict'] != 'identical').sum())} 张表不同（见 {out / 'rerun_diff.csv'}）。")
    if not result.unserved.empty:
        return EXIT_UNSERVED
    return 0 if same else EXIT_DIFFERENT
