"""Convert the public enrolment series of the backtest benchmark from their original files.

The converted CSVs are not committed (they are made from snapshots brought by the search tool's
``fetch``; see README.md). This script makes them again, the same bytes every time, from

- a snapshot's git directory (``/work/.mirror/<owner>+<name>/repo``): the file is read at the pinned
  commit of `SOURCES` with ``git show COMMIT:PATH``, so a newer snapshot still gives the same data; or
- the original file itself (``--file KEY=PATH``), e.g. downloaded by hand from the repository at that commit.

Run (every series; each ``--git`` names one snapshot)::

    python benchmarks/realdata/convert.py all \\
        --git demdata=/work/.mirror/StatisticsNZ+demdata/repo \\
        --git conmat=/work/.mirror/idem-lab+conmat/repo \\
        --git casa=/work/.mirror/canaccc-cccz+CASA0003-CW2/repo \\
        --git nycschools=/work/.mirror/adelphi-ed-tech+nycschools/repo \\
        --git pds=/work/.mirror/woojiahao+pds-analysis/repo \\
        --git marylandedu=/work/.mirror/elipousson+marylandedu/repo

or one series: ``convert.py nz_regions --git demdata=...``. Output goes to ``benchmarks/realdata/<series>/``
(``--out DIR`` writes ``DIR/<series>/`` instead). Needs the ``bench`` extra (xlrd for the New Zealand
workbook, rdata for the R data files): ``pip install -e ".[bench]"``.

Output format (as ``xuewei backtest`` reads it): ``area,year,grade,pupils`` and ``area,year,births``,
integers, sorted by area, year, grade; UTF-8 without BOM, ``\\n`` line ends.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Source:
    """One original file: the repository it is taken from, the pinned commit and the path in it."""

    repo: str
    commit: str
    path: str


#: key → original file (keys name the ``--git`` / ``--file`` arguments)
SOURCES: dict[str, Source] = {
    "nz_roll": Source("StatisticsNZ/demdata", "2e4fe83d4107bade926879b17cc2af7a81a0f253",
                      "data-raw/nz.school/Age-and-Region-2016.xls"),
    "nz_births": Source("StatisticsNZ/demdata", "2e4fe83d4107bade926879b17cc2af7a81a0f253",
                        "data/nz.births.reg.rda"),
    "au_students": Source("idem-lab/conmat", "4e8982781e895736db903d52fb6e3a0b48271dcf",
                          "data/abs_education_state.rda"),
    "nyc_2013": Source("canaccc-cccz/CASA0003-CW2", "b8ffa953a5acf8e2df343552fd9f54214154b66b",
                       "2013_-_2018_Demographic_Snapshot_School.csv"),
    "nyc_2016": Source("adelphi-ed-tech/nycschools", "aa50425dadafc3fe12efe134723b69347d3f42f0",
                       "src/nycschools/school-demographics.csv"),
    "sg_primary": Source("woojiahao/pds-analysis", "d84c8353b7f7323d673c530e0d414d87f80d5384",
                         "data/primary-enrolment-by-age.csv"),
    "sg_births": Source("woojiahao/pds-analysis", "d84c8353b7f7323d673c530e0d414d87f80d5384",
                        "data/live-births.csv"),
    # Maryland State Department of Education Report Card downloads, one file per academic year
    **{f"md_{ay}": Source("elipousson/marylandedu", "60cc484f8cd46e275f3ea1c446fcea8724ab943f",
                          f"data-raw/extdata/Enrollment_{ay}.csv" if ay < 2020
                          else f"data-raw/extdata/Enrollment_By_Grade_{ay}.csv")
       for ay in range(2003, 2026)},
}
#: short names of the snapshots for ``--git NAME=DIR`` → repository
SNAPSHOTS = {"demdata": "StatisticsNZ/demdata", "conmat": "idem-lab/conmat",
             "casa": "canaccc-cccz/CASA0003-CW2", "nycschools": "adelphi-ed-tech/nycschools",
             "pds": "woojiahao/pds-analysis", "marylandedu": "elipousson/marylandedu"}
#: series → the source keys it needs
SERIES = {"nz_regions": ("nz_roll", "nz_births"), "au_states": ("au_students",),
          "nyc_districts": ("nyc_2013", "nyc_2016"), "sg_primary": ("sg_primary", "sg_births"),
          "md_counties": tuple(f"md_{ay}" for ay in range(2003, 2026))}

FIRST_AGE, LAST_AGE = 5, 17  #: ages kept for the by-age series (grade = age − 5) [岁]


class Reader:
    """Bytes of the original files, from snapshots (pinned commit) or from given paths."""

    def __init__(self, git_dirs: dict[str, Path], files: dict[str, Path]):
        self.git_dirs = git_dirs
        self.files = files

    def read(self, key: str) -> bytes:
        src = SOURCES[key]
        if key in self.files:
            return self.files[key].read_bytes()
        for name, repo in SNAPSHOTS.items():
            if repo == src.repo and name in self.git_dirs:
                git = self.git_dirs[name]
                done = subprocess.run(["git", "--git-dir", str(git), "show", f"{src.commit}:{src.path}"],
                                      capture_output=True, check=False)
                if done.returncode != 0:
                    sys.exit(f"{git}: 读不到 {src.commit[:10]}:{src.path}：{done.stderr.decode(errors='replace').strip()}")
                return done.stdout
        sys.exit(f"缺少 {key}（{src.repo} {src.path}）：请给 --git {_snapshot_name(src.repo)}=快照目录 或 --file {key}=文件")


def _snapshot_name(repo: str) -> str:
    return next(n for n, r in SNAPSHOTS.items() if r == repo)


def _read_rda(data: bytes) -> dict:
    """Objects of an R data file (``rdata``; its notes about unknown R classes are not errors)."""
    import rdata

    with tempfile.NamedTemporaryFile(suffix=".rda") as tmp:
        tmp.write(data)
        tmp.flush()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return rdata.read_rda(tmp.name)


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Integers, sorted by every column but the last, UTF-8, ``\\n`` line ends."""
    keys = list(df.columns[:-1])
    df = df.sort_values(keys, ignore_index=True)
    for col in df.columns[1:]:
        df[col] = df[col].astype("int64")
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
    print(f"写出 {path}（{len(df)} 行）", file=sys.stderr)


