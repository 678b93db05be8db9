"""`xuewei backtest`: worked example, JSON shape, errors, and the real ECASD series."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from xuewei.cli import main
from xuewei.errors import InputError
from xuewei.forecaster.history import build_history, detect_break_years, read_births, read_enrollment
from xuewei.forecaster.backtest import (MIN_TRACK_ORIGINS, NEW_COHORT_WEIGHT, SHORT_RATIO_WEIGHT, SHRINK_ORIGINS,
                                        WARMUP_YEARS, Engine,
                                        combination_weights, run_backtest, simplex_grid)
from xuewei.forecaster.progression import RatioMethod, progression_ratios, weighted_ratio, weighted_recent

REAL = Path("/work/shared/realdata/ecasd_eau_claire")
if not REAL.is_dir():
    REAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "realdata" / "ecasd_eau_claire"


def growing(tmp_path, years=range(2000, 2013), with_births=True):
    """Grade 1 grows 10 %/yr and is half the births six years before; grade 2 keeps 90 % of grade 1."""
    rows = []
    for y in years:
        g1 = 100 * 1.1 ** (y - 2000)
        rows += [("A", y, 1, round(g1, 6)), ("A", y, 2, round(0.9 * 100 * 1.1 ** (y - 2001), 6))]
    e = pd.DataFrame(rows, columns=["area", "year", "grade", "pupils"])
    e["pupils"] = e["pupils"].round().astype(int)
    e_path = tmp_path / "E.csv"
    e.to_csv(e_path, index=False)
    b_path = tmp_path / "B.csv"
    b = pd.DataFrame({"area": "A", "year": range(1990, 2013)})
    b["births"] = (2 * 100 * 1.1 ** (b["year"] + 6 - 2000)).round().astype(int)
    b.to_csv(b_path, index=False)
    return e_path, b_path


def run(capsys, *args):
    code = main(["backtest", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_ratio_estimators():
    values = np.array([1.0, np.nan, 2.0, 4.0])
    assert weighted_recent(values, RatioMethod("mean", 2)) == pytest.approx(3.0)
    assert weighted_recent(values, RatioMethod("weighted", 3)) == pytest.approx((1 * 1 + 2 * 2 + 4 * 3) / 6)
    assert weighted_recent(values, RatioMethod("exp_smooth", alpha=0.5)) == pytest.approx(
        (4 * 0.5 + 2 * 0.25 + 1 * 0.125) / 0.875)
    # ratio of sums: a tiny cohort's 2.0 ratio does not dominate
    assert weighted_ratio(np.array([90.0, 20.0]), np.array([100.0, 10.0]), RatioMethod("mean", 2)) == pytest.approx(110 / 110)
    g = pd.DataFrame({"area": "A", "year": [1, 1, 2, 2], "grade": [0, 1, 0, 1], "pupils": [50, 40, 60, 45]})
    assert progression_ratios(g)["ratio"].tolist() == [45 / 50]


def test_worked_backtest_json_shape_and_exact_model(tmp_path, capsys):
    e, b = growing(tmp_path)
    code, out, err = run(capsys, "--enrollment", e, "--births", b, "--origin", "2005:2006", "--horizon", 3, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == {"model", "persistence", "trend", "total"}
    assert set(data["total"]) == {"model", "persistence", "trend"}
    for block in (data["model"], data["persistence"], data["trend"], *data["total"].values()):
        assert set(block) == {"1", "2", "3"}
        for cell in block.values():
            assert set(cell) == {"mape", "bias", "n"} and isinstance(cell["n"], int)
    # persistence misses one year of 10 % growth: APE = 1 - 1/1.1
    assert data["persistence"]["1"]["mape"] == pytest.approx(100 * (1 - 1 / 1.1), abs=0.3)
    # origins 2005-2006 have fewer than MIN_TRACK_ORIGINS warm inner origins: the prior mixes the (here
    # exact) cohort forecast with persistence only for what it must guess. Six years give the full ratio
    # window, and the cohorts entering in 2006-2009 were born in 2000-2003, observed at the origin: nothing
    # is guessed, so the model is exact
    assert data["model"]["1"]["mape"] == pytest.approx(0.0, abs=0.1)  # pupils are rounded to whole numbers
    assert data["persistence"]["1"]["bias"] == pytest.approx(-100 * (1 - 1 / 1.1), abs=0.3)
    assert data["model"]["1"]["n"] == 2 and data["model"]["3"]["n"] == 2


def test_text_report_in_chinese(tmp_path, capsys):
    e, _ = growing(tmp_path)
    code, out, err = run(capsys, "--enrollment", e, "--origin", "2008", "--horizon", 2)
    assert code == 0, err
    assert "持续法" in out and "线性趋势" in out and "各年限平均 MAPE" in out


def write(tmp_path, text, name="E.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize("text, pattern", [
    ("area,year,grade\nA,2000,1\n", "pupils"),
    ("area,year,grade,pupils\nA,2000,1,10\nA,2000,2,-3\n", r"第 3 行.*pupils.*非负整数人数"),
    ("area,year,grade,pupils\nA,2000,1,10.5\nA,2000,2,3\n", r"第 2 行.*pupils.*非负整数人数.*10\.5"),
    ("area,year,grade,pupils\nA,2000,1,10\nA,2000,2,10\nA,2001,1,10\n", r"年级 2 出现后每年都有.*2000 年以后缺少"),
    ("area,year,grade,pupils\nA,2000,1,10\nA,2000,1,11\n", r"第 3 行.*重复"),
])
def test_bad_enrollment_exits_2_naming_the_problem(tmp_path, capsys, text, pattern):
    e = write(tmp_path, text)
    code, out, err = run(capsys, "--enrollment", e, "--origin", "2000", "--horizon", 1)
    assert code == 2
    assert str(e) in err and "Traceback" not in err
    assert pytest.importorskip("re").search(pattern, err), err


def test_years_without_records_are_accepted_with_a_warning(tmp_path, capsys, caplog):
    # A: 2003 missing; B: grade 2 missing in 2002. Neither is counted as 0 nor scored.
    rows = ["area,year,grade,pupils"]
    rows += [f"A,{y},{g},{100 + 3 * (y - 2000) + g}" for y in range(2000, 2008) for g in (1, 2) if y != 2003]
    rows += [f"B,{y},{g},{50 + 2 * (y - 2000) + g}" for y in range(2000, 2008) for g in (1, 2) if (y, g) != (2002, 2)]
    e = write(tmp_path, "\n".join(rows) + "\n")
    with caplog.at_level("WARNING", logger="xuewei"):
        code, out, err = run(capsys, "--enrollment", e, "--origin", "2001:2006", "--horizon", 2, "--json")
    assert code == 0, err
    text = " ".join(r.getMessage() for r in caplog.records)
    assert "地区“A”缺少 2003 年的全部记录" in text and "地区“B”缺少 2002 年的部分年级记录" in text


def test_unreadable_and_missing_files_exit_2(tmp_path, capsys):
    code, _, err = run(capsys, "--enrollment", tmp_path / "none.csv", "--origin", "2000", "--horizon", 1)
    assert code == 2 and "文件不存在" in err
    bad = tmp_path / "bin.csv"
    bad.write_bytes(b"\x00\xff\xfe\x00garbage\x81\x82")
    code, _, err = run(capsys, "--enrollment", bad, "--origin", "2000", "--horizon", 1)
    assert code == 2 and "Traceback" not in err


def test_births_shorter_than_the_lag_needs(tmp_path, capsys):
    e, _ = growing(tmp_path)
    b = write(tmp_path, "area,year,births\nA,1990,100\nA,1991,100\n", "B.csv")
    code, _, err = run(capsys, "--enrollment", e, "--births", b, "--origin", "2008", "--horizon", 2)
    assert code == 2
    assert "出生数据短于入学滞后所需" in err and "2002" in err  # grade 1 of 2008 was born 2008 - 6


def test_origin_outside_data(tmp_path, capsys):
    e, _ = growing(tmp_path)
    code, _, err = run(capsys, "--enrollment", e, "--origin", "1999", "--horizon", 2)
    assert code == 2 and "--origin" in err
    code, _, err = run(capsys, "--enrollment", e, "--origin", "2012", "--horizon", 2)
    assert code == 2 and "实际数据可供评分" in err


def test_break_year_detected_and_excluded():
    e = pd.DataFrame({"area": "A", "year": range(2010, 2020), "grade": 1,
                      "pupils": [100, 101, 102, 103, 70, 105, 106, 107, 108, 109]})
    assert detect_break_years(e) == (2014,)
    hist = build_history(e, None, 6, (2014,))
    result = run_backtest(hist, [2013, 2014], 2)
    assert 2014 not in set(result.cases["year"])  # never scored
    launched = result.cases[(result.cases.origin == 2014) & (result.cases.method == "persistence")]
    assert set(launched["forecast"]) == {103.0}  # origin in the break launches from 2013


def test_combination_weights_hand_computed():
    two = simplex_grid(2)
    # APE(w) = |20w − 10| + 4w (in %): minimum 2 at w = 0.5
    assert combination_weights(np.array([[110.0, 104.0], [90.0, 100.0]]), np.array([100.0, 100.0]), two).tolist() == [0.5, 0.5]
    # persistence exact, model 10 % high: weight 0
    assert combination_weights(np.array([[110.0], [100.0]]), np.array([100.0]), two).tolist() == [0.0, 1.0]
    # actual below both: APE(w) = (30 − 25w) / 90 falls with w, so w = 1
    assert combination_weights(np.array([[95.0], [120.0]]), np.array([90.0]), two).tolist() == [1.0, 0.0]
    # APE(w) = 10(1 − w) + 10w is flat: every weight ties, their mean 0.5 is returned
    assert combination_weights(np.array([[100.0, 110.0], [110.0, 100.0]]), np.array([100.0, 100.0]), two).tolist() == [0.5, 0.5]
    # three components, the second exact (the others err in opposite directions in the two cases, so
    # no mix of them is exact in both): all weight on it
    forecasts = np.array([[120.0, 90.0], [100.0, 100.0], [90.0, 120.0]])
    assert combination_weights(forecasts, np.array([100.0, 100.0])).tolist() == pytest.approx([0.0, 1.0, 0.0])


def noisy_history(seed=0, years=range(2000, 2016), total=600):
    """Six grades whose total is constant every year while the split between grades is random."""
    rng = np.random.default_rng(seed)
    rows = []
    for y in years:
        share = rng.dirichlet(np.full(6, 20.0))
        pupils = np.floor(share * total).astype(int)
        pupils[0] += total - pupils.sum()
        rows += [("A", y, g, int(p)) for g, p in zip(range(6), pupils)]
    return pd.DataFrame(rows, columns=["area", "year", "grade", "pupils"])


def test_weights_follow_the_track_record(tmp_path):
    # constant totals: persistence is exact and both cohort forecasts are not, so the learned weights
    # put everything on persistence; shrunk toward the prior by SHRINK_ORIGINS pseudo-origins. With 13
    # years the ratio window is full, so the prior's persistence weight is NEW_COHORT_WEIGHT × the
    # launch share of the grades whose cohort enters after the origin (grades < h)
    hist = build_history(noisy_history(), None, 6, ())
    engine = Engine(hist)
    c = 12
    n = engine.track_length(c, 3)
    assert n == c - WARMUP_YEARS + 1  # warm inner origins: indices WARMUP_YEARS − 1 … c − 1
    launch = hist.cube.pupils[0, c, :]
    p = np.array([NEW_COHORT_WEIGHT * launch[:h].sum() / launch.sum() for h in (1, 2, 3)])
    prior = np.stack([1 - p, 0 * p, p], axis=1)
    expected = (n * np.array([0.0, 0.0, 1.0]) + SHRINK_ORIGINS * prior) / (n + SHRINK_ORIGINS)
    assert engine.weights(c, 3) == pytest.approx(expected)
    f, _, combination = engine.predict(c, c + 3, 3)
    assert combination.selected is None  # its weight is 0: nothing is selected
    robust, _ = engine.forecast(c, c + 3, engine.robust_choice())
    # only the prior's share of the robust forecast moves the total away from the exact 600
    assert np.nansum(f, axis=2).ravel() == pytest.approx(600.0 + expected[:, 0] * (np.nansum(robust, axis=2).ravel() - 600.0))


def test_prior_hedges_new_cohorts_and_short_ratio_histories():
    """Hand-computed prior: 6 grades of 100 pupils, entry grade 0, no track record. With r ratio
    years (years − 1, at most 5) an enrolled cohort's persistence weight is 0.75·(1 − r/5); a cohort
    entering after the origin 0.7; the group (all 6 grades) takes their pupil-weighted mean."""
    for years, h_weights in ((2, [(0.7 + 5 * 0.6) / 6, (2 * 0.7 + 4 * 0.6) / 6]),  # r = 1: 0.6
                             (4, [(0.7 + 5 * 0.3) / 6, (2 * 0.7 + 4 * 0.3) / 6]),  # r = 3: 0.3
                             (6, [0.7 / 6, 2 * 0.7 / 6])):  # r = 5: 0
        rows = [("A", y, g, 100) for y in range(2000, 2000 + years) for g in range(6)]
        engine = Engine(build_history(pd.DataFrame(rows, columns=["area", "year", "grade", "pupils"]), None, 6, ()))
        assert (NEW_COHORT_WEIGHT, SHORT_RATIO_WEIGHT) == (0.7, 0.75)
        w = engine.weights(years - 1, 2)
        assert w[:, 2] == pytest.approx(h_weights)
        assert w[:, 0] == pytest.approx(1 - np.array(h_weights))
        # past the backtested horizon the weights stay those of the last horizon
        assert engine.cell_prior(years - 1, 4, 2)[0, :, 0] == pytest.approx(h_weights + [h_weights[-1]] * 2)


def test_each_grade_group_has_its_own_prior():
    """Two stages (grades 0–2 and 3–5) in one history: within 3 years of the origin every cohort of the
    second stage is already in school, so only its short-ratio hedge applies; the first stage's
    entering cohorts weigh 0.7."""
    rows = [("A", y, g, 100) for y in range(2000, 2004) for g in range(6)]  # r = 3: 0.3
    hist = build_history(pd.DataFrame(rows, columns=["area", "year", "grade", "pupils"]), None, 6, ())
    prior = Engine(hist, groups=np.array([0, 0, 0, 1, 1, 1])).cell_prior(3, 3, 3)[0]
    assert prior[:, 0] == pytest.approx([(0.7 + 2 * 0.3) / 3, (2 * 0.7 + 0.3) / 3, 0.7])
    assert prior[:, 3] == pytest.approx([0.3, 0.3, 0.3])


def test_combination_learns_a_steady_trend(tmp_path):
    """A series growing 10 %/yr (births too): the cohort forecasts are exact and persistence is not,
    so as the record grows the persistence weight falls as SHRINK_ORIGINS·prior / (n + n0) and the
    forecast error falls with it; with a short record the prior is used."""
    e, b = growing(tmp_path, years=range(2000, 2016))
    hist = build_history(read_enrollment(e), read_births(b), 6, ())
    engine = Engine(hist)
    for c in (3, 8, 13):
        n = engine.track_length(c, 2)
        w = engine.weights(c, 2)
        launch = np.nan_to_num(hist.cube.pupils[:, c, :])
        prior = (engine.cell_prior(c, 2, 2)[:, :, 0] * launch.sum(axis=1)[:, None]).sum(axis=0) / launch.sum()
        if n < MIN_TRACK_ORIGINS:
            assert w[:, 2] == pytest.approx(prior)
        else:
            assert w[:, 2] == pytest.approx(SHRINK_ORIGINS * prior / (n + SHRINK_ORIGINS))
        f, _, _ = engine.predict(c, c + 1, 2)
        actual = hist.cube.pupils[:, c + 1, :]
        persistence_error = 1 - 1 / 1.1
        error = abs(np.nansum(f[:, 0, :]) / np.nansum(actual) - 1)
        assert error == pytest.approx(w[0, 2] * persistence_error / 1.0, abs=0.01)
    assert engine.track_length(13, 2) >= MIN_TRACK_ORIGINS  # the last origin did learn


def test_prediction_is_the_weighted_mix_of_its_components():
    rng = np.random.default_rng(3)
    e = noisy_history(seed=1)
    e["pupils"] = e["pupils"] + rng.integers(0, 40, len(e))  # totals move a little
    hist = build_history(e, None, 6, ())
    engine = Engine(hist)
    c = 13
    f, _, combination = engine.predict(c, c + 2, 2)
    w = engine.cell_weights(c, 2, 2)  # (A, K, G, 3)
    robust, _ = engine.forecast(c, c + 2, engine.robust_choice())
    selected = engine.forecast(c, c + 2, engine.choose(c, 2)[0])[0] if combination.selected else 0.0 * robust
    launch = hist.cube.pupils[:, c, :]
    for k in range(2):
        assert f[:, k, :] == pytest.approx(w[:, k, :, 0] * robust[:, k, :] + w[:, k, :, 1] * selected[:, k, :]
                                           + w[:, k, :, 2] * launch)
    assert w.sum(axis=-1) == pytest.approx(np.ones(w.shape[:-1]))
    assert combination.weights.sum(axis=1) == pytest.approx([1.0, 1.0])


@pytest.mark.parametrize("with_births", [False, True])
def test_forecast_at_an_origin_ignores_every_later_year(tmp_path, with_births):
    """Choice, weights and forecast from origin T use years ≤ T only: rewriting later years
    (pupils and births) leaves them unchanged."""
    e = noisy_history(seed=2, years=range(1995, 2016))
    e["pupils"] = e["pupils"] + (e["year"] - 1995) * 3 + np.random.default_rng(4).integers(0, 30, len(e))
    b = pd.DataFrame({"area": "A", "year": range(1985, 2016)})
    b["births"] = 150 + np.random.default_rng(5).integers(0, 40, len(b))
    origin = 2008
    later = e.copy()
    later.loc[later["year"] > origin, "pupils"] = later.loc[later["year"] > origin, "pupils"] * 2 + 7
    b_later = b.copy()
    b_later.loc[b_later["year"] > origin, "births"] = 999
    out = []
    for enr, births in ((e, b), (later, b_later)):
        hist = build_history(enr, births if with_births else None, 6, ())
        engine = Engine(hist)
        c = origin - 1995
        f, _, combination = engine.predict(c, c + 4, 4)
        result = run_backtest(hist, [origin], 4)
        model = result.cases[(result.cases.method == "model") & (result.cases.level == "area")]
        out.append((f, combination.selected, combination.weights, model["forecast"].to_numpy()))
    assert out[0][1] == out[1][1]
    assert out[0][2].tolist() == out[1][2].tolist()
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][3], out[1][3])


@pytest.mark.skipif(not REAL.is_dir(), reason="ECASD real data not present")
def test_ecasd_schools_without_births_beat_persistence():
    """Schools without births: the district total (schools summed) beats persistence and trend on
    average; per school the model ties persistence (7.93 % vs 7.90 %, docs/forecast.md)."""
    e = read_enrollment(REAL / "enrollment_school.csv")
    hist = build_history(e, None, 6, detect_break_years(e))
    data = run_backtest(hist, list(range(2003, 2024)), 5).summary()
    total = {m: np.mean([data["total"][m][str(h)]["mape"] for h in range(1, 6)]) for m in ("model", "persistence", "trend")}
    area = {m: np.mean([data[m][str(h)]["mape"] for h in range(1, 6)]) for m in ("model", "persistence", "trend")}
    assert total["model"] < total["persistence"] < total["trend"]
    assert area["model"] < area["persistence"] + 0.1 and area["model"] < area["trend"]


@pytest.mark.skipif(not REAL.is_dir(), reason="ECASD real data not present")
def test_ecasd_district_model_beats_persistence_and_trend():
    """Rolling origins 2003-2023, horizons 1-5, births→K ratio; figures quoted in docs/forecast.md."""
    e = read_enrollment(REAL / "enrollment_district.csv")
    b = read_births(REAL / "births.csv")
    hist = build_history(e, b, 6, detect_break_years(e))
    assert detect_break_years(e) == (2020,)
    data = run_backtest(hist, list(range(2003, 2024)), 5).summary()
    mean = {m: np.mean([data["total"][m][str(h)]["mape"] for h in range(1, 6)]) for m in ("model", "persistence", "trend")}
    assert mean["model"] < mean["persistence"] < mean["trend"]
    assert mean["model"] < 2.8  # measured 2.66 %


def test_a_grade_that_opens_during_the_forecast_is_kept_in_the_combination():
    """School B opens grade 1 in 2013, grade 2 in 2014, grade 3 in 2015 (50 pupils each); A has
    100 in each of grades 1–3. From origin 2013 (no track record: the prior) B's grade 2 enters in
    2014 from its grade 1 (ratio = the median over areas, 1.0): robust 50, persistence 0 (the grade
    is not open at launch). B's only pupils at launch are in its entry grade, so its prior weight
    on persistence is that of an entering cohort, 0.7: 0.3·50 + 0.7·0 = 15 — not NaN (the grade was
    dropped before). Grade 3 enters in 2015 the same way."""
    rows = [("A", y, g, 100) for y in range(2010, 2019) for g in (1, 2, 3)]
    rows += [("B", y, g, 50) for y in range(2010, 2019) for g in (1, 2, 3) if y >= 2012 + g]
    e = pd.DataFrame(rows, columns=["area", "year", "grade", "pupils"])
    hist = build_history(e, None, 6, ())
    engine = Engine(hist)
    c = 2013 - 2010
    f, _, combination = engine.predict(c, c + 2, 2)
    assert combination.track < MIN_TRACK_ORIGINS
    assert engine.cell_prior(c, 2, 2)[1] == pytest.approx(np.full((2, 3), NEW_COHORT_WEIGHT))
    b = f[1]
    assert b[0, :2].tolist() == pytest.approx([50.0, 15.0]) and np.isnan(b[0, 2])  # grade 3 not open in 2014
    assert b[1].tolist() == pytest.approx([50.0, 15.0, 15.0])
    assert np.nansum(f[0], axis=1).tolist() == pytest.approx([300.0, 300.0])  # A unchanged


def test_entering_cohorts_with_observed_births_are_not_hedged_as_guesses():
    """Grades 1–2, entry age 6 (births lag 6 years), 4 years of history (r = 3: enrolled cohorts
    0.75·(1 − 3/5) = 0.3). With births the cohort entering 1–5 years after a 2003 origin was born in
    1998–2002 ≤ 2003: observed, so it counts 0.3 like the enrolled one. Told that births are observed
    only up to 1998 (the rest projected), cohorts born 1999 or later are guesses: 0.7."""
    rows = [("A", y, g, 100) for y in range(2000, 2004) for g in (1, 2)]
    e = pd.DataFrame(rows, columns=["area", "year", "grade", "pupils"])
    b = pd.DataFrame({"area": "A", "year": range(1990, 2004), "births": 200})
    hist = build_history(e, b, 6, ())
    assert Engine(hist).cell_prior(3, 3, 3)[0, :, 0] == pytest.approx([0.3, 0.3, 0.3])
    # observed until 1998: h = 1 enters 2004, born 1998 (observed); h = 2, 3 born 1999, 2000 (projected)
    # grade 1 is new from h = 1, grade 2 from h = 2 (entered 2004, born 1998: observed)
    prior = Engine(hist, births_observed_until=1998).cell_prior(3, 3, 3)[0, :, 0]
    assert prior == pytest.approx([0.3, (0.7 + 0.3) / 2, (0.7 + 0.7) / 2])
    assert Engine(build_history(e, None, 6, ())).cell_prior(3, 3, 3)[0, :, 0] == pytest.approx(
        [(0.7 + 0.3) / 2, 0.7, 0.7])


def test_english_headers_of_published_series_are_read_with_a_warning(tmp_path, caplog):
    """US-style headers (district, School Year, Enrollment; K for kindergarten; 2019-2020) read as
    area, year, pupils; a school file that also names its district is read by school."""
    rows = [("D1", s, f"{y}-{y + 1}", g, 50 + i) for y in range(2010, 2016) for s in ("s1", "s2")
            for i, g in enumerate(("K", "1", "2"))]
    df = pd.DataFrame(rows, columns=["District", "School ID", "School Year", "Grade Level", "Enrollment"])
    path = tmp_path / "e.csv"
    df.to_csv(path, index=False)
    with caplog.at_level("WARNING", logger="xuewei"):
        e = read_enrollment(path)
    assert sorted(e["area"].unique()) == ["s1", "s2"]
    assert sorted(e["year"].unique()) == list(range(2010, 2016)) and sorted(e["grade"].unique()) == [0, 1, 2]
    assert e["pupils"].sum() == 6 * 2 * (50 + 51 + 52)
    assert "“School ID”按“area”" in caplog.text and "“Enrollment”按“pupils”" in caplog.text


def test_a_series_without_an_area_column_is_one_area(tmp_path, caplog):
    """A single district's file (year, grade, pupils) and its births (year, births) are one area, 全县."""
    e = pd.DataFrame([(y, g, 100 + g) for y in range(2010, 2016) for g in range(3)], columns=["year", "grade", "pupils"])
    b = pd.DataFrame({"year": range(2000, 2016), "births": 150})
    e.to_csv(tmp_path / "e.csv", index=False)
    b.to_csv(tmp_path / "b.csv", index=False)
    with caplog.at_level("WARNING", logger="xuewei"):
        enr, births = read_enrollment(tmp_path / "e.csv"), read_births(tmp_path / "b.csv")
    assert set(enr["area"]) == {"全县"} and set(births["area"]) == {"全县"}
    assert "没有地区列" in caplog.text
    hist = build_history(enr, births, 6, ())
    assert run_backtest(hist, [2013], 2).summary()["total"]["model"]["1"]["n"] == 1


