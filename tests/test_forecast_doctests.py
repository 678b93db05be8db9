"""The worked examples in the forecaster's docstrings stay true."""

import doctest
import importlib

import pytest

MODULES = ["backtest", "bands", "cohort", "config", "enrolment", "grades_link", "history", "progression"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"xuewei.forecaster.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
