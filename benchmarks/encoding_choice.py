"""How often is a CSV decoded with the wrong encoding? UTF-8 vs GBK on realistic small tables.

Usage::

    python benchmarks/encoding_choice.py [--n 4000] [--seed 1]

Builds ``n`` small tables per kind from real Chinese text (the five plans in ``data/plans/seeds/``,
the 巫溪 pack's names and the schema headers), writes each both as UTF-8 (no BOM) and as GBK, and
decodes the bytes with

- ``utf8_first``: UTF-8 if it decodes, else GBK (xuewei before issue 12);
- ``no_cjk_rule``: UTF-8, unless its reading has no CJK character and the GBK reading has one;
- ``plausibility``: `xuewei.data.tables.decode_text` (the reading whose non-ASCII characters are
  more plausibly Chinese, UTF-8 on a tie);
- ``charset_normalizer``: ``from_bytes(...).best()`` restricted to utf_8/gb18030 (only when installed).

Table kinds: ``header_word`` (ASCII table, one Chinese header word: the 学位 case), ``short_cell``
(ASCII table, one cell of 1–4 characters cut from the plans), ``names`` (a column of 3–30 real names),
``rare_hanzi`` (one cell of 1–4 hanzi of GBK outside GB 2312, as in some place names), ``latin_symbols`` (UTF-8
only: no Chinese, but °, ©, é, ², — …). Prints the wrong decodes per method and kind.
"""

from __future__ import annotations

import argparse
import csv
import logging
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from xuewei.data.tables import decode_text  # noqa: E402

logging.getLogger("xuewei").setLevel(logging.ERROR)


def utf8_first(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def _cjk(text: str) -> int:
    return sum("\u4e00" <= ch <= "\u9fff" for ch in text)


def no_cjk_rule(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030")
    try:
        gbk = raw.decode("gb18030")
    except UnicodeDecodeError:
        return text
    return gbk if _cjk(text) == 0 and _cjk(gbk) > 0 else text


def plausibility(raw: bytes) -> str:
    return decode_text(raw, "bench")


def charset_normalizer_best(raw: bytes) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(raw, cp_isolation=["utf_8", "gb18030"]).best()
    return str(best) if best is not None else utf8_first(raw)


def corpus(seed: int) -> tuple[list[str], list[str], list[str]]:
    """Words (1–4 hanzi cut from the plans), real names (巫溪 pack) and schema headers."""
    rng = random.Random(seed)
    text = "".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "data" / "plans" / "seeds").glob("*.txt")))
    runs = [r for r in "".join(ch if "\u4e00" <= ch <= "\u9fff" else " " for ch in text).split() if r]
    words = []
    for _ in range(20000):
        r = rng.choice(runs)
        k = rng.randint(1, min(4, len(r)))
        i = rng.randint(0, len(r) - k)
        words.append(r[i:i + k])
    names = []
    for table, col in (("townships", "name"), ("nodes", "name"), ("schools", "name")):
        with (ROOT / "data" / "regions" / "wuxi" / f"{table}.csv").open(encoding="utf-8") as fh:
            names += [row[col] for row in csv.DictReader(fh)]
    headers = []
    for path in sorted((ROOT / "data" / "schema").glob("*.csv")):
        with path.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if "aliases" in row:
                    headers += [a for a in row["aliases"].split("|") if a and not a.isascii()]
    rare = [chr(c) for c in range(0x4E00, 0xA000) if _outside_gb2312(chr(c)) and not _outside(chr(c), "gbk")]
    return words, names, headers, rare


def _outside_gb2312(ch: str) -> bool:
    return _outside(ch, "gb2312")


def _outside(ch: str, encoding: str) -> bool:
    try:
        ch.encode(encoding)
    except UnicodeEncodeError:
        return True
    return False


LATIN = ["25°", "© OpenStreetMap contributors", "Café", "m²", "µg", "Lüliang", "1–2", "a—b", "½", "€5", "×2", "±3"]


def tables(kind: str, n: int, seed: int, words, names, headers, rare) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        rows = ["school_id,stage,year,classes,places,pupils"]
        rows += [f"S{i},primary,2020,{rng.randint(1, 40)},{rng.randint(40, 2000)},{rng.randint(0, 2000)}"
                 for i in range(rng.randint(1, 12))]
        if kind == "header_word":
            cols = rows[0].split(",")
            cols[rng.randrange(len(cols))] = rng.choice(headers)
            rows[0] = ",".join(cols)
        elif kind == "short_cell":
            rows[rng.randrange(1, len(rows))] += "," + rng.choice(words)
        elif kind == "names":
            rows = ["id,name"] + [f"N{i},{rng.choice(names)}" for i in range(rng.randint(3, 30))]
        elif kind == "rare_hanzi":
            rows[rng.randrange(1, len(rows))] += "," + "".join(rng.choice(rare) for _ in range(rng.randint(1, 4)))
        elif kind == "latin_symbols":
            rows[rng.randrange(1, len(rows))] += "," + rng.choice(LATIN)
        out.append("\n".join(rows) + "\n")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    words, names, headers, rare = corpus(args.seed)
    methods = {"utf8_first": utf8_first, "no_cjk_rule": no_cjk_rule, "plausibility": plausibility}
    try:
        import charset_normalizer  # noqa: F401

        methods["charset_normalizer"] = charset_normalizer_best
    except ImportError:
        print("charset_normalizer not installed: skipped")
    print(f"{'kind':<15}{'encoding':<10}{'files':>7}" + "".join(f"{m:>20}" for m in methods))
    for k, kind in enumerate(("header_word", "short_cell", "names", "rare_hanzi", "latin_symbols")):
        texts = tables(kind, args.n, args.seed + k, words, names, headers, rare)
        for enc in ("utf-8", "gbk"):
            if kind == "latin_symbols" and enc == "gbk":
                continue
            raws = [(t, t.encode(enc)) for t in texts]
            wrong = {m: sum(fn(raw) != t for t, raw in raws) for m, fn in methods.items()}
            print(f"{kind:<15}{enc:<10}{len(raws):>7}" + "".join(f"{wrong[m]:>20}" for m in methods))
    return 0


if __name__ == "__main__":
    sys.exit(main())