# --- New Zealand ------------------------------------------------------------------------------

#: workbook column headings that are not regions of the births data, and how they are treated
NZ_DROP = {"Total", "Correspondence School", "Not Applicable"}
NZ_MERGE = {"Chatham Is. County": "Canterbury"}  # a county of Canterbury region
NZ_SPELLING = {"Hawkes Bay": "Hawke's Bay"}  # as the births data spell it


def nz_roll(data: bytes) -> pd.DataFrame:
    """School roll by region × age (male + female), one workbook sheet per year (1 July)."""
    import xlrd

    book = xlrd.open_workbook(file_contents=data)
    rows = []
    for sheet in book.sheets():
        year = int(sheet.name)
        head = sheet.col_values(0)
        at = head.index("Age")
        regions = sheet.row_values(at)
        for r, label in enumerate(head):
            if not (isinstance(label, str) and label.startswith("Age ") and label[4:].isdigit()):
                continue
            age = int(label[4:])
            if not FIRST_AGE <= age <= LAST_AGE:
                continue
            values = sheet.row_values(r)
            for c in range(1, len(regions)):
                name = str(regions[c]).strip()
                if not name:
                    continue  # the female column belongs to the name on its left
                name = name.removesuffix(" Region")
                if name in NZ_DROP:
                    continue
                name = NZ_MERGE.get(name, name)
                name = NZ_SPELLING.get(name, name)
                # male, female; a blank cell (one space) means no pupils
                pupils = sum(float(v) for v in values[c: c + 2] if str(v).strip() != "")
                rows.append((name, year, age - FIRST_AGE, pupils))
    df = pd.DataFrame(rows, columns=["area", "year", "grade", "pupils"])
    return df.groupby(["area", "year", "grade"], as_index=False)["pupils"].sum()


def nz_births(data: bytes) -> pd.DataFrame:
    """Live births by regional council of the mother's residence × calendar year (all ages, both sexes)."""
    arr = _read_rda(data)["nz.births.reg"]
    total = arr.sum(dim=("age", "sex"))
    df = total.to_dataframe(name="births").reset_index()
    df = df[df["region"] != "Area Outside Region"]
    return pd.DataFrame({"area": df["region"].astype(str), "year": df["year"].astype(int), "births": df["births"]})


