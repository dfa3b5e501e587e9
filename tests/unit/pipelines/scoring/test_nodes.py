import numpy as np
import pandas as pd
import pytest

from parallel_trees.metrics import METRICS, names
from parallel_trees.pipelines.scoring.nodes import (
    build_metrics,
    collect_predictions,
    compare_models,
    compare_untuned,
    rank,
    score_models,
    tie_tolerance,
)
from parallel_trees.stats import MCNEMAR, SIGN_TEST, corrected_resampled_ttest, holm, mcnemar_exact

ROLES = {"numeric": ["width"], "categorical": [], "many_levels": [], "excluded": {}}
ACCURACY = {
    "task": "classification",
    "metric": "accuracy",
    "chosen": False,
    "greater_is_better": True,
    "classes": 2,
    "positive": 1,
    "positive_class": "b",
    "majority": "a",
    "guess": "'a'",
}
LOSS = ACCURACY | {"metric": "log_loss", "chosen": True, "greater_is_better": False}
# Five folds of 120 training rows: 96 to train on, 24 to score, as the default run.
FOLDS = [(np.arange(96), np.arange(96, 120))] * 5
NOTHING = {"truth": np.array([], dtype=int), "models": {}}


def _training(name, scores, metric="accuracy", baseline=False, untuned=None):
    """A training record whose folds score ``scores`` by ``metric`` (the panel's others: 0.5)."""
    folds = [
        {
            "fold": k,
            "score": s,
            "untuned_score": s,
            "scores": dict.fromkeys(names("classification"), 0.5) | {metric: s},
        }
        for k, s in enumerate(scores)
    ]
    record = {"display_name": name, "cv_scores": list(scores), "folds": folds}
    return record | {"untuned_cv_scores": untuned} | ({"baseline": True} if baseline else {})


def _scores(yardstick=ACCURACY, held_out=NOTHING, **trainings):
    return score_models(held_out, yardstick, ["a", "b"], **trainings)


def _held_out(truth, **predictions):
    """``collect_predictions``'s held-out record of class predictions (probabilities from them)."""
    tables = {}
    for model, classes in predictions.items():
        predicted = np.asarray(classes)
        tables[model] = pd.DataFrame(
            {
                "prediction": predicted,
                "probability_0": np.where(predicted == 0, 0.8, 0.2),
                "probability_1": np.where(predicted == 1, 0.8, 0.2),
            }
        )
    return {"truth": np.asarray(truth), "models": tables}


def _rows(*right: int) -> list[float]:
    """Fold scores of rows right out of each fold's 24 (``FOLDS``), as accuracy is."""
    return [r / 24 for r in right]


# Fold scores: far apart (significant at 0.05), within the noise, and always guessing.
BEHIND = _rows(12, 13, 11, 12, 12)
AHEAD = _rows(23, 23, 22, 24, 23)
NOISY_A = _rows(23, 22, 24, 23, 22)
NOISY_B = _rows(22, 23, 22, 22, 23)  # two rows fewer than NOISY_A: not a tie
FAIR = _rows(21, 22, 21, 22, 22)
GUESS = _rows(12, 12, 12, 12, 12)


class TestCollectPredictions:
    def test_one_row_per_held_out_row_with_every_model_by_class_name(self):
        y_test = pd.Series([0, 1, 0], index=[7, 2, 9], name="species")
        table, held_out = collect_predictions(
            y_test,
            ["a", "b"],
            random_forest=pd.DataFrame({"prediction": [0, 0, 0]}, index=[7, 2, 9]),
            xgboost=pd.DataFrame({"prediction": [1, 1, 0]}, index=[7, 2, 9]),
            baseline=pd.DataFrame({"prediction": [0, 0, 0]}, index=[7, 2, 9]),
        )
        assert table.index.name == "row"
        assert table.index.tolist() == [7, 2, 9]
        # The labels keep the name of the user's label column; no baseline column.
        assert table.columns.tolist() == ["species", "random_forest", "xgboost"]
        assert table["species"].tolist() == ["a", "b", "a"]
        assert table["xgboost"].tolist() == ["b", "b", "a"]
        assert held_out["truth"].tolist() == [0, 1, 0]
        assert set(held_out["models"]) == {"random_forest", "xgboost", "baseline"}

    def test_nothing_held_out_gives_an_empty_table_with_the_columns(self):
        empty = pd.Series([], dtype=int, name="target")
        none = pd.DataFrame({"prediction": pd.Series([], dtype=int)})
        table, _ = collect_predictions(empty, ["a", "b"], random_forest=none, xgboost=none)
        assert table.empty
        assert table.columns.tolist() == ["target", "random_forest", "xgboost"]


