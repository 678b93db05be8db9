"""The CJK font for maps and packs, cut down to the characters a run needs, so PDFs save fast.

Matplotlib embeds fonts in PDFs as subsets (``pdf.fonttype = 42``), but it parses the whole font
file for every PDF: with the 16 MB Noto Sans CJK SC that is about a second per file, too slow for
a sheet per township. `map_fonts` therefore cuts the bundled font (from ``mplfonts``, via
`xuewei.forecaster.report.cjk_font`) down once per run to the characters of the region's names,
the report's own texts, ASCII and CJK punctuation, renames it ``XW Noto Sans CJK SC`` and registers
it. The returned family list puts the full font second: matplotlib falls back to it glyph by glyph,
so a character missing from the subset still renders (only that PDF saves more slowly).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from matplotlib import font_manager

SUBSET_FAMILY = "XW Noto Sans CJK SC"
_HERE = Path(__file__).resolve().parent
TEXT_SOURCES = ("maps.py", "map_style.py", "pack.py", "pack_tables.py")
BASE_CHARS = "".join(chr(c) for c in range(0x20, 0x7F)) + "，。、；：？！（）《》“”‘’—…·→←↑↓－～％·０１２３４５６７８９"


def run_text(run) -> str:
    """Every character a run's maps and packs may draw: names, labels, the modules' own strings."""
    from xuewei import labels

    parts = [BASE_CHARS, run.region.meta.name, run.scenario_name]
    for name in ("townships", "nodes", "schools", "candidate_sites"):
        df = getattr(run.region, name)
        if df is not None and "name" in df:
            parts.append("".join(df["name"].astype(str)))
    for d in (labels.STAGE_ZH, labels.KIND_ZH, labels.ACTION_ZH, labels.TIER_ZH):
        parts.append("".join(d.values()))
    if "reason_zh" in getattr(run, "actions", {}):  # the actions' reasons, printed in the packs
        parts.append("".join(run.actions["reason_zh"].fillna("").astype(str)))
    for f in TEXT_SOURCES:
        p = _HERE / f
        if p.is_file():
            parts.append(p.read_text(encoding="utf-8"))
    return "".join(parts)


def map_fonts(text: str) -> list[str]:
    """Register a subset of the CJK font covering ``text``; returns ``[subset family, full family]``."""
    from xuewei.forecaster.report import FONT_FILE, cjk_font

    full = cjk_font()
    chars = "".join(sorted(set(text) | set(BASE_CHARS)))
    key = hashlib.sha256(chars.encode("utf-8")).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / "xuewei-fonts"
    path = folder / f"xw-noto-{key}.otf"
    if not path.is_file():
        from fontTools import subset
        from fontTools.ttLib import TTFont
        from mplfonts.conf import FONT_DIR

        folder.mkdir(parents=True, exist_ok=True)
        font = TTFont(os.path.join(FONT_DIR, FONT_FILE))
        sub = subset.Subsetter(subset.Options(layout_features=[], name_IDs=["*"], notdef_outline=True))
        sub.populate(text=chars)
        sub.subset(font)
        names = font["name"]
        for rec in list(names.names):
            if rec.nameID in (1, 4, 16):
                names.setName(SUBSET_FAMILY, rec.nameID, rec.platformID, rec.platEncID, rec.langID)
            elif rec.nameID == 6:
                names.setName("XWNotoSansCJKsc-Regular", 6, rec.platformID, rec.platEncID, rec.langID)
        names.names = [r for r in names.names if r.nameID not in (17,)]
        if "CFF " in font:
            cff = font["CFF "].cff
            cff.fontNames = ["XWNotoSansCJKsc-Regular"]
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        font.save(tmp)
        os.replace(tmp, path)
    font_manager.fontManager.addfont(str(path))
    return [font_manager.FontProperties(fname=str(path)).get_name(), full]