def test_total_and_ungraded_rows_of_a_long_table_are_left_out_and_rows_still_point_at_the_file(tmp_path, caplog):
    """Published long tables carry a Total row per area-year and pupils in no grade (UG): the total is
    checked and left out, UG left out with its count; a bad cell after them is named by its file row."""
    rows = []
    for y in range(2010, 2014):
        rows += [("A", y, g, 100 + i) for i, g in enumerate(("K", "1", "2"))]
        rows += [("A", y, "Total", 303 + 3), ("A", y, "UG", 3)]
    df = pd.DataFrame(rows, columns=["area", "year", "grade", "pupils"])
    df.to_csv(tmp_path / "e.csv", index=False)
    with caplog.at_level("WARNING", logger="xuewei"):
        e = read_enrollment(tmp_path / "e.csv")
    assert len(e) == 12 and e["pupils"].sum() == 4 * 303
    assert "4 个合计行" in caplog.text and "有 4 行不等于各年级之和" in caplog.text  # 306 includes the UG pupils
    assert "不属于任何年级" in caplog.text and "共 12 人" in caplog.text
    df["pupils"] = df["pupils"].astype(object)
    df.loc[7, "pupils"] = "x"  # the second year's grade 2: file row 9, after two left-out rows
    df.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(InputError) as err:
        read_enrollment(tmp_path / "bad.csv")
    assert [(p.row, p.field) for p in err.value.problems] == [(9, "pupils")]