class TestScoreModels:
    def test_cv_mean_and_population_std_by_the_run_metric_and_held_out_scores(self):
        held_out = _held_out([0, 1, 1, 0], forest=[0, 1, 0, 0], baseline=[0, 0, 0, 0])
        scores = _scores(
            held_out=held_out,
            baseline=_training("Baseline", [0.5, 0.5], baseline=True),
            forest=_training("Forest", [0.9, 1.0]),
        )
        assert list(scores) == ["forest", "baseline"]  # the baseline last
        forest = scores["forest"]
        assert forest["cv_mean"] == pytest.approx(0.95)
        assert forest["cv_std"] == pytest.approx(0.05)  # population std, as the tutorial
        assert forest["test_score"] == 0.75
        assert forest["test_panel"]["accuracy"] == 0.75
        assert set(forest["test_panel"]) == set(forest["cv_panel"]) == set(names("classification"))
        assert forest["cv_panel"]["accuracy"] == pytest.approx(0.95)
        assert forest["cv_panel"]["roc_auc"] == 0.5
        assert forest["per_class"] == [
            {"class": "a", "precision": pytest.approx(2 / 3), "recall": 1.0, "support": 2},
            {"class": "b", "precision": 1.0, "recall": 0.5, "support": 2},
        ]
        assert scores["baseline"]["baseline"] is True and forest["baseline"] is False

    def test_nothing_held_out_gives_no_held_out_scores(self):
        scores = _scores(forest=_training("Forest", [1.0]))
        assert scores["forest"]["test_score"] is None
        assert scores["forest"]["test_panel"] == {} and scores["forest"]["per_class"] == []


def _compare(yardstick=ACCURACY, held_out=NOTHING, folds=FOLDS, level=0.05, **trainings):
    scores = _scores(yardstick, held_out, **trainings)
    return compare_models(scores, held_out, yardstick, folds, level, 21)


