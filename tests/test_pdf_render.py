"""Every kind of PDF the tool writes renders in MuPDF and in PDFium (and poppler) as its PNG does.

Maps (overview, township sheet), hearing pack pages and batch charts are rendered with PyMuPDF
(MuPDF) and pypdfium2 (PDFium), and with poppler's ``pdftoppm`` where it is installed, at the PNG's resolution and compared with the PNG matplotlib drew of
the same figure: both images are averaged over 8 × 8 pixel blocks (about 19 dpi at 150 dpi), each
block may match its neighbour (1 block of shift, for the engines' rounding), and among the blocks with
ink at most 2 % may differ by more than 40 grey levels, none by more than 110. Measured on the tiny
run: correct pages ≤ 0.4 % and ≤ 62; the MuPDF rendering of the CID-keyed CFF font that issue 15 found
(stray Latin letters for the Chinese) 28–37 % and ≥ 165.
"""

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pymupdf = pytest.importorskip("pymupdf")
pdfium = pytest.importorskip("pypdfium2")

BLOCK = 8  # pixels averaged per block side
INK = 230  # a block darker than this (0 black, 255 white) has ink
DIFF = 40.0  # grey levels
MAX_SHARE = 0.02  # of the ink blocks
MAX_DIFF = 110.0  # grey levels, any block


def _gray(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("L"), dtype=float)


def render_mupdf(pdf: Path, dpi: float) -> list[np.ndarray]:
    out = []
    with pymupdf.open(pdf) as doc:
        for page in doc:
            pm = page.get_pixmap(dpi=round(dpi), alpha=False, colorspace=pymupdf.csGRAY)
            out.append(np.frombuffer(pm.samples, np.uint8).reshape(pm.height, pm.width).astype(float))
    return out


def render_pdfium(pdf: Path, dpi: float) -> list[np.ndarray]:
    doc = pdfium.PdfDocument(pdf)
    try:
        return [_gray(doc[i].render(scale=dpi / 72.0, grayscale=True).to_pil()) for i in range(len(doc))]
    finally:
        doc.close()


def render_poppler(pdf: Path, dpi: float) -> list[np.ndarray]:
    """Poppler's pdftoppm (a system program; used when installed)."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([PDFTOPPM, "-r", str(round(dpi)), "-gray", "-png", str(pdf), f"{tmp}/p"], check=True,
                       capture_output=True, timeout=120)
        return [_gray(Image.open(p)) for p in sorted(Path(tmp).glob("p*.png"), key=lambda p: int(p.stem.split("-")[-1]))]


PDFTOPPM = shutil.which("pdftoppm")
ENGINES = {"MuPDF": render_mupdf, "PDFium": render_pdfium, **({"poppler": render_poppler} if PDFTOPPM else {})}


def _blocks(a: np.ndarray) -> np.ndarray:
    h, w = a.shape[0] // BLOCK * BLOCK, a.shape[1] // BLOCK * BLOCK
    return a[:h, :w].reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK).mean(axis=(1, 3))


def _shift_min(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a − b| at each block, b shifted by up to one block each way: the smallest."""
    h, w = a.shape
    p = np.pad(b, 1, mode="edge")
    return np.min([np.abs(a - p[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]) for dy in (-1, 0, 1) for dx in (-1, 0, 1)],
                  axis=0)


def page_difference(ref: np.ndarray, img: np.ndarray) -> tuple[float, float]:
    """(share of ink blocks differing by more than `DIFF`, largest block difference [grey levels])."""
    assert abs(ref.shape[0] - img.shape[0]) <= 2 and abs(ref.shape[1] - img.shape[1]) <= 2, (ref.shape, img.shape)
    h, w = min(ref.shape[0], img.shape[0]), min(ref.shape[1], img.shape[1])
    a, b = _blocks(ref[:h, :w]), _blocks(img[:h, :w])
    d = np.maximum(_shift_min(a, b), _shift_min(b, a))
    ink = (a < INK) | (b < INK)
    return float(((d > DIFF) & ink).sum() / max(ink.sum(), 1)), float(d.max())


def assert_renders_like(pdf: Path, pngs: list[Path], dpi: float) -> None:
    """Each page of ``pdf`` in each engine looks like its PNG (same order)."""
    refs = [_gray(Image.open(p)) for p in pngs]
    for engine, render in ENGINES.items():
        pages = render(pdf, dpi)
        assert len(pages) == len(refs), (pdf.name, engine, len(pages))
        for i, (ref, img) in enumerate(zip(refs, pages)):
            share, worst = page_difference(ref, img)
            assert share <= MAX_SHARE and worst <= MAX_DIFF, (
                f"{pdf.name} page {i + 1} in {engine}: {share:.1%} of ink blocks differ, worst {worst:.0f}")


