"""Benchmark readers: structure, shortest paths, and a clear error for every malformed file."""

import numpy as np
import pytest

from xuewei.errors import InputError
from xuewei.optimizer.instances import read_instance, read_optima


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_pmed_shortest_paths_last_duplicate_wins(tmp_path):
    # 1-2 first 10 then 4 (last counts); 2-3 costs 1; 1-3 only through 2.
    path = write(tmp_path, "pmedx.txt", "3 3 1\n1 2 10\n2 3 1\n2 1 4\n")
    inst = read_instance(path, "pmed")
    np.testing.assert_array_equal(inst.cost, [[0, 4, 5], [4, 0, 1], [5, 1, 0]])
    assert inst.p == 1 and inst.capacity is None
    assert inst.to_model().solve().objective == 4 + 1  # median at vertex 2


def test_pmed_zero_length_edge_is_an_edge(tmp_path):
    inst = read_instance(write(tmp_path, "pmedz.txt", "2 1 1\n1 2 0\n"), "pmed")
    np.testing.assert_array_equal(inst.cost, [[0, 0], [0, 0]])


def test_real_files_have_the_documented_shapes(bench_dir):
    cap = read_instance(bench_dir / "orlib-cap" / "cap71.txt")
    assert cap.cost.shape == (50, 16) and cap.capacity.shape == (16,)
    hol = read_instance(bench_dir / "sscflp-holmberg" / "p13.txt")
    assert hol.cost.shape == (50, 20) and hol.single_source
    pmed = read_instance(bench_dir / "orlib-pmed" / "pmed6.txt")
    assert pmed.cost.shape == (200, 200) and pmed.p == 5
    assert read_optima(bench_dir / "orlib-pmed" / "optimal.txt")["pmed6"] == 7824


@pytest.mark.parametrize(
    "fmt,text,match",
    [
        ("pmed", "3 2 1\n1 2 5\n2 x 5\n", r"pmedbad\.txt，第 3 行.*实际为“x”"),
        ("pmed", "3 2 1\n1 2 5\n2 9 5\n", r"第 3 行：应为1\.\.3 之间的顶点编号"),
        ("pmed", "3 3 1\n1 2 5\n2 3 5\n", r"第 3 行.*还需 3 个数.*文件结束"),
        ("pmed", "3 1 1\n1 2 5\n7\n", r"第 3 行.*应为文件结束.*实际为“7”"),
        ("pmed", "3 1 5\n1 2 5\n", r"不大于顶点数 3 的中位数 p"),
        ("cap", "2 1\n10 5\n10 -5\n3 1 2\n", r"第 3 行.*非负有限数"),
        ("sscflp", "2 2\n10 10\n1 1\n3 4\n1 2\n3\n", r"第 6 行.*还需 1 个数"),
        ("sscflp", "2.5 2\n", r"第 1 行.*非负整数"),
    ],
)
def test_malformed_files_name_file_and_line(tmp_path, fmt, text, match):
    path = write(tmp_path, f"{fmt}bad.txt", text)
    with pytest.raises(InputError, match=match):
        read_instance(path, fmt)


def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(InputError, match="文件不存在"):
        read_instance(tmp_path / "nope.txt", "cap")
    with pytest.raises(InputError, match="pmed、cap 或 sscflp"):
        read_instance(write(tmp_path, "weird.dat", "1 1\n"))