class TestCompareModels:
    def test_each_model_against_the_best_and_the_baseline_one_family(self):
        comparison, ranking = _compare(
            forest=_training("Forest", FAIR),
            boost=_training("Boost", AHEAD),
            trees=_training("Trees", NOISY_A),
            baseline=_training("Baseline", GUESS, baseline=True),
        )
        assert comparison["best"] == "boost"
        records = comparison["comparisons"]
        assert [(r["models"], r["against"]) for r in records] == [
            (["boost", "forest"], "best"),
            (["boost", "trees"], "best"),
            (["forest", "baseline"], "baseline"),
            (["boost", "baseline"], "baseline"),
            (["trees", "baseline"], "baseline"),
        ]
        expected = corrected_resampled_ttest(AHEAD, FAIR, 96, 24)
        assert records[0]["cv"]["p_value"] == pytest.approx(expected.p_value)
        assert records[0]["cv"]["difference"] == pytest.approx(7 / 120)
        adjusted = holm([r["cv"]["p_value"] for r in records])
        assert [r["cv"]["p_adjusted"] for r in records] == pytest.approx(adjusted)
        assert all(r["held_out"] is None for r in records)  # nothing held out
        assert comparison["family"].startswith("Holm's correction over the 5 tests")
        assert [r["model"] for r in ranking] == ["boost", "trees", "forest", "baseline"]

    def test_verdicts_name_the_better_model_and_the_adjusted_p(self):
        comparison, _ = _compare(
            forest=_training("Forest", BEHIND),
            boost=_training("Boost", AHEAD),
            baseline=_training("Baseline", GUESS, baseline=True),
        )
        against_best, forest_base, boost_base = comparison["comparisons"]
        cv = against_best["cv"]
        assert cv["significant"] is True
        assert cv["verdict"].startswith("Boost vs Forest: +0.458 CV accuracy, 95% interval [+")
        assert f"(Holm: {cv['p_adjusted']:.2g})" in cv["verdict"]
        assert cv["verdict"].endswith(": Forest is significantly worse than the best")
        assert boost_base["cv"]["verdict"].startswith("Boost vs the baseline: +0.458 CV accuracy")
        assert boost_base["cv"]["verdict"].endswith(
            "Boost is significantly better than always guessing 'a'"
        )
        assert forest_base["cv"]["verdict"].endswith(
            ": Forest is no better than always guessing 'a'"
        )

    def test_not_significantly_worse_within_the_noise(self):
        comparison, ranking = _compare(
            forest=_training("Forest", NOISY_A), boost=_training("Boost", NOISY_B)
        )
        (record,) = comparison["comparisons"]
        assert record["cv"]["significant"] is False
        assert record["cv"]["verdict"] == (
            "Forest vs Boost: +0.017 CV accuracy, 95% interval "
            f"[{record['cv']['ci_low']:+.2f}, {record['cv']['ci_high']:+.2f}], "
            f"p = {record['cv']['p_value']:.2f} (Holm: {record['cv']['p_adjusted']:.2f}): "
            "Boost is not significantly worse than the best"
        )
        assert [(r["model"], r["versus_best"]) for r in ranking] == [
            ("forest", "best"),
            ("boost", "not significantly worse"),
        ]

    def test_held_out_accuracy_gets_mcnemar_with_its_power(self):
        target = [0] * 12
        forest = [0] * 10 + [1, 1]  # wrong on the last two rows
        boost = [1] * 10 + [0, 0]  # right only on the last two
        comparison, _ = _compare(
            held_out=_held_out(target, forest=forest, boost=boost),
            folds=FOLDS[:2],
            forest=_training("Forest", _rows(22, 21)),
            boost=_training("Boost", _rows(20, 20)),
        )
        (record,) = comparison["comparisons"]
        test = record["held_out"]
        expected = mcnemar_exact(np.equal(forest, 0), np.equal(boost, 0))
        assert test["test"] == MCNEMAR
        assert (test["only_a_right"], test["only_b_right"]) == (10, 2)
        assert test["p_value"] == pytest.approx(expected.p_value)
        assert test["p_value"] == pytest.approx(2 * (1 + 12 + 66) / 2**12)
        # Two tests, one family: 0.039 x 2.
        assert test["p_adjusted"] == pytest.approx(2 * test["p_value"])
        assert "McNemar p = 0.04 (Holm: 0.08): no significant difference" in test["verdict"]

    def test_too_few_discordant_rows_are_said_to_be_too_few(self):
        comparison, _ = _compare(
            held_out=_held_out([0, 1, 0, 1], forest=[0, 1, 0, 1], boost=[0, 1, 0, 0]),
            forest=_training("Forest", NOISY_A),
            boost=_training("Boost", NOISY_B),
        )
        verdict = comparison["comparisons"][0]["held_out"]["verdict"]
        assert verdict.endswith(
            "no significant difference (only 1 rows differ: at least 6, all one way, are "
            "needed to show one)"
        )

    def test_another_metric_is_compared_held_out_by_a_seeded_bootstrap(self):
        truth = [0, 1] * 20
        held_out = _held_out(truth, forest=truth, boost=[0] * 40)
        comparison, _ = _compare(
            LOSS,
            held_out,
            forest=_training("Forest", [0.3, 0.31, 0.29, 0.3, 0.3], "log_loss"),
            boost=_training("Boost", [0.6, 0.61, 0.62, 0.6, 0.63], "log_loss"),
        )
        (record,) = comparison["comparisons"]
        assert record["models"] == ["forest", "boost"]  # the lower loss is the best
        test = record["held_out"]
        assert test["test"] == "paired bootstrap of the held-out rows"
        assert test["difference"] < 0 and test["ci_high"] < 0 and test["significant"]
        assert "paired bootstrap p = " in test["verdict"]
        assert test["verdict"].endswith("Forest is significantly better")
        again, _ = _compare(
            LOSS,
            held_out,
            forest=_training("Forest", [0.3, 0.31, 0.29, 0.3, 0.3], "log_loss"),
            boost=_training("Boost", [0.6, 0.61, 0.62, 0.6, 0.63], "log_loss"),
        )
        assert again == comparison  # seeded

    def test_a_lower_loss_ranks_first(self):
        comparison, ranking = _compare(
            LOSS,
            forest=_training("Forest", [0.6, 0.62, 0.58, 0.6, 0.61], "log_loss"),
            boost=_training("Boost", [0.2, 0.22, 0.18, 0.2, 0.21], "log_loss"),
        )
        assert comparison["best"] == "boost" and ranking[0]["model"] == "boost"
        assert comparison["greater_is_better"] is False
        assert comparison["comparisons"][0]["cv"]["verdict"].startswith(
            "Boost vs Forest: -0.400 CV log loss"
        )

    def test_the_interval_is_at_one_minus_the_significance_level(self):
        comparison, _ = _compare(
            level=0.01, forest=_training("Forest", NOISY_A), boost=_training("Boost", NOISY_B)
        )
        cv = comparison["comparisons"][0]["cv"]
        assert cv["confidence"] == 0.99 and comparison["confidence"] == 0.99
        wide = corrected_resampled_ttest(NOISY_A, NOISY_B, 96, 24, 0.99)
        assert (cv["ci_low"], cv["ci_high"]) == pytest.approx((wide.ci_low, wide.ci_high))
        assert ", 99% interval [" in cv["verdict"]

    def test_the_same_difference_on_every_fold_is_no_certainty(self):
        one_row = [1 / 24] * 5
        comparison, _ = _compare(
            forest=_training("Forest", [0.9 + d for d in one_row]),
            boost=_training("Boost", [0.9] * 5),
        )
        cv = comparison["comparisons"][0]["cv"]
        assert cv["test"] == SIGN_TEST
        assert cv["p_value"] == pytest.approx(0.0625) and cv["ci_low"] is None
        assert cv["verdict"].endswith(
            "(every fold differs alike: the sign test over the folds cannot go below p = "
            "0.062 with 5 folds; 6 or more are needed: raise cv_folds or cv_repeats)"
        )

    def test_a_stricter_level_needs_stronger_evidence(self):
        models = {"forest": _training("Forest", FAIR),
                  "boost": _training("Boost", _rows(22, 23, 22, 23, 23))}  # fmt: skip
        p_value = _compare(**models)[0]["comparisons"][0]["cv"]["p_adjusted"]
        assert _compare(level=p_value * 1.01, **models)[1][1]["versus_best"] == "worse"
        strict = _compare(level=p_value * 0.99, **models)[1][1]["versus_best"]
        assert strict == "not significantly worse"


