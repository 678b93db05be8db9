"""The worked examples in the docstrings of the data readers and the hearing pack stay true."""

import doctest
import importlib

import pytest


@pytest.mark.parametrize("name", ["data.grade_columns", "data.age_groups", "data.school_list", "reports.pack"])
def test_docstring_examples(name):
    module = importlib.import_module(f"xuewei.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
