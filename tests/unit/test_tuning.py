"""Unit tests of ``parallel_trees.tuning``: search ranges, Optuna's draws, and seeded searches."""

import logging

import optuna
import pytest
from pydantic import ValidationError
from sklearn.tree import DecisionTreeClassifier

from parallel_trees.metrics import METRICS, outcome_of
from parallel_trees.tuning import (
    Choices,
    Interval,
    bounds,
    parse_range,
    parse_space,
    search,
    suggest,
)

SPACE = parse_space(
    {
        "max_depth": {"low": 1, "high": 8},
        "min_samples_leaf": {"low": 1, "high": 30, "log": True},
        "max_features": {"low": 0.2, "high": 1.0},
        "criterion": {"choices": ["gini", "entropy"]},
    }
)


def tree(setting: dict) -> DecisionTreeClassifier:
    return DecisionTreeClassifier(random_state=0, **setting)


def accuracy(model, x, y) -> float:
    return METRICS["accuracy"].score(outcome_of(model, x, y, 3, 1))


def run_search(iris, trials=8, seed=3, score=accuracy, metric="accuracy", **options) -> dict:
    x, y = iris
    return search(
        tree, x, y, SPACE, trials, 3, seed, "Tree, all rows", score, METRICS[metric], **options
    )


class TestParseRange:
    def test_integer_bounds_make_an_integer_range(self):
        spec = parse_range({"low": 2, "high": 32, "log": True})
        assert spec == Interval(low=2, high=32, log=True)
        assert spec.integers
        assert bounds(spec) == [2, 32]

    def test_a_real_bound_makes_a_real_range(self):
        assert not parse_range({"low": 1, "high": 2.5}).integers
        assert not parse_range({"low": 0.1, "high": 1.0}).log

    def test_choices_are_a_list_of_values(self):
        spec = parse_range({"choices": ["gini", "entropy", None]})
        assert spec == Choices(choices=["gini", "entropy", None])
        assert bounds(spec) == ["gini", "entropy", None]

    @pytest.mark.parametrize(
        ("spec", "message"),
        [
            ({"low": 5, "high": 5}, "low (5) must be below high (5)"),
            ({"low": 0.9, "high": 0.1}, "low (0.9) must be below high (0.1)"),
            ({"low": 0, "high": 4, "log": True}, "log: true needs low > 0 (got 0)"),
            ({"low": -1.0, "high": 4.0, "log": True}, "log: true needs low > 0 (got -1.0)"),
            ({"low": True, "high": 4}, "low and high must be numbers, not True"),
            ({"low": 1, "high": "lots"}, "low and high must be numbers, not 'lots'"),
            ({"low": 1}, "Field required"),
            ({"low": 1, "high": 4, "step": 2}, "Extra inputs are not permitted"),
            ({"low": 1, "high": 4, "log": "yes"}, "Input should be a valid boolean"),
            ({"choices": ["gini"]}, "List should have at least 2 items"),
        ],
    )
    def test_a_bad_range_is_refused_saying_why(self, spec, message):
        with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
            parse_range(spec)

    @pytest.mark.parametrize("spec", [5, "2..32", [2, 32], None])
    def test_anything_but_a_mapping_is_refused_with_the_allowed_shapes(self, spec):
        with pytest.raises(
            ValueError, match=r"must be \{low: \.\.\., high: \.\.\.\[, log: true\]\}"
        ):
            parse_range(spec)


def test_suggest_draws_each_parameter_within_its_range():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(30):
        drawn = suggest(study.ask(), SPACE)
        assert set(drawn) == set(SPACE)
        assert isinstance(drawn["max_depth"], int) and 1 <= drawn["max_depth"] <= 8
        assert isinstance(drawn["min_samples_leaf"], int) and 1 <= drawn["min_samples_leaf"] <= 30
        assert isinstance(drawn["max_features"], float) and 0.2 <= drawn["max_features"] <= 1.0
        assert drawn["criterion"] in ("gini", "entropy")


class TestSearch:
    def test_the_same_seed_gives_the_same_trials_and_result(self, iris):
        assert run_search(iris) == run_search(iris)

    def test_another_seed_gives_other_trials(self, iris):
        assert run_search(iris, seed=3)["trials"] != run_search(iris, seed=4)["trials"]

    def test_it_records_every_trial_and_the_best_of_the_complete_ones(self, iris):
        found = run_search(iris, trials=12)
        trials = found["trials"]
        assert len(trials) == 12
        assert all(set(t["params"]) == set(SPACE) for t in trials)
        complete = [t for t in trials if t["state"] == "complete"]
        best = max(complete, key=lambda t: t["score"])
        assert found["best_score"] == best["score"]
        assert found["best_params"] == best["params"]
        assert set(found["importance"]) <= set(SPACE)
        assert sum(found["importance"].values()) == pytest.approx(1)

    def test_a_loss_is_minimised_the_best_setting_has_the_lowest_inner_loss(self, iris):
        def loss(model, x, y) -> float:
            return METRICS["log_loss"].score(outcome_of(model, x, y, 3, 1))

        found = run_search(iris, trials=12, score=loss, metric="log_loss")
        complete = [t for t in found["trials"] if t["state"] == "complete"]
        lowest = min(complete, key=lambda t: t["score"])
        assert found["best_score"] == lowest["score"]
        assert found["best_params"] == lowest["params"]
        assert max(t["score"] for t in complete) > found["best_score"]  # it had a choice

    def test_the_pruner_stops_trials_behind_the_median_and_records_their_partial_score(self, iris):
        trials = run_search(iris, trials=20)["trials"]
        states = [t["state"] for t in trials]
        assert set(states) == {"complete", "pruned"}
        assert "pruned" not in states[:5]  # the first trials set the median
        for trial in trials:
            assert 0 <= trial["score"] <= 1  # a pruned trial: its inner folds scored so far

    def test_progress_is_one_line_per_trial_but_the_last_with_progress_every_0(self, iris, caplog):
        with caplog.at_level(logging.INFO, logger="parallel_trees.tuning"):
            run_search(iris, trials=4, progress_every=0)
        assert [r.getMessage().split(", best")[0] for r in caplog.records] == [
            f"Tuning Tree, all rows: {n}/4 trials" for n in (1, 2, 3)
        ]

    def test_progress_is_quiet_within_its_interval(self, iris, caplog):
        with caplog.at_level(logging.INFO, logger="parallel_trees.tuning"):
            run_search(iris, trials=4, progress_every=3600)
        assert caplog.records == []


def test_a_regression_is_tuned_on_plain_folds_minimising_rmse():
    """The search of a regression: a regressor, KFold inner folds (no strata of numbers),
    and the setting with the lowest inner RMSE."""
    from sklearn.datasets import load_diabetes  # noqa: PLC0415
    from sklearn.tree import DecisionTreeRegressor  # noqa: PLC0415

    x, y = load_diabetes(return_X_y=True, as_frame=True)
    space = parse_space(
        {"max_depth": {"low": 1, "high": 8}, "min_samples_leaf": {"low": 1, "high": 40}}
    )

    def rmse(model, rows, truth) -> float:
        return METRICS["rmse"].score(outcome_of(model, rows, truth, 0, 1))

    def make(setting):
        return DecisionTreeRegressor(random_state=0, **setting)

    found = search(make, x, y, space, 10, 3, 3, "Tree, all rows", rmse, METRICS["rmse"])
    complete = [t for t in found["trials"] if t["state"] == "complete"]
    assert found["best_score"] == min(t["score"] for t in complete)
    assert 40 < found["best_score"] < y.std()  # better than guessing the mean