class TestRankAndTies:
    def test_means_apart_by_float_order_alone_share_a_rank(self):
        # 0.92 as two sums of fold scores in another order: 0.9200000000000002, 0.9199999...
        a, b = 0.9200000000000002, 0.9199999999999999
        scores = {"forest": {"cv_mean": b}, "boost": {"cv_mean": a}}
        assert rank(scores, METRICS["accuracy"], 1e-9) == [(1, True, "forest"), (1, True, "boost")]

    def test_within_one_row_of_one_fold_is_a_tie_beyond_it_is_not(self):
        tolerance = tie_tolerance(METRICS["accuracy"], FOLDS)
        assert tolerance == pytest.approx(1 / (5 * 24))
        near = {"forest": {"cv_mean": 0.9}, "boost": {"cv_mean": 0.9 + 0.9 / 120}}
        far = {"forest": {"cv_mean": 0.9}, "boost": {"cv_mean": 0.9 + 1.5 / 120}}
        metric = METRICS["accuracy"]
        assert [r[:2] for r in rank(near, metric, tolerance)] == [(1, True), (1, True)]
        assert rank(far, metric, tolerance) == [(1, False, "boost"), (2, False, "forest")]

    def test_a_continuous_metric_ties_only_at_the_printed_precision(self):
        assert tie_tolerance(METRICS["log_loss"], FOLDS) == 1e-9
        scores = {"forest": {"cv_mean": 0.3121}, "boost": {"cv_mean": 0.3124}}
        assert [r[1] for r in rank(scores, METRICS["log_loss"], 1e-9)] == [True, True]

    def test_tied_models_share_a_rank_and_the_registrys_first_is_best_whatever_held_out(self):
        # Held out, Boost does better; it must not decide the tie.
        held_out = _held_out([0, 1, 1, 0], forest=[0, 0, 0, 0], boost=[0, 1, 1, 0])
        comparison, ranking = _compare(
            held_out=held_out,
            forest=_training("Forest", NOISY_A),
            boost=_training("Boost", list(reversed(NOISY_A))),  # the same mean
        )
        assert [(r["rank"], r["tied"], r["model"]) for r in ranking] == [
            (1, True, "forest"),
            (1, True, "boost"),
        ]
        assert comparison["best"] == "forest"
        assert ranking[0]["versus_best"] == "best"

    def test_the_baseline_is_never_the_best(self):
        comparison, ranking = _compare(
            forest=_training("Forest", BEHIND),
            baseline=_training("Baseline", AHEAD, baseline=True),
        )
        assert ranking[0]["model"] == "baseline" and ranking[0]["versus_best"] == "baseline"
        assert comparison["best"] == "forest"
        assert ranking[1]["beats_baseline"] is False


