"""The CJK font for maps, packs, charts and the HTML report, cut down to the characters a run needs.

The bundled font (Noto Sans CJK SC from ``mplfonts``, via `xuewei.forecaster.report.cjk_font`) is an
OpenType font with CID-keyed CFF outlines. Matplotlib's PDF backend (``pdf.fonttype = 42``) embeds
every font as a Type 0 / CIDFontType2 font with a ``FontFile2`` stream, which the PDF standard
reserves for TrueType (``glyf``) outlines, and re-subsets it so that glyph numbers no longer equal the
font's CIDs. Poppler and PDFium look the glyphs up by number and draw them right; MuPDF (FreeType)
reads a CID-keyed CFF by CID, so glyph 13 of the subset draws CID 13 of Noto Sans CJK, a Latin
letter: stray Latin letters where the Chinese should be.

`map_fonts` therefore cuts the font down once per run to the characters the run can draw (region
names, the run's own strings, the report modules' texts, ASCII and punctuation), converts the CFF
outlines to TrueType quadratic outlines (``fontTools.pens.cu2quPen``, error ≤ 1 font unit of 1000),
renames it ``XW Noto Sans CJK SC <hash>`` and registers it with matplotlib. The PDFs then embed a real
TrueType program that every engine reads the same way. The subset also keeps PDFs fast to save
(matplotlib parses the whole font file for every PDF; 16 MB takes about a second). Files are cached
in the temporary folder by a hash of the characters, so a second run of a region costs nothing.

There is deliberately no fall-back to the full font: a glyph taken from it would be embedded the
broken way. A character outside the subset falls to matplotlib's last-resort font (a box with the
code point); the tests check that every PDF embeds the subset only.

`web_font` gives the same subset (CFF outlines kept, browsers read them) as WOFF2 for ``report.html``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from matplotlib import font_manager

SUBSET_FAMILY = "XW Noto Sans CJK SC"
SUBSET_PS_NAME = "XWNotoSansCJKsc-Regular"
CACHE_VERSION = "3"  # bump when the files written change
CU2QU_MAX_ERR = 1.0  # largest distance of a quadratic from its cubic outline [font units, 1000 per em]
_HERE = Path(__file__).resolve().parent
_ROOT = _HERE.parent
TEXT_SOURCES = (_HERE / "maps.py", _HERE / "map_style.py", _HERE / "pack.py", _HERE / "pack_tables.py",
                _HERE / "html_report.py", _HERE / "html_map.py", _HERE / "run_outputs.py", _HERE / "plan_sections.py",
                _ROOT / "labels.py", _ROOT / "batch" / "compare.py", _ROOT / "optimizer" / "catchments.py",
                _ROOT / "optimizer" / "actions.py", _ROOT / "optimizer" / "travel.py")
BASE_CHARS = "".join(chr(c) for c in range(0x20, 0x7F)) + "，。、；：？！（）《》“”‘’—…·→←↑↓－～％·０１２３４５６７８９×±≤≥−"


def _strings(df) -> str:
    """Every distinct character of a table's text columns."""
    if df is None or len(df) == 0:
        return ""
    from pandas.api.types import is_object_dtype, is_string_dtype

    return "".join("".join(s.dropna().astype(str).unique()) for _, s in df.items()
                   if is_object_dtype(s) or is_string_dtype(s))


def run_text(run) -> str:
    """Every character a run's maps, packs and report may draw: names, the run's text columns, labels,
    the report modules' own strings."""
    parts = [BASE_CHARS, run.region.meta.name, run.scenario_name]
    for name in ("townships", "nodes", "schools", "candidate_sites"):
        parts.append(_strings(getattr(run.region, name, None)))
    for name in ("actions", "unserved", "violations", "summary", "solver", "catchment_changes", "base_flows"):
        parts.append(_strings(getattr(run, name, None)))
    for table in (run.plan_check or {}).values():
        if hasattr(table, "columns"):
            parts.append(_strings(table))
        elif isinstance(table, (list, tuple)):
            parts.append("".join(map(str, table)))
        else:
            parts.append(str(table))
    parts.append(module_text())
    return "".join(parts)


def module_text() -> str:
    """The report modules' own strings (their source text) and the ASCII and punctuation characters."""
    return BASE_CHARS + "".join(p.read_text(encoding="utf-8") for p in TEXT_SOURCES if p.is_file())