def assert_fonts_embedded_truetype(pdf: Path) -> None:
    """Every font is embedded, as TrueType outlines; the CJK text uses the run's subset only."""
    with pymupdf.open(pdf) as doc:
        names = set()
        for page in doc:
            for xref, ext, ftype, name, *_ in page.get_fonts():
                names.add(name.split("+", 1)[-1])
                assert ext == "ttf" and ftype == "Type0", (pdf.name, name, ext, ftype)
                data = doc.extract_font(xref)[3]
                assert data[:4] in (b"\x00\x01\x00\x00", b"true"), (pdf.name, name, data[:4])  # not OTTO (CFF)
    cjk = {n for n in names if re.fullmatch(r"XWNotoSansCJKsc[0-9a-f]{8}-Regular", n)}
    assert len(cjk) == 1 and names - cjk <= {"DejaVuSans"}, (pdf.name, names)


def assert_every_page_says(pdf: Path, *words: str) -> None:
    """The text layer (what search and copy see) holds ``words`` on every page."""
    with pymupdf.open(pdf) as doc:
        for i, page in enumerate(doc):
            text = page.get_text()
            for w in words:
                assert w in text, (pdf.name, i + 1, w)


def test_map_pdfs_render_like_their_pngs(tiny_run_dir):
    pdfs = sorted((tiny_run_dir / "maps").glob("*.pdf"))
    assert {p.stem.split("_")[0] for p in pdfs} == {"overview", "township"}
    for pdf in pdfs:
        assert_fonts_embedded_truetype(pdf)
        assert_every_page_says(pdf, "示意数据", "示例县")  # the tiny region is synthetic
        assert_renders_like(pdf, [pdf.with_suffix(".png")], dpi=150)


def test_pack_pages_render_like_their_pngs(tiny_run_dir, tmp_path, monkeypatch):
    """Every page of a hearing pack: PdfPages.savefig also writes the page as PNG (test only)."""
    from matplotlib.backends.backend_pdf import PdfPages

    from xuewei.reports.pack import write_packs
    from xuewei.reports.stored_run import read_run

    pngs: list[Path] = []
    original = PdfPages.savefig

    def savefig(self, figure=None, **kw):
        original(self, figure, **kw)
        pngs.append(tmp_path / f"page{len(pngs) + 1}.png")
        figure.savefig(pngs[-1], dpi=100)

    monkeypatch.setattr(PdfPages, "savefig", savefig)
    run = read_run(tiny_run_dir)
    [pdf] = write_packs(run, tmp_path, ["T2"])
    assert len(pngs) >= 4
    assert_fonts_embedded_truetype(pdf)
    assert_every_page_says(pdf, "示意数据", "东乡")
    assert_renders_like(pdf, pngs, dpi=100)


def test_batch_chart_pdfs_render_like_their_pngs(tiny_run_dir, tmp_path):
    from xuewei.batch.compare import folder_row, write_charts

    rows = [folder_row(tiny_run_dir, "基准方案"), folder_row(tiny_run_dir, "撤并教学点")]
    from xuewei.batch.compare import comparison_table

    paths = write_charts(comparison_table(rows), tmp_path)
    pdfs = [p for p in paths if p.suffix == ".pdf"]
    assert [p.stem for p in pdfs] == ["cost_vs_distance", "places_vs_demand"]
    for pdf in pdfs:
        assert_fonts_embedded_truetype(pdf)
        assert_renders_like(pdf, [pdf.with_suffix(".png")], dpi=120)


def test_broken_embedding_is_caught(tiny_run_dir, tmp_path):
    """The comparison fails on a page whose Chinese is missing (here: drawn in white)."""
    pdf = tiny_run_dir / "maps" / "overview_2025.pdf"
    ref = _gray(Image.open(pdf.with_suffix(".png")))
    img = ref.copy()
    img[: img.shape[0] // 12, :] = 255.0  # title and subtitle gone
    share, worst = page_difference(ref, img)
    assert worst > MAX_DIFF
    assert page_difference(ref, render_mupdf(pdf, 150)[0])[1] <= MAX_DIFF


def test_each_subset_has_a_family_of_its_own(tmp_path):
    """Two runs in one process (a batch worker, the tests): the second run's characters are all there."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from xuewei.reports.fonts import map_fonts

    first, second = map_fonts("甲村"), map_fonts("乙村")
    assert first != second
    fig = Figure()
    FigureCanvasAgg(fig)
    fig.text(0.1, 0.5, "乙村", fontfamily=second)
    with matplotlib.rc_context({"pdf.fonttype": 42}):
        fig.savefig(tmp_path / "b.pdf")  # a missing glyph would warn, and warnings are errors here
    assert_fonts_embedded_truetype(tmp_path / "b.pdf")