class TestCompareUntuned:
    def _verdict(self, **trainings):
        scores = _scores(**trainings)
        comparison, _ = compare_models(scores, NOTHING, ACCURACY, FOLDS, 0.05, 21)
        return compare_untuned(ACCURACY, FOLDS, 0.05, 21, comparison, **trainings), comparison

    def test_nothing_when_no_model_was_tuned(self):
        untuned, _ = self._verdict(
            forest=_training("Forest", NOISY_A), boost=_training("Boost", NOISY_B)
        )
        assert untuned == {}

    def test_the_same_tests_on_the_untuned_scores(self):
        untuned, _ = self._verdict(
            forest=_training("Forest", NOISY_A, untuned=BEHIND),
            boost=_training("Boost", NOISY_B, untuned=AHEAD),
        )
        (record,) = untuned["comparisons"]
        expected = corrected_resampled_ttest(AHEAD, BEHIND, 96, 24)
        assert record["models"] == ["boost", "forest"]
        assert record["cv"]["p_value"] == pytest.approx(expected.p_value)
        assert record["held_out"] is None  # only the tuned models predicted the held-out rows
        assert untuned["best"] == "boost"
        assert [(r["model"], r["versus_best"]) for r in untuned["ranking"]] == [
            ("boost", "best"),
            ("forest", "worse"),
        ]

    def test_says_when_tuning_changed_the_verdict(self):
        untuned, tuned = self._verdict(
            forest=_training("Forest", NOISY_A, untuned=BEHIND),
            boost=_training("Boost", NOISY_B, untuned=AHEAD),
        )
        before = untuned["comparisons"][0]["cv"]["p_adjusted"]
        after = tuned["comparisons"][0]["cv"]["p_adjusted"]
        assert untuned["changed"] is True
        assert untuned["verdict"] == (
            f"Tuning changed the verdict: untuned, Boost was significantly better than Forest "
            f"(Holm p = {before:.2g}); tuned, no significant difference between Forest and "
            f"Boost (Holm p = {after:.2f})."
        )

    def test_a_reversed_winner_is_a_changed_verdict(self):
        untuned, _ = self._verdict(
            forest=_training("Forest", AHEAD, untuned=BEHIND),
            boost=_training("Boost", BEHIND, untuned=AHEAD),
        )
        assert untuned["changed"] is True
        assert "untuned, Boost was significantly better than Forest" in untuned["verdict"]
        assert "tuned, Forest was significantly better than Boost" in untuned["verdict"]

    def test_says_when_it_did_not(self):
        untuned, _ = self._verdict(
            forest=_training("Forest", [s + 0.01 for s in BEHIND], untuned=BEHIND),
            boost=_training("Boost", AHEAD, untuned=AHEAD),
        )
        assert untuned["changed"] is False
        assert untuned["verdict"] == "Tuning did not change the verdict."

    def test_a_model_without_a_search_keeps_its_scores(self):
        untuned, _ = self._verdict(
            forest=_training("Forest", AHEAD, untuned=BEHIND),
            trees=_training("Trees", NOISY_A),  # no search space: not tuned
        )
        assert {r["model"]: r["cv_mean"] for r in untuned["ranking"]} == pytest.approx(
            {"trees": np.mean(NOISY_A), "forest": np.mean(BEHIND)}
        )

    def test_says_which_model_ranks_first_when_only_that_changed(self):
        untuned, _ = self._verdict(
            forest=_training("Forest", NOISY_B, untuned=NOISY_A),
            boost=_training("Boost", NOISY_A, untuned=NOISY_B),
        )
        assert untuned["changed"] is False
        assert untuned["verdict"] == (
            "Tuning did not change the verdict "
            "(first untuned: Forest; tuned: Boost; within the noise)."
        )