def _source_path() -> Path:
    from mplfonts.conf import FONT_DIR

    from xuewei.forecaster.report import FONT_FILE

    return Path(FONT_DIR) / FONT_FILE


def _subset(chars: str, tag: str = ""):
    """The bundled font cut down to ``chars`` (CFF outlines), renamed `SUBSET_FAMILY` (+ ``tag``)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    ps_name = SUBSET_PS_NAME.replace("-", f"{tag}-") if tag else SUBSET_PS_NAME
    font = TTFont(_source_path())
    sub = subset.Subsetter(subset.Options(layout_features=[], name_IDs=["*"], notdef_outline=True))
    sub.populate(text=chars)
    sub.subset(font)
    names = font["name"]
    for rec in list(names.names):
        if rec.nameID in (1, 4, 16):
            names.setName(SUBSET_FAMILY + (f" {tag}" if tag else ""), rec.nameID, rec.platformID, rec.platEncID,
                          rec.langID)
        elif rec.nameID == 6:
            names.setName(ps_name, 6, rec.platformID, rec.platEncID, rec.langID)
    names.names = [r for r in names.names if r.nameID != 17]
    if "CFF " in font:
        font["CFF "].cff.fontNames = [ps_name]
    return font


def to_truetype(font, max_err: float = CU2QU_MAX_ERR):
    """Convert an OpenType-CFF font (``fontTools.ttLib.TTFont``) to TrueType outlines in place.

    Cubic curves become quadratic splines within ``max_err`` font units; the outline direction is
    reversed (TrueType fills clockwise contours). ``CFF`` and ``VORG`` go, ``glyf``/``loca`` come,
    ``maxp`` becomes version 1.0 (no instructions), ``post`` keeps no glyph names.
    """
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import newTable

    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(None)
        glyph_set[name].draw(Cu2QuPen(pen, max_err, reverse_direction=True))
        glyf.glyphs[name] = pen.glyph()
    for tag in ("CFF ", "CFF2", "VORG"):
        if tag in font:
            del font[tag]
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attr in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs", "maxStackElements",
                 "maxSizeOfInstructions", "maxComponentElements", "maxComponentDepth"):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    font["head"].glyphDataFormat = 0
    post = font["post"]
    post.formatType = 3.0
    for attr in ("extraNames", "mapping", "glyphOrder"):
        if hasattr(post, attr):
            delattr(post, attr)
    font.sfntVersion = "\x00\x01\x00\x00"
    return font


def _key(chars: str, kind: str) -> str:
    src = _source_path()
    return hashlib.sha256(f"{CACHE_VERSION}|{src.name}|{src.stat().st_size}|{kind}|{chars}".encode("utf-8")).hexdigest()[:16]


def _cached(chars: str, kind: str, make) -> Path:
    """Path of the cached font file ``kind`` (``ttf`` or ``woff2``) for ``chars``; made with
    ``make(path)`` when absent (written to a temporary name, then renamed: safe across processes)."""
    folder = Path(tempfile.gettempdir()) / "xuewei-fonts"
    path = folder / f"xw-noto-{_key(chars, kind)}.{kind}"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        make(tmp)
        os.replace(tmp, path)
    return path


def _chars(text: str) -> str:
    return "".join(sorted((set(text) | set(BASE_CHARS)) - {"\n", "\r", "\t"}))


def map_fonts(text: str) -> list[str]:
    """Register a TrueType subset of the CJK font covering ``text``; returns ``[its family name]``
    (a list, as matplotlib's ``fontfamily`` takes it).

    Each subset has a family name of its own (``XW Noto Sans CJK SC <hash>``): matplotlib finds a
    font by family name, so in a process that draws several runs (tests, a batch worker) a run with
    other characters must not get an earlier run's subset.
    """
    chars = _chars(text)
    tag = _key(chars, "ttf")[:8]

    def make(tmp: Path) -> None:
        font = to_truetype(_subset(chars, tag))
        font.save(tmp)

    path = _cached(chars, "ttf", make)
    font_manager.fontManager.addfont(str(path))
    return [font_manager.FontProperties(fname=str(path)).get_name()]


def web_font(text: str) -> bytes:
    """A WOFF2 subset of the CJK font covering ``text`` (CFF outlines; for ``@font-face``)."""
    def make(tmp: Path) -> None:
        font = _subset(chars)
        font.flavor = "woff2"
        font.save(tmp)

    chars = _chars(text)
    return _cached(chars, "woff2", make).read_bytes()