def convert_nz(reader: Reader, out: Path) -> None:
    roll = nz_roll(reader.read("nz_roll"))
    births = nz_births(reader.read("nz_births"))
    unknown = sorted(set(roll["area"]) - set(births["area"]))
    if unknown:
        sys.exit(f"新西兰在校生中的地区不在出生数中：{unknown}")
    write_csv(roll, out / "nz_regions" / "enrollment.csv")
    write_csv(births, out / "nz_regions" / "births.csv")


# --- Australia --------------------------------------------------------------------------------

def convert_au(reader: Reader, out: Path) -> None:
    """Full-time + part-time students by state × age, summed over Indigenous status."""
    df = _read_rda(reader.read("au_students"))["abs_education_state"]
    df = df[(df["age"] >= FIRST_AGE) & (df["age"] <= LAST_AGE)]
    df = df.groupby(["state", "year", "age"], as_index=False)["n_full_and_part_time"].sum()
    write_csv(pd.DataFrame({"area": df["state"].astype(str), "year": df["year"], "grade": df["age"] - FIRST_AGE,
                            "pupils": df["n_full_and_part_time"]}), out / "au_states" / "enrollment.csv")


# --- New York City ----------------------------------------------------------------------------

NYC_GRADES = ["k"] + [str(g) for g in range(1, 13)]  #: K, 1 … 12 → grade 0 … 12 (Pre-K, 3-K left out)
NYC_DISTRICTS = range(1, 33)  #: community school districts (75, 79, 84 are citywide special, alternative, charter)
MANHATTAN = range(1, 7)  #: districts 1–6


def _nyc_long(df: pd.DataFrame, dbn: str, year: str, grade_col: str) -> pd.DataFrame:
    """Wide school-year rows → ``dbn, year, grade, pupils`` (year = first calendar year of the school year)."""
    cols = {grade_col.format(g.upper() if grade_col.startswith("Grade") else g): i for i, g in enumerate(NYC_GRADES)}
    long = df.melt(id_vars=[dbn, year], value_vars=list(cols), var_name="col", value_name="pupils")
    return pd.DataFrame({
        "dbn": long[dbn].str.strip(),
        "year": long[year].str[:4].astype(int),
        "grade": long["col"].map(cols),
        "pupils": pd.to_numeric(long["pupils"].str.replace(",", "", regex=False), errors="raise"),
    })


def nyc_schools(reader: Reader) -> pd.DataFrame:
    """Pupils by school × year × grade, 2013 … 2020, for the schools of the 2016-17 … 2020-21 file."""
    old = pd.read_csv(io.BytesIO(reader.read("nyc_2013")), dtype=str, encoding="utf-8-sig")
    new = pd.read_csv(io.BytesIO(reader.read("nyc_2016")), dtype=str).drop_duplicates()
    old = _nyc_long(old, "DBN", "Year", "Grade {}")
    new = _nyc_long(new, "dbn", "year", "grade_{}")
    new["grade"] = new["grade"].astype(int)
    old["grade"] = old["grade"].astype(int)
    if new.duplicated(["dbn", "year", "grade"]).any():
        sys.exit("2016–2020 文件去掉完全重复的行后，仍有学校-年份重复")
    both = old.merge(new, on=["dbn", "year", "grade"], suffixes=("_old", "_new"))
    if (both["pupils_old"] != both["pupils_new"]).any():
        sys.exit("两个文件共有的学校-年份年级人数不一致")
    start = int(new["year"].min())
    keep = old[(old["year"] < start) & old["dbn"].isin(set(new["dbn"]))]
    return pd.concat([keep, new], ignore_index=True)


