"""Demand forecast: cohort model of 学位 demand by place, stage and year, with variants, bands and a backtest.

Entry points: `forecast_demand` (region tables → pupils and places by node × stage × year ×
variant), `ForecastConfig` (the scenario's ``[forecast]`` section), `ForecastInputs` (the tables),
and `backtest.run_backtest` behind ``xuewei backtest``.
"""

from xuewei.forecaster.config import ForecastConfig
from xuewei.forecaster.demand import OUTPUT_COLUMNS, forecast_demand, forecast_townships
from xuewei.forecaster.inputs import ForecastInputs, check_inputs

__all__ = ["ForecastConfig", "ForecastInputs", "OUTPUT_COLUMNS", "check_inputs", "forecast_demand", "forecast_townships"]
