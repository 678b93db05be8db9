"""report.html stands on its own: embedded CJK font, key figures first, one solver row per stage, and an
interactive map whose embedded data agree with the run's tables; rendered in headless Chromium."""

import base64
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from xuewei.labels import STAGE_ZH

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="没有 chromium（Debian: apt-get install chromium；.ci/run 会安装）")
FONT_RE = re.compile(r"@font-face\{[^}]*src:url\(data:font/woff2;base64,([A-Za-z0-9+/=]+)\)[^}]*\}")


def _csv(run_dir, name):
    return pd.read_csv(run_dir / f"{name}.csv", encoding="utf-8-sig", dtype={"node_id": str, "school_id": str})


@pytest.fixture(scope="module")
def page(tiny_run_dir) -> str:
    return (tiny_run_dir / "report.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def data(page) -> dict:
    m = re.search(r'<script type="application/json" id="xw-map-data">(.*?)</script>', page, re.S)
    return json.loads(m.group(1).replace("<\\/", "</"))


def _font(page):
    from fontTools.ttLib import TTFont

    m = FONT_RE.search(page)
    assert m, "no embedded @font-face"
    font = TTFont(io.BytesIO(base64.b64decode(m.group(1))))
    font.flavor = None
    return font


def test_no_network_references(page):
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', page)
    assert "url(http" not in page and "@import" not in page and "fetch(" not in page and "XMLHttpRequest" not in page
    assert not re.search(r"<script[^>]+src=", page)


def test_embedded_font_covers_every_character(page):
    cmap = _font(page).getBestCmap()
    text = FONT_RE.sub("", page)
    missing = sorted({c for c in text if ord(c) >= 0x20 and ord(c) not in cmap})
    assert not missing, missing[:20]
    assert len(FONT_RE.search(page).group(1)) < 2_000_000  # a subset, not the 16 MB font


def test_opens_with_key_figures_and_one_solver_row_per_stage(tiny_run_dir, page):
    body = page[page.index("<body>"):]
    assert body.index('id="key-figures"') < body.index("<h2>")
    assert body.index("示意数据") < body.index('id="key-figures"')
    solver = _csv(tiny_run_dir, "solver")
    stages = solver["model"].str.split("#").str[0].unique()
    assert len(solver) > len(stages)  # the tiny run splits kindergartens into parts
    sec = body[body.index("<h2>求解</h2>"):]
    table = sec[:sec.index("</table>")]
    rows = re.findall(r"<tr><td>([^<]*)</td>", table)
    assert rows == [STAGE_ZH[s] for s in sorted(stages, key=list(STAGE_ZH).index)]  # in school order
    assert "求解质量：全部模型的目标值合计" in sec  # the same sentence as report.md, after the table


def test_map_data_agree_with_the_run_tables(tiny_run_dir, data):
    actions, asg = _csv(tiny_run_dir, "actions"), _csv(tiny_run_dir, "assignments")
    summary = _csv(tiny_run_dir, "summary")
    assert data["periods"] == sorted(actions["period"].unique().tolist())
    for p in data["periods"]:
        d = data["periods_data"][str(p)]
        a = actions[actions["period"] == p]
        assert [data["schools"]["id"][i] for i in d["schools"]["i"]] == a["school_id"].tolist()
        assert d["schools"]["code"] == a["action"].tolist()
        assert d["schools"]["places_af"] == a["places_after"].round().astype(int).tolist()
        g = asg[asg["period"] == p]
        lines = d["lines"]
        assert len(lines["v"]) == len(g)
        assert [data["villages"]["id"][i] for i in lines["v"]] == g["node_id"].tolist()
        assert [data["schools"]["id"][i] for i in lines["s"]] == g["school_id"].tolist()
        assert sum(lines["pupils"]) == pytest.approx(g["pupils"].sum(), abs=0.05 * len(g))
        assert sum(lines["b"]) == int(g["boarding"].sum())
        v = d["villages"]
        assert len(v["i"]) == len(data["villages"]["id"])
        for code, stage in zip(data["stage_codes"], ["kindergarten", "primary", "junior", "senior"]):
            want = summary[(summary["period"] == p) & (summary["stage"] == stage)]["pupils"].sum()
            assert sum(v[f"{code}_dem"]) == pytest.approx(want, abs=0.05 * len(v["i"]))
    # coordinates inside the frame
    w, h = data["size"]
    for layer in ("schools", "villages"):
        xs, ys = np.array(data[layer]["x"], float), np.array(data[layer]["y"], float)
        assert ((xs >= 0) & (xs <= w) & (ys >= 0) & (ys <= h)).all(), layer


# ---- headless Chromium ------------------------------------------------------------------------------
def _fontconfig(folder: Path, dirs: list[Path]) -> Path:
    """A fontconfig file that sees only ``dirs`` (so the system's fonts, Chinese or not, play no part)."""
    (folder / "cache").mkdir(parents=True, exist_ok=True)
    conf = folder / f"fonts-{len(dirs)}.conf"
    conf.write_text('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
                    + "".join(f"<dir>{d}</dir>" for d in dirs) + f"<cachedir>{folder / 'cache'}</cachedir></fontconfig>",
                    encoding="utf-8")
    return conf


def _chromium(url: str, conf: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, FONTCONFIG_FILE=str(conf))
    return subprocess.run([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--no-first-run", "--window-size=1200,900", "--virtual-time-budget=4000", *args, url],
                          env=env, capture_output=True, timeout=120)


def _shot(html_path: Path, conf: Path, png: Path, fragment: str = "") -> np.ndarray:
    from PIL import Image

    r = _chromium(html_path.as_uri() + fragment, conf, f"--screenshot={png}")
    assert png.is_file(), r.stderr.decode(errors="replace")[-2000:]
    return np.asarray(Image.open(png).convert("L"), dtype=float)


@pytest.fixture(scope="module")
def latin_only(tmp_path_factory) -> Path:
    """Fontconfig with matplotlib's DejaVu fonts only: a computer without Chinese fonts."""
    import matplotlib

    return _fontconfig(tmp_path_factory.mktemp("fc"), [Path(matplotlib.get_data_path()) / "fonts" / "ttf"])


@needs_chromium
def test_chinese_renders_without_chinese_system_fonts(page, latin_only, tmp_path):
    """The page with its embedded font looks like the same page with the font installed in the system,
    and nothing like the page without it (boxes)."""
    import matplotlib

    font = _font(page)
    sysdir = tmp_path / "sysfont"
    sysdir.mkdir()
    font.save(sysdir / "xw.otf")
    with_cjk = _fontconfig(tmp_path, [Path(matplotlib.get_data_path()) / "fonts" / "ttf", sysdir])
    (tmp_path / "a.html").write_text(page, encoding="utf-8")
    (tmp_path / "b.html").write_text(FONT_RE.sub("", page, count=1), encoding="utf-8")
    a = _shot(tmp_path / "a.html", latin_only, tmp_path / "embedded.png")
    boxes = _shot(tmp_path / "b.html", latin_only, tmp_path / "no_font.png")
    installed = _shot(tmp_path / "b.html", with_cjk, tmp_path / "installed.png")
    top = slice(0, 400)  # title, note, key figures
    d_installed = np.abs(a[top] - installed[top]).mean()
    d_boxes = np.abs(a[top] - boxes[top]).mean()
    assert d_boxes > 3.0, d_boxes  # the page without the font is visibly different (boxes)
    assert d_installed < 0.25 * d_boxes, (d_installed, d_boxes)


@needs_chromium
def test_map_period_switch_and_click_in_chromium(tiny_run_dir, data, latin_only, tmp_path):
    actions, asg = _csv(tiny_run_dir, "actions"), _csv(tiny_run_dir, "assignments")
    p = data["periods"][-1]
    school = actions[(actions["period"] == p)].iloc[0]
    url = (tiny_run_dir / "report.html").as_uri() + f"#period={p}&select=school:{school['school_id']}"
    r = _chromium(url, latin_only, "--dump-dom")
    dom = r.stdout.decode("utf-8")
    assert f'data-period="{p}"' in dom and f'data-selected="school:{school["school_id"]}"' in dom
    info = dom[dom.index('id="xw-info"'):]
    info = info[:info.index("</div>")]
    assert school["name"] in info and school["action_zh"] in info and f"{p} 年" in info
    assert dom.count('class="xw-school') == (actions["period"] == p).sum()
    assert dom.count('class="xw-village"') == len(data["villages"]["id"])
    assert dom.count('class="xw-line"') == (asg["period"] == p).sum()
    node = asg[asg["period"] == p]["node_id"].iloc[0]
    r = _chromium((tiny_run_dir / "report.html").as_uri() + f"#select=village:{node}", latin_only, "--dump-dom")
    dom = r.stdout.decode("utf-8")
    assert f'data-selected="village:{node}"' in dom and "就读学校" in dom
    shot = _shot(tiny_run_dir / "report.html", latin_only, tmp_path / "map.png", f"#period={p}&select=village:{node}")
    assert shot.shape == (900, 1200) and shot.std() > 10