def convert_nyc(reader: Reader, out: Path) -> None:
    schools = nyc_schools(reader)
    district = schools["dbn"].str[:2].astype(int)
    d = schools[district.isin(NYC_DISTRICTS)].assign(area="D" + schools["dbn"].str[:2])
    d = d.groupby(["area", "year", "grade"], as_index=False)["pupils"].sum()
    write_csv(d, out / "nyc_districts" / "enrollment_district.csv")
    m = schools[district.isin(MANHATTAN)]
    # a school's grade is listed from the first year it has pupils in it (schools that open or add
    # a grade a year start late); before that the school has no such grade
    first = m[m["pupils"] > 0].groupby(["dbn", "grade"])["year"].min().rename("first")
    m = m.join(first, on=["dbn", "grade"])
    m = m[m["year"] >= m["first"]]
    # a school whose grades are not consecutive (no cohort can move through the gap) is left out
    span = m.groupby("dbn")["grade"].agg(lambda g: g.max() - g.min() + 1 - g.nunique())
    gaps = sorted(span[span > 0].index)
    for dbn in gaps:
        have = sorted(int(g) for g in m.loc[m["dbn"] == dbn, "grade"].unique())
        print(f"略去学校 {dbn}：年级不连续 {have}", file=sys.stderr)
    m = m[~m["dbn"].isin(gaps)]
    write_csv(pd.DataFrame({"area": m["dbn"], "year": m["year"], "grade": m["grade"], "pupils": m["pupils"]}),
              out / "nyc_districts" / "enrollment_school_manhattan.csv")


# --- Singapore ---------------------------------------------------------------------------------

#: age group of the enrolment table → primary level (P1 = grade 1): a child enters P1 in January of
#: the year it turns 7, so "UNDER 7 YRS" is P1 (born 7 years before) and "11 YRS" is P6
SG_AGE_GRADE = {"UNDER 7 YRS": 1, "7 YRS": 2, "8 YRS": 3, "9 YRS": 4, "10 YRS": 5, "11 YRS": 6}
SG_DROP = {"12 YRS", "13 YRS", "14 YRS & OVER"}  #: over-age pupils (repeaters, extended course) [ages]
SG_AREA = "Singapore"


def sg_primary(data: bytes) -> pd.DataFrame:
    """Primary-school enrolment, both sexes ("MF"), by age group → grade 1–6, one area."""
    df = pd.read_csv(io.BytesIO(data), dtype=str)
    df = df[df["sex"] == "MF"]
    unknown = sorted(set(df["age"]) - set(SG_AGE_GRADE) - SG_DROP)
    if unknown:
        sys.exit(f"新加坡小学在校生：未知年龄组 {unknown}")
    df = df[df["age"].isin(list(SG_AGE_GRADE))]
    return pd.DataFrame({"area": SG_AREA, "year": df["year"].astype(int), "grade": df["age"].map(SG_AGE_GRADE),
                         "pupils": pd.to_numeric(df["enrolment_primary"], errors="raise")})


def sg_births(data: bytes) -> pd.DataFrame:
    """Total live births (residents and non-residents) by calendar year, one area."""
    df = pd.read_csv(io.BytesIO(data), dtype=str)
    df = df[df["level_1"] == "Total Live-births"]
    return pd.DataFrame({"area": SG_AREA, "year": df["year"].astype(int),
                         "births": pd.to_numeric(df["value"], errors="raise")})


def convert_sg(reader: Reader, out: Path) -> None:
    write_csv(sg_primary(reader.read("sg_primary")), out / "sg_primary" / "enrollment.csv")
    write_csv(sg_births(reader.read("sg_births")), out / "sg_primary" / "births.csv")


# --- Maryland ----------------------------------------------------------------------------------

MD_GRADES = {"Kindergarten": 0, **{f"Grade {g}": g for g in range(1, 13)}}
#: school-system ("A") rows that total a band of grades, by the names the files use over the years
MD_BANDS = {(1, 5): ("Elementary", "All Elementary Grades"), (6, 8): ("Middle School", "All Middle School Grades"),
            (9, 12): ("High School", "All High School Grades")}
#: rows that are not a county school system: the state, and SEED (a statewide boarding school)
MD_DROP = {"State", "All Public Schools", "SEED", "Seed School LEA"}
#: Edison-managed Baltimore City schools had their own system code in 2002–2006
MD_MERGE = {"Baltimore City - Edison": "Baltimore City"}


def md_year(data: bytes) -> pd.DataFrame:
    """One academic year's file → ``ay, area, school, grade, n`` (n NaN where suppressed as ``*``)."""
    df = pd.read_csv(io.BytesIO(data), dtype=str)
    df.columns = ["ay", "lea", "area", "school", "school_name", "grade", "count", "created"]  # headers vary by year
    df = df[~df["area"].isin(MD_DROP)]
    return pd.DataFrame({"ay": df["ay"].astype(int), "area": df["area"].replace(MD_MERGE), "school": df["school"],
                         "grade": df["grade"].str.strip().replace({"All Kindergarten": "Kindergarten"}),
                         "n": pd.to_numeric(df["count"], errors="coerce")})


