"""`xuewei maps` and `xuewei pack` on a finished run folder; the outputs switches of a scenario."""

import re

import pytest

from conftest import TESTS
from xuewei.cli import main
from test_reports_outputs import embedded_fonts

SCEN = TESTS / "data" / "scen" / "tiny_run.toml"


@pytest.fixture(scope="module")
def bare_run(tmp_path_factory):
    """A tiny run written without maps, workbook or report (``[outputs]`` all false)."""
    d = tmp_path_factory.mktemp("bare")
    scen = d / "bare.toml"
    scen.write_text(SCEN.read_text(encoding="utf-8").replace('"../tiny"', f'"{(TESTS / "data" / "tiny").as_posix()}"')
                    + "\n[outputs]\nmaps = false\nworkbook = false\nreport = false\n", encoding="utf-8")
    out = d / "run"
    assert main(["run", str(scen), "--out", str(out)]) == 0
    return out


def test_outputs_switches_are_honoured(bare_run):
    assert not (bare_run / "maps").exists()
    assert not (bare_run / "workbook.xlsx").exists()
    assert not (bare_run / "report.html").exists()
    assert (bare_run / "report.md").is_file()


def test_maps_command_one_township(bare_run, tmp_path, capsys):
    out = tmp_path / "m"
    assert main(["maps", str(bare_run), "--township", "东乡", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["township_T2_东乡.pdf", "township_T2_东乡.png"]
    assert "示意数据" in capsys.readouterr().out


def test_maps_command_default_draws_everything_into_the_run(bare_run):
    assert main(["maps", str(bare_run)]) == 0
    names = {p.name for p in (bare_run / "maps").iterdir()}
    assert {"overview_2025.pdf", "overview_2030.png"} <= names
    assert len([n for n in names if n.startswith("township_") and n.endswith(".pdf")]) == 3


def test_pack_command(bare_run, tmp_path):
    out = tmp_path / "p"
    assert main(["pack", str(bare_run), "--township", "城关镇", "--out", str(out)]) == 0
    pdf = out / "pack_T1_城关镇.pdf"
    data = pdf.read_bytes()
    pages = len(re.findall(rb"/Type /Page\b", data))
    assert pages >= 4  # map, schools, villages, demand chart
    assert any("NotoSansCJK" in f for f in embedded_fonts(data))


def test_unknown_township_lists_the_names(bare_run, capsys):
    assert main(["pack", str(bare_run), "--township", "无此乡"]) == 2
    err = capsys.readouterr().err
    assert "无此乡" in err and "城关镇" in err and "东乡" in err and "西镇" in err
    assert main(["maps", str(bare_run), "--township", "无此乡"]) == 2


def test_not_a_run_folder(tmp_path, capsys):
    assert main(["maps", str(tmp_path)]) == 2
    assert "manifest.json" in capsys.readouterr().err


def test_changed_region_is_refused(tmp_path, tiny, capsys):
    scen = tmp_path / "s.toml"
    scen.write_text(SCEN.read_text(encoding="utf-8").replace('"../tiny"', f'"{tiny.as_posix()}"')
                    + "\n[outputs]\nmaps = false\nworkbook = false\nreport = false\n", encoding="utf-8")
    out = tmp_path / "run"
    assert main(["run", str(scen), "--out", str(out)]) == 0
    (tiny / "births.csv").write_text((tiny / "births.csv").read_text(encoding="utf-8") + "T1,2021,90,1\n",
                                     encoding="utf-8")
    capsys.readouterr()
    assert main(["pack", str(out), "--township", "城关镇"]) == 2
    assert "births" in capsys.readouterr().err
