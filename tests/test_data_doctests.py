"""The worked examples in the data readers' docstrings stay true."""

import doctest
import importlib

import pytest


@pytest.mark.parametrize("name", ["grade_columns", "age_groups", "school_list"])
def test_docstring_examples(name):
    module = importlib.import_module(f"xuewei.data.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