def md_counties(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Pupils K–12 by school system (23 counties and Baltimore City) × year × grade.

    Year = the calendar year the school year starts = the file's academic year − 1 (count of 30
    September). Kindergarten is the system's own row. Grades 1–12: the system's own rows where a year
    has one per grade (2024); otherwise the sum over its schools, where small school cells are
    suppressed (``*``): each band's published system total (1–5, 6–8, 9–12) minus the known school
    cells is split evenly over that band's suppressed cells (whole pupils, largest remainder first).
    """
    a = pd.concat(frames, ignore_index=True)
    lss = a[a["school"] == "A"]
    sch = a[(a["school"] != "A") & a["grade"].isin(list(MD_GRADES))].assign(g=lambda d: d["grade"].map(MD_GRADES))
    rows = []
    for (ay, area), sys_rows in lss.groupby(["ay", "area"]):
        per = sys_rows[sys_rows["grade"].isin(list(MD_GRADES))].groupby("grade")["n"].sum(min_count=1)
        if len(per) == len(MD_GRADES) and per.notna().all():
            vals = {MD_GRADES[g]: int(v) for g, v in per.items()}
        else:
            vals = {0: int(sys_rows.loc[sys_rows["grade"] == "Kindergarten", "n"].sum())}
            schools = sch[(sch["ay"] == ay) & (sch["area"] == area)]
            for (lo, hi), names in MD_BANDS.items():
                grades = list(range(lo, hi + 1))
                band = schools[schools["g"].isin(grades)]
                known = band.groupby("g")["n"].sum().reindex(grades, fill_value=0)
                hidden = band["n"].isna().groupby(band["g"]).sum().reindex(grades, fill_value=0)
                rest = int(sys_rows.loc[sys_rows["grade"].isin(names), "n"].sum() - known.sum())
                if rest < 0 or (rest > 0 and hidden.sum() == 0):
                    sys.exit(f"马里兰 {ay} 学年 {area} {lo}–{hi} 年级：系统合计与各校之差 {rest}，被隐去的格 {int(hidden.sum())} 个")
                share = rest * hidden / hidden.sum() if hidden.sum() else hidden * 0.0
                whole = share.astype(int)
                extra = (share - whole).sort_values(ascending=False, kind="stable").index[: rest - int(whole.sum())]
                whole[extra] += 1
                vals.update({g: int(known[g] + whole[g]) for g in grades})
        rows += [(area, ay - 1, g, v) for g, v in vals.items()]
    out = pd.DataFrame(rows, columns=["area", "year", "grade", "pupils"])
    return out.sort_values(["area", "year", "grade"], ignore_index=True)


def convert_md(reader: Reader, out: Path) -> None:
    frames = [md_year(reader.read(key)) for key in SERIES["md_counties"]]
    write_csv(md_counties(frames), out / "md_counties" / "enrollment.csv")


CONVERTERS = {"nz_regions": convert_nz, "au_states": convert_au, "nyc_districts": convert_nyc, "sg_primary": convert_sg,
              "md_counties": convert_md}


def _pairs(items: list[str], flag: str) -> dict[str, Path]:
    out = {}
    for item in items or []:
        name, sep, path = item.partition("=")
        if not sep:
            sys.exit(f"{flag} 要写成 名称=路径：{item}")
        out[name] = Path(path)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("series", choices=[*CONVERTERS, "all"])
    p.add_argument("--git", action="append", metavar="NAME=DIR",
                   help=f"snapshot git directory; NAME one of {', '.join(SNAPSHOTS)}")
    p.add_argument("--file", action="append", metavar="KEY=PATH",
                   help=f"original file instead of a snapshot; KEY one of {', '.join(SOURCES)}")
    p.add_argument("--out", default=str(HERE), help="folder that receives <series>/*.csv (default: here)")
    args = p.parse_args(argv)
    git_dirs, files = _pairs(args.git, "--git"), _pairs(args.file, "--file")
    bad = sorted(set(git_dirs) - set(SNAPSHOTS)) + sorted(set(files) - set(SOURCES))
    if bad:
        sys.exit(f"未知名称：{bad}")
    reader = Reader(git_dirs, files)
    for name in (CONVERTERS if args.series == "all" else [args.series]):
        CONVERTERS[name](reader, Path(args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