@pytest.fixture
def summary_inputs():
    trainings = {
        "random_forest": _training("Random Forest", [1.0, 0.9, 0.95]),
        "xgboost": _training("XGBoost", [0.9, 0.95, 0.95]),
        "baseline": _training("Baseline", [0.5, 0.5, 0.5], baseline=True),
    }
    scores = _scores(**trainings)
    comparison, ranking = compare_models(scores, NOTHING, ACCURACY, FOLDS[:3], 0.05, 21)
    return {
        "y_train": pd.Series([0, 1] * 60, name="target"),
        "y_test": pd.Series([0, 1] * 15, name="target"),
        "classes": ["setosa", "versicolor"],
        "data_source": {},
        "feature_roles": ROLES,
        "yardstick": ACCURACY,
        "dataset": "iris",
        "synthetic": {"n_samples": 10},
        "random_state": 21,
        "cv_folds": 5,
        "cv_repeats": 1,
        "cv_shuffle": True,
        "test_size": 0.2,
        "tuning": {"trials": 0, "inner_folds": 3},
        "untuned_comparison": {},
        "scores": scores,
        "comparison": comparison,
        "ranking": ranking,
        **trainings,
    }


def test_metrics_hold_run_settings_every_model_and_the_baseline(summary_inputs):
    summary = build_metrics(**summary_inputs)
    assert summary["run"] == {
        "dataset": "iris",
        "data_source": None,  # the user's table read, with dataset: raw_data
        "synthetic": None,  # its size only matters when it is the dataset
        "rows": 150,
        "train_rows": 120,
        "test_rows": 30,
        "classes": ["setosa", "versicolor"],
        "target_column": "target",
        "feature_roles": ROLES,
        "yardstick": ACCURACY,
        "random_state": 21,
        "cv_folds": 5,
        "cv_repeats": 1,
        "cv_shuffle": True,
        "test_size": 0.2,
        "tuning": {"trials": 0, "inner_folds": 3},
        "left_out": {},
    }
    assert list(summary["models"]) == ["random_forest", "xgboost"]
    # Each model: its training record, then its scores.
    assert summary["models"]["xgboost"] == {
        **summary_inputs["xgboost"],
        **summary_inputs["scores"]["xgboost"],
    }
    assert summary["baseline"]["baseline"] is True
    assert summary["best"] == "random_forest"


def test_a_users_table_is_recorded_by_its_source_and_its_label_column(summary_inputs):
    source = {"entry": "raw_data", "type": "pandas.SQLTableDataset", "table": "penguins"}
    summary = build_metrics(
        **{
            **summary_inputs,
            "dataset": "csv",  # recorded by its current name
            "data_source": source | {"sha256": "ab12"},
            "y_train": summary_inputs["y_train"].rename("species"),
        }
    )
    assert summary["run"]["dataset"] == "raw_data"
    assert summary["run"]["data_source"] == source | {"sha256": "ab12"}
    assert summary["run"]["target_column"] == "species"


def test_synthetic_size_is_recorded_when_synthetic_data_is_used(summary_inputs):
    summary = build_metrics(**{**summary_inputs, "dataset": "synthetic"})
    assert summary["run"]["synthetic"] == {"n_samples": 10}


def test_metrics_end_with_the_comparison_the_ranking_and_the_best(summary_inputs):
    summary = build_metrics(**summary_inputs)
    assert list(summary) == ["run", "models", "baseline", "comparison", "ranking", "best"]
    assert summary["comparison"] == {**summary_inputs["comparison"], "untuned": None}
    assert summary["ranking"] == summary_inputs["ranking"]
    assert [r["model"] for r in summary["ranking"]] == ["random_forest", "xgboost", "baseline"]


def test_a_tuned_runs_record_keeps_the_untuned_verdict_in_its_comparison(summary_inputs):
    untuned = {"comparisons": [], "ranking": [], "changed": False, "verdict": "..."}
    summary = build_metrics(**{**summary_inputs, "untuned_comparison": untuned})
    assert summary["comparison"]["untuned"] == untuned
    assert summary["comparison"]["comparisons"] == summary_inputs["comparison"]["comparisons"]
